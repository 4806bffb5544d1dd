"""Commands on uncertainty: the risk sweep; and how a robust plan is printed (`fabnet plan --robust`, `fabnet run`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated

import typer

from fabnet.cli import app
from fabnet.cli.network_views import builds_table
from fabnet.cli.options import (
    DEFAULT_SCENARIO,
    MAX_SAMPLES,
    AsJson,
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
from fabnet.cli.terminal import job_progress, new_table, out, print_frame, print_json, show, styled
from fabnet.core import columns
from fabnet.core import format as fmt
from fabnet.core.results import DEFAULT_STORE
from fabnet.core.secrets import redact

if TYPE_CHECKING:
    import pandas as pd

    from fabnet.api import RobustRun


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
            help="Also simulate every fab of the first K samples' plans at the planned load (SMT2020 "
            "data): planned anew with --reoptimise, else the base plan held as each sample runs it; "
            "on the same workers: the chance per year that the fabs "
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
    as_json: AsJson = False,
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
    from fabnet.api import METHODS, Executors, SweepSpec, risk_job

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
    if as_json:
        from fabnet.api import risk_dict

        print_json(risk_dict(sweep))
        return
    print_risk(sweep.summary(), sweep.title, sweep.run_id, store)


def print_robust(run: RobustRun) -> None:
    """A robust plan: how its solve went, its builds and those that differ from the central
    plan's, then both plans over the fresh futures and, for a few futures, in sample."""
    spec, measure = run.spec, run.spec.measure
    objective = "expected cost" if measure.weight == 0 else f"(1 − {measure.weight:g})·E + {measure.weight:g}·CVaR"
    if measure.weight:
        objective += f" (CVaR at {measure.level:g}: the worst {fmt.percent(1 - measure.level, 0)} of futures)"
    out.print(styled(("Robust plan", "bold"), f" for {spec.futures} futures (seed {spec.seed}), {objective}: "))
    out.print(f"  {run.solution.result.describe()}")
    show(builds_table(run.robust))
    from fabnet.api import build_differences

    differ = build_differences(run.central.builds, run.robust.builds)
    if differ.empty:
        out.print("The central-value plan starts the same modules.")
    else:
        print_frame(differ, "Builds that differ from the central-value plan", text_columns=3)
    both = new_table(
        "figure",
        "central-value plan",
        "robust plan",
        "robust − central",
        title=f"Both plans on {spec.out_of_sample:,} fresh futures (seed {spec.seed + 1}): "
        "the value of the stochastic solution",
        figure_rows=True,
    )
    for row in run.figures.itertuples(index=False):
        key = str(row.figure)
        values = (float(row.central), float(row.robust))
        both.add_row(
            columns.label(key),
            *(columns.show(key, v) for v in values),
            columns.show_difference(key, *values, row.difference),
        )
    show(both)
    sample = run.in_sample
    if "wait_and_see_usd" in sample:
        robust, central, alone = sample["robust_usd"], sample["central_usd"], sample["wait_and_see_usd"]
        central_text = (
            f"the central plan's builds {fmt.usd(central)} "
            f"(value of the stochastic solution {fmt.usd(central - robust)})"
            if math.isfinite(central)
            else "the central plan's builds break the budget of at least one of them"
        )
        out.print(
            f"In the {spec.futures} futures (system cost, present value): the robust plan {fmt.usd(robust)}, "
            f"{central_text}, each future planned alone {fmt.usd(alone)} "
            f"(value of perfect information {fmt.usd(robust - alone)})"
        )


def print_risk(summary: dict[str, pd.DataFrame], title: str, run_id: int, store: str) -> None:
    """A sweep's summary: quantiles of the outcomes, the downside, deliveries per year, and
    what moves the fab company's NPV."""
    headline = new_table("figure", "P10", "P50", "P90", "mean", title=title, figure_rows=True)
    for row in summary["headline"].itertuples(index=False):
        headline.add_row(
            columns.label(row.figure),
            *(columns.show(row.figure, v, sampled=True) for v in (row.p10, row.p50, row.p90, row.mean)),
        )
    show(headline)
    downside = summary["downside"].iloc[0]
    out.print(
        f"Chance the fab company's NPV is below 0: {fmt.percent(downside.p_npv_below_zero)}; "
        f"expected NPV of its worst 10 % of samples: {fmt.usd(downside.expected_shortfall_usd)}"
    )
    print_frame(summary["per_year"], "Accelerators delivered per year", text_columns=1, sampled=True)
    if "checked" in summary:
        checked = summary["checked"]
        short = fmt.percent(checked["shortfall"].iloc[0]) if len(checked) else "–"
        print_frame(
            checked.drop(columns="shortfall"),
            f"Sampled plans on the fab simulator: the chance the fabs put out {short} or more below plan",
            text_columns=1,
        )
    print_frame(
        summary["tornado"][["input", "rank_correlation_with_npv"]],
        "What moves the fab company's NPV most (rank correlation, −1 to 1)",
        text_columns=1,
        names={"rank_correlation_with_npv": "rank correlation"},
    )
    out.print(
        styled(
            f"samples stored with run {run_id} in ",
            (redact(store), "bold"),
            f"; `fabnet report {run_id} --store {redact(store)}` draws them",
        )
    )
