"""Results store: every run with its scenario, provenance and result tables. A DuckDB file by
default, shared by many processes (store.duck); a PostgreSQL server for a team (store.pg,
`--store postgresql://user:password@host/database`); a run that no store would take is kept in
a file of its own (store.archive) for `fabnet runs import`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

from fabnet.store.base import Store, StoreBusy, StoredRun, StoreError, UnknownRun, is_postgres
from fabnet.store.duck import DEFAULT_STORE, DuckStore
from fabnet.store.figures import InvestorReturn, KeyFigures

if TYPE_CHECKING:
    from fabnet.store.pg import PgStore


def __getattr__(name: str) -> type[PgStore]:
    # psycopg (0.1 s) is imported only when a PostgreSQL store is opened
    if name != "PgStore":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from fabnet.store.pg import PgStore

    globals()["PgStore"] = PgStore
    return PgStore


def open_store(
    location: str | Path = DEFAULT_STORE,
    read_only: bool = False,
    wait_s: float | None = None,
    waiting: Callable[[float], None] | None = None,
) -> Store:
    """The store at `location`: a PostgreSQL address or a DuckDB file (created when written)."""
    if is_postgres(str(location)):
        # looked up on the module, where a test may stand a DuckDB file in for the server
        pg_store = globals().get("PgStore") or __getattr__("PgStore")
        return pg_store(str(location), read_only, wait_s, waiting)
    return DuckStore(location, read_only, wait_s, waiting)


def store_name(location: str | Path) -> str:
    """A store's short name, for the files named after it: a DuckDB file's stem, a PostgreSQL
    database's name (fabnet for postgresql://host/fabnet?sslmode=require)."""
    location = str(location)
    if is_postgres(location):
        return location.rsplit("/", 1)[-1].split("?")[0]
    return Path(location).stem


def change_files(location: str | Path) -> tuple[Path, ...]:
    """The files whose size or modification time changes when the store at `location` changes
    (a DuckDB file and its write-ahead log, which comes and goes); none for a PostgreSQL
    server, whose changes cannot be seen from here: ask it each time."""
    if is_postgres(str(location)):
        return ()
    file = Path(location)
    return (file, file.with_name(file.name + ".wal"))


def stored_run(location: str | Path, run_id: int) -> StoredRun:
    """A stored run, read and the store closed again."""
    with open_store(location, read_only=True) as store:
        return store.run(run_id)


def stored_rows(location: str | Path, run_id: int, table: str) -> pd.DataFrame | None:
    """A result table of a stored run (None when the run has none yet)."""
    return stored_run(location, run_id).tables.get(table)


def store_rows(location: str | Path, run_id: int, table: str, frame: pd.DataFrame) -> None:
    """Add rows to a stored run's result table, in one transaction."""
    with open_store(location) as store:
        store.save_rows(run_id, table, frame)


__all__ = [
    "DEFAULT_STORE",
    "DuckStore",
    "InvestorReturn",
    "KeyFigures",
    "PgStore",
    "Store",
    "StoreBusy",
    "StoreError",
    "StoredRun",
    "UnknownRun",
    "change_files",
    "open_store",
    "store_name",
    "store_rows",
    "stored_rows",
    "stored_run",
]
