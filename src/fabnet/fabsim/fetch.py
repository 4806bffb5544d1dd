"""Getting the SMT2020 testbed onto a machine: download, verify against the SHA-256 sums fabnet
ships (fabnet/data/smt2020.json, computed from the copy in ../shared/data/smt2020), install.

Where the files come from. The testbed was published with Kopp, Hassoun, Kalir and Mönch, "SMT2020
— A Semiconductor Manufacturing Testbed" (IEEE TSM 33(4), 2020), by its authors (FernUniversität
in Hagen, https://p2schedgen.fernuni-hagen.de/index.php/downloads/simulation, as an archive
behind a form). The same files, byte for byte (their checksums are the ones here), are in the
public repository of the simulator PySCFabSim, which fabnet downloads by default, pinned to one
commit (MIRROR). `--from` takes another server or a local folder laid out as ../shared/data/smt2020
(DATASET/FILE), or a template with {dataset} and {file}.

Installation is all or nothing: every file of a dataset is downloaded into a temporary folder
beside the target and checked; only then does the folder take the dataset's name. A dropped
connection or a wrong checksum leaves the target as it was, and a later fetch starts over.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fabnet.fabsim.smt2020 import DatasetError, find_dataset, user_folder

DATASETS = ("HVLM", "LVHM")
MANIFEST = Path(__file__).resolve().parent.parent / "data" / "smt2020.json"
MIRROR = (
    "https://raw.githubusercontent.com/prosysscience/PySCFabSim-release/"
    "77103ed1b1be75e99aaac4043c34183e6ba04f74/datasets/SMT2020_{dataset}/{file}"
)
PUBLISHER = "https://p2schedgen.fernuni-hagen.de/index.php/downloads/simulation"
FETCH_COMMAND = "fabnet data fetch smt2020"
TIMEOUT_S = 60
CHUNK = 1 << 16

#: Called with (file name, bytes so far of the dataset, bytes of the dataset in all).
Progress = Callable[[str, int, int], None]


def manifest() -> dict[str, dict[str, dict[str, object]]]:
    """dataset → file → {"sha256", "bytes"}."""
    return json.loads(MANIFEST.read_text())


def address(source: str | None, dataset: str, file: str) -> str:
    """Where one file is fetched from: the mirror, a template, a URL or a folder of DATASET/FILE."""
    if source is None:
        return MIRROR.format(dataset=dataset, file=file)
    if "{file}" in source:
        return source.format(dataset=dataset, file=file)
    if "://" not in source:
        return Path(source, dataset, file).resolve().as_uri()
    return f"{source.rstrip('/')}/{dataset}/{file}"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def differences(folder: Path, dataset: str) -> list[str]:
    """What keeps `folder` from being dataset `dataset` as published: missing files and files
    whose SHA-256 differs (none: it verifies)."""
    problems = []
    for file, expected in manifest()[dataset].items():
        path = folder / file
        if not path.is_file():
            problems.append(f"{file} is missing")
        elif sha256(path) != expected["sha256"]:
            problems.append(f"{file} differs from the published file (SHA-256)")
    return problems


def fetch(dataset: str, to: Path | None = None, source: str | None = None, progress: Progress | None = None) -> Path:
    """Download dataset `dataset` into `to` (default: user_folder()), verify every file and
    install it as `to/dataset`; returns that folder. Raises DatasetError, leaving `to` as it was,
    when a file cannot be fetched or differs from the published one."""
    if dataset not in DATASETS:
        raise DatasetError(f"unknown SMT2020 dataset {dataset!r}; use one of {', '.join(DATASETS)}")
    files = manifest()[dataset]
    target = (to or user_folder()) / dataset
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dataset}.", suffix=".partial", dir=target.parent))
    try:
        total, done = sum(int(f["bytes"]) for f in files.values()), 0  # type: ignore[call-overload]
        for file, expected in files.items():
            done = _download(address(source, dataset, file), staging / file, file, done, total, progress)
            if sha256(staging / file) != expected["sha256"]:
                raise DatasetError(
                    f"{file} of {dataset} from {address(source, dataset, file)} differs from the "
                    f"published file (SHA-256 {sha256(staging / file)[:12]}…, expected "
                    f"{str(expected['sha256'])[:12]}…); nothing was installed"
                )
        _install(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _download(url: str, path: Path, file: str, done: int, total: int, progress: Progress | None) -> int:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, path.open("wb") as out:
            expected = response.headers.get("Content-Length")
            got = 0
            for block in iter(lambda: response.read(CHUNK), b""):
                out.write(block)
                got += len(block)
                if progress is not None:
                    progress(file, done + got, total)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
        if isinstance(error, urllib.error.HTTPError):
            error.close()  # it holds the response open
        raise DatasetError(f"could not fetch {url}: {error}; nothing was installed") from error
    if expected is not None and got != int(expected):  # a connection closed early
        raise DatasetError(f"could not fetch {url}: {got:,} of {int(expected):,} bytes arrived; nothing was installed")
    return done + got


def _install(staging: Path, target: Path) -> None:
    """Swap the verified folder in: an old copy is moved aside first and removed after."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(old)
    staging.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@dataclass(frozen=True)
class Found:
    dataset: str
    folder: Path | None  # None: not found anywhere fabnet looks
    problems: tuple[str, ...]


def survey() -> list[Found]:
    """Each dataset: the folder fabnet would read it from, and what keeps it from verifying."""
    found = []
    for dataset in DATASETS:
        try:
            folder = find_dataset(dataset)
        except DatasetError:
            found.append(Found(dataset, None, ()))
            continue
        found.append(Found(dataset, folder, tuple(differences(folder, dataset))))
    return found
