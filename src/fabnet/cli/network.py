"""Commands on the fab network: wafers, plan, finance, run (the main job), deal, risk."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
import typer

from fabnet.cli import app
from fabnet.cli.network_views import (
    print_deal,
    print_finance,
    print_plan,
    print_run,
    print_wafer_report,
)
from fabnet.cli.options import (
    DEFAULT_SCENARIO,
    INCOMPLETE,
    MAX_SAMPLES,
    AsJson,
    CycleTime,
    CycleTimeOption,
    DaskLocal,
    Fresh,
    Gap,
    LabelOption,
    MaxModelSize,
    Overrides,
    RobustSolver,
    ScenarioFile,
    Scheduler,
    Seed,
    StorePath,
    TimeLimit,
    Workers,
    load_scenario,
    user_errors,
    within,
)
from fabnet.cli.terminal import err, out, print_json, styled
from fabnet.cli.uncertainty import print_robust
from fabnet.core.errors import FabnetError
from fabnet.core.limits import MAX_PLAN_VARIABLES
from fabnet.core.results import DECISION_GAP, DEFAULT_STORE
from fabnet.core.secrets import redact

if TYPE_CHECKING:
    from fabnet.api import Plan, Scenario, Site


class Period(str, Enum):
    year = "year"
    quarter = "quarter"


@app.command()
def wafers(
    file: ScenarioFile = DEFAULT_SCENARIO,
    overrides: Overrides = None,
    by: Annotated[Period, typer.Option(help="Rows per year or per quarter.")] = Period.year,
    fab_age_q: Annotated[
        float | None,
        typer.Option(help="Yield of a fab this many quarters into production (default: mature D0).", min=0),
    ] = None,
    site: Annotated[
        str | None,
        typer.Option(
            help="The products of this site's node at its D0 (its operator's ramp D0 and learning, as "
            "the planner uses them; default: the node's, a foundry's fab)."
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Accelerators → wafers: what each product's demand needs in wafer starts and interposer
    wafers, with dies per wafer, yield and cost per accelerator.

    Example: `fabnet wafers scenarios/tigris.yaml --by quarter --fab-age-q 0` (a new fab's yield;
    add `--site kumamoto` for TSMC's ramp there).
    """
    from fabnet.api import product_economics, wafer_demand

    with user_errors():
        scenario = load_scenario(file, overrides or ())
        chosen = None if site is None else _site_named(scenario, site)
    economics = product_economics(scenario, fab_age_q, chosen)
    table = wafer_demand(scenario, fab_age_q, chosen)
    if as_json:
        print_json({"economics": economics.to_dict("records"), "wafers": table.to_dict("records")})
        return
    print_wafer_report(scenario, economics, table, by.value, fab_age_q, site)


def _site_named(scenario: Scenario, site: str) -> Site:
    for candidate in scenario.sites:
        if candidate.id == site:
            return candidate
    raise typer.BadParameter(
        f"no site {site!r} in {scenario.name}: choose one of {', '.join(s.id for s in scenario.sites) or 'none'}",
        param_hint="--site",
    )


