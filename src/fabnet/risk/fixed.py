"""Fixed-plan risk: the base plan's builds, foundry reservations and packaging expansions stay as
they are; every sample's operations and both parties' money are recomputed with numpy over
(samples × quarters), without solving anything.

Operations follow the base plan, then a greedy rule for what differs. Each quarter and node,
the wafers each product needs are the plan's starts scaled by the sample's demand and yields;
they are started at the fab company's sites as the plan did (within each site's capacity in the
sample), then on the plan's foundry reservations (paid anyway under take-or-pay), then on spare
own capacity (shared by the sites in proportion to what each has spare), then on foundry
capacity not reserved (cheapest offer first; offers at one price share in proportion to their
capacity), and the rest goes unmet. A site whose cycle time depends on its load clears its
queue by its clearing function, as the planner's rows allow at most (which the plan, with its
cost of queued wafers, also does). Dies reach a die bank after the fab's and the packaging's
cycle time (core.periods.delayed), and packages are made from the bank up to the quarter's
demand, the packaging lines' and the HBM's capacity. Bought products are bought as the plan
bought them, scaled by the sample's demand, up to the vendor's supply. A sample that changes
nothing gives the plan's own operations.

Money comes from the same functions as the plan's (finance.fabco: the fab company's revenue,
opex, tax and NPV; finance.buyer: the buyer's costs and market value), so a neutral sample
reports the plan's fab company NPV. Construction, grants, credits and depreciation keep the
base plan's timing even where a lead time moves (output and fixed opex move with it).

Supported inputs (PATHS; anything else is refused with a message to use --reoptimise): a
product's demand (multiply) or market price; a site's lead time; a node's market wafer price,
ramp or mature D0 or learning rate; a packaging line's packages per wafer or yield; the
offtake's take-or-pay share; a foundry offer's cap and an HBM supply's stacks (multiply: the
plan's reservations are held up to the sampled cap, HBM limits packaging as in the plan); the
quarter the buyer defaults (`offtake.buyer_default_q`, drawn with `dist: hazard`).

A buyer that defaults in quarter d pays nothing from d on, wafers or take-or-pay
(finance.fabco.wafer_payments); the fab company keeps the plan's starts (their opex is spent)
and sells the wafers made for the buyer that leave its fabs from d on to other customers at the
spare price where `offtake.spare_wafers_to_market`, else not at all; those wafers no longer
reach the buyer, whose deliveries fall accordingly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fabnet.core import results
from fabnet.core.periods import Quarter, delayed
from fabnet.finance.buyer import BuyerQuantities, buyer_costs, market_prices, net_value
from fabnet.finance.fabco import (
    Operations,
    capital_flows,
    end_of_horizon,
    fabco_npv,
    operating_flows,
    paid_by_buyer,
    project_flows,
)
from fabnet.finance.tables import capacity_builds, grid
from fabnet.network import (
    PlanInputs,
    capacity_from_builds,
    good_dies_per_wafer,
    made_on,
    prepare,
    site_d0,
    site_learning,
)
from fabnet.network.dies import ArrayLike
from fabnet.plan import Plan, modules_built
from fabnet.scenario.prices import ContractDraws, node_prices, offer_prices
from fabnet.scenario.schema import Scenario, Uncertain

#: Wafers below this are rounding, not use.
EPS = 1e-9


class Unsupported(ValueError):
    pass


@dataclass(frozen=True)
class _Path:
    """An uncertain input the fixed-plan model takes: the paths it matches (`id` names an entry
    of `section`, none for a single number), the `_Inputs` field its draws change (one column
    per entry), and whether it takes draws only as multipliers (a path by quarter or year)."""

    pattern: str
    field: str
    section: str | None
    multiply_only: bool = False


#: Every input the fixed-plan model can vary; a new one is a line here and a field of _Inputs.
PATHS = (
    _Path(r"products\.(?P<id>[^.]+)\.demand(\..*)?", "demand_scale", "products", multiply_only=True),
    _Path(r"products\.(?P<id>[^.]+)\.market_price_usd", "market", "products"),
    _Path(r"sites\.(?P<id>[^.]+)\.lead_time_q", "lead", "sites"),
    _Path(r"nodes\.(?P<id>[^.]+)\.wafer_price_usd", "wafer_price", "nodes"),
    _Path(r"nodes\.(?P<id>[^.]+)\.defect_density\.ramp_per_cm2", "ramp_per_cm2", "nodes"),
    _Path(r"nodes\.(?P<id>[^.]+)\.defect_density\.mature_per_cm2", "mature_per_cm2", "nodes"),
    _Path(r"nodes\.(?P<id>[^.]+)\.defect_density\.learning_rate_per_q", "learning_rate_per_q", "nodes"),
    _Path(r"packaging\.(?P<id>[^.]+)\.packages_per_wafer", "ppw", "packaging"),
    _Path(r"packaging\.(?P<id>[^.]+)\.yield", "line_yield", "packaging"),
    _Path(r"offtake\.take_or_pay_share", "take_or_pay", None),
    _Path(r"offtake\.buyer_default_q", "default_q", None),
    _Path(r"foundry_offers\.(?P<id>[^.]+)\.max_wafers_per_month", "offer_cap", "foundry_offers", multiply_only=True),
    _Path(r"hbm\.(?P<id>[^.]+)\.stacks_per_quarter", "hbm_supply", "hbm", multiply_only=True),
)


@dataclass
class _Inputs:
    """Per-sample parameters, each an array with samples first, then the entries of its section."""

    demand_scale: np.ndarray  # S × P
    market: np.ndarray  # S × P × T (USD per accelerator)
    lead: np.ndarray  # S × sites
    wafer_price: np.ndarray  # S × nodes × T (USD)
    ramp_per_cm2: np.ndarray  # S × nodes
    mature_per_cm2: np.ndarray  # S × nodes
    learning_rate_per_q: np.ndarray  # S × nodes
    ppw: np.ndarray  # S × lines
    line_yield: np.ndarray  # S × lines
    take_or_pay: np.ndarray  # S × 1: the offtake's take-or-pay share
    default_q: np.ndarray  # S × 1: quarter the buyer defaults (0 = the first; beyond the horizon: never)
    offer_cap: np.ndarray  # S × offers: multiplier of each foundry offer's cap
    hbm_supply: np.ndarray  # S × memories: multiplier of each HBM supply's stacks

    def node_prices(self, scenario: Scenario) -> dict[str, np.ndarray]:
        """Node id → S × T market wafer prices, as scenario.prices takes them."""
        return {n.id: self.wafer_price[:, k] for k, n in enumerate(scenario.nodes)}

    def d0(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Node n's (ramp, mature, learning rate) per sample, each S × 1."""
        return self.ramp_per_cm2[:, n, None], self.mature_per_cm2[:, n, None], self.learning_rate_per_q[:, n, None]

    def contract(self) -> ContractDraws:
        return ContractDraws(self.take_or_pay[:, 0], self.default_q[:, 0])


