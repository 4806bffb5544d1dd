"""One build plan for many futures: the two-stage stochastic program, as its deterministic
equivalent.

Fabs are started before demand, yield learning and construction delays are known. So the
first-stage decisions — modules started at each site and quarter, packaging expansions, foundry
wafers reserved under take-or-pay — are shared by every future, and everything else (wafer
starts, foundry wafers used, packages, purchases,
deliveries, shortfall, cash) is decided per future once it is known. Each future is the
deterministic model of its own scenario (fabnet.plan.model, unchanged), so a lead time drawn in
one future moves when that future's modules come online, not when they may start.

The deterministic equivalent is assembled from the futures' own matrices (linopy's
`Model.matrices`): their first-stage columns identified by variable name and coordinates and
merged into one, every other column and every row kept per future, and solved by HiGHS. Its
objective, with p_k the futures' probabilities and f_k(x, y_k) a future's system cost, is

    (1 − λ) · Σ_k p_k f_k  +  λ · CVaR_α(f)

where CVaR_α is the expected cost of the worst 1 − α share of futures in Rockafellar and
Uryasev's linear form (Rockafellar & Uryasev 2000, "Optimization of conditional value-at-risk"):
CVaR_α(f) = min_η η + Σ_k p_k · max(f_k − η, 0) / (1 − α). λ = 0 is the expected value.

Every future's constraints hold in full: a build schedule that breaks one future's budget is
not a plan for that future, so it is not a robust plan either.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import highspy
import linopy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import xarray as xr
from highspy import HighsModelStatus
from linopy.constants import TerminationCondition

from fabnet.network import PlanInputs
from fabnet.plan.highs import quiet_stdout
from fabnet.plan.model import build_from_inputs
from fabnet.plan.outcome import RiskMeasure, SolveOptions, SolveResult

#: The decisions made before any future is known (variable names of the planning model).
FIRST_STAGE = ("build", "shell", "packaging_build", "foundry_reserved")

#: HiGHS's model status → linopy's termination condition, as the deterministic planner reports it.
_TERMINATION = {
    HighsModelStatus.kOptimal: TerminationCondition.optimal,
    HighsModelStatus.kInfeasible: TerminationCondition.infeasible,
    HighsModelStatus.kUnboundedOrInfeasible: TerminationCondition.infeasible_or_unbounded,
    HighsModelStatus.kUnbounded: TerminationCondition.unbounded,
    HighsModelStatus.kTimeLimit: TerminationCondition.time_limit,
}


@dataclass(frozen=True)
class Stage:
    """A future's model as matrices (plain arrays: a worker process receives it whole): its
    columns split into the shared first stage (by key) and its own, and its cost
    f(z) = c · z + constant."""

    first: dict[tuple[object, ...], int]  # first-stage key → column of this model
    a: sp.csr_array
    row_lower: npt.NDArray[np.float64]
    row_upper: npt.NDArray[np.float64]
    cost: npt.NDArray[np.float64]
    constant: float
    lower: npt.NDArray[np.float64]
    upper: npt.NDArray[np.float64]
    integer: npt.NDArray[np.bool_]

    @property
    def own(self) -> npt.NDArray[np.int64]:
        """Columns of this future alone (not first stage), in model order."""
        shared = np.zeros(len(self.cost), dtype=bool)
        shared[list(self.first.values())] = True
        return np.nonzero(~shared)[0]


@dataclass(frozen=True)
class FirstStage:
    """The decisions shared by every future: values by (variable, coordinates…), and the window
    of module starts they were chosen in (PlanInputs.latest_start)."""

    values: dict[tuple[object, ...], float]
    latest_start: npt.NDArray[np.int64]

    def fix(self, model: linopy.Model) -> None:
        """Hold a planning model's first-stage variables at these values (0 where none is given)."""
        for name in FIRST_STAGE:
            if name not in model.variables:
                continue
            variable = model.variables[name]
            held = xr.zeros_like(variable.lower)
            for key in _active(variable):
                held.loc[dict(zip(variable.labels.dims, key, strict=True))] = self.values.get((name, *key), 0.0)
            variable.update(lower=held, upper=held)

    def modules(self) -> float:
        """Fab modules started, all sites together."""
        return sum(value for key, value in self.values.items() if key[0] == "build")