@app.command()
def plan(
    file: ScenarioFile = DEFAULT_SCENARIO,
    overrides: Overrides = None,
    cycle_time: CycleTimeOption = CycleTime.load,
    gap: Gap = DECISION_GAP,
    time_limit: TimeLimit = 60.0,
    threads: Annotated[
        int | None, typer.Option(help="Solver threads (default: HiGHS decides).", min=1, max=1024)
    ] = None,
    max_model_size: MaxModelSize = MAX_PLAN_VARIABLES,
    robust: Annotated[
        int | None,
        typer.Option(
            "--robust",
            metavar="K",
            min=1,
            max=1000,  # as the scenario's planning.robust.futures
            help="One build plan for K futures drawn from the scenario's `uncertainty:` section (builds "
            "shared, operations per future), measured against the central-value plan on fresh futures.",
        ),
    ] = None,
    cvar: Annotated[
        float, typer.Option(help="With --robust: CVaR level α, the worst 1 − α of futures.", **within(0.0, 0.999))
    ] = 0.9,
    risk_weight: Annotated[
        float,
        typer.Option(
            help="With --robust: λ of (1 − λ)·E[cost] + λ·CVaR_α[cost]; 0 = expected cost.", **within(0.0, 1.0)
        ),
    ] = 0.0,
    out_of_sample: Annotated[
        int, typer.Option(help="With --robust: fresh futures both plans are measured on.", min=1, max=MAX_SAMPLES)
    ] = 1000,
    seed: Annotated[
        int | None, typer.Option(help="With --robust: seed of the futures (default: the scenario's).", **Seed)
    ] = None,
    solver: Annotated[
        RobustSolver,
        typer.Option(
            help="With --robust: equivalent (one MIP), benders (futures as tasks), auto (benders above 5 futures)."
        ),
    ] = RobustSolver.auto,
    workers: Workers = 2,
    dask_local: DaskLocal = None,
    scheduler: Scheduler = None,
    store: Annotated[
        str | None, typer.Option("--store", help="With --robust: store the run (kind robust) in this results store.")
    ] = None,
    label: LabelOption = None,
    fresh: Fresh = False,
    as_json: AsJson = False,
) -> None:
    """Plan the fab network: which modules to build where and when, what each source makes,
    delivered versus demand, the fab company's budget, and its NPV.

    The planner minimises the whole system's discounted cost — the fab company's and the
    buyer's, what the buyer pays the fab company cancelling out — plus what unmet demand costs
    the buyer, within the fab company's budget. That objective is printed as "system cost";
    the fab company's NPV comes from finance, the same as `fabnet finance` and `fabnet run`.

    With `--robust K`, the builds are chosen once for K futures (a two-stage stochastic plan:
    expected cost, or mean-CVaR with `--risk-weight`), every future's budget kept, and both that
    plan and the central-value plan are measured on `--out-of-sample` fresh futures.

    Exit status 0 with a plan; 2 for a bad scenario; 3 when no plan can meet the budget and
    policies (the message names the constraint, the quarter and the numbers). A plan stopped
    by the time limit says so and shows its gap; it is never called optimal.

    Example: `fabnet plan scenarios/tigris.yaml --gap 0.005 --set sites.arizona.mandatory=true`;
    `fabnet plan scenarios/tigris.yaml --robust 30 --cvar 0.9 --risk-weight 0.5 --store fabnet.duckdb`
    """
    from fabnet.api import Executors, SolveOptions, financials, plan_dict, plan_robust, robust_spec

    with user_errors():
        scenario = load_scenario(file, overrides or ())
        # --robust, else the scenario's `planning: {robust: …}` section, else None
        spec = robust_spec(scenario, robust, seed, cvar, risk_weight, out_of_sample, solver.value)
        if spec is not None:
            with err.status("starting…") as status:
                run, run_id = plan_robust(
                    scenario,
                    spec,
                    SolveOptions(time_limit, gap, threads, max_variables=max_model_size),
                    cycle_time.value,
                    Executors(workers, dask_local, scheduler),
                    store,
                    label,
                    lambda name: status.update(f"{scenario.name}: {name}…"),
                )
            print_robust(run)
            if run_id is not None:
                out.print(styled(f"robust run {run_id} stored in ", (str(store), "bold")))
            return
        result = _solve_with_status(scenario, gap, time_limit, cycle_time.value, threads, max_model_size, fresh)
    money = financials(scenario, result)
    if as_json:
        print_json(plan_dict(result, money, scenario))
        return
    print_plan(scenario, result, money)