def _changed(base: np.ndarray, how: str, values: np.ndarray) -> np.ndarray:
    """`base` (broadcast against the samples' `values`) multiplied, added to or replaced."""
    if how == "multiply":
        return base * values
    if how == "add":
        return base + values
    return np.broadcast_to(values, np.broadcast_shapes(np.shape(base), np.shape(values))).astype(float)


def _section_ids(scenario: Scenario, section: str) -> list[str]:
    if section == "foundry_offers":
        return scenario.offer_ids()
    return [str(item.id) for item in getattr(scenario, section)]


def sample_inputs(scenario: Scenario, table: np.ndarray) -> _Inputs:
    s = len(table)
    periods = scenario.horizon.periods
    products, sites = scenario.products, scenario.sites
    nodes, lines = scenario.nodes, scenario.packaging

    def tile(values: list[float] | np.ndarray) -> np.ndarray:
        return np.tile(np.asarray(values, dtype=float), (s,) + (1,) * np.ndim(values))

    prices = node_prices(scenario, periods)
    out = _Inputs(
        demand_scale=np.ones((s, len(products))),
        market=tile(market_prices(scenario)),
        lead=tile([x.lead_time_q for x in sites]),
        wafer_price=tile(np.array([prices[n.id] for n in nodes]).reshape(len(nodes), len(periods))),
        ramp_per_cm2=tile([n.defect_density.ramp_per_cm2 for n in nodes]),
        mature_per_cm2=tile([n.defect_density.mature_per_cm2 for n in nodes]),
        learning_rate_per_q=tile([n.defect_density.learning_rate_per_q for n in nodes]),
        ppw=tile([x.packages_per_wafer for x in lines]),
        line_yield=tile([x.yield_ for x in lines]),
        take_or_pay=tile([scenario.offtake.take_or_pay_share]),
        default_q=tile([scenario.offtake.buyer_default_q]),
        offer_cap=np.ones((s, len(scenario.foundry_offers))),
        hbm_supply=np.ones((s, len(scenario.hbm))),
    )
    for j, entry in enumerate(scenario.uncertainty):
        _apply(scenario, out, entry, table[:, j])
    out.lead = np.round(out.lead)
    return out


