"""The results store in PostgreSQL, for a team: the same tables as the DuckDB file (`runs` and
`result_<name>`), through psycopg. The server does the sharing: many processes read and write
at once; a run is one transaction, and run ids are handed out under a table lock so two writers
never take the same one.

Column types follow the frames: integers BIGINT, floats DOUBLE PRECISION (NaN kept), booleans,
timestamps, anything else TEXT. A column first stored from an empty frame (no type known) is
retyped by the first rows that have one, as in the DuckDB store.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

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

RUNS_TABLE = (
    "CREATE TABLE IF NOT EXISTS runs (run_id BIGINT PRIMARY KEY, created_at TIMESTAMP, "
    "scenario_name TEXT, scenario_hash TEXT, scenario_text TEXT, seed BIGINT, fabnet_version TEXT, "
    "solver_status TEXT, solver_gap DOUBLE PRECISION, figures TEXT)"
)


def is_postgres(location: str) -> bool:
    return str(location).startswith(("postgresql://", "postgres://"))


def redacted(url: str) -> str:
    """The address without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def _column_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(series):
        return "BIGINT"
    if pd.api.types.is_float_dtype(series):
        return "DOUBLE PRECISION"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "TIMESTAMP"
    return "TEXT"


def _values(series: pd.Series) -> list[Any]:
    """A column as Python values for COPY: floats keep NaN, anything missing elsewhere is NULL."""
    if pd.api.types.is_float_dtype(series):
        return [float(v) for v in series.to_numpy()]
    if pd.api.types.is_datetime64_any_dtype(series):
        return [None if pd.isna(v) else v.to_pydatetime() for v in series]
    values = series.astype(object).where(series.notna(), None).tolist()
    if _column_type(series) == "TEXT":
        return [None if v is None else str(v) for v in values]
    return [v.item() if isinstance(v, np.generic) else v for v in values]


class PgStore:
    def __init__(
        self,
        url: str,
        read_only: bool = False,
        wait_s: float | None = None,
        waiting: Callable[[float], None] | None = None,
    ) -> None:
        self.location = redacted(url)
        self.read_only = read_only
        wait = wait_s if wait_s is not None else (READER_WAIT_S if read_only else WRITER_WAIT_S)
        self._con = self._connect(url, wait, waiting)
        if not read_only:
            with self._con.transaction():
                self._con.execute(RUNS_TABLE)
                for column in ADDED_RUN_COLUMNS:
                    self._con.execute(
                        sql.SQL("ALTER TABLE runs ADD COLUMN IF NOT EXISTS {} TEXT").format(sql.Identifier(column))
                    )
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

    def _has_table(self, table: str) -> bool:
        return bool(first_value(self._con.execute("SELECT to_regclass(%s) IS NOT NULL", [table]).fetchone()))

    # --- writing -------------------------------------------------------------------------

    def save_run(self, meta: dict[str, Any], tables: dict[str, pd.DataFrame]) -> int:
        """Record a run and its tables in one transaction; returns its id."""
        try:
            with self._con.transaction():
                self._con.execute("LOCK TABLE runs IN SHARE ROW EXCLUSIVE MODE")
                run_id = int(first_value(self._con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchone()))
                row = {
                    **dict.fromkeys(RUN_COLUMNS),
                    **meta,
                    "run_id": run_id,
                    "created_at": meta.get("created_at") or datetime.now(UTC).replace(tzinfo=None),
                    "figures": figures_json(meta.get("figures", {}))
                    if not isinstance(meta.get("figures"), str)
                    else meta["figures"],
                }
                self._con.execute(
                    sql.SQL("INSERT INTO runs ({}) VALUES ({})").format(
                        sql.SQL(", ").join(map(sql.Identifier, RUN_COLUMNS)),
                        sql.SQL(", ").join(sql.Placeholder() * len(RUN_COLUMNS)),
                    ),
                    [row[c] for c in RUN_COLUMNS],
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
        table, data = result_rows(name, run_id, frame)
        types = {
            str(c): ("TEXT" if data[c].isna().all() and data[c].dtype == object else _column_type(data[c]))
            for c in data.columns
        }
        self._con.execute(
            sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(
                sql.Identifier(table),
                sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in types.items()),
            )
        )
        known: dict[str, str] = dict(
            self._con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s", [table]
            ).fetchall()
        )
        for column, kind in types.items():
            if column not in known:  # a newer fabnet added a column: old runs read NULL
                self._con.execute(
                    sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                        sql.Identifier(table), sql.Identifier(column), sql.SQL(kind)
                    )
                )
            elif (
                known[column] == "text"
                and kind != "TEXT"
                and data[column].notna().any()
                and not first_value(
                    self._con.execute(
                        sql.SQL("SELECT count({c}) FROM {t}").format(c=sql.Identifier(column), t=sql.Identifier(table))
                    ).fetchone()
                )
            ):
                self._con.execute(
                    sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {} USING NULL").format(
                        sql.Identifier(table), sql.Identifier(column), sql.SQL(kind)
                    )
                )
        if not len(data):
            return
        columns = [str(c) for c in data.columns]
        with self._con.cursor().copy(
            sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
            )
        ) as copy:
            for row in zip(*(_values(data[c]) for c in data.columns), strict=True):
                copy.write_row(row)

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
