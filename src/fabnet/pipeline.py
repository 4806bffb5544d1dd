"""The one place that wires the stages together: scenario → chips → plan → finance →
(simulation) → store → report.

The engines take plain numbers; this module turns scenario objects into those numbers and
their results into tidy tables. Every run plans the scenario twice: as written, and without any
fab of its own (the counterfactual: foundries and bought accelerators only), so that it can say
what the network adds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import pandas as pd

from fabnet.core import results
from fabnet.core.format import usd
from fabnet.core.periods import Quarter
from fabnet.core.version import __version__
from fabnet.finance import Financials, PlanTables, compute_financials
from fabnet.finance.deal import DEFAULT_SHARES, Deal, contract_messages, make_deal, network_gains
from fabnet.finance.fabco import ramped_from
from fabnet.finance.industry import PlanCapex, plan_capex
from fabnet.network import wafer_demand
from fabnet.plan import Plan, SolveOptions, make_plan, modules_built
from fabnet.result import ResultView
from fabnet.scenario.checks import scenario_warnings
from fabnet.scenario.loader import scenario_text
from fabnet.scenario.schema import Scenario
from fabnet.simulated import node_load_curves, simulation_tables
from fabnet.store.figures import InvestorReturn, KeyFigures

if TYPE_CHECKING:
    from fabnet.check import Mapper, PlanCheck
    from fabnet.finance.buyer import BuyerMetrics

#: The SMT2020 fab a plan is checked on (the one the stored load curve was fitted to).
CHECK_DATASET = "HVLM"


def plan_tables(plan: Plan) -> PlanTables:
    return PlanTables(
        builds=plan.builds,
        packaging_builds=plan.packaging_builds,
        capacity=plan.capacity,
        supply=plan.supply,
        foundry=plan.foundry,
        production=plan.production,
    )


def plan_finance(scenario: Scenario, plan: Plan) -> Financials:
    """The money of a plan, for the fab company and for the buyer."""
    return compute_financials(scenario, plan_tables(plan))


def without_fabs(scenario: Scenario) -> Scenario:
    """The counterfactual: the same scenario with no site of the fab company (the buyer gets
    wafers from foundries only, and buys what it cannot have made)."""
    return scenario.model_copy(update={"sites": ()})


@dataclass(frozen=True)
class Comparison:
    """What the plan is measured against: the same scenario planned without fabs (the foundry
    route), the buyer's money on that route, and the deal between the two parties."""

    counterfactual: Plan
    foundry_route: Financials
    deal: Deal


@dataclass(frozen=True, repr=False)
class Decision(ResultView):
    """A plan and both parties' money, with the scenario they came from (so the money can be
    followed again under other inputs); and, unless it was left out, the comparison with the
    foundry route and the deal. Read as every result is (fabnet.result.ResultView)."""

    scenario: Scenario
    plan: Plan
    money: Financials
    comparison: Comparison | None
    #: A decision stores nothing (a run's, JobResult.run_id, is its stored id).
    run_id: ClassVar[int | None] = None

    @property
    def counterfactual(self) -> Plan:
        return self._compared().counterfactual

    @property
    def foundry_route(self) -> Financials:
        return self._compared().foundry_route

    @property
    def deal(self) -> Deal:
        return self._compared().deal

    def _compared(self) -> Comparison:
        if self.comparison is None:
            raise ValueError("this decision was made without the foundry route (make_decision(..., compare=False))")
        return self.comparison

    @cached_property
    def figures(self) -> KeyFigures:
        """The key figures: the decision figures, then what the plan does (a run adds its plan
        check's). `decision.figures()`, the older spelling, reads the same object."""
        return self.decision_figures() | key_figures(self.scenario, self.plan, self.capex())

    @cached_property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables a run of this decision stores (before a plan check's or a simulation's)."""
        return run_tables(self.scenario, self)

    def decision_figures(self) -> KeyFigures:
        """The decision figures, first what the network adds, then each party's result."""
        if self.comparison is None:
            return decision_figures(self.money)
        return decision_figures(self.money, self.comparison.foundry_route.buyer.metrics, self.comparison.deal)

    def capex(self) -> PlanCapex:
        """The fab company's capex, the foundry capacity it relies on, the ambition (finance.industry)."""
        return plan_capex(self.scenario, self.plan.foundry, self.money.fabco.quarterly)

    def sentences(self) -> list[str]:
        """The deal's verdict, the contract against it, the plan's capex against the ambition,
        why an IRR is above 100 %."""
        return money_sentences(self.scenario, self.plan.foundry, self.money, self.deal if self.comparison else None)