def _apply(scenario: Scenario, out: _Inputs, entry: Uncertain, values: np.ndarray) -> None:
    for path in PATHS:
        match = re.fullmatch(path.pattern, entry.path)
        if match is None:
            continue
        if path.multiply_only and entry.apply != "multiply":
            raise Unsupported(f"{entry.path}: fixed-plan risk takes this input only as a multiplier (apply: multiply)")
        column = 0 if path.section is None else _index(_section_ids(scenario, path.section), match.group("id"), entry)
        target = getattr(out, path.field)
        drawn = values[:, None] if target.ndim == 3 else values
        target[:, column] = _changed(target[:, column], entry.apply, drawn)
        return
    raise Unsupported(
        f"{entry.path}: fixed-plan risk cannot vary this input (it varies those of risk.fixed.PATHS "
        "on the plan held); plan each sample anew: use --reoptimise"
    )


def _index(ids: list[str], ident: str, entry: Uncertain) -> int:
    if ident not in ids:
        raise Unsupported(f"{entry.path}: no entry {ident!r}")
    return ids.index(ident)


def _planned(plan: Plan, x: PlanInputs, kind: str, ids: list[str]) -> np.ndarray:
    """Planned wafer starts (mature-equivalent) per source × product × quarter."""
    starts = np.zeros((len(ids), len(x.products), x.horizon))
    rows = plan.production[plan.production["kind"] == kind]
    quarter = {str(q): t for t, q in enumerate(x.quarters)}
    for row in rows.itertuples():
        starts[ids.index(row.source), x.products.index(row.product), quarter[row.quarter]] = row.wafer_starts
    return starts


@dataclass(frozen=True)
class HeldOperations:
    """The base plan's operations in every sample (samples first): what the fixed-plan model
    computes before the money, and what a held plan's check simulates (risk.held)."""

    x: PlanInputs
    v: _Inputs
    capacity: np.ndarray  # S × sites × T: real wafers
    effective: np.ndarray  # S × sites × T: mature-equivalent wafers
    online: np.ndarray  # S × sites × T: modules
    staffed: np.ndarray  # S × sites × T: modules paying fixed opex (online or pre-operating)
    own: np.ndarray  # S × sites × P × T: the buyer's wafer starts (mature-equivalent)
    spare: np.ndarray  # S × sites × T: starts for other customers
    leaving: np.ndarray  # S × sites × P × T: the buyer's wafers entering the unloaded cycle time
    reserved: np.ndarray  # S × offers × T
    bought_wafers: np.ndarray  # S × offers × P × T: foundry wafers used
    demand: np.ndarray  # S × P × T
    packages: np.ndarray  # S × P × T
    bought: np.ndarray  # S × P × T: accelerators bought
    delivered: np.ndarray  # S × P × T


