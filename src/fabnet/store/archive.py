"""A run kept in a file of its own, when no store would take it: one zip file with the run's
record (`run.json`: scenario text, hash, seed, version, solver status, key figures) and each
result table as Parquet (written and read by an in-memory DuckDB, so nothing else is needed).
`fabnet runs import FILE` puts it into a store as a new run; nothing computed is lost."""

from __future__ import annotations

import contextlib
import json
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from fabnet.core.errors import FabnetError
from fabnet.store.base import figures_json

SUFFIX = ".fabnetrun"


def archive_path(store: str | Path, name: str) -> list[Path]:
    """Where a run that could not be stored may go, in order: beside the store, the current
    folder, the system's temporary folder."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    file = f"{name}-{stamp}{SUFFIX}"
    beside = Path(str(store)).parent if "://" not in str(store) else Path.cwd()
    return [beside / file, Path.cwd() / file, Path(tempfile.gettempdir()) / file]


def write_archive(meta: dict[str, Any], tables: dict[str, pd.DataFrame], candidates: list[Path]) -> Path:
    """Write the run to the first candidate path that takes it; raise OSError if none does."""
    record = {
        **meta,
        "figures": figures_json(meta.get("figures", {})),
        "created_at": str(meta.get("created_at") or datetime.now(UTC)),
    }
    last: OSError | None = None
    for path in candidates:
        try:
            _write(path, record, tables)
            return path
        except OSError as error:
            path.unlink(missing_ok=True)
            last = error
    raise last or OSError("no place to write the run")


def _write(path: Path, record: dict[str, Any], tables: dict[str, pd.DataFrame]) -> None:
    with tempfile.TemporaryDirectory() as folder, duckdb.connect() as con:
        parquet = {}
        for name, frame in tables.items():
            parquet[name] = write_parquet(frame, Path(folder) / f"{name}.parquet", con)
        partial = path.with_name(path.name + ".partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("run.json", json.dumps(record, default=str))
            for name, file in parquet.items():
                archive.write(file, f"{name}.parquet")
        partial.replace(path)


def write_parquet(frame: pd.DataFrame, file: Path, con: duckdb.DuckDBPyConnection | None = None) -> Path:
    """A table as a Parquet file, written by DuckDB (no pyarrow needed)."""
    with contextlib.nullcontext(con) if con is not None else duckdb.connect() as db:
        db.register("frame", _typed(frame))
        quoted = str(file).replace("'", "''")
        db.execute(f"COPY frame TO '{quoted}' (FORMAT PARQUET)")
        db.unregister("frame")
    return file


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns without a value anywhere as text (Parquet has no NULL type)."""
    data = frame.reset_index(drop=True).copy()
    for column in data.columns:
        if data[column].isna().all() and data[column].dtype == object:
            data[column] = data[column].astype("string")
    return data


def read_archive(path: str | Path) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """The run's record and tables, as write_archive kept them."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive, tempfile.TemporaryDirectory() as folder, duckdb.connect() as con:
            record = json.loads(archive.read("run.json"))
            tables = {}
            for member in archive.namelist():
                if member.endswith(".parquet"):
                    file = archive.extract(member, folder)
                    tables[member.removesuffix(".parquet")] = con.execute("SELECT * FROM read_parquet(?)", [file]).df()
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError, duckdb.Error) as error:
        raise FabnetError(f"{path} is not a run kept by fabnet ({error.__class__.__name__}: {error})") from None
    record["created_at"] = pd.Timestamp(record["created_at"]).tz_localize(None) if record.get("created_at") else None
    return record, tables
