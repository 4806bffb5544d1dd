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

RUN_COLUMNS = (
    "run_id",
    "created_at",
    "scenario_name",
    "scenario_hash",
    "scenario_text",
    "seed",
    "fabnet_version",
    "solver_status",
    "solver_gap",
    "figures",
    "label",
    "kind",
    "source",
    "overrides",
)
#: Columns added to `runs` after its first release: a store written by an older fabnet gets them
#: (empty for its old runs) when a newer one writes to it.
ADDED_RUN_COLUMNS = ("label", "kind", "source", "overrides")
#: What `runs list` shows: one line per run.
LISTED = ("run_id", "label", "kind", "scenario_name", "created_at", "fabco_npv_usd")

#: How long a writer waits for a store another process holds (a run or a sweep computes first
#: and holds the store only to write, so this covers many other writers and readers).
WRITER_WAIT_S = 120.0
#: How long a reader (a CLI command, a dashboard request) waits.
READER_WAIT_S = 20.0


class UnknownRun(FabnetError):
    """A run id the store does not hold."""


class StoreError(FabnetError):
    """A store that cannot be opened, read or written: the message says which and why."""


def first_value(row: tuple[Any, ...] | None) -> Any:
    """The first column of a query's one row: an aggregate or a test always answers one row."""
    if row is None:
        raise StoreError("the store answered a query that always returns a row with none")
    return row[0]


class StoreBusy(StoreError):
    """Another process held the store for longer than this one would wait."""


@dataclass(frozen=True)
class StoredRun:
    """A run as stored: `meta` (id, time, label, kind, scenario text and file, overrides, solver,
    version), its key `figures` and its result `tables` (fabnet.api.scenario_of reads its scenario)."""

    meta: dict[str, Any]
    tables: dict[str, pd.DataFrame]

    @property
    def run_id(self) -> int:
        return int(self.meta["run_id"])

    @property
    def figures(self) -> dict[str, Any]:
        return json.loads(self.meta["figures"])

    @property
    def kind(self) -> str:
        """run, risk or deal (a run stored before kinds were recorded is a run, or a risk sweep
        when it has sweep settings: every run of such a store has the table, empty or not)."""
        if isinstance(self.meta.get("kind"), str):
            return self.meta["kind"]
        spec = self.tables.get("risk_spec")
        return "risk" if spec is not None and len(spec) else "run"

    @property
    def name(self) -> str:
        """How a page or a chart names the run: "run 3" or "run 3 (base case)"."""
        label = self.meta.get("label")
        return f"run {self.run_id}" + (f" ({label})" if isinstance(label, str) and label else "")


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


def listing(rows: pd.DataFrame, sweeps: set[int] = frozenset()) -> pd.DataFrame:  # type: ignore[assignment]
    """Rows of the `runs` table as `runs list` shows them (LISTED): the kind of a run stored
    before kinds were (a risk sweep when its id is in `sweeps`), no label as "", the fab
    company's NPV taken from its key figures."""
    data = rows.copy()
    for column in ADDED_RUN_COLUMNS:
        if column not in data:
            data[column] = None
    older = ["risk" if run_id in sweeps else "run" for run_id in data["run_id"]]
    data["kind"] = data["kind"].where(data["kind"].notna(), pd.Series(older, index=data.index, dtype=object))
    data["label"] = data["label"].where(data["label"].notna(), "")
    data["fabco_npv_usd"] = [
        json.loads(f).get("fabco_npv_usd") if isinstance(f, str) else None for f in data["figures"]
    ]
    data["fabco_npv_usd"] = pd.to_numeric(data["fabco_npv_usd"], errors="coerce")
    return data[list(LISTED)].reset_index(drop=True)


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
