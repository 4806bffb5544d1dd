"""One HTML page per run, decision first: the verdict, the headline figures and chart on the
first screen; then the deal, the builds, the money, the plan check, risk, and every key figure.

plotly.js is inlined when the page is made alone (it opens offline); a report written to a
folder loads the one bundle beside it that every report of the folder shares (still offline, and
a report stays well under 1 MB); the dashboard links its own copy."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from fabnet.core import columns, yearly
from fabnet.core import format as fmt
from fabnet.core.breakeven import break_even_sentence
from fabnet.core.errors import FabnetError
from fabnet.report import verdict
from fabnet.report.bundle import write_bundle, write_whole
from fabnet.report.diff import diff_section
from fabnet.report.figures import figures
from fabnet.store import StoredRun, store_name

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1rem auto; max-width: 1180px; color: #222; padding: 0 1rem; }
h1 { margin: 0 0 0.2rem; font-size: 1.5rem; } .meta { color: #666; font-size: 0.8rem; margin-bottom: 0.8rem; }
h2 { border-top: 2px solid #ddd; padding-top: 0.8rem; margin-top: 2rem; }
.verdict p { font-size: 1.15rem; line-height: 1.45; margin: 0.3rem 0 0.6rem; }
.first { display: flex; gap: 1.5rem; align-items: flex-start; }
.first table { flex: 0 0 40%; } .first .figure { flex: 1 1 auto; min-width: 0; margin: 0; }
table.figures { border-collapse: collapse; margin: 1rem 0 2rem; }
table.figures td { padding: 0.25rem 1rem; border-bottom: 1px solid #eee; }
table.headline { border-collapse: collapse; font-size: 0.88rem; }
table.headline td { padding: 0.2rem 0.5rem; border-bottom: 1px solid #eee; vertical-align: top; }
table.headline td.value { text-align: right; font-weight: 600; white-space: nowrap; }
table.headline td.band { color: #666; font-size: 0.8rem; }
.figure { margin-bottom: 2rem; }
table.money { border-collapse: collapse; margin: 0.5rem 0 2rem; font-size: 0.9rem; }
table.money th, table.money td { padding: 0.2rem 0.6rem; border-bottom: 1px solid #eee; text-align: right; }
table.money caption { text-align: left; font-weight: 600; padding-bottom: 0.3rem; }
table.money th:first-child, table.money td:first-child { text-align: left; }
"""

#: The report's sections after the first screen, in order, with the figures each holds (the
#: heading's id is section-<key>: a figure's div has the figure's id); a figure no section names
#: is drawn at the end.
SECTIONS = {
    "deal": ("The deal", ("deal",)),
    "builds": ("The builds", ("fab-timeline", "capacity-vs-demand", "delivered-vs-demand", "load-curves")),
    "money": ("The money", ("cash-flow", "buyer-costs", "money-per-investor", "investor-returns")),
    "plan-check": ("The plan check", ("plan-check", "plan-check-deliveries")),
    "risk": ("Risk", ("risk-fan", "npv-histogram", "tornado", "robust-npv", "robust-builds")),
    "sensitivity": ("One input at a time", ("sensitivity",)),
    "simulation": ("The fab simulated", ("operating-curve",)),
}
#: The chart of the first screen: the first of these the run has (what the network adds for a
#: main run, the NPV's spread for a sweep or a robust plan); and its height there (the verdict,
#: the headline figures and it fit a 1280 × 800 window).
HEADLINE_CHARTS, HEADLINE_HEIGHT = ("network-adds", "npv-histogram", "robust-npv"), 330


def _figure_rows(run: StoredRun) -> str:
    rows = []
    for key, value in run.figures.items():
        text = columns.show(key, value)
        rows.append(f"<tr><td>{html.escape(columns.label(key))}</td><td>{html.escape(text)}</td></tr>")
    return "\n".join(rows)


def debt_quarters(quarterly: pd.DataFrame) -> pd.DataFrame:
    """The project debt quarter by quarter, where there is any: CFADS, debt service, what is
    owed, the reserve, and the cover ratios (DSCR, LLCR)."""
    if "debt_balance_usd" not in quarterly:  # a run stored before project debt
        return pd.DataFrame()
    q = quarterly[(quarterly["debt_balance_usd"] > 1.0) | quarterly["dscr"].notna()]
    return pd.DataFrame(
        {
            "quarter": q["quarter"],
            "cfads_usd": q["cfads_usd"],
            "debt_service_usd": q["interest_usd"] + q["principal_usd"],
            "debt_balance_usd": q["debt_balance_usd"],
            "dsra_usd": q["dsra_usd"],
            "dscr": q["dscr"],
            "llcr": q["llcr"],
        }
    )


