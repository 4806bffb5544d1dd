"""The command's start-up: OpenBLAS with one thread, and no cyclic garbage collection.

`fabnet simulate --days 0.001` makes about a million objects while it imports typer, rich,
numpy and numba and loads its dataset, nearly all of which live until the process ends; the
collector walked them some 320 times, 0.1–0.2 s of its 1 s of CPU (measured with gc.callbacks
and A/B runs, issue 32). Imports and loading run without it, and what they made is then frozen
out of its later walks (gc.freeze); garbage made meanwhile in cycles (little: imports keep what
they build) is never freed, which a command that ends with its work can afford. The collector
stays on where the work runs, so a first run that compiles numba's kernel (cyclic garbage by the
hundred MB) collects as before."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager


def one_blas_thread() -> None:
    """OpenBLAS with one thread unless the user says otherwise; to be called before numpy loads.
    Its threads start with numpy and spin awhile waiting for work: 0.05 s of CPU at every start
    (`import numpy`: 0.117 against 0.068 s, six runs each), and fabnet gives BLAS only small
    products and decompositions (risk sampling's eigh, the planner's dot products), which one
    thread does as fast."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


@contextmanager
def uncollected() -> Iterator[None]:
    """Run the block without the cyclic collector, then freeze what is alive and resume it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