def decision_figures(money: Financials, route: BuyerMetrics | None = None, deal: Deal | None = None) -> KeyFigures:
    """The decision figures of `money`, first what the network adds against the foundry route's
    buyer (`route`, when compared), then each party's result and the `deal`'s ends."""
    with_fabs, fab = money.buyer.metrics, money.fabco.metrics
    figures: dict[str, object] = {}
    if route is not None:
        figures |= {"network_adds_accelerators": with_fabs.accelerators_delivered - route.accelerators_delivered}
        figures |= network_gains(money, route.buyer_savings_vs_market_usd)
    figures["buyer_cost_per_accelerator_usd"] = with_fabs.buyer_cost_per_accelerator_usd
    if route is not None:
        figures["foundry_route_cost_per_accelerator_usd"] = route.buyer_cost_per_accelerator_usd
    figures |= {
        "market_price_per_accelerator_usd": with_fabs.market_price_per_accelerator_usd,
        "fabco_npv_usd": fab.fabco_npv_usd,
        "fabco_irr": fab.fabco_irr,
        "fabco_irr_before_grants": fab.fabco_irr_before_grants,
        "equity_irr": fab.equity_irr,
    }
    if deal is not None:
        figures |= {"deal_low_share_of_market": deal.low, "deal_high_share_of_market": deal.high}
    figures |= {
        "fabco_gross_margin": fab.fabco_gross_margin,
        "fabco_gross_margin_after_ramp": fab.fabco_gross_margin_after_ramp,
        "take_or_pay_share_of_revenue": fab.take_or_pay_share_of_revenue,
        "fabco_revenue_usd": fab.fabco_revenue_usd,
        "peak_funding_need_usd": fab.peak_funding_need_usd,
        "continuing_value_usd": fab.continuing_value_usd,
        "continuing_value_pv_usd": fab.continuing_value_pv_usd,
        "min_dscr": fab.min_dscr,
        "min_llcr": fab.min_llcr,
        "debt_at_horizon_usd": fab.debt_at_horizon_usd,
        "payback_quarter": fab.payback_quarter,
        "funding_gap_usd": fab.funding_gap_usd,
        "buyer_savings_vs_market_usd": with_fabs.buyer_savings_vs_market_usd,
    }
    investors = tuple(
        InvestorReturn(row.investor, row.irr if row.called_usd > 0 else None)
        for row in money.fabco.investors.itertuples()
    )
    return KeyFigures(figures, investors)


def money_sentences(scenario: Scenario, foundry: pd.DataFrame, money: Financials, deal: Deal | None) -> list[str]:
    """What a run says about its money: the deal's verdict, the contract against it, the plan's
    capex (its `foundry` reservations included) against the ambition, why an IRR is above 100 %."""
    notes = [] if deal is None else [deal.verdict]
    notes += contract_messages(money, deal, scenario.funding.shown_names())
    if (ambition := plan_capex(scenario, foundry, money.fabco.quarterly).sentence()) is not None:
        notes.append(ambition)
    if money.fabco.metrics.fabco_irr_note:
        notes.append(money.fabco.metrics.fabco_irr_note)
    notes += [note for note in money.fabco.investors["irr_note"] if note]
    return notes


def buyer_gain(money: Financials, foundry_route: Financials) -> float:
    """What the network saves the buyer against the foundry route (present value)."""
    return network_gains(money, foundry_route.buyer.metrics.buyer_savings_vs_market_usd)["network_adds_buyer_gain_usd"]


def system_value(money: Financials, foundry_route: Financials) -> float:
    """What the network is worth to buyer and fab company together, after tax and with the fab
    company's life after the horizon: the buyer's gain against the foundry route plus the fab
    company's NPV (the offtake payments between them cancel)."""
    return network_gains(money, foundry_route.buyer.metrics.buyer_savings_vs_market_usd)[
        "network_adds_system_value_usd"
    ]


