"""One HTML page per run: the key figures, each party's cash flows per year, then every plot.
plotly.js is inlined by default, so the file opens offline; the dashboard links it once instead."""

from __future__ import annotations

import contextlib
import html
import json
import re
from pathlib import Path

import pandas as pd

from fabnet.core import columns, yearly
from fabnet.core import format as fmt
from fabnet.core.errors import FabnetError
from fabnet.report.figures import figures
from fabnet.store import StoredRun
from fabnet.store.pg import is_postgres

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2rem; } .meta { color: #666; margin-bottom: 1.5rem; }
table.figures { border-collapse: collapse; margin: 1rem 0 2rem; }
table.figures td { padding: 0.25rem 1rem; border-bottom: 1px solid #eee; }
.figure { margin-bottom: 2rem; }
table.money { border-collapse: collapse; margin: 0.5rem 0 2rem; font-size: 0.9rem; }
table.money th, table.money td { padding: 0.2rem 0.6rem; border-bottom: 1px solid #eee; text-align: right; }
table.money caption { text-align: left; font-weight: 600; padding-bottom: 0.3rem; }
table.money th:first-child, table.money td:first-child { text-align: left; }
"""


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


def _messages(run: StoredRun) -> str:
    """The run's messages (the deal's verdict, a contract outside the deal range, an investor
    short of its hurdle, the plan's capex against the ambition, shortfalls, warnings about the
    scenario), as `fabnet run` prints them."""
    messages = run.tables.get("messages")
    if messages is None or messages.empty:
        return ""
    items = "".join(f"<li>{html.escape(str(m))}</li>" for m in messages["message"])
    return f'<ul class="messages">{items}</ul>'


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


def report_html(run: StoredRun, plotlyjs: str = "inline") -> str:
    """The page. `plotlyjs` is "inline" (self-contained file) or a URL to load plotly.js from."""
    meta = run.meta
    parts = []
    for i, (name, fig) in enumerate(figures(run).items()):
        include = (i == 0) if plotlyjs == "inline" else False
        parts.append(
            f'<div class="figure" id="{name}">'
            + fig.to_html(full_html=False, include_plotlyjs=include, div_id=f"plot-{name}")
            + "</div>"
        )
    head_script = "" if plotlyjs == "inline" else f'<script src="{html.escape(plotlyjs)}"></script>'
    title = f"fabnet run {meta['run_id']}: {meta['scenario_name']}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{STYLE}</style>{head_script}</head>
<body>
<h1>{html.escape(title)}</h1>
<div class="meta">{_provenance(run)}</div>
<table class="figures">{_figure_rows(run)}</table>
{_messages(run)}
{_cash_tables(run)}
{"".join(parts)}
</body></html>
"""


def write_report(run: StoredRun, path: str | Path) -> Path:
    """Write the page atomically: a temporary file beside it, then renamed, so a report is
    either whole or absent (never a 0-byte or half file). A folder, a full disk or a place that
    may not be written is a ReportError that says so."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    try:
        if path.is_dir():
            raise ReportError(f"{path} is a folder; give the report a file name, e.g. {path / 'run.html'}")
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(report_html(run), encoding="utf-8")
        partial.replace(path)
    except OSError as error:
        with contextlib.suppress(OSError):  # there may be no folder to clean up in
            partial.unlink(missing_ok=True)
        raise ReportError(f"cannot write the report {path}: {error.strerror or error}") from None
    return path


class ReportError(FabnetError):
    """A report that could not be written (the run itself is stored)."""


def report_name(store_path: str | Path, run_id: int) -> str:
    """A report's file name, naming its store so that runs of two stores never share one:
    `fabnet-run-3.html` for run 3 of fabnet.duckdb (or of the database fabnet)."""
    location = str(store_path)
    name = location.rsplit("/", 1)[-1].split("?")[0] if is_postgres(location) else Path(location).stem
    return f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name) or 'store'}-run-{run_id}.html"
