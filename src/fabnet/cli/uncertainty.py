"""Commands on uncertainty: the risk sweep, and the helper of `fabnet plan --robust`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from fabnet.cli import app
from fabnet.cli.options import (
    DEFAULT_SCENARIO,
    MAX_SAMPLES,
    DaskLocal,
    LabelOption,
    Overrides,
    ScenarioFile,
    Scheduler,
    Seed,
    StorePath,
    Workers,
    load_scenario,
    user_errors,
)
from fabnet.core.results import DEFAULT_STORE
from fabnet.views import err, job_progress, out, print_risk, print_robust, styled

if TYPE_CHECKING:
    from fabnet.plan import SolveOptions
    from fabnet.risk.job import Executors
    from fabnet.risk.robust import RobustSpec
    from fabnet.scenario import Scenario


@app.command()
def risk(
    file: ScenarioFile = DEFAULT_SCENARIO,
    overrides: Overrides = None,
    samples: Annotated[int, typer.Option(help="Number of samples.", min=1, max=MAX_SAMPLES)] = 100,
    seed: Annotated[int | None, typer.Option(help="Sampling seed (default: the scenario's).", **Seed)] = None,
    method: Annotated[str, typer.Option(help="lhs (Latin hypercube) or sobol.")] = "lhs",
    reoptimise: Annotated[
        bool,
        typer.Option(
            "--reoptimise",
            help="Plan and finance every sample anew, "
            "in parallel (default: keep the base plan's builds and "
            "recompute outcomes with numpy, thousands a second).",
        ),
    ] = False,
    workers: Workers = 2,
    dask_local: DaskLocal = None,
    scheduler: Scheduler = None,
    resume: Annotated[int | None, typer.Option(help="Finish the sweep of a stored run that was interrupted.")] = None,
    check_plan: Annotated[
        bool,
        typer.Option(
            "--check", help="Also check the base plan on the fab simulator (SMT2020 data), as `fabnet run` does."
        ),
    ] = False,
    check_samples: Annotated[
        int,
        typer.Option(
            "--check-samples",
            help="Also plan the first K samples anew and simulate every fab of each plan at its "
            "planned load (SMT2020 data), on the same workers: the chance per year that the fabs "
            "put out --shortfall or more below plan, beside the planner's own chance of serving "
            "under 90 % of demand.",
            min=0,
            max=MAX_SAMPLES,
        ),
    ] = 0,
    shortfall: Annotated[
        float,
        typer.Option(help="Simulated wafers out this share below plan count as short (0.05 = 5 %).", min=0, max=1),
    ] = 0.05,
    store: StorePath = DEFAULT_STORE,
    label: LabelOption = None,
) -> None:
    """Monte-Carlo over the scenario's `uncertainty:` section: P10/P50/P90 of the fab company's
    NPV, the buyer's net value and accelerators delivered per year, the chance of meeting 90 %
    of demand each year, the shortfall, and which inputs move the fab company's NPV most.

    Each sample is written to the store as it finishes; a sweep that is stopped resumes with
    `--resume RUN` and ends with exactly the samples of an uninterrupted one.

    Example: `fabnet risk scenarios/tigris.yaml --samples 200 --reoptimise --workers 2`
    (or `--dask-local 4`, or `--scheduler tcp://host:8786`); add `--check-samples 20` to run
    twenty sampled plans on the fab simulator.
    """
    from fabnet.risk import METHODS, SweepSpec
    from fabnet.risk.job import Executors, risk_job

    if method not in METHODS:
        raise typer.BadParameter(f"--method must be one of {', '.join(METHODS)}")
    with user_errors():
        scenario = spec = None
        if resume is None:
            scenario = load_scenario(file, overrides or ())
            spec = SweepSpec(samples, scenario.seed if seed is None else seed, method)
        with job_progress("samples") as progress:
            sweep = risk_job(
                store,
                scenario,
                spec,
                resume=resume,
                reoptimise=reoptimise,
                executors=Executors(workers, dask_local, scheduler),
                check=check_plan,
                check_samples=check_samples,
                shortfall=shortfall,
                label=label,
                step=progress.step,
                progress=progress.advance,
            )
    print_risk(sweep.summary(), sweep.title, sweep.run_id, store)


def robust_plan(
    scenario: Scenario,
    spec: RobustSpec,
    options: SolveOptions,
    cycle_time: str,
    executors: Executors,
    store: str | None,
    label: str | None,
) -> None:
    from fabnet.risk.robust import robust_job, robust_run

    with err.status("starting…") as status:

        def step(name: str) -> None:
            status.update(f"{scenario.name}: {name}…")

        if store is None:
            run, run_id = robust_run(scenario, spec, options, cycle_time, step, executors), None
        else:
            run, job = robust_job(store, scenario, spec, options, cycle_time, label, step, executors)
            run_id = job.run_id
    print_robust(run)
    if run_id is not None:
        out.print(styled(f"robust run {run_id} stored in ", (str(store), "bold")))