def held_operations(scenario: Scenario, plan: Plan, table: np.ndarray) -> HeldOperations:
    """The base plan's operations under every sample row of `table` (see the module's note)."""
    x = prepare(scenario, plan.cycle_time)
    v = sample_inputs(scenario, table)
    prices = v.node_prices(scenario)
    samples = len(table)
    quarters = [str(q) for q in x.quarters]
    made = np.nonzero(x.made)[0]

    # good dies per wafer at mature yield, per sample and product
    good = np.zeros((samples, len(x.products)))
    mature = dict(zip([n.id for n in scenario.nodes], v.mature_per_cm2.T, strict=True))
    for p in made:
        product = scenario.products[p]
        node = made_on(scenario, product)
        # a sampled D0 may leave (almost) no good die; the need then is huge, not a division by zero
        good[:, p] = np.maximum(good_dies_per_wafer(product, node, mature[node.id]), EPS)
    pkg_yield = np.ones((samples, len(x.products)))  # S × P
    for p in made:
        pkg_yield[:, p] = np.maximum(v.line_yield[:, x.lines.index(x.product_line[p])], EPS)

    # the fab company's capacity from the fixed builds, with the samples' lead times and learning
    capacity, effective, online, staffed = _capacity(scenario, plan, x, v)
    saturation = np.array([1.0 if c is None else c.saturation for c in x.site_curve])

    # wafer need: the plan's starts scaled by demand and yield, per product
    ratio = np.ones((samples, len(x.products)))
    ratio[:, made] = (
        v.demand_scale[:, made]
        * (x.good_dies_per_wafer[made] / good[:, made])
        * (x.packaging_yield[made] / pkg_yield[:, made])
    )
    own_plan = _planned(plan, x, "site", x.sites)  # sites × P × T
    foundry_plan = _planned(plan, x, "foundry", x.offers)  # offers × P × T
    # each offer's cap in the sample; the plan's reservations up to it
    offer_cap = x.offer_cap_q[None] * v.offer_cap[:, :, None]  # S × offers × T
    reserved = np.minimum(grid(plan.foundry, "offer", x.offers, quarters, "reserved")[None], offer_cap)
    offer_price = offer_prices(scenario, x.quarters, prices)  # S × offers × T
    own, bought_wafers = _allocate(
        x, ratio, own_plan, foundry_plan, reserved, effective * saturation[:, None], offer_price, offer_cap
    )
    spare = np.minimum(
        grid(plan.capacity, "site", x.sites, quarters, "spare_starts")[None],
        np.maximum(effective * saturation[:, None] - own.sum(axis=2), 0.0),
    )
    # what leaves the fabs: cleared through the queue where the cycle time depends on load
    leaving = _cleared(x, own, spare, effective)  # S × sites × P × T

    # the buyer: dies → bank → packages
    demand = x.demand[None] * v.demand_scale[:, :, None]  # S × P × T
    entering = (leaving * _buyer_takes(x, v)[:, :, None, :]).sum(axis=1) + bought_wafers.sum(axis=1)  # S × P × T
    bought = np.minimum(
        grid(plan.supply, "product", x.products, quarters, "bought")[None] * v.demand_scale[:, :, None],
        x.bought_cap[None],
    )
    packages = _package(plan, x, v, entering, good, demand, pkg_yield)
    delivered = packages * pkg_yield[:, :, None] + bought
    return HeldOperations(
        x,
        v,
        capacity,
        effective,
        online,
        staffed,
        own,
        spare,
        leaving,
        reserved,
        bought_wafers,
        demand,
        packages,
        bought,
        delivered,
    )


