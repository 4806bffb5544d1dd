"""Scenario → the plain arrays the planning model is built from.

Everything the MILP needs is computed here, once, as numpy arrays over named coordinates, so
`model.py` only states the algebra and `extract.py` can reuse the same numbers. Money is held
in millions of USD (MUSD) to keep the solver's coefficients within a few orders of magnitude.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from fabnet.chips import (
    Harvest,
    YieldSpec,
    d0_at_age,
    die_economics,
    die_yield,
    gross_dies,
    harvested_yield,
    package_cost,
)
from fabnet.core.periods import Quarter
from fabnet.plan.loadcurve import ClearingFunction, LoadCurve, clearing_function, load_curve
from fabnet.scenario.schema import Node, Product, Scenario

MUSD = 1e6
DAYS_PER_QUARTER = 365.25 / 4
MONTHS_PER_QUARTER = 3

Array = npt.NDArray[np.float64]
ArrayLike = float | Array


@dataclass(frozen=True)
class PlanInputs:
    """Coordinates and coefficient arrays of one planning problem (money in MUSD)."""

    quarters: list[Quarter]
    sites: list[str]
    products: list[str]
    lines: list[str]
    offers: list[str]

    # per site
    site_node: list[str]
    module_wafers_q: Array            # wafer starts per quarter of one full module
    max_modules: npt.NDArray[np.int64]
    mandatory: npt.NDArray[np.bool_]
    lead_q: npt.NDArray[np.int64]
    earliest: npt.NDArray[np.int64]   # quarter index of earliest start
    capacity_by_age: Array            # site × age: share of module wafers (ramp)
    effective_by_age: Array           # site × age: ramp × yield-learning factor
    capex_profile: Array              # site × k: MUSD spent k quarters after a start
    grant_share: Array
    grant_cap_musd: Array             # inf when uncapped
    itc_musd: Array                   # site × quarter started: credit per module
    opex_musd: Array                  # per wafer start
    site_cycle_q: Array               # unloaded (raw) cycle time of the site's node, quarters
    site_curve: list[LoadCurve | None]  # load curve, None for a constant cycle time
    site_clearing: list[ClearingFunction | None]

    # per product
    product_node: list[str]
    product_line: list[str]
    demand: Array                     # product × quarter, accelerators
    good_dies_per_wafer: Array        # mature yield
    dies_per_package: Array
    packaging_yield: Array
    package_cost_musd: Array          # HBM + interposer + assembly per package started
    penalty_musd: Array               # per accelerator not delivered
    price_musd: Array
    cycle_q: Array                    # node cycle time in quarters (fractional)

    # per packaging line
    line_packages_per_wafer: Array
    line_capacity_q: Array            # line × quarter, interposer wafers per quarter secured
    line_module_q: Array              # wafers per quarter one expansion adds
    line_max_modules: npt.NDArray[np.int64]
    line_lead_q: npt.NDArray[np.int64]
    line_capex_musd: Array

    # per foundry offer
    offer_node: list[str]
    offer_cap_q: Array                # offer × quarter, wafers per quarter
    offer_price_musd: Array

    # money over time
    funds_musd: Array                 # quarter: commitments arriving
    discount: Array                   # quarter: factor from the horizon start
    discount_per_q: float             # factor for one quarter
    residual_discount: float          # factor at the end of the horizon
    book_value_musd: Array            # site × quarter started: a module's book value at the end
    reinvest_operating_cash: bool
    objective: str
    cycle_time: str                   # "load" or "constant"
    messages: list[str] = field(default_factory=list)

    @property
    def horizon(self) -> int:
        return len(self.quarters)


CYCLE_TIMES = ("load", "constant")


def prepare(scenario: Scenario, objective: str = "cost", cycle_time: str = "load") -> PlanInputs:
    """Turn a validated scenario into planning arrays. `objective` is "cost" or "npv";
    `cycle_time` "load" makes own fabs' cycle time grow with their load where the node has a
    load curve, "constant" keeps every node at its raw cycle time."""
    if objective not in ("cost", "npv"):
        raise ValueError(f"objective must be 'cost' or 'npv', not {objective!r}")
    if cycle_time not in CYCLE_TIMES:
        raise ValueError(f"cycle_time must be one of {', '.join(CYCLE_TIMES)}, not {cycle_time!r}")
    quarters = scenario.horizon.periods
    start = scenario.horizon.start
    horizon = len(quarters)
    nodes = {n.id: n for n in scenario.nodes}
    lines = {line.id: line for line in scenario.packaging}

    product_econ = [_product_economics(scenario, p, nodes[p.node]) for p in scenario.products]
    demand = np.array([p.demand.quarterly(quarters) for p in scenario.products]).reshape(
        len(scenario.products), horizon)
    sites = scenario.sites
    ages = horizon  # a module cannot be older than the horizon
    learning = {n: _learning_factors(scenario, nodes[n], demand, ages) for n in nodes}
    capacity_by_age = np.array([_ramp(s.ramp, ages) for s in sites]).reshape(len(sites), ages)
    effective_by_age = capacity_by_age * np.array(
        [learning[s.node] for s in sites]).reshape(len(sites), ages)
    lead = np.array([s.lead_time_q for s in sites], dtype=np.int64)
    regimes = {t.id: t for t in scenario.finance.tax_regimes}
    life = scenario.finance.depreciation_years

    penalty_rule = scenario.finance.unmet_demand_penalty
    penalties = []
    for product, econ in zip(scenario.products, product_econ, strict=True):
        if objective == "npv":
            penalties.append(product.price_usd)
        elif product.unmet_penalty_usd is not None:
            penalties.append(product.unmet_penalty_usd)
        elif penalty_rule == "lost_margin":
            penalties.append(max(product.price_usd - econ["cost_per_accelerator"], 0.0))
        else:
            penalties.append(float(penalty_rule))

    rate = scenario.finance.discount_rate
    site_cycle_q = np.array([nodes[s.node].cycle_time_days / DAYS_PER_QUARTER for s in sites])
    curves = [_site_curve(nodes[s.node], cycle_time) for s in sites]
    return PlanInputs(
        quarters=quarters,
        sites=[s.id for s in sites],
        products=[p.id for p in scenario.products],
        lines=[line.id for line in scenario.packaging],
        offers=_offer_ids(scenario),
        site_node=[s.node for s in sites],
        module_wafers_q=np.array([s.module_wspm * MONTHS_PER_QUARTER for s in sites]),
        max_modules=np.array([s.max_modules for s in sites], dtype=np.int64),
        mandatory=np.array([s.mandatory for s in sites], dtype=bool),
        lead_q=lead,
        earliest=np.array([s.earliest_start - start for s in sites], dtype=np.int64),
        capacity_by_age=capacity_by_age,
        effective_by_age=effective_by_age,
        capex_profile=_capex_profiles(sites),
        grant_share=np.array([s.grants.share_of_capex for s in sites]),
        grant_cap_musd=np.array([np.inf if s.grants.cap_usd is None else s.grants.cap_usd / MUSD
                                 for s in sites]),
        itc_musd=np.array([_itc(s, regimes[s.tax_regime], quarters) for s in sites]).reshape(
            len(sites), horizon),
        opex_musd=np.array([s.opex_per_wafer_usd / MUSD for s in sites]),
        site_cycle_q=site_cycle_q,
        site_curve=curves,
        site_clearing=[None if curve is None else clearing_function(curve, cycle_q)
                       for curve, cycle_q in zip(curves, site_cycle_q, strict=True)],
        product_node=[p.node for p in scenario.products],
        product_line=[p.packaging for p in scenario.products],
        demand=demand,
        good_dies_per_wafer=np.array([e["good_dies"] for e in product_econ]),
        dies_per_package=np.array([float(p.compute_dies_per_package) for p in scenario.products]),
        packaging_yield=np.array([lines[p.packaging].yield_ for p in scenario.products]),
        package_cost_musd=np.array([e["package_parts"] / MUSD for e in product_econ]),
        penalty_musd=np.array(penalties) / MUSD,
        price_musd=np.array([p.price_usd / MUSD for p in scenario.products]),
        cycle_q=np.array([nodes[p.node].cycle_time_days / DAYS_PER_QUARTER
                          for p in scenario.products]),
        line_packages_per_wafer=np.array([line.packages_per_wafer for line in scenario.packaging]),
        line_capacity_q=np.array([line.capacity(quarters) * MONTHS_PER_QUARTER
                                  for line in scenario.packaging]),
        line_module_q=np.array([(line.expansion.module_wafers_per_month if line.expansion else 0.0)
                                * MONTHS_PER_QUARTER for line in scenario.packaging]),
        line_max_modules=np.array([line.expansion.max_modules if line.expansion else 0
                                   for line in scenario.packaging], dtype=np.int64),
        line_lead_q=np.array([line.expansion.lead_time_q if line.expansion else 1
                              for line in scenario.packaging], dtype=np.int64),
        line_capex_musd=np.array([line.expansion.capex_usd / MUSD if line.expansion else 0.0
                                  for line in scenario.packaging]),
        offer_node=[o.node for o in scenario.foundry_offers],
        offer_cap_q=np.array([[o.max_wafers_per_month * MONTHS_PER_QUARTER
                               if o.available_from is None or q >= o.available_from else 0.0
                               for q in quarters] for o in scenario.foundry_offers]).reshape(
            len(scenario.foundry_offers), horizon),
        offer_price_musd=np.array([nodes[o.node].wafer_price_usd * (1 + o.price_premium) / MUSD
                                   for o in scenario.foundry_offers]),
        funds_musd=scenario.funding.commitments_usd(quarters).sum(axis=0) / MUSD,
        discount=(1 + rate) ** (-np.arange(horizon) / 4.0),
        discount_per_q=(1 + rate) ** -0.25,
        residual_discount=(1 + rate) ** (-horizon / 4.0),
        book_value_musd=_book_value(sites, horizon, life.building, life.tools),
        reinvest_operating_cash=scenario.funding.reinvest_operating_cash
        and scenario.finance.revenue == "sales",
        objective=objective,
        cycle_time=cycle_time,
    )


def _site_curve(node: Node, cycle_time: str) -> LoadCurve | None:
    return load_curve(node.load_curve) if cycle_time == "load" and node.load_curve else None


def _offer_ids(scenario: Scenario) -> list[str]:
    """'foundry-N3', or 'foundry-N3-2' for a node's second offer."""
    ids, seen = [], {}
    for offer in scenario.foundry_offers:
        seen[offer.node] = seen.get(offer.node, 0) + 1
        ids.append(f"foundry-{offer.node}" + (f"-{seen[offer.node]}" if seen[offer.node] > 1 else ""))
    return ids


