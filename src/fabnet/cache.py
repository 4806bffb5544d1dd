"""What fabnet keeps between commands so that the same work is not done twice: the parsed
SMT2020 datasets, plans solved for the same model inputs, fabs simulated at the same starts, and
(in versioned folders) the simulator's compiled kernel.

Entries are pickles in the user cache folder (platformdirs: ~/.cache/fabnet on Linux, honouring
XDG_CACHE_HOME; `FABNET_CACHE_DIR` moves it), named by the SHA-256 of everything that decides the
result: the inputs, and for computed results the source of fabnet itself and the versions of the
libraries that compute them, so an edited model, reader or solver never serves an old answer.
`FABNET_CACHE=0` turns reuse off (nothing read, nothing written). A damaged or foreign entry is
a miss, never an error; a cache that cannot be written costs only the next command its work.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import shutil
import tempfile
import time
from pathlib import Path

#: Entries of one kind kept at most; the least recently used beyond it are removed.
MAX_ENTRIES = 64
#: Versioned folders of one kind kept besides the one in use (other sources, other checkouts).
KEPT_FOLDERS = 6
#: A versioned folder used this recently is never removed (another process may be reading it).
IN_USE_S = 3600.0


def enabled() -> bool:
    return os.environ.get("FABNET_CACHE", "1").strip().lower() not in ("0", "false", "no", "off")


def folder(kind: str) -> Path:
    """The folder of one kind of entry ("smt2020", "plans", "checks")."""
    root = os.environ.get("FABNET_CACHE_DIR")
    if not root:
        import platformdirs

        root = platformdirs.user_cache_dir("fabnet")
    return Path(root) / kind


def versioned_folder(kind: str, name: str) -> Path:
    """The folder `name` of `kind` (named by a version: the digest of the sources whose compiled
    code it holds), made and marked used; of the kind's other folders, the least recently used
    beyond KEPT_FOLDERS go once unused for IN_USE_S. Made whether reuse is on or off: compiled
    code is not a result. A cache folder that cannot be written leaves it unmade."""
    root = folder(kind)
    here = root / name
    with contextlib.suppress(OSError):
        here.mkdir(parents=True, exist_ok=True)
        os.utime(here)
        _prune_folders(root, keep=here)
    return here


def _prune_folders(root: Path, keep: Path) -> None:
    others = sorted((p for p in root.iterdir() if p.is_dir() and p != keep), key=_used)
    for old in others[: max(len(others) - KEPT_FOLDERS, 0)]:
        if time.time() - _used(old) > IN_USE_S:
            shutil.rmtree(old, ignore_errors=True)


def key(*parts: object) -> str:
    """The SHA-256 of `parts` (pickled: numbers, text, arrays, frozen dataclasses) together with
    fabnet's own source and the library versions a computed result depends on."""
    digest = hashlib.sha256(code_digest().encode())
    digest.update(pickle.dumps(parts, protocol=5))
    return digest.hexdigest()


#: The folder fabnet's own source files are named from (src/, where the package is).
SOURCE_ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def code_digest() -> str:
    """fabnet's source files and the versions of the libraries that compute its results: any
    change to either is a new key (5 ms for the whole package, once per process)."""
    files = sorted(SOURCE_ROOT.rglob("*.py"))
    return sources_digest(files, SOURCE_ROOT, ("numpy", "pandas", "linopy", "highspy", "numba"))


def sources_digest(files: list[Path], root: Path, libraries: tuple[str, ...]) -> str:
    """The SHA-256 of `files` (each named by its path from `root`, then its bytes), Python's
    version and those of `libraries` (an absent one is left out)."""
    import sys
    from importlib import metadata

    digest = hashlib.sha256(f"python {sys.version_info[:2]}".encode())
    for library in libraries:
        with contextlib.suppress(metadata.PackageNotFoundError):
            digest.update(f"{library} {metadata.version(library)}".encode())
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def read(kind: str, name: str, expected: type) -> object | None:
    """The entry `name` of `kind` when reuse is on and it holds an `expected`, else None."""
    if not enabled():
        return None
    path = folder(kind) / f"{name}.pickle"
    try:
        value = pickle.loads(path.read_bytes())
    except Exception:  # absent, cut short, or written by another library version
        return None
    if not isinstance(value, expected):
        return None
    _touch(path)
    return value


def keep(kind: str, name: str, value: object, *, replaces: str | None = None) -> None:
    """Write `value` as entry `name` of `kind` atomically (a crash leaves the old file or none);
    with `replaces`, the other entries whose names start with it go (a dataset's stale parses);
    beyond MAX_ENTRIES, the least recently used go."""
    if not enabled():
        return
    target = folder(kind)
    try:
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target, suffix=".tmp", delete=False) as file:
            file.write(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(file.name, target / f"{name}.pickle")
        entries = sorted(target.glob("*.pickle"), key=_used, reverse=True)
        stale = [p for p in entries if replaces is not None and p.stem.startswith(replaces) and p.stem != name]
        for path in stale + [p for p in entries if p not in stale][MAX_ENTRIES:]:
            path.unlink(missing_ok=True)
    except OSError:
        pass


def _used(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _touch(path: Path) -> None:
    """Mark an entry used: the least recently used go first."""
    with contextlib.suppress(OSError):
        os.utime(path)
