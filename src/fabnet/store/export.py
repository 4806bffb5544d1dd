"""A stored run's tables, written for a notebook: one CSV or Parquet file per table (the Excel
workbook, a Summary sheet first, is report.workbook's).

Every export also holds the run's inputs: the resolved scenario (extends and --set applied) as
path/value rows, the overrides given, and the run's provenance. Money stays a number (formatted
as money in Excel, never text); headings name the unit ("capex building (USD)") in a workbook,
and CSV/Parquet keep the stored column names (their suffix is the unit) beside a `columns` legend
(label, unit and meaning of each column, as core.results declares it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import yaml

from fabnet.core.columns import UNIT_WORDS, meaning
from fabnet.core.errors import FabnetError
from fabnet.core.results import column_meaning
from fabnet.store.archive import write_parquet
from fabnet.store.base import StoredRun

FORMATS = ("xlsx", "csv", "parquet")
#: The formats a folder of files is written in (the workbook is report.workbook's).
FILE_FORMATS = ("csv", "parquet")


class ExportError(FabnetError):
    """An export that could not be written."""


def flatten(data: object, prefix: str = "") -> dict[str, object]:
    """Nested scenario data as {path: value} in the --set syntax: list entries by their id when
    they have one (`sites.arizona.lead_time_q`), else by index (`demand.quarterly[3]`)."""
    if isinstance(data, dict):
        items = [(f"{prefix}.{k}" if prefix else str(k), v) for k, v in data.items()]
    elif isinstance(data, list) and data and all(isinstance(v, dict) and "id" in v for v in data):
        items = [(f"{prefix}.{v['id']}", {k: x for k, x in v.items() if k != "id"}) for v in data]
    elif isinstance(data, list) and data:
        items = [(f"{prefix}[{i}]", v) for i, v in enumerate(data)]
    else:
        return {prefix: data}
    flat: dict[str, object] = {}
    for path, value in items:
        flat |= flatten(value, path)
    return flat


def scenario_paths(run: StoredRun) -> dict[str, object]:
    """The run's resolved scenario as {path: value}."""
    return flatten(yaml.safe_load(run.meta["scenario_text"]) or {})


def inputs_table(run: StoredRun) -> pd.DataFrame:
    """The run's inputs as rows: its provenance, the overrides it was given, every scenario value."""
    meta = run.meta
    about = [
        ("run", meta.get("run_id")),
        ("label", meta.get("label")),
        ("kind", meta.get("kind")),
        ("scenario file", meta.get("source")),
        ("scenario hash", meta.get("scenario_hash")),
        ("fabnet version", meta.get("fabnet_version")),
        ("created (UTC)", str(meta.get("created_at"))[:19]),
    ]
    rows = [{"section": "run", "path": name, "value": _cell(value)} for name, value in about]
    rows += [
        {"section": "override", "path": text.partition("=")[0], "value": text.partition("=")[2]}
        for text in overrides_of(run)
    ]
    rows += [
        {"section": "scenario", "path": path, "value": _cell(value)} for path, value in scenario_paths(run).items()
    ]
    return pd.DataFrame(rows, columns=["section", "path", "value"])


def overrides_of(run: StoredRun) -> list[str]:
    """The --set overrides a run was given, as "path=value"."""
    stored = run.meta.get("overrides")
    return list(json.loads(stored)) if isinstance(stored, str) and stored else []


def _cell(value: object) -> object:
    """A scenario value for the inputs sheet: a number stays a number (Excel can add it up),
    text stays text, a list or nothing is written as JSON text."""
    if value is None:
        return ""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return value
    return json.dumps(value)


def columns_table(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The legend: every column of every table with its label, its unit and what it means
    (core.results' declaration; none for a column an older fabnet stored and no longer makes)."""
    return pd.DataFrame(
        [
            {
                "table": name,
                "column": column,
                "label": meaning(column).label,
                "unit": UNIT_WORDS.get(meaning(column).unit, ""),
                "meaning": column_meaning(name, column),
            }
            for name, frame in tables.items()
            for column in frame.columns
        ]
    )


def export_run(run: StoredRun, folder: str | Path, kind: str = "csv") -> Path:
    """Write the run's tables and inputs under `folder` as a folder of files (csv or parquet);
    returns it. The workbook (xlsx) is report.workbook.write_workbook's."""
    if kind not in FILE_FORMATS:
        raise ExportError(f"unknown export format {kind!r}; choose {', '.join(FORMATS)}")
    tables = {"inputs": inputs_table(run), **dict(sorted(run.tables.items()))}
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"run-{run.meta['run_id']}"
        target.mkdir(exist_ok=True)
        for name, frame in {**tables, "columns": columns_table(run.tables)}.items():
            if kind == "csv":
                frame.to_csv(target / f"{name}.csv", index=False)
            else:
                write_parquet(frame, target / f"{name}.parquet")
        return target
    except OSError as error:
        raise ExportError(f"cannot write the export {error.filename or folder}: {error.strerror or error}") from None
