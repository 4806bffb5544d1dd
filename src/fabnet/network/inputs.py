"""Scenario → the plain arrays the planning model is built from.

Everything the MILP needs is computed here, once, as numpy arrays over named coordinates, so
`model.py` only states the algebra and `extract.py` can reuse the same numbers. Money is held
in millions of USD (MUSD) to keep the solver's coefficients within a few orders of magnitude.
Prices that change over time are arrays over quarters.

The planner plans the whole system, the fab company and the buyer together: what the buyer
pays the fab company for its wafers cancels out, so it only enters through the fab company's
budget (and an operator's share of revenue, a real cost). The arrays say whose each cost is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fabnet.core.periods import Quarter, discount_factors
from fabnet.core.units import DAYS_PER_QUARTER, MONTHS_PER_QUARTER, MUSD
from fabnet.network.capacity import ramp_by_age
from fabnet.network.costs import (
    build_cost,
    fixed_opex_ended,
    grant_credit_share,
    grant_profiles,
    ready_q,
    shell_cost,
    spending_profiles,
)
from fabnet.network.dies import good_dies_per_wafer, site_learning, site_ramp
from fabnet.network.loadcurve import ClearingFunction, LoadCurve, clearing_function, load_curve
from fabnet.scenario.assets import capacity_unit, phases_per_module, shell
from fabnet.scenario.prices import offer_prices, offtake_prices, spare_prices
from fabnet.scenario.schema import Node, Packaging, Product, Scenario, quarter_path

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class PlanInputs:
    """Coordinates and coefficient arrays of one planning problem (money in MUSD)."""

    quarters: list[Quarter]
    sites: list[str]
    products: list[str]
    lines: list[str]
    offers: list[str]
    memories: list[str]  # hbm supplies

    # per site (the fab company's). A site's capacity unit — what the integer `build` counts —
    # is a whole module, or a tool set where the site builds shells and tool sets apart
    # (scenario.assets); unit arrays are per capacity unit.
    site_node: list[str]
    unit_kind: list[str]  # what `build` starts at the site: module, tools or conversion (scenario.assets)
    parent: npt.NDArray[np.int64]  # the site a conversion site retools the fabs of; −1 for a new fab
    unit_wafers_q: Array  # wafer starts per quarter of one capacity unit at full ramp
    unit_share: Array  # a capacity unit as a share of a module
    max_units: npt.NDArray[np.int64]
    mandatory: npt.NDArray[np.bool_]
    lead_q: npt.NDArray[np.int64]  # a capacity unit's start → first wafer
    staffed_q: npt.NDArray[np.int64]  # a capacity unit's start → first quarter of its fixed opex (Asset.staffed_q)
    earliest: npt.NDArray[np.int64]  # quarter index of a capacity unit's earliest start
    # quarter index of the last start: the last whose unit comes online inside the horizon
    # (a robust plan widens it to the shortest lead time of its futures, so they share starts)
    latest_start: npt.NDArray[np.int64]
    ramp_q: npt.NDArray[np.int64]  # quarters a unit ramps once online (the operator's ramp or the site's)
    capacity_by_age: Array  # site × age: share of a unit's wafers (ramp)
    effective_by_age: Array  # site × age: ramp × yield-learning factor
    capex_profile: Array  # site × k: MUSD spent on a capacity unit k quarters after its start
    grant_profile: Array  # site × k: MUSD of a capacity unit its grant share applies to k quarters after its start
    grant_share: Array
    grant_cap_musd: Array  # inf when uncapped
    # site × quarter: what the objective credits of a capped grant paid in the quarter, per
    # unit, as it charges the capex the grant paid for (annuities inside the horizon only)
    grant_credit: Array
    itc_musd: Array  # site × quarter started: credit per capacity unit
    opex_musd: Array  # variable, per wafer start, incl. an operator's fee per wafer
    fixed_opex_musd: Array  # per capacity unit staffed (online or pre-operating) and quarter
    # objective, per unit started (site × quarter started): its capex annuitised over its life,
    # for the quarters of its life inside the horizon, net of grants and credits, plus fixed opex
    unit_cost_musd: Array
    # shells, at sites that build shells and tool sets apart (phases > 0)
    phases: npt.NDArray[np.int64]  # tool sets a shell holds; 0 where modules are built whole
    shell_ready_q: npt.NDArray[np.int64]  # a shell's start → ready for tool sets
    shell_profile: Array  # site × k: MUSD spent on a shell k quarters after its start
    shell_grant_profile: Array  # site × k: MUSD of a shell its grant share applies to k quarters after its start
    shell_cost_musd: Array  # site × quarter started, as unit_cost_musd
    # third-party wafer markets: the most spare wafers per node and quarter (inf: no limit)
    market_nodes: list[str]
    market_cap_q: Array  # market × quarter, wafer starts
    revenue_share: Array  # operator's share of the site's wafer revenue
    offtake_price_musd: Array  # site × quarter: what the buyer pays per wafer out
    spare_price_musd: Array  # site × quarter: what other customers pay for a spare wafer
    spare_unlimited: bool  # offtake.spare_wafers_to_market: at every site, with no limit but its capacity
    site_cycle_q: Array  # unloaded (raw) cycle time of the site's node, quarters
    site_curve: list[LoadCurve | None]  # load curve, None for a constant cycle time
    site_clearing: list[ClearingFunction | None]

    # per product (the buyer's)
    made: npt.NDArray[np.bool_]  # designed (made from wafers) or bought finished
    product_node: list[str]  # "" for a bought product
    product_line: list[str]  # "" for a bought product
    demand: Array  # product × quarter, accelerators
    first_start: npt.NDArray[np.int64]  # first quarter a wafer may start (tape-out)
    good_dies_per_wafer: Array  # mature yield
    dies_per_package: Array
    packaging_yield: Array
    parts_musd: Array  # interposer + assembly per package started
    product_hbm: npt.NDArray[np.int64]  # index into memories, −1 for none
    hbm_stacks: Array
    penalty_musd: Array  # product × quarter, per accelerator not delivered
    price_musd: Array  # product × quarter, market price of one accelerator
    bought_cap: Array  # product × quarter, units a vendor sells (0 for made ones)
    cycle_q: Array  # wafer start → accelerator delivered, quarters (fractional)

    # per packaging line
    line_packages_per_wafer: Array
    line_capacity_q: Array  # line × quarter, interposer wafers per quarter secured
    line_module_q: Array  # wafers per quarter one expansion adds
    line_max_modules: npt.NDArray[np.int64]
    line_lead_q: npt.NDArray[np.int64]
    line_capex_musd: Array

    # per foundry offer and HBM supply
    offer_node: list[str]
    offer_cap_q: Array  # offer × quarter, wafers per quarter
    offer_price_musd: Array  # offer × quarter
    # share of a reserved wafer paid whether used or not; a robust plan reserves ahead (below)
    offer_take_or_pay: Array
    hbm_cap: Array  # memory × quarter, stacks (inf: no limit)
    hbm_price_musd: Array  # memory × quarter, per stack

    # money over time
    funds_musd: Array  # quarter: commitments arriving
    discount: Array  # quarter: factor from the horizon start
    discount_per_q: float  # factor for one quarter
    residual_discount: float  # factor at the end of the horizon
    reinvest_operating_cash: bool
    cycle_time: str  # "load" or "constant"
    # foundry wafers reserved before the future is known (a first-stage decision of a robust
    # plan), at offers with take-or-pay; otherwise reserved as they are used
    reserve_ahead: bool = False

    @property
    def horizon(self) -> int:
        return len(self.quarters)


CYCLE_TIMES = ("load", "constant")


def prepare(scenario: Scenario, cycle_time: str = "load") -> PlanInputs:
    """Turn a validated scenario into planning arrays. `cycle_time` "load" makes own fabs'
    cycle time grow with their load where the node has a load curve, "constant" keeps every
    node at its raw cycle time."""
    if cycle_time not in CYCLE_TIMES:
        raise ValueError(f"cycle_time must be one of {', '.join(CYCLE_TIMES)}, not {cycle_time!r}")
    quarters = scenario.horizon.periods
    start = scenario.horizon.start
    horizon = len(quarters)
    products, sites = scenario.products, scenario.sites
    demand = np.array([p.demand.quarterly(quarters) for p in products]).reshape(len(products), horizon)
    ages = horizon  # a module cannot be older than the horizon
    operators = [scenario.operator(s.operator) for s in sites]
    capacity_by_age = np.array([ramp_by_age(site_ramp(s, scenario), ages) for s in sites]).reshape(len(sites), ages)
    effective_by_age = capacity_by_age * np.array([site_learning(scenario, s, demand, ages) for s in sites]).reshape(
        len(sites), ages
    )
    regimes = {t.id: t for t in scenario.finance.tax_regimes}
    life = scenario.finance.depreciation_years
    price = np.array([p.market_price(quarters) for p in products]).reshape(len(products), horizon)
    rate = scenario.finance.discount_rate
    site_cycle_q = np.array([scenario.node(s.node).cycle_time_days / DAYS_PER_QUARTER for s in sites])
    curves = [node_curve(scenario.node(s.node), cycle_time) for s in sites]
    units = [capacity_unit(s) for s in sites]
    site_ids = [s.id for s in sites]
    fixed_opex = np.array(
        [s.fixed_opex_per_module_q_usd * u.share_of_module / MUSD for s, u in zip(sites, units, strict=True)]
    )
    memories = [h.id for h in scenario.hbm]
    lines = list(scenario.packaging)
    return PlanInputs(
        quarters=quarters,
        sites=site_ids,
        products=[p.id for p in products],
        lines=[line.id for line in lines],
        offers=scenario.offer_ids(),
        memories=memories,
        site_node=[s.node for s in sites],
        unit_kind=[u.kind for u in units],
        parent=np.array([site_ids.index(s.converts_from) if s.converts_from else -1 for s in sites], dtype=np.int64),
        unit_wafers_q=np.array(
            [s.module_wspm * MONTHS_PER_QUARTER * u.share_of_module for s, u in zip(sites, units, strict=True)]
        ),
        unit_share=np.array([u.share_of_module for u in units]),
        max_units=np.array([s.max_modules * phases_per_module(s) for s in sites], dtype=np.int64),
        mandatory=np.array([s.mandatory for s in sites], dtype=bool),
        lead_q=np.array([u.lead_q for u in units], dtype=np.int64),
        staffed_q=np.array([u.staffed_q for u in units], dtype=np.int64),
        earliest=np.array([s.earliest_start - start + ready_q(s) for s in sites], dtype=np.int64),
        latest_start=np.array([horizon - 1 - u.lead_q for u in units], dtype=np.int64),
        ramp_q=np.array([len(site_ramp(s, scenario)) for s in sites], dtype=np.int64),
        capacity_by_age=capacity_by_age,
        effective_by_age=effective_by_age,
        capex_profile=spending_profiles(units),
        grant_profile=grant_profiles(units, sites),
        grant_share=np.array([s.grants.share_of_capex for s in sites]),
        grant_cap_musd=np.array([np.inf if s.grants.cap_usd is None else s.grants.cap_usd / MUSD for s in sites]),
        grant_credit=np.array(
            [
                grant_credit_share(s, rate, life, horizon) if s.grants.cap_usd is not None else np.zeros(horizon)
                for s in sites
            ]
        ).reshape(len(sites), horizon),
        itc_musd=np.array(
            [
                [u.tax_credit(regimes[s.tax_regime], q) / MUSD for q in quarters]
                for s, u in zip(sites, units, strict=True)
            ]
        ).reshape(len(sites), horizon),
        opex_musd=np.array(
            [
                (s.opex_per_wafer_usd + (o.fee_per_wafer_usd if o else 0.0)) / MUSD
                for s, o in zip(sites, operators, strict=True)
            ]
        ),
        fixed_opex_musd=fixed_opex,
        unit_cost_musd=np.array(
            [
                build_cost(u, s, regimes[s.tax_regime], quarters, rate, life, fixed)
                - fixed_opex_ended(s, site_ids, fixed_opex, rate, horizon)
                for s, u, fixed in zip(sites, units, fixed_opex, strict=True)
            ]
        ).reshape(len(sites), horizon),
        phases=np.array([0 if s.tool_phases is None else phases_per_module(s) for s in sites], dtype=np.int64),
        shell_ready_q=np.array([ready_q(s) for s in sites], dtype=np.int64),
        shell_profile=spending_profiles([shell(s) for s in sites]),
        shell_grant_profile=grant_profiles([shell(s) for s in sites], sites),
        shell_cost_musd=np.array([shell_cost(s, regimes[s.tax_regime], quarters, rate, life) for s in sites]).reshape(
            len(sites), horizon
        ),
        market_nodes=[m.node for m in scenario.wafer_markets],
        market_cap_q=np.array(
            [quarter_path(m.wafers_per_month, quarters) * MONTHS_PER_QUARTER for m in scenario.wafer_markets]
        ).reshape(len(scenario.wafer_markets), horizon),
        revenue_share=np.array([o.revenue_share if o else 0.0 for o in operators]),
        offtake_price_musd=offtake_prices(scenario, quarters) / MUSD,
        spare_price_musd=spare_prices(scenario, quarters) / MUSD,
        spare_unlimited=scenario.offtake.spare_wafers_to_market,
        site_cycle_q=site_cycle_q,
        site_curve=curves,
        site_clearing=[
            None if curve is None else clearing_function(curve, cycle_q)
            for curve, cycle_q in zip(curves, site_cycle_q, strict=True)
        ],
        made=np.array([p.made for p in products], dtype=bool),
        product_node=[p.node or "" for p in products],
        product_line=[p.packaging or "" for p in products],
        demand=demand,
        first_start=np.array(
            [max(p.design.tape_out - start, 0) if p.made and p.design else 0 for p in products], dtype=np.int64
        ),
        good_dies_per_wafer=np.array([_mature_good_dies(scenario, p) if p.made else 0.0 for p in products]),
        dies_per_package=np.array([float(p.compute_dies_per_package) for p in products]),
        packaging_yield=np.array([packaged_on(scenario, p).yield_ if p.made else 1.0 for p in products]),
        parts_musd=np.array([_parts_musd(packaged_on(scenario, p), p) if p.made else 0.0 for p in products]),
        product_hbm=np.array([memories.index(p.hbm) if p.made and p.hbm else -1 for p in products], dtype=np.int64),
        hbm_stacks=np.array([float(p.hbm_stacks) if p.made else 0.0 for p in products]),
        penalty_musd=_penalties(scenario, price),
        price_musd=price / MUSD,
        bought_cap=np.array(
            [
                np.zeros(horizon)
                if p.made
                else np.full(horizon, np.inf)
                if p.supply_per_quarter is None
                else quarter_path(p.supply_per_quarter, quarters)
                for p in products
            ]
        ).reshape(len(products), horizon),
        cycle_q=np.array([delivery_lag_q(scenario, p) for p in products]),
        line_packages_per_wafer=np.array([line.packages_per_wafer for line in lines]),
        line_capacity_q=np.array([line.capacity(quarters) * MONTHS_PER_QUARTER for line in lines]).reshape(
            len(lines), horizon
        ),
        line_module_q=np.array(
            [(line.expansion.module_wafers_per_month if line.expansion else 0.0) * MONTHS_PER_QUARTER for line in lines]
        ),
        line_max_modules=np.array(
            [line.expansion.max_modules if line.expansion else 0 for line in lines], dtype=np.int64
        ),
        line_lead_q=np.array([line.expansion.lead_time_q if line.expansion else 1 for line in lines], dtype=np.int64),
        line_capex_musd=np.array([line.expansion.capex_usd / MUSD if line.expansion else 0.0 for line in lines]),
        offer_node=[o.node for o in scenario.foundry_offers],
        offer_cap_q=np.array([o.capacity(quarters) * MONTHS_PER_QUARTER for o in scenario.foundry_offers]).reshape(
            len(scenario.foundry_offers), horizon
        ),
        offer_price_musd=offer_prices(scenario, quarters) / MUSD,
        offer_take_or_pay=np.array([o.take_or_pay for o in scenario.foundry_offers], dtype=float),
        hbm_cap=np.array(
            [
                np.full(horizon, np.inf)
                if h.stacks_per_quarter is None
                else quarter_path(h.stacks_per_quarter, quarters)
                for h in scenario.hbm
            ]
        ).reshape(len(memories), horizon),
        hbm_price_musd=np.array([h.price(quarters) for h in scenario.hbm]).reshape(len(memories), horizon) / MUSD,
        funds_musd=scenario.funding.commitments_usd(quarters).sum(axis=0) / MUSD,
        discount=discount_factors(rate, horizon),
        discount_per_q=float(discount_factors(rate, 2)[1]),
        residual_discount=float(discount_factors(rate, horizon + 1)[-1]),
        reinvest_operating_cash=scenario.funding.reinvest_operating_cash,
        cycle_time=cycle_time,
    )


def delivery_lag_q(scenario: Scenario, product: Product) -> float:
    """Quarters from a wafer start to the accelerator delivered: the node's raw cycle time plus
    the packaging line's (0 for a bought product, delivered when bought)."""
    if not product.made:
        return 0.0
    days = made_on(scenario, product).cycle_time_days + packaged_on(scenario, product).cycle_days
    return days / DAYS_PER_QUARTER


