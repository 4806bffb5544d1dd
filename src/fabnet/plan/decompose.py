"""The robust plan for many futures by Benders decomposition (the multi-cut L-shaped method,
Van Slyke and Wets 1969; Birge and Louveaux 1988), each future's subproblem a task for an
executor — worker processes or a Dask cluster, as the risk sweep uses.

Every integer decision of the planning model is first-stage (module starts, packaging
expansions), so with the first stage held each future is a linear program, and its optimal cost
Q_k(x) is convex and piecewise linear in x. The master problem chooses x and a bound θ_k ≤ … on
each future's cost:

    minimise (1 − λ) Σ_k p_k θ_k + λ (η + Σ_k p_k s_k / (1 − α)),   s_k ≥ θ_k − η, s_k ≥ 0,

under the first stage's own rows (how many modules a site takes, a mandatory site) and the cuts
learnt so far. Held at the master's x̂, future k answers with Q_k(x̂) and a subgradient (the
reduced costs of the held columns): the optimality cut θ_k ≥ Q_k(x̂) + g·(x − x̂). A future
whose budget x̂ breaks answers from its phase-one problem (least total violation of its rows,
value v > 0, subgradient g): the feasibility cut v + g·(x − x̂) ≤ 0. The master's bound rises,
the best x̂ seen gives the upper bound; the loop ends when they are within the gap. The first
rounds solve the master with its integrality dropped (Q_k is convex in x whole or not, so their
cuts stay valid), until that relaxation is solved or RELAXED_ROUNDS pass; only then is the
master a MIP, and only its whole plans count as upper bounds. With the same futures and gap it
finds the deterministic equivalent's plan (tested).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from typing import Any

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from linopy.constants import TerminationCondition

from fabnet.network import PlanInputs
from fabnet.plan.outcome import SolveOptions, SolveResult
from fabnet.plan.robust import (
    FirstStage,
    Futures,
    RiskMeasure,
    RobustSolution,
    Stage,
    futures_of,
    held,
    highs_lp,
    highs_of,
    new_highs,
    probabilities_of,
    recourse_cost,
    run,
)

#: Master solves at most; a decomposition still open then reports its gap, never "optimal".
MAX_ITERATIONS = 300
#: The smallest relative gap the loop waits for: below it the master's bound and the futures'
#: costs differ by the solvers' own tolerances.
GAP_FLOOR = 1e-7
#: Rounds with the master's integrality dropped, at most (they end sooner once the relaxation
#: is solved to a quarter of the gap; global.yaml, 10 futures: 98).
RELAXED_ROUNDS = 120
#: The master is solved to this share of the decomposition's gap: its proven bound is the
#: decomposition's lower bound, so a master solved only to the whole gap could leave the loop
#: short of it for good (tigris, 10 futures, foundry reservations first-stage: 30 rounds in 36 s
#: at the whole gap, 14 rounds in 10 s at a quarter of it, on a busy machine).
MASTER_GAP_SHARE = 0.25
#: A subproblem's own limits. Its thread count is HiGHS's choice, as in the process that plans:
#: HiGHS keeps one thread pool per process and refuses a later solve that asks for another size.
SUBPROBLEM = SolveOptions(time_limit_s=600.0, mip_gap=0.0, polish=False)

Map = Callable[..., Iterable[Any]]


@dataclass(frozen=True)
class Cut:
    """A future's answer at x̂: its cost (or its least violation, when infeasible) and slope."""

    value: float
    slope: npt.NDArray[np.float64]
    feasible: bool


def future_cut(stage: Stage, columns: npt.NDArray[np.int64], x: npt.NDArray[np.float64]) -> Cut:
    """Future `stage` with its first-stage `columns` held at `x`: an optimality cut when it has
    a plan, else a feasibility cut from its phase-one problem."""
    fixed = held(stage, columns, x)
    highs = highs_of(fixed, relax=True)
    termination, values = run(highs, SUBPROBLEM)
    if values is not None and termination == TerminationCondition.optimal:
        duals = np.asarray(highs.getSolution().col_dual)
        return Cut(float(highs.getInfo().objective_function_value), duals[columns], True)
    phase_one = new_highs(_elastic(fixed))
    run(phase_one, SUBPROBLEM)
    duals = np.asarray(phase_one.getSolution().col_dual)
    return Cut(float(phase_one.getInfo().objective_function_value), duals[columns], False)


def relaxed_floor(stage: Stage) -> float:
    """A floor under the future's cost for any first stage: its LP relaxation, planned alone."""
    highs = highs_of(stage, relax=True)
    run(highs, SUBPROBLEM)
    return float(highs.getInfo().objective_function_value)


