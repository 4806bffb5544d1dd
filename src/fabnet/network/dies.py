"""The network's chip figures: a site's defect density and its learning, good dies per wafer,
each product's cost per accelerator and the wafers its demand needs.

The one place the scenario's nodes, operators and products meet the chip formulas
(fabnet.chips): `fabnet wafers`, the planner's arrays, the fixed-plan risk model and the plan
check all take a site's D0 from here.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from fabnet.chips import (
    DieEconomics,
    Harvest,
    YieldSpec,
    d0_at_age,
    die_economics,
    interposer_wafers_for,
    package_cost,
    wafer_starts_for,
)
from fabnet.core import results
from fabnet.scenario.schema import Node, Product, Scenario, Site

Array = npt.NDArray[np.float64]
ArrayLike = float | Array


def _yield_spec(node: Node) -> YieldSpec:
    model = node.yield_model
    return YieldSpec(model.kind, model.alpha, model.critical_layers)


def _harvest(product: Product) -> Harvest | None:
    h = product.harvesting
    return None if h is None else Harvest(h.units, h.max_defective_units, h.repeated_area_share)


def good_dies_per_wafer(product: Product, node: Node, d0: ArrayLike) -> Array:
    """Good dies of `product` per wafer of `node` at defect densities `d0` (broadcasts): the
    good dies of `product_economics`, through the same chips.die_economics."""
    return np.asarray(_die_economics(product, node, d0).good_dies, dtype=float)


def node_weights(scenario: Scenario, node_id: str, demand: Array) -> tuple[list[int], Array]:
    """The products made on a node and their weights in its learning curve: their demand over
    the horizon (equal weights when there is none)."""
    on_node = [i for i, p in enumerate(scenario.products) if p.made and p.node == node_id]
    weights = demand[on_node].sum(axis=1)
    return on_node, weights if weights.sum() > 0 else np.ones(len(on_node))


def site_ramp(site: Site, scenario: Scenario) -> tuple[float, ...]:
    """The ramp of a site: its operator's, when it has one with a ramp, else its own."""
    operator = scenario.operator(site.operator)
    return operator.ramp if operator is not None and operator.ramp is not None else site.ramp


def site_d0(
    site: Site, scenario: Scenario, node: tuple[ArrayLike, ArrayLike, ArrayLike] | None = None
) -> tuple[ArrayLike, ArrayLike, ArrayLike]:
    """(ramp D0, mature D0, learning rate) of a site: the node's (or `node`, e.g. sampled
    values), with an operator's ramp D0 and learning rate where it has them."""
    ramp, mature, rate = node or _node_d0(scenario.node(site.node))
    operator = scenario.operator(site.operator)
    if operator is not None and operator.defect_density is not None:
        return operator.defect_density.ramp_per_cm2, mature, operator.defect_density.learning_rate_per_q
    return ramp, mature, rate


def site_learning(
    scenario: Scenario, site: Site, demand: Array, count: int, d0: tuple[ArrayLike, ArrayLike, ArrayLike] | None = None
) -> Array:
    """Good-die output of one of the site's modules at each age 0..count-1 (quarters into
    production) relative to a mature module, over the node's products weighted by
    `node_weights`. `d0` (ramp, mature, rate) overrides the site's, and may hold one value per
    sample (arrays of shape S × 1), giving S rows."""
    node = scenario.node(site.node)
    ramp, mature, rate = site_d0(site, scenario) if d0 is None else d0
    on_node, weights = node_weights(scenario, node.id, demand)
    if not on_node:
        return np.ones(np.broadcast_shapes(np.shape(ramp), (count,)))
    at_age = d0_at_age(ramp, mature, rate, np.arange(count, dtype=float))
    output = sum(
        w * good_dies_per_wafer(scenario.products[i], node, at_age) for w, i in zip(weights, on_node, strict=True)
    )
    best = sum(
        w * good_dies_per_wafer(scenario.products[i], node, mature) for w, i in zip(weights, on_node, strict=True)
    )
    return np.divide(output, best, out=np.ones(np.shape(output)), where=np.asarray(best) > 0)


def d0_at(scenario: Scenario, node: Node, site: Site | None, fab_age_q: float | None) -> float:
    """D0 of `site` (or of the node, made by a foundry, when None) `fab_age_q` quarters into
    production; None means mature. The one rule `fabnet wafers`, the planner's learning
    (`site_learning`) and the fixed-plan risk model share."""
    ramp, mature, rate = site_d0(site, scenario) if site is not None else _node_d0(node)
    if fab_age_q is None:
        return float(mature)
    return float(d0_at_age(ramp, mature, rate, fab_age_q))


