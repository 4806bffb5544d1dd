"""numba for the kernel: imported with its optional probes refused, and its on-disk cache kept
under a name that every kernel source decides.

The probes, refused for the start-up of `fabnet simulate` (issue 32): each would import a library
the kernel never uses, and each is importable as usual as soon as numba is loaded. A process that
has loaded one is left alone.

- `coverage` (0.03 s where it is installed, as in the development environment): numba imports it
  only to report its compiled lines to a coverage measurement already running, and none can be
  running in a process that has not imported coverage.
- `scipy` (5–13 ms): imported only to check that its version is at least 1.0 (the lock's is).
- `yaml` (11 ms): imported only to read a `.numba_config.yaml` in the working folder; refused only
  where there is none.
- `scipy.linalg` (0.13–0.2 s): numba's array registry imports it only to decide whether
  np.correlate and np.convolve may call BLAS; the kernel calls neither. With the probe refused
  they take numba's plain loop (same results); np.dot and the rest of numba.np.linalg import
  scipy when first compiled, as before.

The cache (`kernel_cache`): numba keys a cached function by the text of its own file alone, so an
edit to kernel_dispatch.py, kernel_queue.py, kernel_state.py or kernel_base.py that kept
run_chunk's argument types loaded run_chunk's old machine code (seen in issue 32: counters added
in kernel_dispatch.py stayed at zero), and a test of it tested the old code. The kernel's
functions are therefore cached in fabnet's cache folder (fabnet.cache; `FABNET_CACHE_DIR` moves
it, and compiled code is kept even with `FABNET_CACHE=0`, which is about results) under the
digest of every module of fabnet.fabsim, fabnet.core.units and numba's version: any edit is a new
folder and one new compile (~15 s), a folder per checkout (fabnet.cache.versioned_folder: old
folders of other versions and checkouts are pruned there)."""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import fabnet.cache

#: numba's own name for its configuration file (numba.core.config).
NUMBA_CONFIG_FILE = ".numba_config.yaml"


@contextmanager
def refused(*modules: str) -> Iterator[None]:
    """Each of `modules` raises ImportError inside the block unless it is loaded already."""
    absent = [module for module in modules if module not in sys.modules]
    for module in absent:
        sys.modules[module] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for module in absent:
            del sys.modules[module]


with refused("coverage", "scipy", *(() if os.path.exists(NUMBA_CONFIG_FILE) else ("yaml",))):
    import numba as nb

if "scipy.linalg" not in sys.modules:
    with refused("scipy.linalg.cython_blas"):
        import numba.np.arraymath


def kernel_sources() -> list[Path]:
    """The files whose text the compiled kernel depends on: fabnet.fabsim and the units it reads."""
    package = Path(__file__).resolve().parent
    return [*sorted(package.glob("*.py")), package.parent / "core" / "units.py"]


def kernel_digest(sources: list[Path], root: Path = fabnet.cache.SOURCE_ROOT) -> str:
    """The kernel's sources and numba's version, as fabnet.cache digests code (20 hex digits)."""
    return fabnet.cache.sources_digest(sources, root, ("numba",))[:20]


@functools.cache
def kernel_cache_folder() -> Path:
    """The kernel's cache folder for the sources as they are, where they are (numba's entries
    name the source file's folder too; one folder a checkout keeps the pruning whole). Where it
    cannot be made (a read-only cache folder), numba compiles in every process."""
    sources = kernel_sources()
    place = hashlib.sha256(str(sources[0].parent).encode()).hexdigest()[:8]
    return fabnet.cache.versioned_folder("numba", f"{kernel_digest(sources)}-{place}")


@contextmanager
def kernel_cache() -> Iterator[None]:
    """Functions decorated with numba's cache inside the block are cached in the kernel's cache
    folder (numba picks a function's cache folder as it is decorated; config.CACHE_DIR is
    numba's NUMBA_CACHE_DIR, restored after, so the user's own functions cache where they did)."""
    config: Any = nb.config  # set from the environment at import: no attributes to a type checker
    previous = config.CACHE_DIR
    config.CACHE_DIR = str(kernel_cache_folder())
    try:
        yield
    finally:
        config.CACHE_DIR = previous


__all__ = ["kernel_cache", "nb"]
