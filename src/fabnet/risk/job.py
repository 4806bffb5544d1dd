"""The risk job, as `fabnet risk` runs it: a base run stored (its plan and money; neither the
foundry route nor the deal, which the sweep does not read; the plan check only when asked),
then the sweep over the scenario's `uncertainty:` section — on the base plan's builds
(fixed-plan mode, numpy, thousands of samples a second) or planned anew per sample
(re-optimised, on worker processes or Dask) — every sample stored with the base run.

The base plan is the one the sweep holds: it is planned once. Only a resumed fixed-plan sweep
plans again, from the stored scenario (the plan is not stored whole)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from fabnet.core.errors import FabnetError, Interrupted
from fabnet.pipeline import main_job
from fabnet.plan import Plan, SolveOptions, make_plan
from fabnet.risk.checked import DEFAULT_SHORTFALL, run_checks, shortfall_by_year
from fabnet.risk.fixed import Unsupported, evaluate_fixed, sample_inputs
from fabnet.risk.runner import SAMPLES_TABLE, SweepSpec, make_executor, run_sweep
from fabnet.risk.sampling import draw
from fabnet.risk.summary import built_sites, inputs_table, summarise
from fabnet.scenario.loader import stored_scenario
from fabnet.scenario.schema import Scenario
from fabnet.store import store_rows, stored_rows, stored_run


@dataclass(frozen=True)
class Executors:
    """Where re-optimised samples run: local worker processes, a Dask LocalCluster started for
    the sweep (`dask_local` workers), or an existing Dask cluster by address."""

    workers: int = 2
    dask_local: int | None = None
    scheduler: str | None = None


@dataclass(frozen=True)
class RiskRun:
    """A finished sweep: the stored run it belongs to, what was sampled and every sample."""

    run_id: int
    scenario: Scenario
    spec: SweepSpec
    samples: pd.DataFrame
    fixed_plan: bool
    built: frozenset[str] | None = None  # sites of the plan held (None: planned anew per sample)
    checks: pd.DataFrame | None = None  # sampled plans run on the fab simulator (risk.checked)
    shortfall: float = DEFAULT_SHORTFALL

    def summary(self) -> dict[str, pd.DataFrame]:
        summary = summarise(self.scenario, self.samples, self.built)
        if self.checks is not None:
            summary["checked"] = shortfall_by_year(self.checks, self.shortfall)
        return summary

    @property
    def title(self) -> str:
        held = " (builds fixed)" if self.fixed_plan else ""
        spec = self.spec
        return f"Risk of run {self.run_id}{held}: {spec.samples} samples ({spec.method}, seed {spec.seed})"


def risk_job(
    store: str | Path,
    scenario: Scenario | None = None,
    spec: SweepSpec | None = None,
    *,
    resume: int | None = None,
    reoptimise: bool = False,
    executors: Executors = Executors(),
    check: bool = False,
    check_samples: int = 0,
    shortfall: float = DEFAULT_SHORTFALL,
    label: str | None = None,
    step: Callable[[str], None] = lambda name: None,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> RiskRun:
    """Start a sweep of `scenario` by `spec` (a base run stored first), or finish the stored
    sweep `resume`; `progress(done, total)` counts the sweep's samples, those stored before a
    resume included. `check_samples` K: every fab of the first K samples' plans simulated
    (risk.checked): planned anew when `reoptimise`, else the base plan held in each (risk.held);
    on the sweep's executor; `progress` then counts those too."""
    plan: Plan | None = None
    if resume is None:
        if scenario is None or spec is None:
            raise ValueError("a new sweep needs its scenario and spec")
        run_id, plan = start_sweep(
            store, scenario, spec, check=check, label=label, step=step, fixed_plan=not reoptimise
        )
    else:
        run_id = resume
        scenario, spec = stored_sweep(store, resume)
    # one executor for both phases that need one: the re-optimised samples and the checks
    pooled = reoptimise or check_samples > 0
    phase = "sweep"
    try:
        with (
            make_executor(executors.workers, executors.dask_local, executors.scheduler)
            if pooled
            else contextlib.nullcontext()
        ) as executor:
            assert (executor is not None) == pooled
            if reoptimise and executor is not None:
                step("sampling")
                samples = reoptimised_samples(store, run_id, scenario, spec, executor, progress)
            else:
                step(f"{spec.samples} samples on the fixed plan")
                plan = plan if plan is not None else make_plan(scenario, SolveOptions())
                samples = fixed_plan_samples(store, run_id, scenario, spec, plan)
            checks = None
            if check_samples > 0 and executor is not None:
                phase = "checks"
                what = "sampled plans" if reoptimise else "samples of the plan held"
                step(f"checking {min(check_samples, spec.samples)} {what} on the fab simulator")
                held = None if reoptimise else plan
                checks = run_checks(scenario, run_id, store, spec, check_samples, executor, progress, held)
    except KeyboardInterrupt:
        if phase == "checks":
            raise Interrupted(f"the checks of run {run_id} were interrupted; its samples are stored") from None
        raise Interrupted(
            f"the sweep of run {run_id} was interrupted; the samples it finished are stored, and "
            f"`fabnet risk --resume {run_id} --store {store}` computes the rest"
        ) from None
    builds = stored_rows(store, run_id, "builds")
    built = None if reoptimise or builds is None else built_sites(builds)
    return RiskRun(
        run_id, scenario, spec, samples, fixed_plan=not reoptimise, built=built, checks=checks, shortfall=shortfall
    )


