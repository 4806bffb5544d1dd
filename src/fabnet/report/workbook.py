"""A run as a workbook a financial model can read: a Summary sheet first (the verdict, the
headline figures, the deal, the investors, the builds), then the run's tables in the order of the
report, the inputs (edit a value, then `fabnet run book.xlsx` runs the scenario again with the
change), and the legend of every column.

Cells hold values, never text that looks like one: money a number (in USD, or in millions of USD
with `unit="musd"`), quarters their quarter-end date, booleans booleans, each with its number
format; every heading names its unit (core.columns).
"""

from __future__ import annotations

import datetime
import math
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from fabnet.core import columns
from fabnet.core import workbook as layout
from fabnet.core.periods import Quarter
from fabnet.report import verdict
from fabnet.report.bundle import write_whole
from fabnet.store import StoredRun
from fabnet.store.export import ExportError, columns_table, inputs_table

#: Money in the workbook: its divisor and its unit in a heading.
MONEY_UNITS = {"usd": (1.0, "USD"), "musd": (1e6, "USD M")}
#: The run's tables in the order the report shows them; a table not named here follows, by name.
REPORT_ORDER = (
    "deal_range",
    "deal_points",
    "deal_investors",
    "messages",
    "builds",
    "packaging_builds",
    "capacity",
    "production",
    "supply",
    "wafer_demand",
    "foundry",
    "packaging",
    "hbm",
    "plan_budget",
    "load_curves",
    "fabco_quarterly",
    "investors",
    "investor_flows",
    "buyer_quarterly",
    "buyer_products",
    "counterfactual_supply",
    "counterfactual_buyer_quarterly",
    "check_quarters",
    "check_delivered",
    "risk_spec",
    "risk_inputs",
    "risk_samples",
)
#: Columns that hold a quarter ("2027Q1"), written as the quarter's last day.
QUARTER_COLUMNS = ("quarter", "started", "online", "payback_quarter", "available_from")
QUARTER_END = "quarter-end date"
_FORMATS = {
    "irr": "0.0%",
    "share": "0.0%",
    "count": "#,##0",
    "days": "0.0",
    "quarters": "0",
    "multiple": "0.00",
    "date": "yyyy-mm-dd",
}
_BOLD = Font(bold=True)


def write_workbook(run: StoredRun, path: str | Path, unit: str = "usd") -> Path:
    """Write the run's workbook to `path` (through a temporary file beside it: whole or absent)."""
    if unit not in MONEY_UNITS:
        raise ValueError(f"unknown money unit {unit!r}; choose {', '.join(MONEY_UNITS)}")
    book = Workbook()
    summary = book.active
    summary.title = "Summary"
    _summary(summary, run, unit)
    for name in sheet_order(run.tables):
        _table(book.create_sheet(name[:31]), run.tables[name], unit)
    _inputs(book, run)
    _table(book.create_sheet("columns"), columns_table(run.tables), unit)
    return _save(book, Path(path))


def write_comparison(comparison: pd.DataFrame, path: str | Path) -> Path:
    """Write runs compared (fabnet.compare's tidy table: kind, name, a column per run, the
    difference) as one sheet, each row labelled as the terminal labels it; values as stored
    (money in USD, shares as fractions), inputs as the scenario writes them."""
    book = Workbook()
    sheet = book.active
    sheet.title = "comparison"
    pairs = zip(comparison["kind"], comparison["name"], strict=True)
    labels = [columns.label(str(name)) if kind == "figure" else str(name) for kind, name in pairs]
    frame = comparison.assign(label=labels)[["kind", "label", *comparison.columns[1:]]]
    _table(sheet, frame, "usd")
    for j, name in enumerate(frame.columns, start=1):  # "run 1", "difference": no unit, rows differ
        sheet.cell(row=1, column=j, value=str(name).replace("_", " "))
    sheet.column_dimensions["B"].width = 45
    return _save(book, Path(path))


def _save(book: Workbook, path: Path) -> Path:
    """The workbook written to `path` whole (through a temporary file beside it) or not at all."""
    try:
        write_whole(path, book.save)
    except OSError as error:
        raise ExportError(f"cannot write the export {path}: {error.strerror or error}") from None
    return path


def sheet_order(tables: dict[str, pd.DataFrame]) -> list[str]:
    """The run's tables in the report's order, the others after them by name."""
    known = [name for name in REPORT_ORDER if name in tables]
    return known + sorted(set(tables) - set(known))


def heading(name: str, unit: str = "usd") -> str:
    """A column's heading with its unit in words: money in the workbook's unit, a quarter as
    its quarter-end date."""
    if name in QUARTER_COLUMNS:
        return f"{columns.label(name)} ({QUARTER_END})"
    if columns.meaning(name).unit == "usd":
        return f"{columns.label(name)} ({MONEY_UNITS[unit][1]})"
    return columns.export_heading(name)


def cell_value(name: str, value: Any, unit: str = "usd") -> Any:
    """A stored value as the workbook holds it: a quarter as its last day, money in the
    workbook's unit, NaN as an empty cell, numpy scalars as Python's."""
    value = value.item() if hasattr(value, "item") else value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if name in QUARTER_COLUMNS and isinstance(value, str) and value:
        return quarter_end(value)
    if columns.meaning(name).unit == "usd" and isinstance(value, int | float) and not isinstance(value, bool):
        return value / MONEY_UNITS[unit][0]
    return value