def evaluate_fixed(scenario: Scenario, plan: Plan, table: np.ndarray) -> pd.DataFrame:
    """Outcomes of the base plan under every sample row of `table` (one row per sample)."""
    held = held_operations(scenario, plan, table)
    x, v = held.x, held.v
    prices = v.node_prices(scenario)
    samples = len(table)
    real = np.divide(held.capacity, held.effective, out=np.ones_like(held.capacity), where=held.effective > EPS)
    ops = Operations(
        real_starts=(held.own.sum(axis=2) + held.spare) * real,
        wafers_out=_out_of_fab(x, held.leaving.sum(axis=2) * real),
        spare_out=_out_of_fab(x, held.spare * real),
        capacity_out=_out_of_fab(x, held.capacity),
        modules_staffed=held.staffed,
    )
    contract = v.contract()
    operating = operating_flows(scenario, ops, prices=prices, draws=contract)
    capital = capital_flows(scenario, plan.builds)
    project = project_flows(scenario, operating, capital)
    _, terminal = end_of_horizon(scenario, ops, capital, prices=prices, draws=contract)
    npv = fabco_npv(scenario, project["project_fcf_usd"], terminal)

    # what the buyer's deliveries cost
    quantities = BuyerQuantities(
        packages=held.packages,
        bought=held.bought,
        delivered=held.delivered,
        reserved=held.reserved,
        used=held.bought_wafers.sum(axis=2),
    )
    costs = buyer_costs(scenario, quantities, paid_by_buyer(operating), plan.packaging_builds, prices, v.market)
    value, cost = net_value(scenario, costs)
    demand, delivered = held.demand, held.delivered
    records = {
        "sample": np.arange(samples),
        "fabco_npv_usd": npv,
        "buyer_net_usd": value - cost,
        "modules_built": np.full(samples, modules_built(plan.builds)),  # the plan's, held
        "unmet": (demand - delivered).clip(min=0).sum(axis=(1, 2)),
    }
    for j in range(table.shape[1]):
        records[f"input_{j}"] = table[:, j]
    years = np.array([quarter.year for quarter in x.quarters])
    for year in np.unique(years):
        columns = years == year
        records[f"demand_{year}"] = demand[:, :, columns].sum(axis=(1, 2))
        records[f"delivered_{year}"] = delivered[:, :, columns].sum(axis=(1, 2))
    return results.table("risk_samples").conform(pd.DataFrame(records))


def _buyer_takes(x: PlanInputs, v: _Inputs) -> np.ndarray:
    """S × sites × T: whether wafers entering a site's cycle in a quarter reach the buyer: those
    that leave the fab (its raw cycle time later) before the quarter the buyer defaults."""
    leaves = np.arange(x.horizon)[None, None, :] + np.asarray(x.site_cycle_q, dtype=float)[None, :, None]
    return leaves < v.default_q[:, :, None]


def _out_of_fab(x: PlanInputs, entering: np.ndarray) -> np.ndarray:
    """Wafers (samples × sites × quarters) leaving each site's fab its raw cycle time later."""
    if not x.sites:
        return np.zeros_like(entering)
    return np.stack([delayed(entering[:, i], x.site_cycle_q[i]) for i in range(len(x.sites))], axis=1)


def _capacity(scenario: Scenario, plan: Plan, x: PlanInputs, v: _Inputs) -> tuple[np.ndarray, ...]:
    """(capacity, mature-equivalent capacity, modules online, modules staffed) per sample × site ×
    quarter."""
    samples = len(v.lead)
    if not x.sites:
        empty = np.zeros((samples, 0, x.horizon))
        return empty, empty, empty, empty
    node_ids = [n.id for n in scenario.nodes]
    learning = np.stack(
        [_site_learning(scenario, i, x, v, node_ids.index(site.node)) for i, site in enumerate(scenario.sites)], axis=1
    )  # S × sites × ages
    builds = [
        (x.sites.index(row.site), x.quarters.index(Quarter.parse(row.started)), float(row.modules))
        for row in capacity_builds(plan.builds).itertuples()
    ]
    # a sampled delay of a site's construction delays each of its capacity units as much
    # (a tool set in a shell already built too: a conservative reading)
    nominal_lead = np.array([s.lead_time_q for s in scenario.sites])
    lead = (x.lead_q + v.lead - nominal_lead).astype(int)
    nominal = x.capacity_by_age * x.unit_wafers_q[:, None]
    capacity = capacity_from_builds(builds, lead, np.broadcast_to(nominal, learning.shape), x.horizon, x.parent)
    effective = capacity_from_builds(builds, lead, nominal * learning, x.horizon, x.parent)
    units = np.ones_like(learning) * x.unit_share[:, None]
    online = capacity_from_builds(builds, lead, units, x.horizon, x.parent)
    # a delay moves the pre-operating quarters with the first wafer (Asset.staffed_q's floor kept)
    staffed = capacity_from_builds(builds, np.maximum(lead - (x.lead_q - x.staffed_q), 0), units, x.horizon, x.parent)
    return capacity, effective, online, staffed