def _elastic(stage: Stage) -> highspy.HighsLp:
    """Phase one: the future's rows each with a slack (two for an equality) costing 1, its own
    costs dropped; the least total violation is 0 exactly when the future has a plan."""
    rows = stage.a.shape[0]
    below, above = np.isfinite(stage.row_lower), np.isfinite(stage.row_upper)
    up = sp.csr_array((np.ones(below.sum()), (np.nonzero(below)[0], np.arange(below.sum()))), (rows, below.sum()))
    down = sp.csr_array((-np.ones(above.sum()), (np.nonzero(above)[0], np.arange(above.sum()))), (rows, above.sum()))
    a = sp.hstack([stage.a, up, down], format="csc")
    slacks = int(below.sum() + above.sum())
    cost = np.concatenate([np.zeros(len(stage.cost)), np.ones(slacks)])
    lower = np.concatenate([stage.lower, np.zeros(slacks)])
    upper = np.concatenate([stage.upper, np.full(slacks, np.inf)])
    return highs_lp(cost, lower, upper, a, stage.row_lower, stage.row_upper)


def risk_of(costs: npt.NDArray[np.float64], p: npt.NDArray[np.float64], measure: RiskMeasure) -> float:
    """(1 − λ) E[cost] + λ CVaR_α[cost] of a discrete distribution, η at one of the costs (where
    Rockafellar and Uryasev's minimum of a discrete distribution lies)."""
    mean = float(p @ costs)
    if measure.weight == 0:
        return mean
    cvar = min(eta + float(p @ np.maximum(costs - eta, 0.0)) / (1 - measure.level) for eta in costs)
    return (1 - measure.weight) * mean + measure.weight * cvar


def solve_decomposed(
    futures: Sequence[PlanInputs] | Futures,
    probabilities: Sequence[float] | None = None,
    measure: RiskMeasure = RiskMeasure(),
    options: SolveOptions = SolveOptions(),
    executor: Executor | None = None,
    progress: Callable[[int, float, float], None] = lambda iteration, lower, upper: None,
) -> RobustSolution:
    """The robust plan of solve_robust, by Benders decomposition; the futures' subproblems run
    on `executor` (here, one after the other, without one). `progress(iteration, lower bound,
    upper bound)` after each round."""
    started = time.perf_counter()
    built = futures_of(futures)
    stages, keys = built.stages, built.keys
    p = probabilities_of(len(stages), probabilities)
    columns = [np.array([stage.first[key] for key in keys], dtype=np.int64) for stage in stages]
    mapper: Map = executor.map if executor is not None else map
    floors = np.array(list(mapper(relaxed_floor, stages)))
    master = _master(stages[0], columns[0], floors, p, measure)
    n, k = len(keys), len(stages)
    integer = stages[0].integer[columns[0]]  # the first stage's whole numbers, rounded off the master
    best: tuple[float, npt.NDArray[np.float64]] | None = None
    lower = -math.inf
    termination = TerminationCondition.unknown
    tolerance = max(options.mip_gap, GAP_FLOOR)
    relaxed = _relax(master, integer, True)  # the relaxation's rounds first, then the integer master
    relaxed_best = math.inf  # the relaxation's best plan, fractional builds allowed
    for iteration in range(1, MAX_ITERATIONS + 1):
        remaining = options.time_limit_s - (time.perf_counter() - started)
        if remaining <= 0:
            termination = TerminationCondition.time_limit
            break
        status, values = run(
            master, replace(options, time_limit_s=remaining, mip_gap=options.mip_gap * MASTER_GAP_SHARE)
        )
        if values is None:
            termination = status
            break
        x = values[:n].copy()
        if not relaxed:
            x[integer] = np.round(x[integer])
        lower = max(lower, _bound(master, not relaxed))
        cuts = list(mapper(future_cut, stages, columns, [x] * k))  # lists: Dask's map needs lengths
        if all(cut.feasible for cut in cuts):
            upper = risk_of(np.array([cut.value for cut in cuts]), p, measure)
            relaxed_best = min(relaxed_best, upper)
            whole = np.allclose(x[integer], np.round(x[integer]), atol=1e-6)
            if whole and (best is None or upper < best[0]):
                best = (upper, np.where(integer, np.round(x), x))
        for future, cut in enumerate(cuts):
            _add_cut(master, cut, x, n + future if cut.feasible else None, n)
        progress(iteration, lower, best[0] if best else math.inf)
        if best is not None and best[0] - lower <= tolerance * max(abs(best[0]), 1.0):
            termination = TerminationCondition.optimal
            break
        settled = relaxed_best - lower <= tolerance * MASTER_GAP_SHARE * max(abs(relaxed_best), 1.0)
        if relaxed and (settled or iteration >= RELAXED_ROUNDS):
            relaxed = _relax(master, integer, False)
    seconds = time.perf_counter() - started
    if best is None:
        result = SolveResult(termination, False, None, None, None, seconds, options)
        return RobustSolution(FirstStage({}, built.latest_start), np.full(k, np.nan), result)
    upper, x = best
    chosen = dict(zip(keys, x.round(6).tolist(), strict=True))
    costs = np.array(list(mapper(recourse_cost, stages, [chosen] * k, [SUBPROBLEM] * k)))
    gap = max(0.0, upper - lower) / max(abs(upper), 1e-9)
    result = SolveResult(termination, True, upper, lower, gap, seconds, options)
    return RobustSolution(FirstStage(chosen, built.latest_start), costs, result)


