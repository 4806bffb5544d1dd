"""numba, imported for the kernel with its optional probes refused, for the start-up of
`fabnet simulate` (issue 32): each would import a library the kernel never uses, and each is
importable as usual as soon as numba is loaded. A process that has loaded one is left alone.

- `coverage` (0.03 s where it is installed, as in the development environment): numba imports it
  only to report its compiled lines to a coverage measurement already running, and none can be
  running in a process that has not imported coverage.
- `scipy` (5–13 ms): imported only to check that its version is at least 1.0 (the lock's is).
- `yaml` (11 ms): imported only to read a `.numba_config.yaml` in the working folder; refused only
  where there is none.
- `scipy.linalg` (0.13–0.2 s): numba's array registry imports it only to decide whether
  np.correlate and np.convolve may call BLAS; the kernel calls neither. With the probe refused
  they take numba's plain loop (same results); np.dot and the rest of numba.np.linalg import
  scipy when first compiled, as before."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

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
        import numba.np.arraymath  # noqa: F401

__all__ = ["nb"]
