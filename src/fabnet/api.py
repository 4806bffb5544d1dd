# ruff: noqa: F405  (the engines' types come from fabnet._engines, for type checkers only)
"""fabnet as a library: what the `fabnet` command does, as functions a notebook or a script calls.
(Named so as not to shadow fabnet's packages: `plan_network`, not `plan`; `financials`, not
`finance`; `risk_samples`, not `risk`.)

    import fabnet
    scenario = fabnet.load("scenarios/tigris.yaml", {"funding.total_usd": 1.0e10})
    result = fabnet.run(scenario, store="fabnet.duckdb", label="base")
    result.tables["fabco_quarterly"]          # pandas, as stored
    fabnet.export(result.run_id, "exports")    # every table as an Excel workbook

Every result carries what it was computed from (the scenario, the plan), so a run's money can be
followed again under other inputs without planning again (`refinance`). docs/python-api.md has
worked examples; the tests run them.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fabnet._documents import job_dict as job_dict
from fabnet._documents import json_text as json_text  # JSON documents of the results
from fabnet._documents import plan_dict as plan_dict
from fabnet._documents import records as records
from fabnet._documents import risk_dict as risk_dict
from fabnet._documents import runs_records as runs_records
from fabnet._documents import simulation_dict as simulation_dict
from fabnet._documents import stored_dict as stored_dict
from fabnet._jobs import plan_robust as plan_robust  # the robust dispatch, beside the jobs
from fabnet._jobs import robust_spec as robust_spec
from fabnet._jobs import run_job as run_job
from fabnet._jobs import store_terms as store_terms  # a deal room's terms stored as a run
from fabnet.core.limits import MAX_PLAN_VARIABLES
from fabnet.core.results import DECISION_GAP, DEFAULT_STORE

if TYPE_CHECKING:
    import pandas as pd
    from fastapi import FastAPI

    from fabnet._engines import *  # noqa: F403  (the engines' names this façade passes on)


def __getattr__(name: str) -> Any:
    # The engines' names of fabnet/_engines.py (types, option constants, the functions a command
    # drives step by step), each imported from its module on first use.
    if name in _engine_names():
        module, attribute = _engine_names()[name]
        return getattr(import_module(module), attribute)
    raise AttributeError(f"module 'fabnet.api' has no attribute {name!r}")


@cache
def _engine_names() -> dict[str, tuple[str, str]]:
    """name → (module, name there), from the import lines of fabnet/_engines.py."""
    tree = ast.parse((Path(__file__).parent / "_engines.py").read_text(encoding="utf-8"))
    return {
        alias.asname or alias.name: (node.module, alias.name)
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }


#: The built-in default scenario, as `fabnet run` uses it (relative to the working folder).
DEFAULT_SCENARIO = Path("scenarios/tigris.yaml")
#: The whole scenarios fabnet ships (in the wheel as fabnet/scenarios, or the repository's
#: scenarios/); tigris-merchant extends tigris.yaml, so it is no starter of its own.
SHIPPED_SCENARIOS = ("tigris", "global")


def shipped_scenario(name: str = "tigris") -> Path:
    """The file of a scenario fabnet ships, wherever fabnet is installed."""
    if name not in SHIPPED_SCENARIOS:
        from fabnet.core.errors import FabnetError

        raise FabnetError(f"no shipped scenario {name!r}: choose one of {', '.join(SHIPPED_SCENARIOS)}")
    here = Path(__file__).resolve().parent
    for folder in (here / "scenarios", here.parent.parent / "scenarios"):
        if (folder / f"{name}.yaml").is_file():
            return folder / f"{name}.yaml"
    raise FileNotFoundError(f"fabnet's scenarios are missing from {here}: reinstall fabnet")


Overrides = Mapping[str, Any] | Sequence[str]


def load(path: str | Path = DEFAULT_SCENARIO, overrides: Overrides = ()) -> Scenario:
    """A scenario file, validated, with overrides applied first, as `--set` does: a mapping
    `{"sites.arizona.lead_time_q": 14}` or strings `["sites.arizona.lead_time_q=14"]`.

    >>> s = fabnet.load("scenarios/tigris.yaml", {"finance.discount_rate": 0.08})
    >>> s.finance.discount_rate
    0.08
    """
    from fabnet.scenario import load_scenario

    return load_scenario(path, overrides)


def plan_network(
    scenario: Scenario,
    *,
    gap: float = DECISION_GAP,
    time_limit_s: float = 60.0,
    cycle_time: str = "load",
    threads: int | None = None,
    max_variables: int = MAX_PLAN_VARIABLES,
    fresh: bool = False,
) -> Plan:
    """The network plan (builds, production, supply, …; each a pandas table) of a scenario,
    solved to `gap` within `time_limit_s` (HiGHS on `threads`, default: it decides); a model
    larger than `max_variables` is refused before it is built. A plan solved before for the same
    model inputs is reused (`plan.result.reused`) unless `fresh` (fabnet.cache).

    >>> p = fabnet.plan_network(scenario)
    >>> p.builds          # site, node, started, modules, online
    """
    from fabnet.plan import SolveOptions, make_plan

    options = SolveOptions(time_limit_s, gap, threads, max_variables=max_variables, reuse=not fresh)
    return make_plan(scenario, options, cycle_time)


def financials(scenario: Scenario, plan: Plan) -> Financials:
    """Both parties' money for a plan: `.fabco` (quarterly cash flows, investors, metrics) and
    `.buyer` (costs, cost per accelerator against the market).

    >>> money = fabnet.financials(scenario, p)
    >>> money.fabco.metrics.fabco_npv_usd
    """
    from fabnet.pipeline import plan_finance

    return plan_finance(scenario, plan)


def decide(
    scenario: Scenario,
    *,
    gap: float = DECISION_GAP,
    time_limit_s: float = 60.0,
    cycle_time: str = "load",
    deal_shares: Sequence[float] | None = None,
    fresh: bool = False,
) -> Decision:
    """The plan, the plan without fabs (the counterfactual), both parties' money in each and the
    deal (at `deal_shares` of the market wafer price, default fabnet's; () for no deal), as
    `fabnet run` computes them, without storing anything; read as `run`'s result is (`.figures`,
    `.tables`, `.plan`, `.money`), with the deal (`.deal`). Plans solved before for the same
    model inputs are reused unless `fresh`."""
    from fabnet.finance.deal import DEFAULT_SHARES
    from fabnet.pipeline import make_decision
    from fabnet.plan import SolveOptions

    shares = DEFAULT_SHARES if deal_shares is None else tuple(deal_shares)
    options = SolveOptions(time_limit_s, gap, reuse=not fresh)
    return make_decision(scenario, options, cycle_time, deal_shares=shares)


def run(
    scenario: Scenario,
    store: str | Path = DEFAULT_STORE,
    *,
    label: str | None = None,
    check: bool = True,
    report_dir: str | Path | None = None,
    fresh: bool = False,
) -> JobResult:
    """The main job, as `fabnet run`: plan with and without fabs, both parties' money, the deal,
    the plan check (when the SMT2020 data is there and `check`), stored in `store` with `label`.
    The result holds `run_id`, `figures`, `tables` (what was stored) and `decision` (the plan
    and the money). With `report_dir`, the HTML report is written there too. Plans solved before
    for the same model inputs are reused unless `fresh`.

    >>> result = fabnet.run(scenario, "fabnet.duckdb", label="base", check=False)
    >>> result.figures["fabco_npv_usd"], result.run_id
    """
    from fabnet.pipeline import main_job
    from fabnet.plan import SolveOptions
    from fabnet.risk.runner import on_local_workers

    options = SolveOptions(mip_gap=DECISION_GAP, reuse=not fresh)
    job = main_job(scenario, store, options, check=check, label=label, check_mapper=on_local_workers)
    if report_dir is not None and job.run_id is not None:
        write_report(job.run_id, store, folder=report_dir)
    return job


def deal_room(run: StoredRun) -> DealRoom:
    """A stored run's plan ready to be re-financed under the terms both parties negotiate, as the
    dashboard's deal room does: `.money(DealTerms(share=0.8, take_or_pay=0.5))` gives both
    parties' money, `.figures(terms)` the room's figures.

    >>> room = fabnet.deal_room(fabnet.stored(1)); room.money(fabnet.DealTerms(share=0.8))
    """
    from fabnet.finance import dealroom

    return dealroom.DealRoom.of(run.meta, run.tables, run.figures)


def refinance(result: JobResult | Decision | StoredRun, overrides: Overrides = ()) -> Decision:
    """Both parties' money for the same plan under changed inputs (e.g. another offtake price),
    without planning again: the plan's builds and operations are kept as they were. A stored
    run works too: its scenario and plan tables are in the store. Only money may change (prices,
    costs, contracts, funding, finance: finance.money_inputs); a change to what the
    plan is (a site's lead time, the horizon, demand) is refused: plan again with `decide`.
    The result reads as `run`'s and `decide`'s do (no foundry route nor deal: those need plans).

    >>> fabnet.refinance(result, {"offtake.share_of_market_price": 1.0}).figures["fabco_npv_usd"]
    """
    from fabnet.finance import compute_financials
    from fabnet.pipeline import Decision, JobResult, plan_tables
    from fabnet.result import stored_plan
    from fabnet.scenario.loader import override_texts, with_overrides
    from fabnet.store import StoredRun

    if isinstance(result, StoredRun):
        scenario, plan = scenario_of(result), stored_plan(result)
    elif isinstance(result, JobResult | Decision):
        decision = result.decision if isinstance(result, JobResult) else result
        scenario, plan = decision.scenario, decision.plan
    else:
        raise TypeError(
            f"refinance takes the result of fabnet.run or fabnet.decide, or a stored run "
            f"(fabnet.stored), not a {type(result).__name__}"
        )
    texts = override_texts(overrides)
    for text in texts:
        _refuse_plan_change(text)
    changed = with_overrides(scenario, texts)
    return Decision(changed, plan, compute_financials(changed, plan_tables(plan)), None)


def _refuse_plan_change(text: str) -> None:
    from fabnet.core.errors import FabnetError
    from fabnet.finance.money_inputs import changes_only_money

    path = text.partition("=")[0].strip()
    if not changes_only_money(path):
        raise FabnetError(
            f"refinance keeps the plan as it was, so it may change only money (prices, costs, "
            f"contracts, funding, finance); {path} changes what the plan is: plan again with "
            f"fabnet.decide or fabnet.run on fabnet.load(file, {{{path!r}: …}})"
        )


def deal(scenario: Scenario, low: float = 0.2, high: float = 1.5, steps: int = 14) -> Deal:
    """The deal: for offtake prices from `low` to `high` (shares of the market wafer price) each
    investor's IRR, the fab company's NPV and the buyer's gain; `.low`/`.high` the range that
    serves both, `.verdict` in words."""
    import numpy as np

    if not 0 <= low < high or steps < 2:
        raise ValueError(f"deal needs 0 ≤ low < high and steps ≥ 2 (got low={low}, high={high}, steps={steps})")
    shares = tuple(round(float(v), 12) for v in np.linspace(low, high, steps))
    return decide(scenario, deal_shares=shares).deal


def risk_samples(
    scenario: Scenario, samples: int = 100, seed: int | None = None, method: str = "lhs"
) -> dict[str, pd.DataFrame]:
    """Monte-Carlo over the scenario's `uncertainty:` with the base plan's builds held (as
    `fabnet risk` without --reoptimise): the samples (`"samples"`) and their summary (headline
    quantiles, per year, tornado)."""
    from fabnet.plan import make_plan
    from fabnet.risk import draw, summarise
    from fabnet.risk.fixed import evaluate_fixed
    from fabnet.risk.summary import built_sites

    plan = make_plan(scenario)
    rows = evaluate_fixed(scenario, plan, draw(scenario, samples, scenario.seed if seed is None else seed, method))
    return {"samples": rows, **summarise(scenario, rows, built_sites(plan.builds))}


def simulate(
    dataset: str = "HVLM",
    days: float = 90.0,
    rule: str = "fifo",
    seed: int = 0,
    warmup_days: float = 0.0,
    data: str | Path | None = None,
) -> Kpis:
    """One SMT2020 fab simulated (needs the dataset: $FABNET_SMT2020_DIR or
    ../shared/data/smt2020): KPIs per lot class (`.lots`), tool family (`.families`), WIP."""
    from fabnet.fabsim import SimOptions, kpis, load_smt2020
    from fabnet.fabsim import simulate as simulate_

    fab = load_smt2020(dataset, None if data is None else Path(data))
    return kpis(fab, simulate_(fab, SimOptions(days=days, rule=rule, seed=seed, warmup_days=warmup_days)))


def open_store(location: str | Path = DEFAULT_STORE, read_only: bool = True, wait_s: float | None = None) -> Store:
    """The results store (a DuckDB file or postgresql://…), read-only unless asked, waiting up to
    `wait_s` for a busy one (default: the store's own wait); use it in a `with` block so other
    processes can write once you are done."""
    from fabnet.store import open_store as open_

    return open_(location, read_only=read_only, wait_s=wait_s)


def runs(store: str | Path = DEFAULT_STORE) -> pd.DataFrame:
    """The runs in a store, one row each: id, label, kind, scenario, time, fab company NPV."""
    with open_store(store) as s:
        return s.runs()


def stored(run_id: int, store: str | Path = DEFAULT_STORE) -> StoredRun:
    """A stored run: `.meta` (provenance), `.figures` (key figures), `.tables` (pandas) and
    `.scenario` (the resolved scenario it used)."""
    from fabnet.store import stored_run

    return stored_run(store, run_id)


def compare(*runs: int | StoredRun, store: str | Path = DEFAULT_STORE, changed_only: bool = False) -> pd.DataFrame:
    """Runs compared (the first the base): a tidy DataFrame with a row per input that differs
    (`kind` "input", `name` its --set path) and per key figure (`kind` "figure"; with
    `changed_only`, only those that moved), a column per run and, for two runs, `difference`.
    Runs are stored runs or their ids in `store`.

    >>> fabnet.compare(1, 2, changed_only=True)
    """
    from fabnet.store.compare import comparison, distinct

    if len(runs) < 2:
        raise ValueError("compare takes two or more runs (stored runs or their ids)")
    ids = distinct([run if isinstance(run, int) else run.run_id for run in runs])
    given = {run.run_id: run for run in runs if not isinstance(run, int)}
    return comparison([given.get(i) or stored(i, store) for i in ids], changed_only)


def scenario_of(run: StoredRun) -> Scenario:
    """The resolved scenario a stored run used (extends and overrides applied), as a Scenario,
    with its file and overrides as `origin`."""
    from fabnet.scenario.loader import stored_scenario

    return stored_scenario(run.meta)


def tables(run_id: int, store: str | Path = DEFAULT_STORE, periods: bool = True) -> dict[str, pd.DataFrame]:
    """A stored run's result tables as pandas, by name (see docs/python-api.md for each), each
    column of quarters ("2027Q3") as pandas Periods, so a quarter sorts, subtracts and resamples
    as a date does (`periods=False`: as stored, text)."""
    found = stored(run_id, store).tables
    return {name: _quarters_as_periods(frame) for name, frame in found.items()} if periods else found


def _quarters_as_periods(frame: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    quarters = {
        column: pd.PeriodIndex(frame[column], freq="Q")
        for column in frame.columns
        if (frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]))
        and frame[column].notna().any()
        and frame[column].dropna().astype(str).str.fullmatch(r"\d{4}Q[1-4]").all()
    }
    return frame.assign(**quarters) if quarters else frame


def export(
    run_id: int, out: str | Path = "exports", format: str = "xlsx", store: str | Path = DEFAULT_STORE, unit: str = "usd"
) -> Path:
    """Write a stored run's tables and inputs: one workbook (xlsx: a Summary sheet, then a sheet
    per table, money in `unit`, usd or musd) or a folder of csv/parquet files. Returns what was
    written."""
    from fabnet.report.workbook import write_workbook
    from fabnet.store.export import export_run

    run = stored(run_id, store)
    if format == "xlsx":
        return write_workbook(run, Path(out) / f"run-{run_id}.xlsx", unit)
    return export_run(run, out, format)


def write_report(
    run_id: int,
    store: str | Path = DEFAULT_STORE,
    output: str | Path | None = None,
    folder: str | Path = "reports",
    base: int | None = None,
) -> Path:
    """Write a stored run's HTML report to `output`, by default `folder`/STORE-run-ID.html, with
    the plotly.js bundle the reports of its folder share beside it (it opens offline); with a
    `base` run of the same store, a section of what changed against it. Returns the file."""
    from fabnet.report import html

    path = Path(output) if output else Path(folder) / html.report_name(str(store), run_id)
    return html.write_report(stored(run_id, store), path, None if base is None else stored(base, store))


def dashboard(store: str | Path = DEFAULT_STORE) -> FastAPI:
    """The web dashboard over a results store (runs, reports, comparisons, the deal room), as a
    FastAPI application to serve with uvicorn, as `fabnet serve` does; refused in words when
    there is no store."""
    from fabnet.web import create_app

    return create_app(store)


def import_run(file: str | Path, store: str | Path = DEFAULT_STORE) -> tuple[int, bool]:
    """Store a run that was kept in a file of its own (.fabnetrun: no store would take it), as a
    new run with its original time and figures. Returns its run id, and whether it is new: a
    run the store already holds (the same scenario stored at the same microsecond: the file was
    imported before) is not stored twice."""
    from fabnet.store.archive import read_archive

    meta, tables = read_archive(Path(file))
    with open_store(store, read_only=False) as s:
        known = s.runs()
        same = known[
            (known["created_at"] == meta.get("created_at")) & (known["scenario_name"] == meta.get("scenario_name"))
        ]
        if len(same):
            return int(same["run_id"].iloc[0]), False
        return s.save_run(meta, tables), True


def sensitivity(decision: Decision, vary: Sequence[str] = (), replan: bool = False, deal: bool = False) -> pd.DataFrame:
    """One input at a time: the headline (fab company NPV and IRR, each called investor's IRR,
    the buyer's gain; the deal's ends with `deal`) with each of the scenario's uncertain inputs
    at its P10 and P90, and each `vary` input ("path=low:high") at its two values, the others as
    they are. The decision's plans are held (only money inputs move) unless `replan`. One row
    per input and end, the base first, then the inputs that move the NPV most.

    >>> fabnet.sensitivity(fabnet.decide(scenario), ["nodes.N3.wafer_price_usd=18000:27000"])
    """
    from fabnet.plan import SolveOptions
    from fabnet.risk.sensitivity import Model, swings, tornado

    inputs, _ = swings(decision.scenario, list(vary), replan)
    return tornado(Model(decision, replan, deal, SolveOptions(mip_gap=DECISION_GAP)), inputs)


def break_even(
    decision: Decision,
    path: str,
    solve: str = "",
    between: tuple[float, float] | None = None,
    replan: bool = False,
) -> BreakEven:
    """The value of the input at `path` at which a headline figure reaches its target: `solve`
    is "g42 irr = hurdle", "fabco npv = 0", "buyer gain = 0" (default: the equity investor
    closest to its hurdle, at its hurdle), searched between `between` (default: a quarter to four
    times the scenario's value; a price per year is multiplied, `.how`, by a factor in that
    range). `.at` is None when the figure does not reach the target in that range.

    >>> fabnet.break_even(decision, "nodes.N3.wafer_price_usd", "g42 irr = hurdle").at
    """
    from fabnet.plan import SolveOptions
    from fabnet.risk import sensitivity as one_at_a_time

    key, target = one_at_a_time.parse_solve(solve, decision.money)
    how, low, high = one_at_a_time.search_range(decision.scenario, path, None)
    low, high = between or (low, high)
    model = one_at_a_time.Model(decision, replan, options=SolveOptions(mip_gap=DECISION_GAP))
    return one_at_a_time.break_even(model, path, key, target, low, high, how)


def store_sensitivity(
    run_id: int, tornado: pd.DataFrame, found: BreakEven | None = None, store: str | Path = DEFAULT_STORE
) -> None:
    """Keep a tornado (`sensitivity`) and a break-even (`break_even`) with the stored run they
    were computed for, so its report shows them (`fabnet sensitivity --store`)."""
    import pandas as pd

    from fabnet.core import results

    kept = {"sensitivity": tornado}
    if found is not None:
        kept["break_even"] = pd.DataFrame([vars(found)])
    with open_store(store, read_only=False) as opened:
        for name, frame in kept.items():
            opened.save_rows(run_id, name, results.table(name).conform(frame))
