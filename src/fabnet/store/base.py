"""What every results store is: runs (id, time, scenario, provenance, key figures) and their tidy
result tables, written one run per transaction; and what they share: the errors, the stored-run
record and the comparison of two runs."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from fabnet.core.errors import FabnetError

RUN_COLUMNS = ("run_id", "created_at", "scenario_name", "scenario_hash", "scenario_text", "seed",
               "fabnet_version", "solver_status", "solver_gap", "figures")

#: How long a writer waits for a store another process holds (a run or a sweep computes first
#: and holds the store only to write, so this covers many other writers and readers).
WRITER_WAIT_S = 120.0
#: How long a reader (a CLI command, a dashboard request) waits.
READER_WAIT_S = 20.0


class UnknownRun(FabnetError):
    """A run id the store does not hold."""


class StoreError(FabnetError):
    """A store that cannot be opened, read or written: the message says which and why."""


class StoreBusy(StoreError):
    """Another process held the store for longer than this one would wait."""


@dataclass(frozen=True)
class StoredRun:
    meta: dict[str, Any]
    tables: dict[str, pd.DataFrame]

    @property
    def figures(self) -> dict[str, Any]:
        return json.loads(self.meta["figures"])


class Store(Protocol):
    """A results store (store.duck.DuckStore for a file, store.pg.PgStore for PostgreSQL)."""

    location: str

    def close(self) -> None: ...
    def __enter__(self) -> Store: ...
    def __exit__(self, *exc: object) -> None: ...
    def save_run(self, meta: dict[str, Any], tables: dict[str, pd.DataFrame]) -> int: ...
    def save_rows(self, run_id: int, name: str, frame: pd.DataFrame) -> None: ...
    def runs(self) -> pd.DataFrame: ...
    def run(self, run_id: int) -> StoredRun: ...
    def compare(self, a: int, b: int) -> pd.DataFrame: ...


def compare_runs(first: StoredRun, second: StoredRun, a: int, b: int) -> pd.DataFrame:
    """Key figures of two runs side by side, with the difference."""
    x_figures, y_figures = first.figures, second.figures
    rows = []
    for key in dict.fromkeys([*x_figures, *y_figures]):
        x, y = x_figures.get(key), y_figures.get(key)
        numeric = isinstance(x, int | float) and isinstance(y, int | float)
        rows.append({"figure": key, f"run {a}": x, f"run {b}": y,
                     "difference": (y - x) if numeric else ("same" if x == y else "differs")})
    return pd.DataFrame(rows)


_TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def result_rows(name: str, run_id: int, frame: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """The table a result called `name` is stored in, and its rows tagged with the run id.
    Names become SQL identifiers, so only lower-case letters, digits and _ pass."""
    if not _TABLE_NAME.match(name):
        raise ValueError(f"table name {name!r} must be lower case letters, digits and _")
    data = frame.reset_index(drop=True).copy()
    data.insert(0, "run_id", run_id)
    return f"result_{name}", data


def figures_json(figures: dict[str, Any]) -> str:
    return json.dumps(figures, default=_json_default)


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)