def _site_learning(scenario: Scenario, i: int, x: PlanInputs, v: _Inputs, n: int) -> np.ndarray:
    """A site's learning factor per sample and age: the node's sampled D0, with an operator's
    ramp D0 and learning rate where it has its own."""
    site = scenario.sites[i]
    ramp, mature, rate = site_d0(site, scenario, v.d0(n))
    shape = np.shape(mature)  # S × 1: the mature D0 is always the node's, sampled
    d0 = (_broadcast(ramp, shape), _broadcast(mature, shape), _broadcast(rate, shape))
    return site_learning(scenario, site, x.demand, x.horizon, d0)


def _broadcast(d: ArrayLike, shape: tuple[int, ...]) -> np.ndarray:
    return np.broadcast_to(np.asarray(d, dtype=float), shape)


def _allocate(
    x: PlanInputs,
    ratio: np.ndarray,
    own_plan: np.ndarray,
    foundry_plan: np.ndarray,
    reserved: np.ndarray,
    cap: np.ndarray,
    offer_price: np.ndarray,
    offer_cap: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Wafer starts per sample: own (S × sites × P × T) and foundry (S × offers × P × T)."""
    own = own_plan[None] * ratio[:, None, :, None]  # as planned, scaled
    total = own.sum(axis=2)
    own *= np.minimum(1.0, np.divide(cap, total, out=np.ones_like(total), where=total > EPS))[:, :, None, :]
    foundry = foundry_plan[None] * ratio[:, None, :, None]
    used = foundry.sum(axis=2)
    foundry *= np.minimum(1.0, np.divide(reserved, used, out=np.ones_like(used), where=used > EPS))[:, :, None, :]
    need = (own_plan.sum(axis=0)[None] + foundry_plan.sum(axis=0)[None]) * ratio[:, :, None]  # S × P × T
    short = np.maximum(need - own.sum(axis=1) - foundry.sum(axis=1), 0.0)
    for node in dict.fromkeys(n for n, m in zip(x.product_node, x.made, strict=True) if m):
        on = np.array([p == node for p in x.product_node])
        sites = np.array([s == node for s in x.site_node], dtype=bool)
        offers = np.array([o == node for o in x.offer_node], dtype=bool)
        products = np.nonzero(on)[0][None, :]
        wanted = short[:, on]  # S × P_n × T
        at_sites = np.nonzero(sites)[0][:, None]
        spare = np.maximum(cap[:, sites] - own[:, sites].sum(axis=2), 0.0)  # S × sites_n × T
        extra = _share(wanted, spare)
        own[:, at_sites, products, :] += extra
        wanted = wanted - extra.sum(axis=1)
        if not offers.any():
            continue
        at_offers = np.nonzero(offers)[0][:, None]
        free = np.maximum(offer_cap[:, offers] - foundry[:, offers].sum(axis=2), 0.0)
        prices = offer_price[:, offers]  # S × offers_n × T
        done = np.zeros(prices.shape, dtype=bool)
        for level in np.sort(prices, axis=1).transpose(1, 0, 2):  # cheapest first; one price shares
            at_level = np.isclose(prices, level[:, None, :]) & ~done
            extra = _share(wanted, free * at_level)
            foundry[:, at_offers, products, :] += extra
            wanted = wanted - extra.sum(axis=1)
            done |= at_level
    return own, foundry


def _share(wanted: np.ndarray, room: np.ndarray) -> np.ndarray:
    """Fill `wanted` (S × P × T) from `room` (S × R × T), each source giving in proportion to its
    room, products in proportion to what they want: S × R × P × T."""
    total_room = room.sum(axis=1)  # S × T
    total_wanted = wanted.sum(axis=1)  # S × T
    given = np.minimum(total_room, total_wanted)
    from_source = np.divide(room, total_room[:, None], out=np.zeros_like(room), where=total_room[:, None] > EPS)
    to_product = np.divide(wanted, total_wanted[:, None], out=np.zeros_like(wanted), where=total_wanted[:, None] > EPS)
    return given[:, None, None, :] * from_source[:, :, None, :] * to_product[:, None, :, :]


def _cleared(x: PlanInputs, own: np.ndarray, spare: np.ndarray, effective: np.ndarray) -> np.ndarray:
    """Wafers per sample, site, product and quarter entering the unloaded cycle time: the
    starts, or, where the cycle time depends on load, what the queue clears (the most the
    clearing function allows; products in proportion to what waits)."""
    out = own.copy()
    for i, clearing in enumerate(x.site_clearing):
        if clearing is None:
            continue
        queue = np.zeros(own.shape[:1] + own.shape[2:3])  # S × P
        for t in range(x.horizon):
            waiting = queue + own[:, i, :, t]
            available = waiting.sum(axis=1) + spare[:, i, t]
            most = clearing.cleared(available, effective[:, i, t])
            through = np.clip(np.minimum(available, most) - spare[:, i, t], 0.0, None)
            share = np.divide(through, waiting.sum(axis=1), out=np.zeros_like(through), where=waiting.sum(axis=1) > EPS)
            out[:, i, :, t] = waiting * np.minimum(share, 1.0)[:, None]
            queue = waiting - out[:, i, :, t]
    return out


def _package(
    plan: Plan,
    x: PlanInputs,
    v: _Inputs,
    entering: np.ndarray,
    good: np.ndarray,
    demand: np.ndarray,
    pkg_yield: np.ndarray,
) -> np.ndarray:
    """Packages started per sample, product and quarter: dies ready (delayed by the fab's and
    the packaging's cycle time) wait in a bank and are packaged up to the demand, the lines'
    capacity (with the plan's expansions) and the HBM available."""
    samples = len(demand)
    packages = np.zeros_like(demand)
    ready = np.zeros_like(demand)
    for p in np.nonzero(x.made)[0]:
        ready[:, p] = delayed(entering[:, p] * good[:, p, None], x.cycle_q[p])
    line_cap = grid(plan.packaging, "line", x.lines, [str(q) for q in x.quarters], "capacity_wafers")
    bank = np.zeros((samples, len(x.products)))
    dies = x.dies_per_package[None]
    for t in range(x.horizon):
        bank = bank + ready[:, :, t]
        wanted = np.where(x.made[None], np.minimum(bank / dies, demand[:, :, t] / pkg_yield), 0.0)
        for line in range(len(x.lines)):
            on = np.array([pl == x.lines[line] for pl in x.product_line])
            used = (wanted[:, on] / v.ppw[:, line][:, None]).sum(axis=1)
            scale = np.minimum(1.0, np.divide(line_cap[line, t], used, out=np.ones_like(used), where=used > EPS))
            wanted[:, on] *= scale[:, None]
        for h in range(len(x.memories)):
            on = x.product_hbm == h
            used = (wanted[:, on] * x.hbm_stacks[on]).sum(axis=1)
            stacks = x.hbm_cap[h, t] * v.hbm_supply[:, h]
            scale = np.minimum(1.0, np.divide(stacks, used, out=np.ones_like(used), where=used > EPS))
            wanted[:, on] *= scale[:, None]
        packages[:, :, t] = wanted
        bank = bank - wanted * dies
    return packages
