"""The results store in PostgreSQL, for a team: the same tables as the DuckDB file (`runs` and
`result_<name>`), through psycopg. The server does the sharing: many processes read and write
at once; a run is one transaction, and run ids are handed out under a table lock so two writers
never take the same one.

Column types are those core.results declares (store.base.SQL_TYPES): a table first stored from
an empty frame is typed all the same; floats keep NaN.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

from fabnet.core.results import Column
from fabnet.core.secrets import redact
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

#: The advisory lock fabnet's schema changes take (any fixed 64-bit number: "fabnet" in ASCII).
SCHEMA_LOCK = 0x6661626E6574
#: Longest a connection is retried: a server that restarts or has no connection slot free
#: answers again within seconds. The server shares the store among its clients itself (nothing
#: holds it as a process holds a DuckDB file), so a longer wait only delays the message for an
#: address that is wrong, a server that is down or a password that is refused — psycopg tells
#: none of them apart (each is a plain OperationalError) — and a finished run then goes to its
#: .fabnetrun file instead.
CONNECT_WAIT_S = 10.0


#: Each declared type's Python values for COPY (missing ones are NULL, floats keep NaN).
_PYTHON: dict[str, Callable[[Any], Any]] = {
    "int": int,
    "float": float,
    "bool": bool,
    "text": str,
    "time": lambda v: pd.Timestamp(v).to_pydatetime(),
}


def _values(series: pd.Series, column: Column) -> list[Any]:
    """A column as Python values of its declared type, for COPY."""
    convert = _PYTHON[column.dtype]
    keep_nan = column.dtype == "float"
    return [
        None if v is None or (pd.isna(v) and not (keep_nan and isinstance(v, float))) else convert(v)
        for v in series.tolist()
    ]


class PgStore:
    def __init__(
        self,
        url: str,
        read_only: bool = False,
        wait_s: float | None = None,
        waiting: Callable[[float], None] | None = None,
    ) -> None:
        self.location = redact(url)
        self.read_only = read_only
        wait = wait_s if wait_s is not None else (READER_WAIT_S if read_only else WRITER_WAIT_S)
        self._con = self._connect(url, min(wait, CONNECT_WAIT_S), waiting)
        if not read_only:
            try:
                check_runs_shape(self._con, self.location)
            except StoreError:
                self._con.close()
                raise
            with self._con.transaction():  # a store an older fabnet wrote gets the columns declared since
                self._change_schema(schema_sql("runs", RUNS.columns, self._columns("runs"), key="run_id"))
        elif not self._has_table("runs"):
            self._con.close()
            raise StoreError(f"no fabnet runs in {self.location}; run `fabnet run --store …` first")

    def _connect(self, url: str, wait_s: float, waiting: Callable[[float], None] | None) -> psycopg.Connection:
        start, pause = time.monotonic(), 0.1
        while True:
            try:
                return psycopg.connect(url, autocommit=True, connect_timeout=10)
            except psycopg.OperationalError as error:
                waited = time.monotonic() - start
                if waited >= wait_s:
                    raise StoreBusy(
                        f"cannot reach the results store {self.location}: {str(error).strip().splitlines()[0]}"
                    ) from None
                if waiting is not None:
                    waiting(waited)
                time.sleep(pause)
                pause = min(pause * 2, 2.0)
            except psycopg.Error as error:
                raise StoreError(f"cannot open the results store {self.location}: {error}") from None

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> PgStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _change_schema(self, statements: list[str]) -> None:
        """Create or widen tables, one process at a time: two sessions creating one table at
        once both pass IF NOT EXISTS and the second fails on PostgreSQL's catalogue
        (pg_type_typname_nsp_index). The lock is the transaction's, so it ends with it; every
        statement is idempotent, so whoever waited finds the work done."""
        if not statements:
            return
        self._con.execute("SELECT pg_advisory_xact_lock(%s)", [SCHEMA_LOCK])
        for statement in statements:
            self._con.execute(statement)

    def _has_table(self, table: str) -> bool:
        return bool(first_value(self._con.execute("SELECT to_regclass(%s) IS NOT NULL", [table]).fetchone()))

    # --- writing -------------------------------------------------------------------------

    def save_run(self, meta: dict[str, Any], tables: dict[str, pd.DataFrame]) -> int:
        """Record a run and its tables in one transaction; returns its id."""
        try:
            with self._con.transaction():
                self._con.execute("LOCK TABLE runs IN SHARE ROW EXCLUSIVE MODE")
                run_id = int(first_value(self._con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchone()))
                self._con.execute(
                    sql.SQL("INSERT INTO runs ({}) VALUES ({})").format(
                        sql.SQL(", ").join(map(sql.Identifier, RUN_COLUMNS)),
                        sql.SQL(", ").join(sql.Placeholder() * len(RUN_COLUMNS)),
                    ),
                    run_row(meta, run_id),
                )
                for name, frame in tables.items():
                    self._insert(name, run_id, frame)
        except psycopg.OperationalError as error:
            raise StoreError(f"cannot write the results store {self.location}: {error}") from error
        return run_id

    def save_rows(self, run_id: int, name: str, frame: pd.DataFrame) -> None:
        """Add rows to one result table of an existing run, in one transaction."""
        try:
            with self._con.transaction():
                self._insert(name, run_id, frame)
        except psycopg.OperationalError as error:
            raise StoreError(f"cannot write the results store {self.location}: {error}") from error

    def _insert(self, name: str, run_id: int, frame: pd.DataFrame) -> None:
        table, columns, data = result_rows(name, run_id, frame)
        present = self._columns(table)
        self._change_schema(schema_sql(table, columns, present))
        for column in columns:
            if self._untyped(table, column, present):
                self._con.execute(
                    f"ALTER TABLE {quoted(table)} ALTER COLUMN {quoted(column.name)} "
                    f"TYPE {SQL_TYPES[column.dtype]} USING NULL"
                )
        if not len(data):
            return
        declared = {c.name: c for c in columns}
        names = [str(c) for c in data.columns]
        with self._con.cursor().copy(f"COPY {quoted(table)} ({', '.join(map(quoted, names))}) FROM STDIN") as copy:
            for row in zip(*(_values(data[c], declared[c]) for c in names), strict=True):
                copy.write_row(row)

    def _columns(self, table: str) -> dict[str, str]:
        """The columns of `table` and their types; none when there is no such table."""
        rows = self._con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s",
            [table],
        ).fetchall()
        return dict(rows)

    def _untyped(self, table: str, column: Column, present: dict[str, str]) -> bool:
        """Whether an older fabnet, not knowing the type, made `column` TEXT (from an empty
        first frame) where another is declared, and it holds no value yet to keep."""
        return (
            present.get(column.name) == "text"
            and column.dtype != "text"
            and not first_value(
                self._con.execute(f"SELECT count({quoted(column.name)}) FROM {quoted(table)}").fetchone()
            )
        )

    # --- reading -------------------------------------------------------------------------

    def _frame(self, query: sql.SQL | sql.Composed | str, params: list[Any] | None = None) -> pd.DataFrame:
        cursor = self._con.execute(query, params)
        columns = [d.name for d in cursor.description or ()]
        frame = pd.DataFrame(cursor.fetchall(), columns=columns)
        for column in frame.columns:  # all-NULL columns come back as object; keep numbers numeric
            if (
                frame[column].dtype == object
                and len(frame)
                and frame[column].map(lambda v: isinstance(v, int | float) and not isinstance(v, bool)).all()
            ):
                frame[column] = pd.to_numeric(frame[column])
        return frame

    def runs(self) -> pd.DataFrame:
        """One row per run, oldest first (base.LISTED)."""
        sweeps = (
            {r[0] for r in self._con.execute("SELECT DISTINCT run_id FROM result_risk_spec").fetchall()}
            if self._has_table("result_risk_spec")
            else set()
        )
        return listing(self._frame("SELECT * FROM runs ORDER BY run_id").drop(columns=["scenario_text"]), sweeps)

    def run(self, run_id: int) -> StoredRun:
        found = self._frame("SELECT * FROM runs WHERE run_id = %s", [int(run_id)])
        if found.empty:
            known = ", ".join(map(str, self.runs()["run_id"])) or "none yet"
            raise UnknownRun(f"no run {run_id} in {self.location}; runs: {known}")
        tables = {}
        names = self._con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_name LIKE 'result\\_%%' ORDER BY table_name"
        ).fetchall()
        for (table,) in names:
            frame = self._frame(
                sql.SQL("SELECT * FROM {} WHERE run_id = %s").format(sql.Identifier(table)), [int(run_id)]
            )
            tables[table.removeprefix("result_")] = frame.drop(columns=["run_id"])
        return StoredRun(found.iloc[0].to_dict(), tables)
