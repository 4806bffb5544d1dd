"""Fixed-plan risk: the base plan's builds stay as they are; every sample's outcomes are
recomputed with numpy over (samples × quarters), without solving anything.

Operations follow a greedy rule, the same for every sample: each quarter, wafers are started
for the demand one cycle time ahead — own fabs first, then foundry wafers up to the offers'
caps — their good dies go to a die bank, and packages are made from the bank up to the
quarter's demand and the packaging lines' capacity. Money: revenue, opex (the node's built
sites' mean opex per wafer), foundry and packaging costs per sample; construction, grants,
credits and depreciation as in the base plan; income tax at the home regime's rate with loss
carry-forward; NPV with the base plan's end-of-horizon book value.

Supported inputs (anything else: use --reoptimise): a product's demand (multiply) or price;
a site's lead time; a node's wafer price, ramp or mature D0 or learning rate; a packaging
line's packages per wafer or yield.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fabnet.chips import d0_at_age
from fabnet.core.periods import Quarter
from fabnet.finance import Financials
from fabnet.plan import Plan, prepare
from fabnet.plan.inputs import good_dies_per_wafer, node_weights
from fabnet.scenario.schema import Scenario, Uncertain

SUPPORTED = (
    r"products\.(?P<id>[^.]+)\.demand(\..*)?",
    r"products\.(?P<id>[^.]+)\.price_usd",
    r"sites\.(?P<id>[^.]+)\.lead_time_q",
    r"nodes\.(?P<id>[^.]+)\.wafer_price_usd",
    r"nodes\.(?P<id>[^.]+)\.defect_density\.(?P<field>ramp_per_cm2|mature_per_cm2|learning_rate_per_q)",
    r"packaging\.(?P<id>[^.]+)\.(?P<field>packages_per_wafer|yield)",
)


class Unsupported(ValueError):
    pass


@dataclass
class _Inputs:
    """Per-sample parameters, each an array with samples first."""

    demand_scale: np.ndarray    # S × P
    price: np.ndarray           # S × P (USD)
    lead: np.ndarray            # S × sites
    wafer_price: np.ndarray     # S × nodes (USD)
    d0: dict[str, np.ndarray]   # field → S × nodes
    ppw: np.ndarray             # S × lines
    line_yield: np.ndarray      # S × lines


def _changed(base: float, how: str, values: np.ndarray) -> np.ndarray:
    return base * values if how == "multiply" else base + values if how == "add" else values


def sample_inputs(scenario: Scenario, table: np.ndarray) -> _Inputs:
    s = len(table)
    products, sites = scenario.products, scenario.sites
    nodes, lines = scenario.nodes, scenario.packaging
    out = _Inputs(
        demand_scale=np.ones((s, len(products))),
        price=np.tile([p.price_usd for p in products], (s, 1)).astype(float),
        lead=np.tile([x.lead_time_q for x in sites], (s, 1)).astype(float),
        wafer_price=np.tile([n.wafer_price_usd for n in nodes], (s, 1)).astype(float),
        d0={f: np.tile([getattr(n.defect_density, f) for n in nodes], (s, 1)).astype(float)
            for f in ("ramp_per_cm2", "mature_per_cm2", "learning_rate_per_q")},
        ppw=np.tile([x.packages_per_wafer for x in lines], (s, 1)).astype(float),
        line_yield=np.tile([x.yield_ for x in lines], (s, 1)).astype(float),
    )
    for j, entry in enumerate(scenario.uncertainty):
        _apply(scenario, out, entry, table[:, j])
    out.lead = np.round(out.lead)
    return out


def _apply(scenario: Scenario, out: _Inputs, entry: Uncertain, values: np.ndarray) -> None:
    for k, pattern in enumerate(SUPPORTED):
        match = re.fullmatch(pattern, entry.path)
        if match is None:
            continue
        ident = match.group("id")
        if k == 0:
            if entry.apply != "multiply":
                raise Unsupported(f"{entry.path}: fixed-plan risk takes demand only as a multiplier")
            column = _index([p.id for p in scenario.products], ident, entry)
            out.demand_scale[:, column] *= values
        elif k == 1:
            column = _index([p.id for p in scenario.products], ident, entry)
            out.price[:, column] = _changed(out.price[:, column], entry.apply, values)
        elif k == 2:
            column = _index([x.id for x in scenario.sites], ident, entry)
            out.lead[:, column] = _changed(out.lead[:, column], entry.apply, values)
        elif k == 3:
            column = _index([n.id for n in scenario.nodes], ident, entry)
            out.wafer_price[:, column] = _changed(out.wafer_price[:, column], entry.apply, values)
        elif k == 4:
            column = _index([n.id for n in scenario.nodes], ident, entry)
            field = match.group("field")
            out.d0[field][:, column] = _changed(out.d0[field][:, column], entry.apply, values)
        else:
            column = _index([x.id for x in scenario.packaging], ident, entry)
            target = out.ppw if match.group("field") == "packages_per_wafer" else out.line_yield
            target[:, column] = _changed(target[:, column], entry.apply, values)
        return
    raise Unsupported(f"{entry.path}: fixed-plan risk cannot vary this input; use --reoptimise")


def _index(ids: list[str], ident: str, entry: Uncertain) -> int:
    if ident not in ids:
        raise Unsupported(f"{entry.path}: no entry {ident!r}")
    return ids.index(ident)


def evaluate_fixed(scenario: Scenario, plan: Plan, money: Financials, table: np.ndarray) -> pd.DataFrame:
    """Outcomes of the base plan under every sample row of `table` (one row per sample)."""
    x = prepare(scenario)
    v = sample_inputs(scenario, table)
    samples, horizon = len(table), x.horizon
    node_ids = [n.id for n in scenario.nodes]
    p_node = np.array([node_ids.index(n) for n in x.product_node])
    p_line = np.array([x.lines.index(line) for line in x.product_line])
    ages = np.arange(horizon)

    # good dies per wafer (mature) and each node's learning curve, per sample
    d0_mature = v.d0["mature_per_cm2"][:, p_node]                              # S × P
    product_nodes = [scenario.node(product.node) for product in scenario.products]
    good = np.stack([good_dies_per_wafer(scenario.products[p], product_nodes[p], d0_mature[:, p])
                     for p in range(len(x.products))], axis=1)
    d0_age = d0_at_age(v.d0["ramp_per_cm2"][:, :, None], v.d0["mature_per_cm2"][:, :, None],
                       v.d0["learning_rate_per_q"][:, :, None], ages[None, None, :])  # S × N × A
    learn = np.ones((samples, len(node_ids), horizon))
    for n, node_id in enumerate(node_ids):
        on, weights = node_weights(scenario, node_id, x.demand)
        if on:
            at_age = sum(w * good_dies_per_wafer(scenario.products[p], product_nodes[p], d0_age[:, n, :])
                         for w, p in zip(weights, on, strict=True))
            mature = sum(w * good[:, p] for w, p in zip(weights, on, strict=True))
            learn[:, n, :] = at_age / mature[:, None]

    # own wafer capacity per node (mature-equivalent) from the fixed builds
    own = np.zeros((samples, len(node_ids), horizon))
    site_index = {sid: i for i, sid in enumerate(x.sites)}
    opex_weight = np.zeros((len(node_ids), 2))
    for row in plan.builds.itertuples():
        i = site_index[row.site]
        n = node_ids.index(x.site_node[i])
        start = x.quarters.index(Quarter.parse(row.started))
        age = ages[None, :] - start - v.lead[:, i][:, None]                     # S × T
        valid = age >= 0
        a = np.clip(age, 0, horizon - 1).astype(int)
        shares = x.capacity_by_age[i][a] * np.take_along_axis(learn[:, n, :], a, axis=1)
        own[:, n, :] += np.where(valid, row.modules * x.module_wafers_q[i] * shares, 0.0)
        opex_weight[n] += (row.modules * x.module_wafers_q[i] * x.opex_musd[i] * 1e6, row.modules * x.module_wafers_q[i])
    node_opex = np.divide(opex_weight[:, 0], opex_weight[:, 1], out=np.zeros(len(node_ids)),
                          where=opex_weight[:, 1] > 0)
    foundry_cap = np.zeros((len(node_ids), horizon))
    foundry_premium = np.zeros(len(node_ids))
    for o, node in enumerate(x.offer_node):
        n = node_ids.index(node)
        foundry_cap[n] += x.offer_cap_q[o]
        foundry_premium[n] = x.offer_price_musd[o] * 1e6 / scenario.node(node).wafer_price_usd - 1.0
    line_cap = x.line_capacity_q.copy()
    for row in plan.packaging_builds.itertuples():
        i = x.lines.index(row.line)
        online = x.quarters.index(Quarter.parse(row.online)) if Quarter.parse(row.online) in x.quarters else horizon
        line_cap[i, online:] += row.modules * x.line_module_q[i]

    demand = x.demand[None, :, :] * v.demand_scale[:, :, None]                  # S × P × T
    lag = np.round(x.cycle_q).astype(int)
    pkg_yield = v.line_yield[:, p_line]                                         # S × P
    dies_pp = x.dies_per_package[None, :]
    bank = np.zeros((samples, len(x.products), horizon + lag.max() + 2))
    delivered = np.zeros_like(demand)
    own_used = np.zeros((samples, len(node_ids), horizon))
    foundry_used = np.zeros_like(own_used)
    packages_made = np.zeros_like(demand)
    for t in range(horizon):
        # start wafers for the demand one cycle ahead
        ahead = np.array([demand[:, p, t + lag[p]] if t + lag[p] < horizon else np.zeros(samples)
                          for p in range(len(x.products))]).T                   # S × P
        need = ahead / pkg_yield * dies_pp / good                               # wafers, S × P
        for n in range(len(node_ids)):
            on = np.nonzero(p_node == n)[0]
            if not len(on):
                continue
            total = need[:, on].sum(axis=1)
            from_own = np.minimum(own[:, n, t], total)
            from_foundry = np.minimum(foundry_cap[n, t], total - from_own)
            own_used[:, n, t], foundry_used[:, n, t] = from_own, from_foundry
            share = np.divide(need[:, on], total[:, None], out=np.zeros_like(need[:, on]), where=total[:, None] > 0)
            wafers = share * (from_own + from_foundry)[:, None]
            for k, p in enumerate(on):
                bank[:, p, t + lag[p]] += wafers[:, k] * good[:, p]
        # package what the bank and the lines allow
        wanted = np.minimum(bank[:, :, t] / dies_pp, demand[:, :, t] / pkg_yield)   # packages, S × P
        for line in range(len(x.lines)):
            on = np.nonzero(p_line == line)[0]
            used = (wanted[:, on] / v.ppw[:, line][:, None]).sum(axis=1)
            scale = np.minimum(1.0, np.divide(line_cap[line, t], used, out=np.ones_like(used), where=used > 0))
            wanted[:, on] *= scale[:, None]
        packages_made[:, :, t] = wanted
        delivered[:, :, t] = wanted * pkg_yield
        leftover = bank[:, :, t] - wanted * dies_pp
        bank[:, :, t + 1] += leftover                                            # dies wait in the bank

    # money per sample and quarter (USD)
    q = money.quarterly
    revenue = (delivered * v.price[:, :, None]).sum(axis=1)
    opex = (own_used * node_opex[None, :, None]).sum(axis=1)
    foundry = (foundry_used * (v.wafer_price * (1 + foundry_premium[None, :]))[:, :, None]).sum(axis=1)
    parts = (packages_made * (x.package_cost_musd * 1e6)[None, :, None]).sum(axis=1)
    capex = (q["capex_building_usd"] + q["capex_tools_usd"] + q["packaging_capex_usd"]).to_numpy()
    credits = (q["grants_usd"] + q["itc_usd"]).to_numpy()
    taxable = revenue - opex - foundry - parts - q["depreciation_usd"].to_numpy()[None, :]
    rate = scenario.finance.tax_regimes[0].rate
    tax = np.zeros_like(taxable)
    carried = np.zeros(samples)
    for t in range(horizon):
        used = np.minimum(carried, np.maximum(taxable[:, t], 0.0))
        tax[:, t] = rate * np.maximum(taxable[:, t] - used, 0.0)
        carried = carried - used + np.maximum(-taxable[:, t], 0.0)
    flows = revenue - opex - foundry - parts - capex[None, :] + credits[None, :] - tax
    discount = x.discount[None, :]
    npv = (flows * discount).sum(axis=1) + x.residual_discount * money.metrics["terminal_book_value_usd"]

    records = {"sample": np.arange(samples), "npv_usd": npv,
               "unmet": (demand - delivered).clip(min=0).sum(axis=(1, 2))}
    for j in range(table.shape[1]):
        records[f"input_{j}"] = table[:, j]
    years = np.array([quarter.year for quarter in x.quarters])
    for year in np.unique(years):
        columns = years == year
        records[f"demand_{year}"] = demand[:, :, columns].sum(axis=(1, 2))
        records[f"delivered_{year}"] = delivered[:, :, columns].sum(axis=(1, 2))
    return pd.DataFrame(records)