def _product_economics(scenario: Scenario, product: Product, node: Node) -> dict[str, float]:
    line = scenario.packaging_line(product.packaging)
    die = die_economics(
        die_w_mm=product.die_width_mm, die_h_mm=product.die_height_mm,
        d0_per_cm2=node.defect_density.mature_per_cm2, wafer_cost_usd=node.wafer_price_usd,
        wafer_mm=node.wafer_diameter_mm, edge_mm=node.edge_exclusion_mm, scribe_mm=node.scribe_mm,
        yield_spec=_yield_spec(node), harvest=_harvest(product))
    cost = package_cost(
        cost_per_good_die=die.cost_per_good_die, dies_per_package=product.compute_dies_per_package,
        hbm_stacks=product.hbm_stacks, hbm_stack_cost_usd=product.hbm_stack_cost_usd,
        packaging_wafer_cost_usd=line.wafer_cost_usd, packages_per_wafer=line.packages_per_wafer,
        assembly_test_cost_usd=product.assembly_test_cost_usd, packaging_yield=line.yield_)
    return {
        "good_dies": die.good_dies,
        "package_parts": cost.hbm + cost.interposer + cost.assembly_test,
        "cost_per_accelerator": cost.total,
    }


def _yield_spec(node: Node) -> YieldSpec:
    model = node.yield_model
    return YieldSpec(model.kind, model.alpha, model.critical_layers)


