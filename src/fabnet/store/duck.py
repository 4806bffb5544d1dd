"""An embedded DuckDB file holding runs.

Table `runs`: one row per run (id, time, scenario name, content hash and full text, seed, fabnet
version, solver status and gap, key figures as JSON). Tables `result_<name>`: the run's tidy
result tables, each row tagged with its run_id. A run is written in one transaction, so a crash
or an exception midway leaves the store exactly as it was.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from fabnet.core.errors import FabnetError

DEFAULT_STORE = Path("fabnet.duckdb")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
RUN_COLUMNS = ("run_id", "created_at", "scenario_name", "scenario_hash", "scenario_text", "seed",
               "fabnet_version", "solver_status", "solver_gap", "figures")


class UnknownRun(FabnetError):
    """A run id the store does not hold."""


@dataclass(frozen=True)
class StoredRun:
    meta: dict[str, Any]
    tables: dict[str, pd.DataFrame]

    @property
    def figures(self) -> dict[str, Any]:
        return json.loads(self.meta["figures"])


class Store:
    def __init__(self, path: str | Path = DEFAULT_STORE, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if read_only and not self.path.exists():
            raise FabnetError(f"no results store at {self.path}; run `fabnet run` first or pass --store")
        self._con = duckdb.connect(str(self.path), read_only=read_only)
        if not read_only:
            self._con.execute(
                "CREATE TABLE IF NOT EXISTS runs (run_id BIGINT PRIMARY KEY, created_at TIMESTAMP, "
                "scenario_name VARCHAR, scenario_hash VARCHAR, scenario_text VARCHAR, seed BIGINT, "
                "fabnet_version VARCHAR, solver_status VARCHAR, solver_gap DOUBLE, figures VARCHAR)")

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        return self._con.cursor()  # one per call: safe from several threads

    # --- writing -------------------------------------------------------------------------

    def save_run(self, meta: dict[str, Any], tables: dict[str, pd.DataFrame]) -> int:
        """Record a run and its tables in one transaction; returns its id."""
        con = self._cursor()
        con.begin()
        try:
            run_id = int(con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchone()[0])
            row = {**{c: None for c in RUN_COLUMNS}, **meta, "run_id": run_id,
                   "created_at": datetime.now(UTC).replace(tzinfo=None),
                   "figures": json.dumps(meta.get("figures", {}), default=_json_default)}
            con.execute(f"INSERT INTO runs VALUES ({', '.join('?' * len(RUN_COLUMNS))})",
                        [row[c] for c in RUN_COLUMNS])
            for name, frame in tables.items():
                self._insert(con, name, run_id, frame)
            con.commit()
        except BaseException:
            con.rollback()
            raise
        return run_id

    def save_rows(self, run_id: int, name: str, frame: pd.DataFrame) -> None:
        """Add rows to one result table of an existing run, in one transaction."""
        con = self._cursor()
        con.begin()
        try:
            self._insert(con, name, run_id, frame)
            con.commit()
        except BaseException:
            con.rollback()
            raise

    def _insert(self, con: duckdb.DuckDBPyConnection, name: str, run_id: int, frame: pd.DataFrame) -> None:
        if not _NAME.match(name):
            raise ValueError(f"table name {name!r} must be lower case letters, digits and _")
        table = f"result_{name}"
        data = frame.reset_index(drop=True).copy()
        data.insert(0, "run_id", run_id)
        con.register("incoming", data)
        try:
            exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                                 [table]).fetchone()[0]
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
        return self._cursor().execute(
            "SELECT run_id, created_at, scenario_name, scenario_hash, seed, fabnet_version, "
            "solver_status, solver_gap FROM runs ORDER BY run_id").df()

    def run(self, run_id: int) -> StoredRun:
        con = self._cursor()
        found = con.execute("SELECT * FROM runs WHERE run_id = ?", [int(run_id)]).df()
        if found.empty:
            known = ", ".join(map(str, self.runs()["run_id"])) or "none yet"
            raise UnknownRun(f"no run {run_id} in {self.path}; runs: {known}")
        tables = {}
        for (table,) in con.execute("SELECT table_name FROM information_schema.tables "
                                    "WHERE table_name LIKE 'result_%' ORDER BY table_name").fetchall():
            frame = con.execute(f"SELECT * EXCLUDE (run_id) FROM {table} WHERE run_id = ?", [int(run_id)]).df()
            tables[table.removeprefix("result_")] = frame
        return StoredRun(found.iloc[0].to_dict(), tables)

    def compare(self, a: int, b: int) -> pd.DataFrame:
        """Key figures of two runs side by side, with the difference."""
        first, second = self.run(a).figures, self.run(b).figures
        rows = []
        for key in dict.fromkeys([*first, *second]):
            x, y = first.get(key), second.get(key)
            numeric = isinstance(x, int | float) and isinstance(y, int | float)
            rows.append({"figure": key, f"run {a}": x, f"run {b}": y,
                         "difference": (y - x) if numeric else ("same" if x == y else "differs")})
        return pd.DataFrame(rows)


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)