@dataclass(frozen=True)
class RobustSolution:
    """The shared first stage, each future's system cost under it (MUSD, the planning model's
    unit), and how the solve went."""

    first_stage: FirstStage
    costs: npt.NDArray[np.float64]
    result: SolveResult


def _active(variable: linopy.Variable) -> dict[tuple[object, ...], int]:
    """A variable's labels by coordinate tuple (in its dims' order), masked entries left out."""
    labels = variable.labels.to_series()
    return {key if isinstance(key, tuple) else (key,): int(label) for key, label in labels[labels >= 0].items()}


@dataclass(frozen=True)
class Futures:
    """Futures built once, as matrices, for every solve of them: the deterministic equivalent,
    Benders, each future alone, a first stage held."""

    stages: tuple[Stage, ...]
    keys: tuple[tuple[object, ...], ...]  # the first stage's columns, in the order solvers use
    latest_start: npt.NDArray[np.int64]

    def take(self, indices: Iterable[int]) -> Futures:
        """Some of the futures, with the same first stage and window."""
        return Futures(tuple(self.stages[k] for k in indices), self.keys, self.latest_start)


def futures_of(inputs: Sequence[PlanInputs] | Futures) -> Futures:
    """The futures' models, built once with one window of starts; each must offer the same
    first-stage decisions."""
    if isinstance(inputs, Futures):
        return inputs
    shared = shared_starts(inputs)
    stages = tuple(stage_of(build_from_inputs(x)) for x in shared)
    keys = tuple(sorted(stages[0].first, key=str))
    for k, stage in enumerate(stages[1:], start=1):
        if set(stage.first) != set(keys):
            raise ValueError(f"future {k} offers other module starts than future 0: its sites or starts differ")
    return Futures(stages, keys, shared[0].latest_start)


def shared_starts(futures: Sequence[PlanInputs]) -> list[PlanInputs]:
    """The futures with one window of module starts: up to the last start any of them could use
    (its shortest lead time), and foundry wafers reserved ahead. A start that comes online after
    the horizon in a longer-lead future is paid for there and adds nothing, as it would in that
    world."""
    latest = np.max([x.latest_start for x in futures], axis=0) if futures[0].sites else futures[0].latest_start
    return [dataclasses.replace(x, latest_start=latest, reserve_ahead=True) for x in futures]


def stage_of(model: linopy.Model) -> Stage:
    """A future's model as matrices, its first-stage columns found by name and coordinates."""
    matrices = model.matrices
    if not (matrices.var_scaling == 1).all():
        raise ValueError("scaled variables are not supported in a robust plan")
    position = model.variables.label_index.label_to_pos
    first = {
        (name, *key): int(position[label])
        for name in FIRST_STAGE
        if name in model.variables
        for key, label in _active(model.variables[name]).items()
    }
    assert matrices.A is not None  # every planning model has rows
    integer = np.isin(matrices.vtypes, ("I", "B"))
    if not set(np.nonzero(integer)[0].tolist()) <= set(first.values()):
        raise ValueError("an integer decision outside the first stage: a future held at its first stage is not an LP")
    lower = np.where(matrices.sense == "<", -np.inf, matrices.b)
    upper = np.where(matrices.sense == ">", np.inf, matrices.b)
    return Stage(
        first=first,
        a=matrices.A,
        row_lower=lower,
        row_upper=upper,
        cost=np.asarray(matrices.c, dtype=float),
        constant=float(model.objective.expression.const),
        lower=matrices.lb,
        upper=matrices.ub,
        integer=integer,
    )


def solve_robust(
    futures: Sequence[PlanInputs] | Futures,
    probabilities: Sequence[float] | None = None,
    measure: RiskMeasure = RiskMeasure(),
    options: SolveOptions = SolveOptions(),
) -> RobustSolution:
    """The plan whose first stage minimises the risk measure of the futures' system cost, all of
    them feasible; each future equally likely unless `probabilities` say otherwise."""
    built = futures_of(futures)
    stages, keys = built.stages, built.keys
    p = probabilities_of(len(stages), probabilities)
    equivalent = _assemble(stages, keys, p, measure)
    start = time.perf_counter()
    termination, values = run(equivalent, options)
    seconds = time.perf_counter() - start
    if values is None:
        result = SolveResult(termination, False, None, None, None, seconds, options)
        return RobustSolution(FirstStage({}, built.latest_start), np.full(len(stages), np.nan), result)
    chosen = dict(zip(keys, values[: len(keys)].round(6).tolist(), strict=True))
    costs = np.array([recourse_cost(stage, chosen, options) for stage in stages])
    info = equivalent.getInfo()
    objective = float(info.objective_function_value)
    bound = float(info.mip_dual_bound) if any(stage.integer.any() for stage in stages) else objective
    gap = max(0.0, objective - bound) / max(abs(objective), 1e-9)
    result = SolveResult(termination, True, objective, bound, gap, seconds, options)
    return RobustSolution(FirstStage(chosen, built.latest_start), costs, result)


