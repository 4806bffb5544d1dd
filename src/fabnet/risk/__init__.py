"""Risk: Monte-Carlo over the scenario's uncertain inputs, on local processes or Dask."""

from fabnet.risk.runner import SAMPLES_TABLE, SweepSpec, evaluate_sample, make_executor, run_sweep
from fabnet.risk.sampling import METHODS, apply_sample, draw
from fabnet.risk.summary import summarise

__all__ = [
    "METHODS",
    "SAMPLES_TABLE",
    "SweepSpec",
    "apply_sample",
    "draw",
    "evaluate_sample",
    "make_executor",
    "run_sweep",
    "summarise",
]