def refused(plan: Plan, counterfactual: Plan, value: float) -> Plan:
    """The foundry route as the plan, saying which network was refused and why."""
    built = ", ".join(sorted(set(plan.builds["site"])))
    why = (
        f"The planner's network ({built}) was refused: after tax and with its life after the horizon it "
        f"leaves buyer and fab company together {usd(-value)} worse off than the foundry route, so the "
        "plan builds no fab."
    )
    return dataclasses.replace(counterfactual, messages=[why, *counterfactual.messages])


def make_decision(
    scenario: Scenario,
    options: SolveOptions = SolveOptions(),
    cycle_time: str = "load",
    step: Callable[[str], None] = lambda name: None,
    deal_shares: tuple[float, ...] = DEFAULT_SHARES,
    compare: bool = True,
    plan: Plan | None = None,
) -> Decision:
    """Plan the scenario (unless its `plan` is given: a robust plan's) and follow both parties'
    money; with `compare`, also plan its counterfactual (one more solve, without fabs), follow
    the money there, and sweep the offtake price over `deal_shares` of the market price (the
    deal)."""
    step("planning")
    plan = plan if plan is not None else make_plan(scenario, options, cycle_time)
    money = plan_finance(scenario, plan)
    if not compare:
        return Decision(scenario, plan, money, None)
    step("planning without fabs (the counterfactual)")
    alone = without_fabs(scenario)
    counterfactual = plan if not scenario.sites else make_plan(alone, options, cycle_time)
    step("finance and the deal")
    route = plan_finance(alone, counterfactual)
    value = system_value(money, route)
    if len(plan.builds) and value < 0:
        # the planner's objective is pre-tax and ends at the horizon, finance is neither: a
        # network worth less than nothing to the two parties together is not built
        plan = refused(plan, counterfactual, value)
        money = plan_finance(scenario, plan)
    deal = make_deal(scenario, plan_tables(plan), route, deal_shares)
    return Decision(scenario, plan, money, Comparison(counterfactual, route, deal))


@dataclass(frozen=True, repr=False)
class JobResult(ResultView):
    """A finished main job: stored as `run_id` in `store`, or, when no store would take it, kept
    in the file `archive` (run_id None) with `store_error` saying why. Read as every result is
    (fabnet.result.ResultView)."""

    run_id: int | None
    store: str
    decision: Decision
    figures: KeyFigures
    messages: list[str]
    tables: dict[str, pd.DataFrame]
    check: PlanCheck | None = None
    archive: Path | None = None
    store_error: str | None = None

    @property
    def plan(self) -> Plan:
        return self.decision.plan

    @property
    def money(self) -> Financials:
        return self.decision.money


def main_job(
    scenario: Scenario,
    store_path: str | Path,
    options: SolveOptions = SolveOptions(),
    step: Callable[[str], None] = lambda name: None,
    cycle_time: str = "load",
    check: bool = True,
    label: str | None = None,
    kind: str = "run",
    deal_shares: tuple[float, ...] = DEFAULT_SHARES,
    compare: bool = True,
    plan: Plan | None = None,
    check_mapper: Mapper | None = None,
) -> JobResult:
    """validate (done by the caller) → plan, and plan without fabs (unless not `compare`) → both
    parties' money → the deal → check the plan on the fab simulator (when `check` and the SMT2020 data is there;
    its fabs mapped by `check_mapper` when given) →
    simulate (when asked) → store (store_run: waiting for other processes, or keeping the run in
    a file of its own). The report is drawn from the store by its reader (fabnet.report)."""
    decision = make_decision(scenario, options, cycle_time, step, deal_shares, compare, plan)
    plan = decision.plan
    tables = dict(decision.tables)
    figures = decision.figures
    checked: PlanCheck | str | None = None
    if check:
        checked = plan_check(scenario, plan, step, mapper=check_mapper, reuse=options.reuse)
        if isinstance(checked, str):
            tables["messages"] = messages_table([*tables["messages"]["message"], checked])
        else:
            from fabnet.check import check_tables

            tables |= check_tables(checked)
            figures |= check_figures(plan, checked)
    if scenario.simulation is not None:
        step(f"simulating {scenario.simulation.dataset} for {scenario.simulation.days:g} days")
        tables |= simulation_tables(scenario)
    step("storing")
    text = scenario_text(scenario)
    meta = {
        "scenario_name": scenario.name,
        "scenario_hash": hashlib.sha256(text.encode()).hexdigest(),
        "scenario_text": text,
        "seed": scenario.seed,
        "fabnet_version": __version__,
        "solver_status": plan.result.describe(),
        "solver_gap": plan.result.gap,
        "figures": figures,
        "label": label or None,
        "kind": kind,
        "source": scenario.origin.file,
        "overrides": json.dumps(list(scenario.origin.overrides)),
    }
    run_id, archive, error = store_run(store_path, meta, tables, step)
    return JobResult(
        run_id,
        str(store_path),
        decision,
        figures,
        list(tables["messages"]["message"]),
        tables,
        None if isinstance(checked, str) else checked,
        archive,
        error,
    )