def probabilities_of(k: int, probabilities: Sequence[float] | None) -> npt.NDArray[np.float64]:
    """The futures' probabilities: equal unless given; one each, none negative, summing to 1."""
    p = np.full(k, 1.0 / k) if probabilities is None else np.asarray(probabilities, float)
    if len(p) != k or not np.isclose(p.sum(), 1.0) or (p < 0).any():
        raise ValueError("one probability per future, none negative, summing to 1")
    return p


def _offsets(stages: Sequence[Stage], keys: Sequence[tuple[object, ...]]) -> list[tuple[Stage, int]]:
    """Each future with the column where its own columns start in the deterministic equivalent."""
    offset, placed = len(keys), []
    for stage in stages:
        placed.append((stage, offset))
        offset += len(stage.own)
    return placed


def _columns_of(stage: Stage, keys: Sequence[tuple[object, ...]], offset: int) -> npt.NDArray[np.int64]:
    """For each column of a future's model, its column in the deterministic equivalent."""
    where = np.empty(len(stage.cost), dtype=np.int64)
    for shared, key in enumerate(keys):
        where[stage.first[key]] = shared
    where[stage.own] = offset + np.arange(len(stage.own))
    return where


def _assemble(
    stages: Sequence[Stage], keys: Sequence[tuple[object, ...]], p: npt.NDArray[np.float64], measure: RiskMeasure
) -> highspy.Highs:
    """The deterministic equivalent as one HiGHS model; with a CVaR weight, also the columns η
    (the value at risk) and s_k (each future's cost above it) and a row per future."""
    placed = _offsets(stages, keys)
    n_plain = placed[-1][1] + len(stages[-1].own)
    cvar = measure.weight > 0
    n = n_plain + (1 + len(stages) if cvar else 0)
    cost = np.zeros(n)
    lower, upper, integer = np.zeros(n), np.full(n, np.inf), np.zeros(n, dtype=bool)
    blocks, row_lower, row_upper = [], [], []
    constant = 0.0
    for k, (stage, offset) in enumerate(placed):
        where = _columns_of(stage, keys, offset)
        np.add.at(cost, where, (1 - measure.weight) * p[k] * stage.cost)
        constant += (1 - measure.weight) * p[k] * stage.constant
        lower[where], upper[where], integer[where] = stage.lower, stage.upper, stage.integer
        blocks.append(_moved(stage.a, where, n))
        row_lower.append(stage.row_lower)
        row_upper.append(stage.row_upper)
    if cvar:
        eta = n_plain
        lower[eta] = -np.inf
        cost[eta] = measure.weight
        cost[eta + 1 :] = measure.weight * p / (1 - measure.level)
        for k, (stage, offset) in enumerate(placed):
            # f_k − η − s_k ≤ 0, with f_k = c_k · z_k + constant_k
            used = np.nonzero(stage.cost)[0]
            columns = np.concatenate([_columns_of(stage, keys, offset)[used], [eta, eta + 1 + k]])
            data = np.concatenate([stage.cost[used], [-1.0, -1.0]])
            blocks.append(sp.csr_array((data, (np.zeros(len(columns), dtype=np.int64), columns)), shape=(1, n)))
            row_lower.append(np.array([-np.inf]))
            row_upper.append(np.array([-stage.constant]))
    a = sp.vstack(blocks, format="csc")
    rows = (np.concatenate(row_lower), np.concatenate(row_upper))
    return new_highs(highs_lp(cost, lower, upper, a, *rows, integer=integer, offset=constant))


