"""The deal room: a page per stored run (/runs/ID/deal) with the terms both parties negotiate —
offtake price, take-or-pay share, the contract's end, each equity investor's hurdle, each project
loan's target DSCR, gearing, rate, tenor and grace — where each change asks the server to
re-finance the stored plan (/api/runs/ID/deal, finance.dealroom) and redraws the investors' IRRs
against their hurdles, the buyer's gain, the debt drawn, its lowest DSCR and the equity's IRR.
The page's address keeps its state (`?share=0.8&take_or_pay=0.6`), so a link reproduces it;
"suggest a price" finds the even split (the fab company's NPV equal to the buyer's gain), its
rule written on the page; "store as a run" keeps the terms as a labelled run of the store
(fabnet.store_terms: the plan kept, the terms its overrides) and links to it.

Numbers come to the page written by core.columns (the JSON carries the text beside the value),
so the page shows them as the report and the terminal do.
"""

from __future__ import annotations

import contextlib
import functools
import html
import json
import math
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse

from fabnet.api import (
    DEAL_DEBT_TERMS,
    DEAL_SHARE_RANGE,
    DealRoom,
    DealTerms,
    Store,
    UnknownRun,
    deal_room,
    store_terms,
)
from fabnet.core import columns
from fabnet.core.errors import FabnetError, ScenarioError
from fabnet.core.periods import Quarter
from fabnet.core.secrets import redact

#: The price control's range, as shares of the market wafer price: where a price is suggested.
SHARE_RANGE = DEAL_SHARE_RANGE


def add_deal_room(
    app: FastAPI,
    reader: Callable[[], contextlib.AbstractContextManager[Store]],
    writer: Callable[[], contextlib.AbstractContextManager[None]],
    run_id: Callable[[str], int],
    plotly_url: str,
    location: str,
) -> None:
    """Register the deal room's page and its API on `app`; a state is stored as a run in the
    store at `location`, while `writer` keeps the dashboard's readers out."""

    @functools.lru_cache(maxsize=16)
    def room(number: int) -> DealRoom:  # a stored run never changes
        try:
            with reader() as store:
                run = store.run(number)
        except UnknownRun as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
        try:
            return deal_room(run)
        except ValueError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None

    @app.api_route("/runs/{run}/deal", methods=["GET", "HEAD"], response_class=HTMLResponse)
    def page(run: str, request: Request) -> str:
        number = run_id(run)
        found = room(number)
        terms = _terms(request, found)
        return _page(number, found, terms, plotly_url)

    @app.api_route("/api/runs/{run}/deal", methods=["GET", "HEAD"])
    def figures(run: str, request: Request) -> JSONResponse:
        found = room(run_id(run))
        with _refused():
            return JSONResponse(_shown(found.at(_terms(request, found))))

    @app.api_route("/api/runs/{run}/deal/suggest", methods=["GET", "HEAD"])
    def suggest(run: str, request: Request) -> JSONResponse:
        found = room(run_id(run))
        with _refused():
            share = found.even_split(_terms(request, found))
        return JSONResponse({"share": share, "share_text": columns.show("share_of_market", share)})

    @app.post("/api/runs/{run}/deal/store")
    def store(run: str, request: Request) -> JSONResponse:
        _same_origin(request)
        number = run_id(run)
        terms = _terms(request, room(number))
        label = request.query_params.get("label", "").strip()[:MAX_LABEL] or None
        with reader() as opened:
            original = opened.run(number)
        with _refused():
            try:
                with writer():
                    new = store_terms(original, terms, location, label)
            except ScenarioError:
                raise
            except FabnetError as error:  # the store would not take it now (busy, read-only, full)
                raise HTTPException(503, detail=redact(str(error)), headers={"Retry-After": "1"}) from None
        return JSONResponse({"run_id": new, "report": f"/runs/{new}", "deal_room": f"/runs/{new}/deal"})


#: The longest label a stored state keeps.
MAX_LABEL = 120


def _same_origin(request: Request) -> None:
    """Only the dashboard's own pages may store a run: a browser names the page that posts
    (Origin), so another site's form cannot add runs to the store."""
    origin = request.headers.get("origin")
    if origin is not None and origin.split("://", 1)[-1] != request.headers.get("host"):
        raise HTTPException(status_code=403, detail="runs are stored from the dashboard's own deal room")


