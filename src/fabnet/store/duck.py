"""An embedded DuckDB file holding runs, shared by many processes.

Table `runs`: one row per run (id, time, scenario name, content hash and full text, seed, fabnet
version, solver status and gap, key figures as JSON). Tables `result_<name>`: the run's tidy
result tables, each row tagged with its run_id. Every table and column, with its type, is
declared in core.results; tables are created from those types (store.base.schema_sql). A run
is written in one transaction, so a crash or an exception midway leaves the store exactly as it
was.

DuckDB lets one process write a file, or many read it, never both. So no process holds the
store longer than one short transaction: a run or a sweep computes first and opens the store
only to write; readers (CLI commands, each dashboard request) open it, read and close. Whoever
finds it held waits and tries again with a growing pause (`connect`), up to a bound, and says
so while it waits; a writer that finally cannot write raises StoreError, and the pipeline keeps
the finished run in a file of its own (store.archive).
"""

from __future__ import annotations

import contextlib
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from fabnet.core import results
from fabnet.store.base import (
    READER_WAIT_S,
    RUN_COLUMNS,
    RUNS,
    SQL_TYPES,
    WRITER_WAIT_S,
    StoreBusy,
    StoredRun,
    StoreError,
    UnknownRun,
    check_runs_shape,
    first_value,
    listing,
    quoted,
    result_rows,
    run_row,
    schema_sql,
)

DEFAULT_STORE = Path(results.DEFAULT_STORE)
#: One write transaction at a time in this process: threads of one process share the file's
#: database, and two would both read the same next run id (other processes wait for the file).
_WRITING = threading.Lock()
_LOCKED = ("Could not set lock", "Conflicting lock")


def _locked(error: BaseException) -> bool:
    return isinstance(error, duckdb.IOException) and any(text in str(error) for text in _LOCKED)


def connect(
    path: Path, read_only: bool, wait_s: float, waiting: Callable[[float], None] | None = None
) -> duckdb.DuckDBPyConnection:
    """Open the file, waiting (with a growing, jittered pause) while another process holds it;
    `waiting(seconds)` hears about each wait. Anything but a lock, or a lock held longer than
    `wait_s`, is a StoreError that says what is wrong."""
    start = time.monotonic()
    pause = 0.02
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as error:
            waited = time.monotonic() - start
            if not _locked(error):
                raise StoreError(_cannot_open(path, error)) from None
            if waited >= wait_s:
                holder = re.search(r"PID (\d+)", str(error))
                who = f"process {holder.group(1)}" if holder else "another process"
                raise StoreBusy(
                    f"the results store {path} is held by {who}; waited {waited:.0f} s (try again when it has finished)"
                ) from None
            if waiting is not None:
                waiting(waited)
            time.sleep(pause * random.uniform(0.5, 1.5))
            pause = min(pause * 2, 1.0)


def _cannot_open(path: Path, error: BaseException) -> str:
    text = str(error)
    if path.is_dir():
        return f"--store {path} is a folder; give a file, e.g. {path / 'fabnet.duckdb'}"
    if "not a valid DuckDB database" in text:
        return f"{path} is not a fabnet results store (not a DuckDB file); give another --store"
    return f"cannot open the results store {path}: {text.removeprefix('IO Error: ')}"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """The columns of `table` and their types; none when there is no such table."""
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = ?",
        [table],
    ).fetchall()
    return {name: kind.strip('"') for name, kind in rows}