def _table_html(frame: pd.DataFrame, caption: str) -> str:
    """A plain table: headings and numbers from core.columns, money in one scale per column
    (the heading says which), every text escaped."""
    scales = {
        name: fmt.scale_for(frame[name].tolist()) if columns.meaning(name).unit == "usd" else None
        for name in frame.columns
    }
    head = "".join(f"<th>{html.escape(columns.heading(name, scales[name]))}</th>" for name in frame.columns)
    rows = []
    for record in frame.to_dict("records"):
        cells = "".join(
            f"<td>{html.escape(columns.show(name, _plain(value), scales[name]))}</td>" for name, value in record.items()
        )
        rows.append(f"<tr>{cells}</tr>")
    return f'<table class="money"><caption>{html.escape(caption)}</caption><tr>{head}</tr>{"".join(rows)}</table>'


def _plain(value: object) -> object:
    """A numpy number as its Python twin (columns.show reads Python numbers only)."""
    return value.item() if hasattr(value, "item") else value


def _fabco_table(years: pd.DataFrame) -> pd.DataFrame:
    """The report's columns of the fab company's years (revenue whole, not split by kind); a
    column of zeros for a run without debt says nothing."""
    years = years.drop(columns=["wafers_to_buyer_usd", "wafers_to_others_usd", "take_or_pay_usd"])
    return years if years["debt_drawn_usd"].any() else years.drop(columns="debt_drawn_usd")


def _cash_tables(run: StoredRun) -> str:
    parts = []
    fabco, buyer = run.tables.get("fabco_quarterly"), run.tables.get("buyer_quarterly")
    if fabco is not None and not fabco.empty:
        parts.append(_table_html(_fabco_table(yearly.fabco_years(fabco)), "The fab company: cash flows per year"))
        debt = debt_quarters(fabco)
        if not debt.empty:
            parts.append(_table_html(debt, "The fab company's project debt per quarter: cover ratios (DSCR, LLCR)"))
    if buyer is not None and not buyer.empty:
        parts.append(
            _table_html(yearly.buyer_years(buyer), "The buyer: what it pays per year, by kind, and what it gets")
        )
    return "\n".join(parts)


def _messages(run: StoredRun, shown: list[str]) -> str:
    """The run's messages as `fabnet run` prints them (a contract outside the deal range, an
    investor short of its hurdle, the plan's capex against the ambition, demand left unmet and
    why, warnings about the scenario), less those the verdict `shown` already says."""
    messages = run.tables.get("messages")
    if messages is None or messages.empty:
        return ""
    rest = [str(m) for m in messages["message"] if str(m) not in shown]
    if not rest:
        return ""
    items = "".join(f"<li>{html.escape(m)}</li>" for m in rest)
    return f'<h2 id="says">What the run says</h2><ul class="messages">{items}</ul>'


def _first_screen(run: StoredRun, charts: dict[str, str]) -> str:
    """The verdict, the headline figures (with their bands) and the headline chart."""
    sentences = verdict.verdict(run)
    said = "".join(f"<p>{html.escape(s)}</p>" for s in sentences)
    rows = "".join(
        f'<tr><td>{html.escape(h.label)}</td><td class="value">{html.escape(h.value)}</td>'
        f'<td class="band">{html.escape(h.band)}</td></tr>'
        for h in verdict.headline(run)
    )
    table = f'<table class="headline">{rows}</table>' if rows else ""
    chart = next((charts.pop(name) for name in HEADLINE_CHARTS if name in charts), "")
    return f'<section class="verdict" id="verdict">{said}<div class="first">{table}{chart}</div></section>'


def _break_evens(run: StoredRun) -> str:
    """The stored break-evens in words, as the terminal says them (`fabnet sensitivity --store`)."""
    return "".join(f"<p>{html.escape(break_even_sentence(row))}</p>" for row in _rows(run.tables.get("break_even")))


def _sensitivity_table(run: StoredRun) -> str:
    """The stored headline at each input's low and high, the input named on its first row."""
    table = run.tables.get("sensitivity")
    if table is None or table.empty:
        return ""
    shown = table.assign(input=table["input"].where(table["end"] != "high", "")).drop(columns="path")
    caption = "The headline with each input at its low and its high, the others as they are"
    return _table_html(shown.rename(columns={"setting": "value"}), caption)


def _rows(frame: pd.DataFrame | None) -> list[Any]:
    return [] if frame is None else list(frame.itertuples(index=False))


