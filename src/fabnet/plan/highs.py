"""The only place that touches the solver: HiGHS through linopy's direct interface."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from typing import NotRequired, TypedDict

import highspy
import linopy
from highspy import SolutionStatus
from linopy.constants import TerminationCondition

from fabnet.plan.outcome import SolveOptions, SolveResult

#: Time the polishing pass may take at most, in seconds.
POLISH_LIMIT_S = 10.0


def solve(model: linopy.Model, options: SolveOptions = SolveOptions()) -> SolveResult:
    start = time.perf_counter()
    termination, info = _run(model, options.time_limit_s, options.mip_gap, options.threads)
    has_solution = info.primal_solution_status == SolutionStatus.kSolutionStatusFeasible
    is_mip = len(model.integers) > 0
    objective = float(info.objective_function_value) if has_solution else None
    bound = float(info.mip_dual_bound) if is_mip and has_solution else None
    polish_s = 0.0
    if objective is not None and is_mip and options.polish:
        polish_start = time.perf_counter()
        remaining = options.time_limit_s - (polish_start - start)
        objective = _polish(model, objective, min(POLISH_LIMIT_S, max(remaining, 1.0)), options)
        polish_s = time.perf_counter() - polish_start
    gap = None
    if is_mip and has_solution and bound is not None and objective is not None:
        gap = max(0.0, objective - bound) / max(abs(objective), 1e-9)
    return SolveResult(
        termination=termination,
        has_solution=has_solution,
        objective=objective,
        bound=bound,
        gap=gap,
        seconds=time.perf_counter() - start,
        options=options,
        polish_s=polish_s,
    )


class HighsOptions(TypedDict):
    """The HiGHS options fabnet sets (passed through linopy's Model.solve)."""

    time_limit: float
    mip_rel_gap: float
    output_flag: bool
    random_seed: int
    threads: NotRequired[int]


def _run(
    model: linopy.Model, time_limit_s: float, gap: float, threads: int | None
) -> tuple[TerminationCondition, highspy.HighsInfo]:
    solver_options: HighsOptions = {
        "time_limit": float(time_limit_s),
        "mip_rel_gap": float(gap),
        "output_flag": False,
        "random_seed": 0,
    }
    if threads:
        solver_options["threads"] = int(threads)
    with quiet_stdout():
        _, termination = model.solve(solver_name="highs", io_api="direct", **solver_options)
    return TerminationCondition(termination), model.solver_model.getInfo()


def _polish(model: linopy.Model, objective: float, limit_s: float, options: SolveOptions) -> float:
    """Cap every integer variable at its value and solve again to a tight gap. The search is
    tiny (only removals), and the first solution stays feasible, so this never gets worse;
    if the pass fails, the first solution is restored."""
    integers = list(model.integers)
    first = {name: model.variables[name].solution.copy() for name in model.variables}
    saved_upper = {name: model.variables[name].upper.copy() for name in integers}
    for name in integers:
        model.variables[name].update(upper=first[name].round().fillna(0))
    _termination, info = _run(model, limit_s, 1e-6, options.threads)
    for name in integers:
        model.variables[name].update(upper=saved_upper[name])
    if (
        info.primal_solution_status == SolutionStatus.kSolutionStatusFeasible
        and info.objective_function_value <= objective
    ):
        return float(info.objective_function_value)
    for name, values in first.items():
        model.variables[name].solution = values
    return objective


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """HiGHS prints a banner from C++ even with output off; keep stdout clean for --json."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