@app.command()
def finance(
    file: ScenarioFile = DEFAULT_SCENARIO,
    overrides: Overrides = None,
    gap: Gap = DECISION_GAP,
    time_limit: TimeLimit = 60.0,
    fresh: Fresh = False,
    as_json: AsJson = False,
) -> None:
    """Plan the network, then follow its money for both parties: the fab company's cash flows
    per year, NPV, IRR, gross margin, payback and peak funding need, and per investor what is
    committed, called and received, with IRR and multiple; the buyer's costs against the market
    price of its accelerators. Funding gaps are named by quarter.

    Example: `fabnet finance scenarios/tigris.yaml --set funding.reinvest_operating_cash=false`
    """
    from fabnet.api import financials

    with user_errors():
        scenario = load_scenario(file, overrides or ())
        result = _solve_with_status(scenario, gap, time_limit, fresh=fresh)
    money = financials(scenario, result)
    if as_json:
        print_json(money.to_dict())
        return
    out.print(f"Plan: {result.result.describe()}")
    print_finance(scenario, money)


@app.command()
def run(
    file: ScenarioFile = DEFAULT_SCENARIO,
    overrides: Overrides = None,
    store: StorePath = DEFAULT_STORE,
    report_dir: Annotated[
        Path,
        typer.Option(
            "--out",
            "--report-dir",
            help="Folder for the HTML report (named after the store and the run: fabnet-run-3.html).",
        ),
    ] = Path("reports"),
    label: LabelOption = None,
    cycle_time: CycleTimeOption = CycleTime.load,
    check: Annotated[
        bool,
        typer.Option(
            help="Check the plan on the fab simulator: every own fab "
            "it runs simulated at its planned load (SMT2020 HVLM, when the "
            "data is there; ~10 s a fab)."
        ),
    ] = True,
    workers: Workers = 2,
    dask_local: DaskLocal = None,
    scheduler: Scheduler = None,
    max_model_size: MaxModelSize = MAX_PLAN_VARIABLES,
    seed: Annotated[
        int | None,
        typer.Option(
            help="Seed of the run's randomness (the plan check's simulation, a robust plan's "
            "futures; default: the scenario's `seed`), kept with the run as `--set seed=…`.",
            **Seed,
        ),
    ] = None,
    base: Annotated[
        int | None,
        typer.Option(help="A stored run to compare with: the report says what changed against it.", min=1),
    ] = None,
    fresh: Fresh = False,
    as_json: AsJson = False,
) -> None:
    """The main job (default scenario: scenarios/tigris.yaml): validate → plan, and plan
    without fabs (the counterfactual) → both parties' money → the deal → plan check on the fab
    simulator → fab simulation (if the scenario has a `simulation:` section) → store → report.
    A scenario with a `planning: {robust: …}` section is planned for its futures at once (as
    `fabnet plan --robust`; the run is stored as kind robust, with both plans' outcomes on
    fresh futures, and its builds are not checked on the simulator).

    Prints the decision figures first — what the network adds against the foundry route, the
    fab company's NPV and IRR, each investor's IRR, the buyer's cost per accelerator against
    the market, the deal's price range — then the builds, the other key figures and where the
    report and the store are. Every run is kept in the store: `fabnet runs list`, `fabnet runs
    compare A B`, `fabnet serve`.

    Example: `fabnet run scenarios/tigris.yaml --set offtake.share_of_market_price=1.0`
    """
    from fabnet.api import Executors, run_job

    with user_errors():
        scenario = load_scenario(file, [*(overrides or ()), *([] if seed is None else [f"seed={seed}"])])
        (err if as_json else out).print(
            styled(
                ("✓", "green"),
                f" {file} is a valid scenario: {scenario.name}, {scenario.horizon.start} → {scenario.horizon.end}",
            )
        )
        with err.status("starting…") as status:

            def step(name: str) -> None:
                status.update(f"{scenario.name}: {name}…")

            robust, job = run_job(
                scenario,
                store,
                label=label,
                check=check,
                cycle_time=cycle_time.value,
                max_variables=max_model_size,
                executors=Executors(workers, dask_local, scheduler),
                step=step,
                fresh=fresh,
            )
            step("writing the report")
            report_path, report_problem = _write_run_report(store, job.run_id, report_dir, base)
    if as_json:
        from fabnet.api import job_dict

        print_json(job_dict(job, report_path, report_problem))
        if job.run_id is None or report_problem is not None:
            raise typer.Exit(INCOMPLETE)
        return
    if robust is not None:
        print_robust(robust)
    if not print_run(job, store, report_path, report_problem, scenario.funding.shown_names()):
        raise typer.Exit(INCOMPLETE)