def _harvest(product: Product) -> Harvest | None:
    h = product.harvesting
    return None if h is None else Harvest(h.units, h.max_defective_units, h.repeated_area_share)


def good_dies_per_wafer(product: Product, node: Node, d0: ArrayLike) -> Array:
    """Good dies of `product` per wafer of `node` at defect densities `d0` (broadcasts)."""
    spec = _yield_spec(node)
    gross = gross_dies(node.wafer_diameter_mm, product.die_width_mm, product.die_height_mm,
                       node.edge_exclusion_mm, node.scribe_mm)
    harvest = _harvest(product)
    if harvest is None:
        return gross * np.asarray(die_yield(product.die_area_mm2, d0, *spec))
    return gross * np.asarray(harvested_yield(product.die_area_mm2, d0, *harvest, *spec))


def node_weights(scenario: Scenario, node_id: str, demand: Array) -> tuple[list[int], Array]:
    """The products on a node and their weights in its learning curve: their demand over the
    horizon (equal weights when there is none)."""
    on_node = [i for i, p in enumerate(scenario.products) if p.node == node_id]
    weights = demand[on_node].sum(axis=1)
    return on_node, weights if weights.sum() > 0 else np.ones(len(on_node))


def _learning_factors(scenario: Scenario, node: Node, demand: Array, count: int) -> Array:
    """Good-die output of a module at each age 0..count-1 (quarters into production) relative
    to a mature module, over the node's products weighted by `node_weights`."""
    on_node, weights = node_weights(scenario, node.id, demand)
    if not on_node:
        return np.ones(count)
    dd = node.defect_density
    d0 = d0_at_age(dd.ramp_per_cm2, dd.mature_per_cm2, dd.learning_rate_per_q, np.arange(count))
    output = sum(w * good_dies_per_wafer(scenario.products[i], node, d0) for w, i in zip(weights, on_node, strict=True))
    mature = sum(w * good_dies_per_wafer(scenario.products[i], node, dd.mature_per_cm2)
                 for w, i in zip(weights, on_node, strict=True))
    return output / mature if mature > 0 else np.ones(count)