#: Delivering is preferred at equal cost: an accelerator unmet under the market-price rule costs
#: this share more than its price, so a bought product is bought rather than left unmet.
TIE_BREAK = 1e-4


def made_on(scenario: Scenario, product: Product) -> Node:
    """The node a designed product's compute dies are made on."""
    if product.node is None:
        raise ValueError(f"products.{product.id}: no node (a bought product is made on none)")
    return scenario.node(product.node)


def packaged_on(scenario: Scenario, product: Product) -> Packaging:
    """The packaging line a designed product is built on."""
    if product.packaging is None:
        raise ValueError(f"products.{product.id}: no packaging line (a bought product is built on none)")
    return scenario.packaging_line(product.packaging)


def _mature_good_dies(scenario: Scenario, product: Product) -> float:
    node = made_on(scenario, product)
    return float(good_dies_per_wafer(product, node, node.defect_density.mature_per_cm2))


def _parts_musd(line: Packaging, product: Product) -> float:
    """Interposer and assembly per package started (MUSD)."""
    return (line.wafer_cost_usd / line.packages_per_wafer + product.assembly_test_cost_usd) / MUSD


def _penalties(scenario: Scenario, price_usd: Array) -> Array:
    """Product × quarter, MUSD per accelerator not delivered: its own penalty, the finance
    rule's number, or its market price (what the buyer loses without it; TIE_BREAK)."""
    rule = scenario.finance.unmet_demand_penalty
    rows = []
    for p, product in enumerate(scenario.products):
        if product.unmet_penalty_usd is not None:
            rows.append(np.full(price_usd.shape[1], product.unmet_penalty_usd))
        elif rule == "market_price":
            rows.append(price_usd[p] * (1 + TIE_BREAK))
        else:
            rows.append(np.full(price_usd.shape[1], float(rule)))
    return np.array(rows).reshape(price_usd.shape) / MUSD


def node_curve(node: Node, cycle_time: str) -> LoadCurve | None:
    """A node's load curve when the cycle time depends on load (None: constant)."""
    return load_curve(node.load_curve) if cycle_time == "load" and node.load_curve else None
