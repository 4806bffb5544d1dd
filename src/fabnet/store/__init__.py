"""Results store: every run with its scenario, provenance and result tables, in DuckDB."""

from fabnet.store.duck import DEFAULT_STORE, Store, StoredRun, UnknownRun

__all__ = ["DEFAULT_STORE", "Store", "StoredRun", "UnknownRun"]