def highs_lp(
    cost: npt.NDArray[np.float64],
    lower: npt.NDArray[np.float64],
    upper: npt.NDArray[np.float64],
    a: sp.csc_array,
    row_lower: npt.NDArray[np.float64],
    row_upper: npt.NDArray[np.float64],
    integer: npt.NDArray[np.bool_] | None = None,
    offset: float = 0.0,
) -> highspy.HighsLp:
    """A HiGHS model: min cost · z + offset, row_lower ≤ a z ≤ row_upper, lower ≤ z ≤ upper, the
    `integer` columns whole (an LP when none is)."""
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(cost), a.shape[0]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lower, upper
    lp.offset_ = offset
    lp.row_lower_, lp.row_upper_ = row_lower, row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
    if integer is not None and integer.any():
        kinds = highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous
        lp.integrality_ = [kinds[0] if whole else kinds[1] for whole in integer]
    return lp


def _moved(a: sp.csr_array, where: npt.NDArray[np.int64], n: int) -> sp.csr_array:
    """A future's rows with its columns moved to their places in the equivalent's n columns."""
    coo = a.tocoo()
    return sp.csr_array((coo.data, (coo.row, where[coo.col])), shape=(a.shape[0], n))


def run(highs: highspy.Highs, options: SolveOptions) -> tuple[TerminationCondition, npt.NDArray[np.float64] | None]:
    highs.setOptionValue("time_limit", float(options.time_limit_s))
    highs.setOptionValue("mip_rel_gap", float(options.mip_gap))
    highs.setOptionValue("random_seed", 0)
    if options.threads:
        highs.setOptionValue("threads", int(options.threads))
    with quiet_stdout():
        highs.run()
    status = highs.getModelStatus()
    termination = _TERMINATION.get(status, TerminationCondition.unknown)
    has_solution = highs.getInfo().primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    values = np.asarray(highs.getSolution().col_value) if has_solution else None
    return termination, values


def recourse_costs(
    futures: Sequence[PlanInputs] | Futures, first: FirstStage, options: SolveOptions
) -> npt.NDArray[np.float64]:
    """Each future's system cost (MUSD) with the first stage held at `first`."""
    return np.array([recourse_cost(stage, first.values, options) for stage in futures_of(futures).stages])


def recourse_cost(stage: Stage, first: dict[tuple[object, ...], float], options: SolveOptions) -> float:
    """A future's system cost (MUSD) with the first stage held at `first`: the best it can do
    once it knows itself; inf when no plan of that future keeps its budget with these builds.
    (The equivalent's own values for a future are optimal only when the future weighs in its
    objective: under pure CVaR a future cheaper than the value at risk may be left at any cost
    below it.)"""
    # an LP: every integer is first-stage, held here (stage_of checks it); an LP also keeps
    # HiGHS off its thread pool, which a worker process forked from a solving parent inherits
    # broken (a MIP there waits for threads that do not exist)
    columns = np.fromiter(stage.first.values(), dtype=np.int64, count=len(stage.first))
    values = np.array([first.get(key, 0.0) for key in stage.first])
    highs = highs_of(held(stage, columns, values), relax=True)
    _termination, solution = run(highs, options)
    # no plan at all: these builds break the future's budget or policies
    return math.inf if solution is None else float(highs.getInfo().objective_function_value)


def held(stage: Stage, columns: npt.NDArray[np.int64], values: npt.NDArray[np.float64]) -> Stage:
    """The future with its first-stage `columns` fixed at `values`."""
    lower, upper = stage.lower.copy(), stage.upper.copy()
    lower[columns] = upper[columns] = values
    return dataclasses.replace(stage, lower=lower, upper=upper)


def highs_of(stage: Stage, relax: bool = False) -> highspy.Highs:
    """A future as a HiGHS model (its integers relaxed when `relax`: an LP gives duals)."""
    integer = None if relax else stage.integer
    rows = (stage.row_lower, stage.row_upper)
    return new_highs(highs_lp(stage.cost, stage.lower, stage.upper, stage.a.tocsc(), *rows, integer, stage.constant))


def new_highs(lp: highspy.HighsLp) -> highspy.Highs:
    """HiGHS holding `lp`, silent."""
    with quiet_stdout():  # HiGHS prints its banner when it starts, before any option
        highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.passModel(lp)
    return highs
