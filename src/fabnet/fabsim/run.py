"""One simulation, by either engine: the compiled kernel (fast.py over kernel.py) or the
readable reference (engine.py). Both are imported here, and neither imports this module nor the
other's entry point, so the model's modules form no import circle."""

from __future__ import annotations

from fabnet.fabsim.engine import Simulation
from fabnet.fabsim.fast import simulate_fast
from fabnet.fabsim.options import SimOptions, SimResult
from fabnet.fabsim.smt2020 import FabData

KERNELS = ("numba", "python")


def simulate(fab: FabData, options: SimOptions, progress=None) -> SimResult:
    """Run one simulation of `fab` under `options`, with the compiled kernel unless
    `options.kernel` is "python"; both give identical results for the same seed."""
    if options.kernel not in KERNELS:
        raise ValueError(f"unknown kernel {options.kernel!r}; use one of {', '.join(KERNELS)}")
    if options.kernel == "python":
        return Simulation(fab, options).run(progress)
    return simulate_fast(fab, options, progress)