def _node_d0(node: Node) -> tuple[float, float, float]:
    dd = node.defect_density
    return dd.ramp_per_cm2, dd.mature_per_cm2, dd.learning_rate_per_q


def product_economics(scenario: Scenario, fab_age_q: float | None = None, site: Site | None = None) -> pd.DataFrame:
    """One row per product the buyer designs: dies per wafer, yield, cost per good die and per
    accelerator at the market wafer and HBM prices of its tape-out quarter (the horizon's first
    without a design programme), against its market price then. D0 is the node's (a foundry's),
    or with `site` that site's (its operator's ramp, `site_d0`) for the products of its node;
    `fab_age_q` quarters into production (None: mature)."""
    rows = []
    for product in scenario.made_products:
        node = scenario.node(product.node)
        if site is not None and site.node != node.id:
            continue
        line = scenario.packaging_line(product.packaging)
        when = [product.design.tape_out if product.design else scenario.horizon.start]
        d0 = d0_at(scenario, node, site, fab_age_q)
        die = _die_economics(product, node, d0, float(node.wafer_price(when)[0]))
        stack = float(scenario.hbm_supply(product.hbm).price(when)[0]) if product.hbm else 0.0
        cost = package_cost(
            cost_per_good_die=float(die.cost_per_good_die),
            dies_per_package=product.compute_dies_per_package,
            hbm_stacks=product.hbm_stacks,
            hbm_stack_cost_usd=stack,
            packaging_wafer_cost_usd=line.wafer_cost_usd,
            packages_per_wafer=line.packages_per_wafer,
            assembly_test_cost_usd=product.assembly_test_cost_usd,
            packaging_yield=line.yield_,
        )
        rows.append(
            {
                "product": product.id,
                "node": node.id,
                "priced_at": str(when[0]),
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
                "market_price_usd": float(product.market_price(when)[0]),
            }
        )
    return pd.DataFrame(rows)


def _die_economics(product: Product, node: Node, d0: ArrayLike, wafer_price_usd: float = 0.0) -> DieEconomics:
    """A product's dies on a node's wafer; its cost per good die only where a wafer price is given."""
    assert product.die_width_mm is not None and product.die_height_mm is not None
    return die_economics(
        die_w_mm=product.die_width_mm,
        die_h_mm=product.die_height_mm,
        d0_per_cm2=d0,
        wafer_cost_usd=wafer_price_usd,
        wafer_mm=node.wafer_diameter_mm,
        edge_mm=node.edge_exclusion_mm,
        scribe_mm=node.scribe_mm,
        yield_spec=_yield_spec(node),
        harvest=_harvest(product),
    )


def wafer_demand(scenario: Scenario, fab_age_q: float | None = None, site: Site | None = None) -> pd.DataFrame:
    """Accelerators wanted → wafer starts and interposer wafers, one row per designed product ×
    quarter.

    Quantities are those needed to deliver each quarter's demand; they take no account of when
    the wafers must start (the planner shifts starts by the node's cycle time)."""
    periods = scenario.horizon.periods
    frames = []
    made = [p for p in scenario.made_products if site is None or p.node == site.node]
    economics = product_economics(scenario, fab_age_q, site).set_index("product") if made else pd.DataFrame()
    for product in made:
        line = scenario.packaging_line(product.packaging)
        accelerators = product.demand.quarterly(periods)
        good_per_wafer = economics.at[product.id, "good_dies_per_wafer"]
        frames.append(
            pd.DataFrame(
                {
                    "product": product.id,
                    "node": product.node,
                    "quarter": [str(q) for q in periods],
                    "year": [q.year for q in periods],
                    "accelerators": accelerators,
                    "good_dies": accelerators / line.yield_ * product.compute_dies_per_package,
                    "wafer_starts": wafer_starts_for(
                        accelerators,
                        dies_per_package=product.compute_dies_per_package,
                        good_dies_per_wafer=good_per_wafer,
                        packaging_yield=line.yield_,
                    ),
                    "interposer_wafers": interposer_wafers_for(
                        accelerators, packages_per_wafer=line.packages_per_wafer, packaging_yield=line.yield_
                    ),
                }
            )
        )
    return results.table("wafer_demand").conform(pd.concat(frames, ignore_index=True) if frames else pd.DataFrame())