def store_run(
    store_path: str | Path,
    meta: dict[str, object],
    tables: dict[str, pd.DataFrame],
    step: Callable[[str], None] = lambda name: None,
) -> tuple[int | None, Path | None, str | None]:
    """Store a finished run, waiting while other processes hold the store; if it cannot be
    stored in the end, whatever the store raised, keep it in a file (store.archive.archive_path
    says where). Returns (run id, None, None), or (None, the file, why it was not stored and
    where it was kept)."""
    from fabnet.store import StoreError, open_store
    from fabnet.store.archive import NowhereToKeep, archive_path, write_archive

    def waiting(seconds: float) -> None:
        step(f"storing: the store is in use by another process, waiting ({seconds:.0f} s)")

    try:
        with open_store(store_path, waiting=waiting) as store:
            return store.save_run(meta, tables), None, None
    except Exception as error:  # a finished run is never lost, whatever the store raised
        reason = str(error) if isinstance(error, StoreError) else f"{error.__class__.__name__}: {error}"
        name = str(meta.get("scenario_name", "run"))
        try:
            kept = write_archive(meta, tables, archive_path(store_path, name))
        except NowhereToKeep as failed:
            raise StoreError(f"{reason}; and no folder would take the run as a file either ({failed})") from None
        return None, kept.path, f"{reason}; {kept.describe()}"


def run_tables(scenario: Scenario, decision: Decision) -> dict[str, pd.DataFrame]:
    """The tables a run stores, each as core.results declares it."""
    plan, money = decision.plan, decision.money
    curves = node_load_curves(scenario)
    tables = {
        "builds": plan.builds,
        "packaging_builds": plan.packaging_builds,
        "capacity": plan.capacity,
        "production": plan.production,
        "supply": plan.supply,
        "packaging": plan.packaging,
        "foundry": plan.foundry,
        "hbm": plan.hbm,
        "plan_budget": plan.budget,
        "wafer_demand": wafer_demand(scenario),
        **money_tables(money),
        "messages": messages_table(
            [*scenario_warnings(scenario), *decision.sentences(), *plan.messages, *money.messages]
        ),
        # the curves the planner used: none when it kept the raw cycle time
        "load_curves": curves if plan.cycle_time == "load" else curves.iloc[0:0],
    }
    if decision.comparison is not None:
        tables |= comparison_tables(decision.comparison)
    return tables


def money_tables(money: Financials) -> dict[str, pd.DataFrame]:
    """Both parties' money as a run stores it."""
    return {
        "fabco_quarterly": money.fabco.quarterly,
        "investors": money.fabco.investors,
        "investor_flows": money.fabco.investor_flows,
        "buyer_quarterly": money.buyer.quarterly,
        "buyer_products": money.buyer.products,
    }


def comparison_tables(comparison: Comparison) -> dict[str, pd.DataFrame]:
    """The foundry route's deliveries and buyer's costs, and the deal at each price and its range."""
    return {
        "counterfactual_supply": comparison.counterfactual.supply[results.table("counterfactual_supply").names],
        "counterfactual_buyer_quarterly": comparison.foundry_route.buyer.quarterly,
        **deal_tables(comparison.deal),
    }