@contextlib.contextmanager
def _refused() -> Iterator[None]:
    """Terms the scenario's checks refuse (a contract ending outside the horizon, …) are a 400
    that says why, in the words `--set` would."""
    try:
        yield
    except ScenarioError as error:
        raise HTTPException(status_code=400, detail=str(error)) from None


def _terms(request: Request, found: DealRoom) -> DealTerms:
    """The terms a request asks for (`share`, `take_or_pay`, `end`, `hurdle_<investor>`,
    `debt.<loan>.<term>`); a bad value is a 400 that names it."""
    query = request.query_params
    investors = {i.id for i in found.scenario.funding.investors}
    loans = {loan.id for loan in found.scenario.funding.project_debt}
    hurdles, debt = {}, {}
    for key, value in query.items():
        if key.startswith("hurdle_") and key.removeprefix("hurdle_") in investors:
            hurdles[key.removeprefix("hurdle_")] = _number(key, value, (-0.99, 10.0))
        loan, _, term = key.removeprefix("debt.").partition(".")
        if key.startswith("debt.") and loan in loans and term in DEAL_DEBT_TERMS:
            debt[f"{loan}.{term}"] = _number(key, value, DEAL_DEBT_TERMS[term])
    end = query.get("end") or None
    if end is not None:
        try:
            end = str(Quarter.parse(end))
        except ValueError:
            raise HTTPException(status_code=400, detail=f"end={end[:20]!r} is not a quarter such as 2030Q4") from None
    return DealTerms(
        share=_number("share", query["share"], SHARE_RANGE) if "share" in query else None,
        take_or_pay=_number("take_or_pay", query["take_or_pay"], (0.0, 1.0)) if "take_or_pay" in query else None,
        end=end,
        hurdles=hurdles or None,
        debt=debt or None,
    )


def _number(name: str, text: str, bounds: tuple[float, float]) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not bounds[0] <= value <= bounds[1]:
        raise HTTPException(
            status_code=400, detail=f"{name}={text[:20]!r}: give a number from {bounds[0]} to {bounds[1]}"
        )
    return value


#: The room's figures, each shown in an element of its name with `_text` after it.
FIGURES = (
    "share_of_market",
    "price_per_wafer_usd",
    "fabco_npv_usd",
    "fabco_irr",
    "buyer_gain_usd",
    "debt_draws_usd",
    "min_dscr",
    "equity_irr",
)


def _shown(figures: dict[str, Any]) -> dict[str, Any]:
    """The figures with each number's text as core.columns writes it (`<key>_text`)."""
    shown = dict(figures)
    for key in FIGURES:
        shown[f"{key}_text"] = columns.show(key, figures[key])
    shown["investors"] = [
        row | {"irr_text": columns.show("irr", row["irr"]), "hurdle_text": columns.show("hurdle", row["hurdle"])}
        for row in figures["investors"]
    ]
    return shown


STYLE = """
body { font-family: system-ui, sans-serif; margin: 1rem auto; max-width: 1100px; color: #222; padding: 0 1rem; }
.controls { display: grid; grid-template-columns: 16rem 1fr; gap: 0.4rem 1rem; align-items: center; }
.controls input[type=range] { width: 100%; }
table { border-collapse: collapse; margin: 1rem 0; } td, th { padding: 0.25rem 0.8rem; border-bottom: 1px solid #eee; }
td.value { text-align: right; font-weight: 600; } .miss { color: #c62828; } .clear { color: #2e7d32; }
.rule { color: #555; font-size: 0.9rem; }
"""


def _debt_controls(found: DealRoom, terms: DealTerms) -> str:
    """A control per term of each project loan (a government loan has its own amount: no target
    DSCR or gearing sizes it), at the asked value or the scenario's."""
    rows = []
    for loan in found.scenario.funding.project_debt:
        for term, (low, high) in DEAL_DEBT_TERMS.items():
            if loan.kind == "government" and term in ("target_dscr", "gearing"):
                continue
            key = f"{loan.id}.{term}"
            value = (terms.debt or {}).get(key, getattr(loan, term))
            step = "1" if term.endswith("_q") else "0.005"
            rows.append(
                f'<label for="debt.{html.escape(key)}">{html.escape(loan.id)}: {DEBT_LABELS[term]}</label>'
                f'<input type="number" id="debt.{html.escape(key)}" {_keyed(f"debt.{key}", getattr(loan, term))} '
                f'step="{step}" min="{low:g}" max="{high:g}" value="{value!r}">'
            )
    return "".join(rows)