def _write_run_report(
    store: str, run_id: int | None, folder: Path, base: int | None = None
) -> tuple[Path | None, str | None]:
    """The report of a stored run, or why it could not be written (the run stays stored)."""
    from fabnet.api import write_report

    if run_id is None:
        return None, None
    try:
        return write_report(run_id, store, folder=folder, base=base), None
    except FabnetError as problem:
        return None, str(problem)


@app.command()
def deal(
    file: ScenarioFile = DEFAULT_SCENARIO,
    overrides: Overrides = None,
    low: Annotated[
        float, typer.Option(help="Lowest offtake price to show, as a share of the market wafer price.", min=0.0)
    ] = 0.2,
    high: Annotated[
        float, typer.Option(help="Highest offtake price to show, as a share of the market wafer price.", min=0.0)
    ] = 1.5,
    steps: Annotated[int, typer.Option(help="Prices shown between --low and --high.", min=2)] = 14,
    store: Annotated[
        str | None, typer.Option("--store", help="Also store the deal as a run (kind: deal) in this results store.")
    ] = None,
    label: LabelOption = None,
    fresh: Fresh = False,
    as_json: AsJson = False,
) -> None:
    """The deal between the fab company's investors and the buyer: for the offtake wafer price
    from low to high (a share of the market wafer price), each investor's IRR, the fab
    company's NPV and the buyer's gain against the foundry route; then the price range in
    which every investor clears its hurdle (`hurdle_rate`) and the buyer still gains — or why
    no such range exists and which figure closes it.

    The plan (builds and operations) is the scenario's, held fixed while the price moves; the
    foundry route is the same scenario planned without any fab (one more solve).

    Example: `fabnet deal scenarios/tigris.yaml --low 0.5 --high 1.2 --steps 8`
    """

    from fabnet.api import SolveOptions, decide, main_job

    if high <= low:
        raise typer.BadParameter("--high must be above --low")
    with user_errors():
        scenario = load_scenario(file, overrides or ())
        with err.status(f"{scenario.name}: planning with and without fabs…"):
            shares = tuple(float(v) for v in np.linspace(low, high, steps))
            if store is None:
                # the plans `fabnet run` makes (the decision gap), so the deal is the run's and
                # reuses the plans a run of the same inputs kept
                result = decide(scenario, gap=DECISION_GAP, deal_shares=shares, fresh=fresh).deal
            else:
                options = SolveOptions(mip_gap=DECISION_GAP, reuse=not fresh)
                job = main_job(scenario, store, options, check=False, label=label, kind="deal", deal_shares=shares)
                result = job.decision.deal
    if as_json:
        print_json(result.to_dict())
        return
    print_deal(scenario, result)
    if store is not None:
        if job.run_id is None:
            err.print(styled(("not stored:", "bold red"), f" {redact(job.store_error)}; kept in {job.archive}"))
            raise typer.Exit(INCOMPLETE)
        out.print(styled(f"deal stored as run {job.run_id} in ", (redact(store), "bold")))


def _solve_with_status(
    scenario: Scenario,
    gap: float,
    time_limit_s: float,
    cycle_time: str = "load",
    threads: int | None = None,
    max_variables: int = MAX_PLAN_VARIABLES,
    fresh: bool = False,
) -> Plan:
    from fabnet.api import plan_network

    with err.status(
        f"Planning {scenario.name}: building the model and solving with HiGHS "
        f"(gap {gap:.1%}, limit {time_limit_s:g} s)…"
    ):
        return plan_network(
            scenario,
            gap=gap,
            time_limit_s=time_limit_s,
            cycle_time=cycle_time,
            threads=threads,
            max_variables=max_variables,
            fresh=fresh,
        )