def _sections(charts: dict[str, str], before: dict[str, str], after: dict[str, str]) -> str:
    """Each section with its figures, and its tables and sentences before and after them (by
    section); the figures no section names at the end."""
    parts = []
    for anchor, (title, names) in SECTIONS.items():
        drawn = "".join(charts.pop(name) for name in names if name in charts)
        body = before.get(anchor, "") + drawn + after.get(anchor, "")
        if body:
            parts.append(f'<h2 id="section-{anchor}">{html.escape(title)}</h2>{body}')
    if charts:
        parts.append('<h2 id="more">More</h2>' + "".join(charts.values()))
    return "\n".join(parts)


def _charts(run: StoredRun, plotlyjs: str) -> dict[str, str]:
    """Every figure's div by id, the headline chart low enough for the first screen; plotly.js
    inlined once (in the first) when `plotlyjs` is "inline"."""
    charts = {}
    made = figures(run)
    headline = next((name for name in HEADLINE_CHARTS if name in made), None)
    for i, (name, fig) in enumerate(made.items()):
        config = {"displaylogo": False}
        if name == headline:  # low, and no tool bar over its title in a narrow column
            fig.update_layout(height=HEADLINE_HEIGHT, margin=dict(t=60, b=30))
            config["displayModeBar"] = False
        include = i == 0 and plotlyjs == "inline"
        div = fig.to_html(full_html=False, include_plotlyjs=include, div_id=f"plot-{name}", config=config)
        charts[name] = f'<div class="figure" id="{name}">{div}</div>'
    return charts


def _provenance(run: StoredRun) -> str:
    """Where the run came from, on one line: label, kind, time, file and overrides, version."""
    meta = run.meta
    label = meta.get("label") if isinstance(meta.get("label"), str) else ""
    overrides = json.loads(meta["overrides"]) if isinstance(meta.get("overrides"), str) else []
    parts = [
        f"“{label}”" if label else "",
        run.kind,
        f"{fmt.minute(meta['created_at'])} UTC",
        str(meta["source"]) if isinstance(meta.get("source"), str) else "",
        " ".join(f"--set {o}" for o in overrides),
        f"fabnet {meta['fabnet_version']}",
        f"scenario hash {str(meta['scenario_hash'])[:12]}",
        f"seed {meta['seed']}",
        f"solver {meta['solver_status']}",
    ]
    return " · ".join(html.escape(p) for p in parts if p)


def report_html(run: StoredRun, plotlyjs: str = "inline", base: StoredRun | None = None) -> str:
    """The page. `plotlyjs` is "inline" (self-contained file) or a URL (or a file name beside the
    page) to load plotly.js from; with a `base` run, what changed against it follows the verdict."""
    meta = run.meta
    charts = _charts(run, plotlyjs)
    head_script = "" if plotlyjs == "inline" else f'<script src="{html.escape(plotlyjs)}"></script>'
    title = f"fabnet run {meta['run_id']}: {meta['scenario_name']}"
    first = _first_screen(run, charts)
    before = {"money": _cash_tables(run), "sensitivity": _break_evens(run)}
    sections = _sections(charts, before, {"sensitivity": _sensitivity_table(run)})
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{STYLE}</style>{head_script}</head>
<body>
<h1>{html.escape(title)}</h1>
<div class="meta">{_provenance(run)}</div>
{first}
{"" if base is None else diff_section(base, run, plotlyjs)}
{_messages(run, verdict.verdict(run))}
{sections}
<h2 id="figures">Every key figure</h2>
<table class="figures">{_figure_rows(run)}</table>
</body></html>
"""


def write_report(run: StoredRun, path: str | Path, base: StoredRun | None = None) -> Path:
    """Write the page atomically: a temporary file beside it, then renamed, so a report is
    either whole or absent (never a 0-byte or half file). plotly.js is the folder's one bundle
    (report.bundle), written first. A folder, a full disk or a place that may not be written is
    a ReportError that says so."""
    path = Path(path)
    if path.is_dir():
        raise ReportError(f"{path} is a folder; give the report a file name, e.g. {path / 'run.html'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        bundle = write_bundle(path.parent)
        write_whole(
            path, lambda partial: partial.write_text(report_html(run, plotlyjs=bundle, base=base), encoding="utf-8")
        )
    except OSError as error:
        raise ReportError(f"cannot write the report {path}: {error.strerror or error}") from None
    return path


class ReportError(FabnetError):
    """A report that could not be written (the run itself is stored)."""


def report_name(store_path: str | Path, run_id: int) -> str:
    """A report's file name, naming its store so that runs of two stores never share one:
    `fabnet-run-3.html` for run 3 of fabnet.duckdb (or of the database fabnet)."""
    name = store_name(store_path)
    return f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name) or 'store'}-run-{run_id}.html"