def _ramp(ramp: tuple[float, ...], ages: int) -> Array:
    shares = np.ones(ages)
    shares[: min(len(ramp), ages)] = ramp[:ages]
    return shares


def _capex_profiles(sites) -> Array:  # type: ignore[no-untyped-def]
    """MUSD spent on one module in each quarter after its start, by site (Site.capex_schedule_usd)."""
    longest = max((s.lead_time_q for s in sites), default=1)
    profile = np.zeros((len(sites), longest))
    for i, site in enumerate(sites):
        building, tools = site.capex_schedule_usd()
        profile[i, : len(building)] = (building + tools) / MUSD
    return profile


def _itc(site, regime, quarters: list[Quarter]) -> Array:  # type: ignore[no-untyped-def]
    """Investment tax credit per module by the quarter its construction starts (MUSD)."""
    credit = regime.investment_tax_credit * site.capex_per_module_usd.tools / MUSD
    deadline = regime.itc_construction_deadline
    return np.array([credit if deadline is None or q <= deadline else 0.0 for q in quarters])


def _book_value(sites, horizon: int, building_years: int, tools_years: int) -> Array:  # type: ignore[no-untyped-def]
    """Book value (MUSD) at the end of the horizon of one module by site × quarter started:
    straight-line depreciation from the quarter it comes online; a module still under
    construction is worth what has been spent on it inside the horizon. Net of the grant
    share: the part a grant paid for is not the investors' to recover (else a subsidised
    module would pay for itself by being built, whether it makes anything or not)."""
    profile = _capex_profiles(sites)
    values = np.zeros((len(sites), horizon))
    for i, site in enumerate(sites):
        capex = site.capex_per_module_usd
        for started in range(horizon):
            in_service_q = horizon - (started + site.lead_time_q)
            if in_service_q >= 0:
                values[i, started] = (
                    capex.building * max(0.0, 1 - in_service_q / (4 * building_years))
                    + capex.tools * max(0.0, 1 - in_service_q / (4 * tools_years))) / MUSD
            else:
                values[i, started] = profile[i, : horizon - started].sum()
        values[i] *= 1.0 - site.grants.share_of_capex
    return values
