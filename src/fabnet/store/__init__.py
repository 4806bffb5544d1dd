"""Results store: every run with its scenario, provenance and result tables. A DuckDB file by
default, shared by many processes (store.duck); a PostgreSQL server for a team (store.pg,
`--store postgresql://user:password@host/database`); a run that no store would take is kept in
a file of its own (store.archive) for `fabnet runs import`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fabnet.store.base import Store, StoreBusy, StoredRun, StoreError, UnknownRun
from fabnet.store.duck import DEFAULT_STORE, DuckStore
from fabnet.store.pg import PgStore, is_postgres


def open_store(
    location: str | Path = DEFAULT_STORE,
    read_only: bool = False,
    wait_s: float | None = None,
    waiting: Callable[[float], None] | None = None,
) -> Store:
    """The store at `location`: a PostgreSQL address or a DuckDB file (created when written)."""
    if is_postgres(str(location)):
        return PgStore(str(location), read_only, wait_s, waiting)
    return DuckStore(location, read_only, wait_s, waiting)


__all__ = [
    "DEFAULT_STORE",
    "DuckStore",
    "PgStore",
    "Store",
    "StoreBusy",
    "StoreError",
    "StoredRun",
    "UnknownRun",
    "open_store",
]
