"""A run kept in a file of its own, when no store would take it: one zip file with the run's
record (`run.json`: scenario text, hash, seed, version, solver status, key figures) and each
result table as Parquet (written and read by an in-memory DuckDB, so nothing else is needed).
`fabnet runs import FILE` puts it into a store as a new run; nothing computed is lost."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from fabnet.core.errors import FabnetError
from fabnet.store.base import figures_json

SUFFIX = ".fabnetrun"


@dataclass(frozen=True)
class Place:
    """A file a run may be kept in, and how a message names its folder."""

    where: str
    path: Path


@dataclass(frozen=True)
class Kept:
    """Where a run was kept, and why each place tried before it would not take it."""

    place: Place
    refused: tuple[str, ...] = ()

    @property
    def path(self) -> Path:
        return self.place.path

    def describe(self) -> str:
        """ "kept in the current folder (beside the store: [Errno 30] Read-only file system)"."""
        text = f"kept in {self.place.where}"
        return text + (f" ({'; '.join(self.refused)})" if self.refused else "")


class NowhereToKeep(OSError):
    """No place would take the run's file; the message gives each place's reason."""


def archive_path(store: str | Path, name: str) -> list[Place]:
    """Where a run that could not be stored may go, in order: beside the store, the current
    folder, the system's temporary folder, the user's data folder (each once)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    file = f"{name}-{stamp}{SUFFIX}"
    folders = [("the current folder", Path.cwd()), ("the temporary folder", Path(tempfile.gettempdir()))]
    if "://" not in str(store):
        folders.insert(0, ("the folder of the store", Path(str(store)).parent))
    data = user_data_folder()
    if data is not None:
        folders.append(("the user's data folder", data))
    places: dict[Path, Place] = {}
    for where, folder in folders:
        places.setdefault(folder.absolute(), Place(where, folder / file))
    return list(places.values())


def user_data_folder() -> Path | None:
    """fabnet's folder among the user's data ($XDG_DATA_HOME, ~/.local/share, %LOCALAPPDATA%);
    None when the user has no home folder."""
    base = os.environ.get("XDG_DATA_HOME") or os.environ.get("LOCALAPPDATA")
    if base:
        return Path(base) / "fabnet"
    try:
        return Path.home() / ".local" / "share" / "fabnet"
    except RuntimeError:  # no HOME and no password entry
        return None


def write_archive(meta: dict[str, Any], tables: dict[str, pd.DataFrame], places: list[Place]) -> Kept:
    """Write the run to the first place that takes it. Every place is tried, whatever the one
    before raised (a read-only or full file system fails on the clean-up too); NowhereToKeep
    when none does."""
    record = {
        **meta,
        "figures": figures_json(meta.get("figures", {})),
        "created_at": str(meta.get("created_at") or datetime.now(UTC)),
    }
    refused: list[str] = []
    for place in places:
        try:
            _write(place.path, record, tables)
            return Kept(place, tuple(refused))
        except (OSError, duckdb.Error) as error:
            refused.append(f"{place.where}: {error}")
    raise NowhereToKeep("; ".join(refused) or "no place to write the run")


def _write(path: Path, record: dict[str, Any], tables: dict[str, pd.DataFrame]) -> None:
    """The archive at `path`, written whole or not at all: staged beside it (so a read-only
    temporary folder does not stop it) and renamed into place; what a failure leaves is
    removed where the file system lets us."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        with (
            tempfile.TemporaryDirectory(dir=path.parent, prefix=".fabnetrun-", ignore_cleanup_errors=True) as folder,
            duckdb.connect() as con,
        ):
            parquet = {
                name: write_parquet(frame, Path(folder) / f"{name}.parquet", con) for name, frame in tables.items()
            }
            with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr("run.json", json.dumps(record, default=str))
                for name, file in parquet.items():
                    archive.write(file, f"{name}.parquet")
        partial.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):  # EROFS or ENOSPC may refuse the clean-up as well
            partial.unlink(missing_ok=True)
        raise


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
