"""Robust plans, measured. K futures are drawn from the scenario's `uncertainty:` section with
the risk sampler (same seed, same futures); one build plan is chosen for all of them
(fabnet.plan.robust); then it is measured against the central-value plan — the scenario as
written, planned alone — on fresh futures the plan never saw (fixed-plan risk mode, seed + 1):
expected NPV, its P10 and the mean of its worst tenth, the buyer's net value, and the share
of years that get their served share (core.units.SERVED_SHARE) of their demand. That
difference is the value of the stochastic solution out of sample. For a few futures and the
expected-value objective it also reports, in sample, the value of the stochastic solution (the
central plan's builds in the K futures, against the robust plan's) and the expected value of
perfect information (each future planned alone, against the robust plan)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from fabnet.core import results
from fabnet.core.errors import FabnetError, PlanInfeasible
from fabnet.core.figures import P_YEAR_SERVED
from fabnet.core.stats import expected_shortfall
from fabnet.core.units import MUSD
from fabnet.network import prepare
from fabnet.pipeline import JobResult, main_job
from fabnet.plan import Plan, RiskMeasure, SolveOptions, make_plan
from fabnet.plan.size import ModelSize, check_size, estimate
from fabnet.risk.fixed import evaluate_fixed
from fabnet.risk.job import Executors
from fabnet.risk.runner import make_executor
from fabnet.risk.sampling import apply_sample, draw
from fabnet.risk.summary import inputs_table, served
from fabnet.scenario.schema import Scenario
from fabnet.store import store_rows

if TYPE_CHECKING:
    from fabnet.plan.robust import Futures, RobustSolution

#: Futures up to which a robust run also plans each future alone (EVPI) and the central plan's
#: builds in each (in-sample VSS): K more solves.
EVPI_FUTURES = 10
#: How the robust plan is solved; "auto" decomposes above EQUIVALENT_UP_TO futures.
SOLVERS = ("auto", "equivalent", "benders")
EQUIVALENT_UP_TO = 5
#: Planning money is in MUSD; reported money in USD.


@dataclass(frozen=True)
class RobustSpec:
    """K futures from `seed` (the risk sampler's `method`), what the plan minimises, and how
    many fresh futures measure it."""

    futures: int
    seed: int
    measure: RiskMeasure = field(default_factory=RiskMeasure)
    out_of_sample: int = 1000
    method: str = "lhs"
    #: "equivalent" (one MIP), "benders" (futures as tasks on the executors) or "auto"
    solver: str = "auto"

    def __post_init__(self) -> None:
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {', '.join(SOLVERS)}, not {self.solver!r}")

    @classmethod
    def of(cls, scenario: Scenario, seed: int | None = None) -> RobustSpec | None:
        """The scenario's `planning: {robust: …}` section as a spec (None without one); its
        futures drawn from `seed`, by default the scenario's."""
        asked = scenario.planning.robust
        if asked is None:
            return None
        measure = RiskMeasure(asked.cvar, asked.risk_weight)
        chosen = scenario.seed if seed is None else seed
        return cls(asked.futures, chosen, measure, asked.out_of_sample, solver=asked.solver)

    @property
    def decomposed(self) -> bool:
        return self.solver == "benders" or (self.solver == "auto" and self.futures > EQUIVALENT_UP_TO)


@dataclass(frozen=True)
class RobustRun:
    """The robust plan and the central-value plan, each with its builds, and how they compare."""

    spec: RobustSpec
    central: Plan
    robust: Plan
    solution: RobustSolution
    samples: pd.DataFrame  # core.results robust_samples: both plans' outcomes in each fresh future
    figures: pd.DataFrame  # core.results robust_figures: figure, central, robust, difference
    in_sample: dict[str, float]  # system cost (USD): robust, and for a few futures wait_and_see, central
    drawn: np.ndarray  # the K futures' values of the uncertain inputs (K × inputs, risk.sampling.draw)

    def futures(self) -> pd.DataFrame:
        """core.results robust_futures: each future's drawn inputs and its cost under the robust plan."""
        frame = pd.DataFrame({"future": np.arange(len(self.drawn)), "cost_usd": self.solution.costs * MUSD})
        inputs = pd.DataFrame(self.drawn, columns=[f"input_{j}" for j in range(self.drawn.shape[1])])
        return results.table("robust_futures").conform(pd.concat([frame, inputs], axis=1))


def draw_futures(scenario: Scenario, n: int, seed: int, method: str = "lhs") -> list[Scenario]:
    """n futures of the scenario: its uncertain inputs drawn by the risk sampler and applied."""
    return [apply_sample(scenario, row) for row in draw(scenario, n, seed, method)]


def robust_run(
    scenario: Scenario,
    spec: RobustSpec,
    options: SolveOptions = SolveOptions(),
    cycle_time: str = "load",
    step: Callable[[str], None] = lambda name: None,
    executors: Executors = Executors(),
) -> RobustRun:
    """Choose one build plan for `spec.futures` futures of the scenario and measure it against
    the central-value plan on `spec.out_of_sample` fresh ones."""
    from fabnet.plan.robust import futures_of, recourse_costs, solve_robust

    if not scenario.uncertainty:
        raise FabnetError(f"{scenario.origin.file or scenario.name} has no uncertainty section to draw futures from")
    step(f"drawing {spec.futures} futures and building their models")
    drawn = draw(scenario, spec.futures, spec.seed, spec.method)
    scenarios = [scenario, *(apply_sample(scenario, row) for row in drawn)]
    together = sum((estimate(s, cycle_time) for s in scenarios[1:]), ModelSize(0, 0))
    check_size(together, options.max_variables, f"The robust plan of {spec.futures} futures")
    built = futures_of([prepare(s, cycle_time) for s in scenarios])  # one window of starts
    futures = built.take(range(1, spec.futures + 1))
    step("planning the central-value future")
    central_first = solve_robust(built.take([0]), options=options).first_stage
    step(f"planning one build plan for {spec.futures} futures")
    solution = _solve(futures, spec, options, executors, step)
    if not solution.result.has_solution:
        raise PlanInfeasible(f"no build plan serves all {spec.futures} futures: {solution.result.describe()}")
    central = make_plan(scenario, options, cycle_time, central_first)
    robust = make_plan(scenario, options, cycle_time, solution.first_stage)
    step(f"measuring both plans on {spec.out_of_sample} fresh futures")
    fresh = draw(scenario, spec.out_of_sample, spec.seed + 1, spec.method)
    samples = pd.concat(
        [
            evaluate_fixed(scenario, plan, fresh).assign(plan=name)
            for name, plan in (("central", central), ("robust", robust))
        ],
        ignore_index=True,
    )
    in_sample = {"robust_usd": float(solution.result.objective or np.nan) * MUSD}
    if spec.futures <= EVPI_FUTURES and spec.measure.weight == 0:
        step("planning each future alone (perfect information)")
        alone = [solve_robust(futures.take([k]), options=options).result.objective for k in range(spec.futures)]
        in_sample["wait_and_see_usd"] = float(np.mean([np.nan if v is None else v for v in alone])) * MUSD
        # inf when the central plan's builds break a future's budget: they are no plan for it
        in_sample["central_usd"] = float(np.mean(recourse_costs(futures, central_first, options))) * MUSD
    return RobustRun(spec, central, robust, solution, samples, compare(samples), in_sample, drawn)


def _solve(
    futures: Futures,
    spec: RobustSpec,
    options: SolveOptions,
    executors: Executors,
    step: Callable[[str], None],
) -> RobustSolution:
    """The deterministic equivalent, or Benders with the futures on the executors."""
    from fabnet.plan.decompose import solve_decomposed
    from fabnet.plan.robust import solve_robust

    if not spec.decomposed:
        return solve_robust(futures, measure=spec.measure, options=options)

    def progress(iteration: int, lower: float, upper: float) -> None:
        step(f"Benders round {iteration}: cost between {lower * MUSD:,.0f} and {upper * MUSD:,.0f} USD")

    with make_executor(executors.workers, executors.dask_local, executors.scheduler) as executor:
        return solve_decomposed(futures, measure=spec.measure, options=options, executor=executor, progress=progress)


def compare(samples: pd.DataFrame) -> pd.DataFrame:
    """Each plan's outcomes over the fresh futures, side by side, with robust − central."""
    rows = {name: outcomes(group) for name, group in samples.groupby("plan")}
    figures = pd.DataFrame({"central": rows["central"], "robust": rows["robust"]})
    figures["difference"] = figures["robust"] - figures["central"]
    return figures.rename_axis("figure").reset_index()


def outcomes(samples: pd.DataFrame) -> pd.Series:
    """What a funder asks of a plan over many futures."""
    npv = samples["fabco_npv_usd"].to_numpy(dtype=float)
    years = [c.split("_")[1] for c in samples.columns if c.startswith("delivered_")]
    demand = samples[[f"demand_{year}" for year in years]].to_numpy(dtype=float)
    delivered = samples[[f"delivered_{year}" for year in years]].to_numpy(dtype=float)
    wanted = demand > 0
    met = served(delivered, demand) & wanted
    return pd.Series(
        {
            "fabco_npv_usd": float(npv.mean()),
            "fabco_npv_p10_usd": float(np.quantile(npv, 0.1)),
            "fabco_npv_worst_tenth_usd": expected_shortfall(npv),
            "buyer_net_usd": float(samples["buyer_net_usd"].mean()),
            # of the years with demand, over all futures: the share that get SERVED_SHARE of it
            P_YEAR_SERVED: float(met.sum() / max(wanted.sum(), 1)),
            "modules_built": float(samples["modules_built"].iloc[0]),
        }
    )


def robust_job(
    store: str | Path,
    scenario: Scenario,
    spec: RobustSpec,
    options: SolveOptions = SolveOptions(),
    cycle_time: str = "load",
    label: str | None = None,
    step: Callable[[str], None] = lambda name: None,
    executors: Executors = Executors(),
) -> tuple[RobustRun, JobResult]:
    """A robust run, stored (kind "robust"): the robust plan as the run's plan — its money, the
    foundry route and the deal as `fabnet run` stores them — with the central plan's builds,
    both plans' outcomes in the fresh futures and the comparison beside it."""
    run = robust_run(scenario, spec, options, cycle_time, step, executors)
    job = main_job(
        scenario,
        store,
        options,
        step,
        cycle_time,
        check=False,
        label=label,
        kind="robust",
        plan=run.robust,
    )
    if job.run_id is None:
        raise FabnetError(f"the robust run was not stored: {job.store_error}; kept in {job.archive}")
    measure = spec.measure
    settings = {
        "futures": spec.futures,
        "seed": spec.seed,
        "method": spec.method,
        "out_of_sample": spec.out_of_sample,
        "cvar_level": measure.level,
        "risk_weight": measure.weight,
    }
    in_sample = {name: run.in_sample.get(name, np.nan) for name in ("robust_usd", "wait_and_see_usd", "central_usd")}
    tables = {
        "robust_spec": pd.DataFrame([settings | in_sample]),
        "robust_figures": run.figures,
        "robust_samples": run.samples,
        "central_builds": run.central.builds,
        "robust_futures": run.futures(),
        "risk_inputs": inputs_table(scenario),
    }
    for name, frame in tables.items():
        store_rows(store, job.run_id, name, results.table(name).conform(frame))
    return run, job