def _master(
    stage: Stage,
    columns: npt.NDArray[np.int64],
    floors: npt.NDArray[np.float64],
    p: npt.NDArray[np.float64],
    measure: RiskMeasure,
) -> highspy.Highs:
    """The master problem before any cut: the first stage with its own rows, θ_k above each
    future's floor, and with a CVaR weight η and s_k."""
    n, k = len(columns), len(floors)
    cvar = measure.weight > 0
    width = n + k + (1 + k if cvar else 0)
    cost = np.zeros(width)
    cost[n : n + k] = (1 - measure.weight) * p
    lower = np.concatenate([stage.lower[columns], floors, [-np.inf] if cvar else [], np.zeros(k) if cvar else []])
    upper = np.concatenate([stage.upper[columns], np.full(k, np.inf), np.full(1 + k, np.inf) if cvar else []])
    rows, row_lower, row_upper = _first_stage_rows(stage, columns, width)
    if cvar:
        eta = n + k
        cost[eta] = measure.weight
        cost[eta + 1 :] = measure.weight * p / (1 - measure.level)
        # s_k − θ_k + η ≥ 0
        link = sp.csr_array(
            (
                np.tile([1.0, -1.0, 1.0], k),
                (np.repeat(np.arange(k), 3), np.ravel([[eta + 1 + f, n + f, eta] for f in range(k)])),
            ),
            shape=(k, width),
        )
        rows = sp.vstack([rows, link], format="csr")
        row_lower, row_upper = np.concatenate([row_lower, np.zeros(k)]), np.concatenate([row_upper, np.full(k, np.inf)])
    integer = np.concatenate([stage.integer[columns], np.zeros(width - n, dtype=bool)])
    return new_highs(highs_lp(cost, lower, upper, rows.tocsc(), row_lower, row_upper, integer))


def _first_stage_rows(
    stage: Stage, columns: npt.NDArray[np.int64], width: int
) -> tuple[sp.csr_array, npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The future's rows that only the first stage enters (how many modules a site takes, a
    mandatory site), moved to the master's first columns."""
    a = stage.a.tocsr()
    inside = np.zeros(a.shape[1], dtype=bool)
    inside[columns] = True
    outside = np.asarray(abs(a) @ (~inside).astype(float)) > 0
    only_first = np.nonzero((np.diff(a.indptr) > 0) & ~outside)[0]
    position = np.full(a.shape[1], -1, dtype=np.int64)
    position[columns] = np.arange(len(columns))
    sub = a[only_first].tocoo()
    moved = sp.csr_array((sub.data, (sub.row, position[sub.col])), shape=(len(only_first), width))
    return moved, stage.row_lower[only_first], stage.row_upper[only_first]


def _relax(master: highspy.Highs, integer: npt.NDArray[np.bool_], relax: bool) -> bool:
    """Drop (or restore) the master's integrality; returns whether it is relaxed. The cuts of
    the relaxation's rounds are cheap (each master an LP) and hold for whole builds too, so the
    integer master starts with most of what it needs to learn: with foundry reservations in the
    first stage, many continuous columns, the integer master alone took 63 rounds on global.yaml
    with 10 futures, most of the time in masters grown large."""
    if not integer.any():
        return False
    kind = highspy.HighsVarType.kContinuous if relax else highspy.HighsVarType.kInteger
    where = np.nonzero(integer)[0].astype(np.int32)
    master.changeColsIntegrality(len(where), where, np.full(len(where), int(kind), dtype=np.uint8))
    return relax


def _bound(master: highspy.Highs, is_mip: bool) -> float:
    """The master's proven lower bound (its objective when it has no integer)."""
    info = master.getInfo()
    return float(info.mip_dual_bound if is_mip else info.objective_function_value)


def _add_cut(master: highspy.Highs, cut: Cut, x: npt.NDArray[np.float64], theta: int | None, n: int) -> None:
    """θ_k − g·x ≥ Q_k(x̂) − g·x̂ (optimality), or −g·x ≥ v − g·x̂ (feasibility)."""
    slope = cut.slope
    used = np.nonzero(slope)[0]
    indices: list[int] = [int(i) for i in used]
    values: list[float] = [float(v) for v in -slope[used]]
    if theta is not None:
        indices.append(theta)
        values.append(1.0)
    rhs = cut.value - float(slope @ x)
    master.addRow(rhs, highspy.kHighsInf, len(indices), np.array(indices, dtype=np.int32), np.array(values))
