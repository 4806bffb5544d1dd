"""What every results store is: runs (id, time, scenario, provenance, key figures) and their tidy
result tables, written one run per transaction; and what they share: the errors, the stored-run
record and the comparison of two runs."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import pandas as pd

from fabnet.core import results
from fabnet.core.errors import FabnetError
from fabnet.core.results import RUN_ID, Column
from fabnet.store.figures import KeyFigures

#: The table of runs, as core.results declares it.
RUNS = results.table("runs")
RUN_COLUMNS = tuple(RUNS.names)
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
    def figures(self) -> KeyFigures:
        return KeyFigures.of(json.loads(self.meta["figures"]))

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


def listing(rows: pd.DataFrame, sweeps: Collection[int] = frozenset()) -> pd.DataFrame:
    """Rows of the `runs` table as `runs list` shows them (LISTED): the kind of a run stored
    before kinds were (a risk sweep when its id is in `sweeps`), no label as "", the fab
    company's NPV taken from its key figures."""
    data = rows.copy()
    for column in RUN_COLUMNS:  # a store an older fabnet wrote, read only, may lack some
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


def result_rows(name: str, run_id: int, frame: pd.DataFrame) -> tuple[str, list[Column], pd.DataFrame]:
    """The table a result called `name` is stored in, its columns (core.results declares them;
    a family's as the frame names them) and the frame's rows tagged with the run id. A table or
    a column declared nowhere is refused (core.results.Undeclared). Names become SQL
    identifiers, so only lower-case letters, digits and _ pass."""
    if not _TABLE_NAME.match(name):
        raise ValueError(f"table name {name!r} must be lower case letters, digits and _")
    declared = results.table(name)
    declared.check(frame)
    family = [declared.column(str(c)) for c in frame.columns if str(c) not in declared.names]
    data = frame.reset_index(drop=True).copy()
    data.insert(0, RUN_ID.name, run_id)
    return f"result_{name}", [RUN_ID, *declared.columns, *(c for c in family if c is not None)], data


#: The SQL type of each declared type: names DuckDB and PostgreSQL both know.
SQL_TYPES = {"int": "BIGINT", "float": "DOUBLE PRECISION", "text": "TEXT", "bool": "BOOLEAN", "time": "TIMESTAMP"}


def quoted(name: str) -> str:
    """An SQL identifier, quoted (a family's column is named after a scenario id)."""
    return '"' + name.replace('"', '""') + '"'


def schema_sql(table: str, columns: Sequence[Column], present: Collection[str], key: str | None = None) -> list[str]:
    """The statements that let `table` take rows of `columns`: create it with their declared
    types when it is not there (`present`, its columns, empty), else add those it lacks — a
    family's column as it first appears, a column declared after an older fabnet made it."""
    typed = [f"{quoted(c.name)} {SQL_TYPES[c.dtype]}{' PRIMARY KEY' if c.name == key else ''}" for c in columns]
    if not present:
        return [f"CREATE TABLE IF NOT EXISTS {quoted(table)} ({', '.join(typed)})"]
    return [
        f"ALTER TABLE {quoted(table)} ADD COLUMN IF NOT EXISTS {text}"
        for column, text in zip(columns, typed, strict=True)
        if column.name not in present
    ]


#: The shape of a store's `runs` table, in SQL that DuckDB and PostgreSQL both answer.
RUNS_SHAPE_SQL = (
    "SELECT c.column_name, upper(c.data_type), c.is_nullable, c.column_default, t.table_type "
    "FROM information_schema.columns c JOIN information_schema.tables t "
    "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
    "WHERE c.table_schema = current_schema() AND c.table_name = 'runs'"
)
#: The type names each declared type may have been stored as (by either backend, by any
#: fabnet so far: an older one left columns of empty frames typed NULL).
_STORED_AS = {
    "int": ("BIGINT", "INTEGER", "SMALLINT", "HUGEINT", "INT"),
    "float": ("DOUBLE", "REAL", "FLOAT", "NUMERIC", "DECIMAL"),
    "text": ("VARCHAR", "TEXT", "CHARACTER"),
    "bool": ("BOOLEAN",),
    "time": ("TIMESTAMP",),
}


def foreign_runs(rows: Sequence[tuple[Any, ...]]) -> list[str]:
    """What makes a store's `runs` table (RUNS_SHAPE_SQL's rows) one this fabnet cannot write:
    a view, a declared column of another type, a column it does not know that demands a value.
    Empty for a new store, this fabnet's and any older one's (their columns are added)."""
    problems = []
    declared = {c.name: c for c in RUNS.columns}
    for name, kind, nullable, default, table_type in rows:
        column = declared.get(name)
        if "VIEW" in str(table_type).upper():
            return ["`runs` is a view, not a table"]
        if column is not None and kind != "NULL" and not str(kind).startswith(_STORED_AS[column.dtype]):
            problems.append(f"runs.{name} is {kind} where fabnet stores {SQL_TYPES[column.dtype]}")
        if column is None and str(nullable).upper() == "NO" and default is None:
            problems.append(f"runs.{name}, unknown to this fabnet, demands a value")
    return problems


def check_runs_shape(con: Any, location: str) -> None:
    """Refuse, before anything is written, a store whose `runs` table this fabnet cannot
    write (foreign_runs), naming the fabnet that stored its last run. `con` is a DuckDB or a
    psycopg connection (both `execute(sql).fetchall()`); the caller closes it on error."""
    problems = foreign_runs(con.execute(RUNS_SHAPE_SQL).fetchall())
    if not problems:
        return
    try:
        row = con.execute("SELECT fabnet_version FROM runs ORDER BY run_id DESC LIMIT 1").fetchone()
        last = str(row[0]) if row and row[0] is not None else None
    except Exception:  # a store shaped by someone else may have neither column
        last = None
    raise foreign_store(location, problems, last)


def foreign_store(location: str, problems: list[str], last_version: str | None) -> StoreError:
    """The error that names a store another program (or another fabnet) shaped."""
    from fabnet.core.version import __version__

    made = f"its last run was stored by fabnet {last_version}" if last_version else "no run of it names its fabnet"
    return StoreError(
        f"the results store {location} has another shape than fabnet {__version__} writes ({'; '.join(problems)}; "
        f"{made}); use another --store, or that fabnet"
    )


def run_row(meta: dict[str, Any], run_id: int) -> list[Any]:
    """The `runs` row of a run (RUN_COLUMNS' values): its meta, whose keys core.results must
    declare, its id, the time now unless it has one, its key figures as JSON."""
    RUNS.check(pd.DataFrame(columns=list(meta)))
    row = {
        **dict.fromkeys(RUN_COLUMNS),
        **meta,
        "run_id": run_id,
        "created_at": meta.get("created_at") or datetime.now(UTC).replace(tzinfo=None),
        "figures": meta["figures"] if isinstance(meta.get("figures"), str) else figures_json(meta.get("figures", {})),
    }
    return [row[c] for c in RUN_COLUMNS]


def figures_json(figures: Mapping[str, Any]) -> str:
    return json.dumps(dict(figures), default=_json_default)


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def is_postgres(location: str) -> bool:
    """A PostgreSQL address (store.pg), not a DuckDB file."""
    return str(location).startswith(("postgresql://", "postgres://"))
