"""An embedded DuckDB file holding runs, shared by many processes.

Table `runs`: one row per run (id, time, scenario name, content hash and full text, seed, fabnet
version, solver status and gap, key figures as JSON). Tables `result_<name>`: the run's tidy
result tables, each row tagged with its run_id. A run is written in one transaction, so a crash
or an exception midway leaves the store exactly as it was.

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
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from fabnet.store.base import (
    ADDED_RUN_COLUMNS,
    READER_WAIT_S,
    RUN_COLUMNS,
    WRITER_WAIT_S,
    StoreBusy,
    StoredRun,
    StoreError,
    UnknownRun,
    figures_json,
    first_value,
    listing,
    result_rows,
)

DEFAULT_STORE = Path("fabnet.duckdb")
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
            try:
                self._con.execute(
                    "CREATE TABLE IF NOT EXISTS runs (run_id BIGINT PRIMARY KEY, created_at TIMESTAMP, "
                    "scenario_name VARCHAR, scenario_hash VARCHAR, scenario_text VARCHAR, seed BIGINT, "
                    "fabnet_version VARCHAR, solver_status VARCHAR, solver_gap DOUBLE, figures VARCHAR)"
                )
                for column in ADDED_RUN_COLUMNS:
                    self._con.execute(f"ALTER TABLE runs ADD COLUMN IF NOT EXISTS {column} VARCHAR")
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
            row = {
                **dict.fromkeys(RUN_COLUMNS),
                **meta,
                "run_id": run_id,
                "created_at": meta.get("created_at") or datetime.now(UTC).replace(tzinfo=None),
                "figures": figures_json(meta.get("figures", {}))
                if not isinstance(meta.get("figures"), str)
                else meta["figures"],
            }
            con.execute(
                f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) VALUES ({', '.join('?' * len(RUN_COLUMNS))})",
                [row[c] for c in RUN_COLUMNS],
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
        table, data = result_rows(name, run_id, frame)
        con.register("incoming", data)
        try:
            exists = first_value(
                con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]).fetchone()
            )
            if not exists:
                con.execute(f"CREATE TABLE {table} AS SELECT * FROM incoming LIMIT 0")
            known = {r[0]: r[1] for r in con.execute(f"DESCRIBE {table}").fetchall()}
            for column, dtype, *_ in con.execute("DESCRIBE incoming").fetchall():
                if column not in known:  # a newer fabnet added a column: old runs read NULL
                    con.execute(f'ALTER TABLE {table} ADD COLUMN "{column}" {dtype}')
                elif known[column].strip('"') == "NULL" and dtype.strip('"') != "NULL":  # from an empty frame
                    con.execute(f'ALTER TABLE {table} ALTER "{column}" TYPE {dtype}')
            if len(data):
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
        finally:
            with contextlib.suppress(duckdb.Error):  # an aborted transaction refuses even this
                con.unregister("incoming")

    # --- reading -------------------------------------------------------------------------

    def runs(self) -> pd.DataFrame:
        """One row per run, oldest first (base.LISTED)."""
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
