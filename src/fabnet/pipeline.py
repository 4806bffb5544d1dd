"""The one place that wires the stages together: scenario → chips (→ plan → finance, later).

The engines take plain numbers; this module turns scenario objects into those numbers and
their results into tidy tables.
"""

from __future__ import annotations

import pandas as pd

from fabnet.chips import (
    Harvest,
    YieldSpec,
    d0_at_age,
    die_economics,
    interposer_wafers_for,
    package_cost,
    wafer_starts_for,
)
from fabnet.finance import Financials, PlanTables, compute_financials
from fabnet.plan import Plan, SolveOptions, make_plan
from fabnet.scenario.schema import Node, Product, Scenario

DAYS_PER_QUARTER = 365.25 / 4


def node_d0(node: Node, fab_age_q: float | None = None) -> float:
    """D0 of a fab `fab_age_q` quarters into production; None means the mature D0."""
    dd = node.defect_density
    if fab_age_q is None:
        return dd.mature_per_cm2
    return float(d0_at_age(dd.ramp_per_cm2, dd.mature_per_cm2, dd.learning_rate_per_q, fab_age_q))


def product_economics(scenario: Scenario, fab_age_q: float | None = None) -> pd.DataFrame:
    """One row per product: dies per wafer, yield, cost per good die and per accelerator."""
    rows = []
    for product in scenario.products:
        node = scenario.node(product.node)
        line = scenario.packaging_line(product.packaging)
        d0 = node_d0(node, fab_age_q)
        die = _die_economics(product, node, d0)
        cost = package_cost(
            cost_per_good_die=die.cost_per_good_die,
            dies_per_package=product.compute_dies_per_package,
            hbm_stacks=product.hbm_stacks,
            hbm_stack_cost_usd=product.hbm_stack_cost_usd,
            packaging_wafer_cost_usd=line.wafer_cost_usd,
            packages_per_wafer=line.packages_per_wafer,
            assembly_test_cost_usd=product.assembly_test_cost_usd,
            packaging_yield=line.yield_,
        )
        rows.append({
            "product": product.id,
            "node": node.id,
            "die_area_mm2": product.die_area_mm2,
            "d0_per_cm2": d0,
            "gross_dies": die.gross_dies,
            "die_yield": die.die_yield,
            "good_dies_per_wafer": die.good_dies,
            "cost_per_good_die_usd": die.cost_per_good_die,
            "compute_dies_usd": cost.compute_dies,
            "hbm_usd": cost.hbm,
            "interposer_usd": cost.interposer,
            "assembly_test_usd": cost.assembly_test,
            "packaging_loss_usd": cost.yield_loss,
            "cost_per_accelerator_usd": cost.total,
            "price_usd": product.price_usd,
        })
    return pd.DataFrame(rows)


def _die_economics(product: Product, node: Node, d0: float):  # type: ignore[no-untyped-def]
    harvest = product.harvesting
    model = node.yield_model
    return die_economics(
        die_w_mm=product.die_width_mm,
        die_h_mm=product.die_height_mm,
        d0_per_cm2=d0,
        wafer_cost_usd=node.wafer_price_usd,
        wafer_mm=node.wafer_diameter_mm,
        edge_mm=node.edge_exclusion_mm,
        scribe_mm=node.scribe_mm,
        yield_spec=YieldSpec(model.kind, model.alpha, model.critical_layers),
        harvest=None if harvest is None else Harvest(
            harvest.units, harvest.max_defective_units, harvest.repeated_area_share),
    )


def wafer_demand(scenario: Scenario, fab_age_q: float | None = None) -> pd.DataFrame:
    """Accelerators wanted → wafer starts and interposer wafers, one row per product × quarter.

    Quantities are those needed to deliver each quarter's demand; they take no account of when
    the wafers must start (the planner shifts starts by the node's cycle time)."""
    economics = product_economics(scenario, fab_age_q).set_index("product")
    periods = scenario.horizon.periods
    frames = []
    for product in scenario.products:
        line = scenario.packaging_line(product.packaging)
        accelerators = product.demand.quarterly(periods)
        good_per_wafer = economics.at[product.id, "good_dies_per_wafer"]
        frames.append(pd.DataFrame({
            "product": product.id,
            "node": product.node,
            "quarter": [str(q) for q in periods],
            "year": [q.year for q in periods],
            "accelerators": accelerators,
            "good_dies": accelerators / line.yield_ * product.compute_dies_per_package,
            "wafer_starts": wafer_starts_for(
                accelerators, dies_per_package=product.compute_dies_per_package,
                good_dies_per_wafer=good_per_wafer, packaging_yield=line.yield_),
            "interposer_wafers": interposer_wafers_for(
                accelerators, packages_per_wafer=line.packages_per_wafer,
                packaging_yield=line.yield_),
        }))
    return pd.concat(frames, ignore_index=True)


def plan_network(scenario: Scenario, objective: str = "cost",
                 options: SolveOptions = SolveOptions()) -> Plan:
    """The network plan of a scenario (see fabnet.plan.make_plan)."""
    return make_plan(scenario, objective, options)


def plan_finance(scenario: Scenario, plan: Plan) -> Financials:
    """The money of a plan: cash flows, metrics and returns per investor."""
    tables = PlanTables(builds=plan.builds, packaging_builds=plan.packaging_builds,
                        production=plan.production, supply=plan.supply, cash=plan.cash)
    return compute_financials(scenario, tables)