class DuckStore:
    def __init__(
        self,
        path: str | Path = DEFAULT_STORE,
        read_only: bool = False,
        wait_s: float | None = None,
        waiting: Callable[[float], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        self.read_only = read_only
        if read_only and not self.path.exists():
            raise StoreError(f"no results store at {self.path}; run `fabnet run` first or pass --store")
        wait = wait_s if wait_s is not None else (READER_WAIT_S if read_only else WRITER_WAIT_S)
        self._con = connect(self.path, read_only, wait, waiting)
        if not read_only:
            try:  # a store an older fabnet wrote gets the columns declared since
                check_runs_shape(self._con, self.location)
                with _WRITING:
                    for statement in schema_sql("runs", RUNS.columns, _columns(self._con, "runs"), key="run_id"):
                        self._con.execute(statement)
            except StoreError:
                self._con.close()
                raise
            except duckdb.Error as error:
                self._con.close()
                raise StoreError(f"cannot write the results store {self.path}: {error}") from None

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> DuckStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        return self._con.cursor()  # one per call: safe from several threads

    # --- writing -------------------------------------------------------------------------

    def save_run(self, meta: dict[str, Any], tables: dict[str, pd.DataFrame]) -> int:
        """Record a run and its tables in one transaction; returns its id."""

        def write(con: duckdb.DuckDBPyConnection) -> int:
            run_id = int(first_value(con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchone()))
            con.execute(
                f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) VALUES ({', '.join('?' * len(RUN_COLUMNS))})",
                run_row(meta, run_id),
            )
            for name, frame in tables.items():
                self._insert(con, name, run_id, frame)
            return run_id

        return self._transaction(write)

    def save_rows(self, run_id: int, name: str, frame: pd.DataFrame) -> None:
        """Add rows to one result table of an existing run, in one transaction."""
        self._transaction(lambda con: self._insert(con, name, run_id, frame))

    def _transaction(self, work: Callable[[duckdb.DuckDBPyConnection], Any]) -> Any:
        """Run `work` in one transaction. A failure leaves the store as it was; a failure of the
        store itself (a full disk, a file it may not write) is a StoreError, not a traceback."""
        with _WRITING:
            return self._transaction_alone(work)

    def _transaction_alone(self, work: Callable[[duckdb.DuckDBPyConnection], Any]) -> Any:
        con = self._cursor()
        con.begin()
        try:
            result = work(con)
            con.commit()
            return result
        except BaseException as error:
            with contextlib.suppress(duckdb.Error):  # a failed commit has no transaction left
                con.rollback()
            if isinstance(error, duckdb.IOException | OSError) or "commit" in str(error).lower():
                raise StoreError(f"cannot write the results store {self.path}: {error}") from error
            raise

    def _insert(self, con: duckdb.DuckDBPyConnection, name: str, run_id: int, frame: pd.DataFrame) -> None:
        table, columns, data = result_rows(name, run_id, frame)
        present = _columns(con, table)
        for statement in schema_sql(table, columns, present):
            con.execute(statement)
        for column in columns:  # an older fabnet typed the columns of an empty first frame NULL
            if present.get(column.name) == "NULL":
                con.execute(f"ALTER TABLE {table} ALTER {quoted(column.name)} TYPE {SQL_TYPES[column.dtype]}")
        if not len(data):
            return
        con.register("incoming", data)
        try:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
        finally:
            with contextlib.suppress(duckdb.Error):  # an aborted transaction refuses even this
                con.unregister("incoming")

    # --- reading -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """A file DuckDB opened but cannot read (cut short, damaged) is a StoreError that says
        so, not a traceback."""
        try:
            yield
        except duckdb.Error as error:
            raise StoreError(f"cannot read the results store {self.path} (damaged or cut short?): {error}") from None

    def runs(self) -> pd.DataFrame:
        """One row per run, oldest first (base.LISTED)."""
        with self._reading():
            return self._runs()

    def _runs(self) -> pd.DataFrame:
        con = self._cursor()
        rows = con.execute("SELECT * EXCLUDE (scenario_text) FROM runs ORDER BY run_id").df()
        sweeps = (
            {r[0] for r in con.execute("SELECT DISTINCT run_id FROM result_risk_spec").fetchall()}
            if "risk_spec" in self._result_tables(con)
            else set()
        )
        return listing(rows, sweeps)

    def _result_tables(self, con: duckdb.DuckDBPyConnection) -> list[str]:
        return [
            t.removeprefix("result_")
            for (t,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'result_%' ORDER BY table_name"
            ).fetchall()
        ]

    def run(self, run_id: int) -> StoredRun:
        with self._reading():
            return self._run(run_id)

    def _run(self, run_id: int) -> StoredRun:
        con = self._cursor()
        found = con.execute("SELECT * FROM runs WHERE run_id = ?", [int(run_id)]).df()
        if found.empty:
            known = ", ".join(map(str, self.runs()["run_id"])) or "none yet"
            raise UnknownRun(f"no run {run_id} in {self.path}; runs: {known}")
        tables = {}
        for name in self._result_tables(con):
            tables[name] = con.execute(
                f"SELECT * EXCLUDE (run_id) FROM result_{name} WHERE run_id = ?", [int(run_id)]
            ).df()
        return StoredRun(found.iloc[0].to_dict(), tables)