def deal_tables(deal: Deal) -> dict[str, pd.DataFrame]:
    """The deal at each price and its range, as a run stores them (Deal.stored reads them back)."""
    bounds = {
        "low_share": deal.low,
        "high_share": deal.high,
        "market_price_usd": deal.market_price_usd,
        "contract_share": deal.contract_share,
    }
    return {
        "deal_points": deal.points,
        "deal_investors": deal.investors,
        # an end the range lacks (None) is NaN in a float column
        "deal_range": pd.DataFrame(
            [bounds | {"high_at_search_limit": deal.high_at_limit, "verdict": deal.verdict}], dtype=object
        ).astype(dict.fromkeys(bounds, float) | {"high_at_search_limit": bool}),
    }


def messages_table(messages: list[str]) -> pd.DataFrame:
    return results.table("messages").conform(pd.DataFrame({"message": messages}, dtype=str))


def mean_load_after_ramp(scenario: Scenario, plan: Plan) -> float | None:
    """Wafer starts over capacity at the fab company's fabs, once every build has ramped
    (finance.fabco.ramped_from); None when no fab has ramped inside the horizon."""
    ramped = ramped_from(scenario, plan.builds)
    if ramped is None:
        return None
    after = plan.capacity[plan.capacity["quarter"].map(lambda q: Quarter.parse(q) - scenario.horizon.start) >= ramped]
    capacity = float(after["effective_capacity"].sum())
    return float(after["wafer_starts"].sum()) / capacity if capacity > 0 else None


def key_figures(scenario: Scenario, plan: Plan, capex: PlanCapex) -> dict[str, object]:
    """What the plan does: accelerators, fabs, capex (the foundry capacity's apart), how it was solved."""
    return {
        "accelerators_demanded": float(plan.supply["demand"].sum()),
        "accelerators_delivered": float(plan.supply["delivered"].sum()),
        "accelerators_unmet": float(plan.supply["unmet"].sum()),
        "modules_built": modules_built(plan.builds),
        "wafer_capacity_built_wspm": float(plan.builds["wspm"].sum()),
        "mean_load_after_ramp": mean_load_after_ramp(scenario, plan),
        "sites_built": ", ".join(sorted(set(plan.builds["site"]))) or "none",
        "fabco_capex_usd": capex.fabco_capex_usd,
        **capex.figures(),
        "system_cost_usd": plan.objective_usd,
        "solver": plan.result.termination,
        "solver_gap": plan.result.gap,
        "cycle_time": plan.cycle_time,
    }


#: What a plan check says of a plan that runs no fab of its own.
NO_FAB_TO_CHECK = "Plan not checked on the fab simulator: it runs no fab of its own."


def plan_check(
    scenario: Scenario,
    plan: Plan,
    step: Callable[[str], None] = lambda name: None,
    seed: int | None = None,
    mapper: Mapper | None = None,
    reuse: bool = False,
) -> PlanCheck | str:
    """Every fab of the plan simulated at its planned load (fabnet.check), with the scenario's
    seed unless `seed` is given, or why not; more than one fab by `mapper` when given (`fabnet
    run`: risk.runner.on_local_workers), with the same results as one after the other; with
    `reuse`, a fab simulated before at the same starts is not simulated again."""
    from fabnet.check import check_plan, running_sites
    from fabnet.fabsim import DatasetError, load_smt2020

    sites = running_sites(plan)
    if not sites:
        return NO_FAB_TO_CHECK
    try:
        fab = load_smt2020(CHECK_DATASET)
    except DatasetError as error:
        return f"Plan not checked on the fab simulator: {error}"
    step(f"checking the plan: simulating {', '.join(sites)} at the planned load on SMT2020 {CHECK_DATASET}")
    checked = check_plan(scenario, plan, fab, CHECK_DATASET, seed=seed, mapper=mapper, reuse=reuse)
    assert checked is not None
    return checked


def check_figures(plan: Plan, checked: PlanCheck) -> dict[str, object]:
    """Key figures of a plan check: the fabs, and accelerators delivered as simulated."""
    difference = float(checked.delivered["difference"].sum())
    return {
        "checked_fab": f"{checked.named()}, SMT2020 {checked.dataset}",
        "accelerators_delivered_as_simulated": float(plan.supply["delivered"].sum()) + difference,
        "simulated_minus_planned_accelerators": difference,
    }