def reoptimised_samples(
    store: str | Path,
    run_id: int,
    scenario: Scenario,
    spec: SweepSpec,
    executor: Executor,
    progress: Callable[[int, int], None],
) -> pd.DataFrame:
    """Every sample planned anew on `executor`, each stored as it finishes (those a resumed
    sweep stored before are kept); `progress` counts them all."""
    total = spec.samples

    def advance(done: int, todo: int) -> None:
        progress(total - todo + done, total)

    run_sweep(scenario, run_id, store, spec, executor, progress=advance)
    samples = stored_rows(store, run_id, SAMPLES_TABLE)
    assert samples is not None  # every sample was stored above
    return samples


def start_sweep(
    store: str | Path,
    scenario: Scenario,
    spec: SweepSpec,
    *,
    check: bool = False,
    label: str | None = None,
    step: Callable[[str], None] = lambda name: None,
    fixed_plan: bool = True,
) -> tuple[int, Plan]:
    """Store the sweep's base run (kind "risk") with its spec and inputs (for a `fixed_plan`
    sweep, whether each touches the base plan); its id and plan."""
    if not scenario.uncertainty:
        raise FabnetError(f"{scenario.origin.file or scenario.name} has no uncertainty section to sample")
    # a draw out of a field's range, or an input the fixed plan cannot vary, stops the sweep
    # here, before a run is stored
    table = draw(scenario, spec.samples, spec.seed, spec.method)
    if fixed_plan:
        try:
            sample_inputs(scenario, table)
        except Unsupported as exc:
            raise FabnetError(str(exc)) from None
    base = main_job(scenario, store, step=step, label=label, kind="risk", check=check, compare=False)
    if base.run_id is None:
        raise FabnetError(f"the sweep's base run was not stored: {base.store_error}; kept in {base.archive}")
    store_rows(store, base.run_id, "risk_spec", pd.DataFrame([spec.__dict__]))
    built = built_sites(base.plan.builds) if fixed_plan else None
    store_rows(store, base.run_id, "risk_inputs", inputs_table(scenario, built))
    return base.run_id, base.plan


def stored_sweep(store: str | Path, run_id: int) -> tuple[Scenario, SweepSpec]:
    """The scenario and sweep settings of a stored run, to resume it."""
    run = stored_run(store, run_id)
    spec = run.tables.get("risk_spec")
    if spec is None or spec.empty:
        raise FabnetError(f"run {run_id} in {store} is not a risk sweep; start one with `fabnet risk FILE`")
    row = spec.iloc[0]
    return stored_scenario(run.meta), SweepSpec(int(row["samples"]), int(row["seed"]), str(row["method"]))


def fixed_plan_samples(store: str | Path, run_id: int, scenario: Scenario, spec: SweepSpec, plan: Plan) -> pd.DataFrame:
    """Every sample's outcomes on the base plan's builds, computed at once and stored (unless a
    finished sweep already stored them)."""
    try:
        rows = evaluate_fixed(scenario, plan, draw(scenario, spec.samples, spec.seed, spec.method))
    except Unsupported as exc:
        raise FabnetError(str(exc)) from None
    kept = stored_rows(store, run_id, SAMPLES_TABLE)
    if kept is None or kept.empty:  # the table exists as soon as any run of the store has samples
        store_rows(store, run_id, SAMPLES_TABLE, rows)
    return rows