def quarter_end(text: str) -> datetime.date:
    q = Quarter.parse(text)
    return (pd.Timestamp(year=q.year, month=3 * q.q, day=1) + pd.offsets.MonthEnd(0)).date()


def _number_format(name: str, unit: str) -> str | None:
    if name in QUARTER_COLUMNS:
        return _FORMATS["date"]
    kind = columns.meaning(name).unit
    if kind == "usd":
        return "#,##0" if unit == "usd" else "#,##0.0"
    return _FORMATS.get(kind)


def _table(sheet: Worksheet, frame: pd.DataFrame, unit: str, row: int = 1) -> int:
    """The frame at `row` of the sheet: headings in bold, values with their number formats;
    returns the first row below it."""
    names = list(frame.columns)
    for j, name in enumerate(names, start=1):
        sheet.cell(row=row, column=j, value=heading(name, unit)).font = _BOLD
        width = sheet.column_dimensions[sheet.cell(row=row, column=j).column_letter]
        width.width = max(width.width or 0, min(max(len(heading(name, unit)) + 2, 10), 45))
    formats = [_number_format(name, unit) for name in names]
    for i, record in enumerate(frame.itertuples(index=False), start=row + 1):
        for j, (name, value) in enumerate(zip(names, record, strict=True), start=1):
            cell = sheet.cell(row=i, column=j, value=cell_value(name, value, unit))
            if formats[j - 1]:
                cell.number_format = formats[j - 1]
    if row == 1:
        sheet.freeze_panes = "A2"
    return row + len(frame) + 2


def _summary(sheet: Worksheet, run: StoredRun, unit: str) -> None:
    """The verdict, the headline figures, the deal, the investors and the builds, one block
    under the other."""
    meta = run.meta
    sheet.cell(row=1, column=1, value=f"fabnet run {meta['run_id']}: {meta['scenario_name']}").font = Font(
        bold=True, size=14
    )
    row = 2
    for sentence in verdict.verdict(run):
        sheet.cell(row=row, column=1, value=sentence)
        row += 1
    row += 1
    keys = [h.key for h in verdict.headline(run)]
    if keys:
        row = _headline(sheet, row, run, keys, unit)
    for title, name, keep in (
        ("The deal", "deal_range", ("low_share", "high_share", "market_price_usd", "contract_share")),
        ("Investors", "investors", ()),
    ):
        table = run.tables.get(name)
        if table is not None and not table.empty:
            row = _block(sheet, row, title, table[list(keep)] if keep else table, unit)
    builds = _all_builds(run.tables)
    if not builds.empty:
        _block(sheet, row, "Builds", builds, unit)
    sheet.column_dimensions["A"].width = 60


def _block(sheet: Worksheet, row: int, title: str, frame: pd.DataFrame, unit: str) -> int:
    sheet.cell(row=row, column=1, value=title).font = Font(bold=True, size=12)
    return _table(sheet, frame, unit, row + 1)


def _headline(sheet: Worksheet, row: int, run: StoredRun, keys: list[str], unit: str) -> int:
    """The headline figures, one a row: its label with its unit, its value in its own number
    format (one column holds money, IRRs and counts)."""
    sheet.cell(row=row, column=1, value="Headline").font = Font(bold=True, size=12)
    for i, key in enumerate(keys, start=row + 1):
        sheet.cell(row=i, column=1, value=heading(key, unit))
        cell = sheet.cell(row=i, column=2, value=cell_value(key, run.figures[key], unit))
        cell.number_format = _number_format(key, unit) or "General"
    sheet.column_dimensions["B"].width = 18
    return row + len(keys) + 2


def _all_builds(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Fab builds and packaging lines in one table: where, what, how many, started, online."""
    frames = []
    builds, packaging = tables.get("builds"), tables.get("packaging_builds")
    if builds is not None and not builds.empty:
        what = builds.get("kind", pd.Series("module", index=builds.index)).map(lambda k: columns.BUILD_KINDS.get(k, k))
        frames.append(builds.assign(what=what)[["site", "what", "modules", "started", "online"]])
    if packaging is not None and not packaging.empty:
        frames.append(
            packaging.rename(columns={"line": "site"}).assign(what="packaging line")[
                ["site", "what", "modules", "started", "online"]
            ]
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _inputs(book: Workbook, run: StoredRun) -> None:
    """The inputs sheet (a value column to edit beside the hidden value as run) and the hidden
    sheet with the scenario as run, the base an edit is applied to."""
    sheet = book.create_sheet(layout.INPUTS_SHEET)
    for j, name in enumerate(layout.INPUT_COLUMNS, start=1):
        sheet.cell(row=1, column=j, value=name).font = _BOLD
    for i, record in enumerate(inputs_table(run).itertuples(index=False), start=2):
        value = _typed(record.value)
        for j, cell in enumerate((record.section, record.path, value, value), start=1):
            sheet.cell(row=i, column=j, value=cell)
    sheet.column_dimensions["B"].width = 50
    sheet.column_dimensions["C"].width = 24
    sheet.column_dimensions["D"].hidden = True
    sheet.freeze_panes = "A2"
    text = book.create_sheet(layout.SCENARIO_TEXT_SHEET)
    for i, line in enumerate(str(run.meta["scenario_text"]).splitlines(), start=1):
        text.cell(row=i, column=1, value=line)
    text.sheet_state = "hidden"


def _typed(value: Any) -> Any:
    """An inputs value as a cell: booleans, which the inputs table writes as JSON text, become
    booleans again."""
    return {"true": True, "false": False}.get(value, value) if isinstance(value, str) else value