def _keyed(key: str, default: object) -> str:
    """A control's attributes: the query key it sets and the run's own value (the page asks only
    for the terms that differ from it; None: always asked for)."""
    shown = "" if default is None else default if isinstance(default, str) else repr(default)
    return f'data-key="{html.escape(key)}"' + ("" if default is None else f' data-default="{html.escape(shown)}"')


#: What each debt term is called on the page.
DEBT_LABELS = {
    "target_dscr": "target DSCR (sizes the debt)",
    "gearing": "gearing cap (debt / (debt + equity))",
    "interest_rate": "interest rate (annual)",
    "tenor_q": "tenor (quarters of repayment)",
    "grace_q": "grace (quarters before the first repayment)",
}


def _page(number: int, found: DealRoom, terms: DealTerms, plotly_url: str) -> str:
    offtake = found.scenario.offtake
    share = terms.share if terms.share is not None else offtake.share_of_market_price
    take_or_pay = terms.take_or_pay if terms.take_or_pay is not None else offtake.take_or_pay_share
    end = terms.end or (str(offtake.end) if offtake.end is not None else "")
    indexed = offtake.price == "indexed"  # else the control's price is always asked for
    equity = [i for i in found.scenario.funding.investors if i.kind == "equity"]
    first = found.money(DealTerms()).fabco.investors.set_index("investor")["hurdle"]
    hurdle_rows = "".join(
        f'<label for="hurdle_{html.escape(i.id)}">hurdle of {html.escape(i.id)}</label>'
        f'<input type="number" id="hurdle_{html.escape(i.id)}" {_keyed(f"hurdle_{i.id}", float(first[i.id]))} '
        f'step="0.005" min="-0.99" max="10" value="{(terms.hurdles or {}).get(i.id, float(first[i.id]))!r}">'
        for i in equity
    )
    debt_rows = _debt_controls(found, terms)
    state = json.dumps({"run": number, "market": found.market_price_usd, "figures": FIGURES})
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>deal room: run {number}</title>
<style>{STYLE}</style><script src="{html.escape(plotly_url)}"></script></head>
<body>
<p><a href="/runs/{number}">← the run's report</a> · <a href="/">all runs</a></p>
<h1>Deal room: run {number} ({html.escape(found.scenario.name)})</h1>
<p>Each change re-finances the stored plan on the server (the builds and operations held) and
redraws both parties' figures. The address keeps the terms: copy it to share this state.</p>
<div class="controls">
<label for="share">offtake price, share of the market wafer price</label>
<div><input type="range" id="share" {_keyed("share", offtake.share_of_market_price if indexed else None)}
min="{SHARE_RANGE[0]}" max="{SHARE_RANGE[1]}" step="0.01" value="{share!r}">
<span id="share_of_market_text"></span> · <span id="price_per_wafer_usd_text"></span> a wafer</div>
<label for="take_or_pay">take-or-pay share</label>
<input type="number" id="take_or_pay" {_keyed("take_or_pay", offtake.take_or_pay_share)}
min="0" max="1" step="0.05" value="{take_or_pay!r}">
<label for="end">contract's last quarter (empty: the horizon)</label>
<input type="text" id="end" {_keyed("end", "" if offtake.end is None else str(offtake.end))}
placeholder="2030Q4" value="{html.escape(end)}">
{hurdle_rows}
{debt_rows}
</div>
<p><button id="suggest">suggest a price</button> <span class="rule">the even split: the price at which
the fab company's NPV equals the buyer's gain against the foundry route (the network's value shared
half and half)</span> <span id="suggested"></span></p>
<pre id="refused" class="miss"></pre>
<table id="parties">
<tr><td>fab company NPV</td><td class="value" id="fabco_npv_usd_text"></td></tr>
<tr><td>fab company IRR (project)</td><td class="value" id="fabco_irr_text"></td></tr>
<tr><td>buyer's gain against the foundry route (present value)</td><td class="value" id="buyer_gain_usd_text"></td></tr>
<tr><td>project debt drawn</td><td class="value" id="debt_draws_usd_text"></td></tr>
<tr><td>lowest DSCR (debt service cover)</td><td class="value" id="min_dscr_text"></td></tr>
<tr><td>equity IRR (all equity investors together)</td><td class="value" id="equity_irr_text"></td></tr>
</table>
<p><label for="label">label</label>
<input type="text" id="label" maxlength="{MAX_LABEL}" placeholder="e.g. G42 at 80 %">
<button id="store">store as a run</button> <span class="rule">the plan kept, the money computed again under
these terms; the terms become the new run's overrides, so comparing it with run {number} shows them</span>
<span id="stored"></span></p>
<table id="investors"><tr><th>investor</th><th>IRR</th><th>hurdle</th><th></th></tr></table>
<div id="plot-deal-room"></div>
<script>
const STATE = {state};
function terms() {{
  const q = new URLSearchParams();  // the terms that differ from the run's own
  document.querySelectorAll("[data-key]").forEach(e => {{
    const value = e.value.trim();
    if (value !== e.dataset.default && (value || e.dataset.key !== "end")) q.set(e.dataset.key, value);
  }});
  return q;
}}
let asked = 0;
async function redraw() {{
  const q = terms(), mine = ++asked;
  history.replaceState(null, "", "?" + q.toString());
  const answer = await fetch(`/api/runs/${{STATE.run}}/deal?` + q.toString());
  if (mine !== asked) return;  // a later change is on its way
  if (!answer.ok) {{  // the dashboard's error page says why the terms are refused
    const refused = new DOMParser().parseFromString(await answer.text(), "text/html").getElementById("error");
    document.getElementById("refused").textContent = refused ? refused.textContent : "these terms are refused";
    return;
  }}
  document.getElementById("refused").textContent = "";
  const f = await answer.json();
  for (const key of STATE.figures)
    document.getElementById(key + "_text").textContent = f[key + "_text"];
  // investor ids are [A-Za-z0-9_-] (scenario.schema.Id) and the texts core.columns' numbers: safe as markup
  const rows = f.investors.map(i => `<tr data-investor="${{i.investor}}"><td>${{i.investor}}</td>` +
    `<td class="value irr">${{i.irr_text}}</td><td class="value">${{i.hurdle_text}}</td>` +
    `<td class="${{i.clears ? "clear" : "miss"}}">${{i.clears ? "clears its hurdle" : "misses its hurdle"}}</td></tr>`);
  const head = "<tr><th>investor</th><th>IRR</th><th>hurdle</th><th></th></tr>";
  document.getElementById("investors").innerHTML = head + rows.join("");
  const names = f.investors.map(i => i.investor);
  Plotly.react("plot-deal-room", [
    {{type: "bar", name: "IRR", x: names, y: f.investors.map(i => i.irr), marker: {{color: "#1565c0"}}}},
    {{type: "scatter", mode: "markers", name: "hurdle", x: names, y: f.investors.map(i => i.hurdle),
      marker: {{symbol: "line-ew-open", size: 40, color: "#c62828", line: {{width: 3}}}}}},
  ], {{title: {{text: "Investors' IRR against their hurdles"}}, yaxis: {{tickformat: ".0%"}},
      height: 360, margin: {{t: 50}}}}, {{displaylogo: false}});
  document.body.dataset.drawn = String(mine);
}}
document.querySelectorAll(".controls input").forEach(e => e.addEventListener("input", redraw));
document.getElementById("store").addEventListener("click", async () => {{
  const q = terms(), shown = document.getElementById("stored");
  q.set("label", document.getElementById("label").value);
  const answer = await fetch(`/api/runs/${{STATE.run}}/deal/store?` + q.toString(), {{method: "POST"}});
  if (!answer.ok) {{ shown.textContent = "not stored: these terms are refused"; return; }}
  const f = await answer.json(), link = document.createElement("a");
  link.href = f.report; link.id = "stored-run"; link.textContent = "run " + f.run_id;
  shown.replaceChildren("stored as ", link);
}});
document.getElementById("suggest").addEventListener("click", async () => {{
  const q = terms(); q.delete("share");
  const f = await (await fetch(`/api/runs/${{STATE.run}}/deal/suggest?` + q.toString())).json();
  const shown = document.getElementById("suggested");
  if (f.share === null) {{ shown.textContent = "no price the control reaches splits it evenly"; return; }}
  document.getElementById("share").value = f.share;
  shown.textContent = "→ " + f.share_text + " of the market price";
  redraw();
}});
redraw();
</script>
</body></html>
"""
