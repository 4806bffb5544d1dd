"""The buyer's money: the AI company that needs the accelerators. It pays the fab company for
its wafers (the offtake), foundries for reserved wafers (take-or-pay), its own chip designs and
mask sets, HBM, packaging (and packaging expansions) and bought accelerators; it values every
accelerator delivered at what it would otherwise pay on the market.

Its cost per accelerator is levelised: present value of its costs over the present value of the
accelerators delivered, at finance.discount_rate; per product, the fab company's and the
foundries' wafers are shared out by each product's share of their wafer starts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fabnet.core import results
from fabnet.finance.metrics import present_value
from fabnet.finance.tables import grid
from fabnet.scenario.prices import NodePrices, offer_prices, product_prices
from fabnet.scenario.schema import Scenario

BUYER_COSTS = (
    "fabco_wafers_usd",
    "foundry_usd",
    "design_usd",
    "masks_usd",
    "hbm_usd",
    "packaging_usd",
    "packaging_capex_usd",
    "bought_usd",
)
#: Kinds held per product (or offer) as well as per quarter.
PER_ROW = ("foundry_usd", "design_usd", "masks_usd", "hbm_usd", "packaging_usd", "bought_usd", "market_value_usd")


def per_quarter(costs: dict[str, np.ndarray], kind: str) -> np.ndarray:
    """One kind of the buyer's money per quarter ([..., quarter]), summed over its rows."""
    return costs[kind].sum(axis=-2) if kind in PER_ROW else costs[kind]


def net_value(scenario: Scenario, costs: dict[str, np.ndarray]) -> tuple[np.ndarray | float, np.ndarray | float]:
    """(present value of the accelerators at market prices, of the buyer's costs), at the
    discount rate; leading axes (samples) broadcast. Their difference is the buyer's savings
    against the market."""
    rate = scenario.finance.discount_rate
    cost = sum((per_quarter(costs, kind) for kind in BUYER_COSTS), np.zeros(()))
    return present_value(per_quarter(costs, "market_value_usd"), rate), present_value(cost, rate)


@dataclass(frozen=True)
class BuyerQuantities:
    """What the buyer gets and uses, per quarter (arrays [..., product or offer, quarter])."""

    packages: np.ndarray  # packages started, per product
    bought: np.ndarray  # accelerators bought finished, per product
    delivered: np.ndarray  # accelerators delivered (made and bought), per product
    reserved: np.ndarray  # foundry wafers reserved, per offer
    used: np.ndarray  # foundry wafers started, per offer


def quantities(scenario: Scenario, supply: pd.DataFrame, foundry: pd.DataFrame) -> BuyerQuantities:
    """A plan's supply and foundry tables as arrays."""
    products = [p.id for p in scenario.products]
    offers = scenario.offer_ids()
    quarters = [str(q) for q in scenario.horizon.periods]
    return BuyerQuantities(
        grid(supply, "product", products, quarters, "packages_started"),
        grid(supply, "product", products, quarters, "bought"),
        grid(supply, "product", products, quarters, "delivered"),
        grid(foundry, "offer", offers, quarters, "reserved"),
        grid(foundry, "offer", offers, quarters, "used"),
    )


def foundry_payments(price: np.ndarray, reserved: np.ndarray, used: np.ndarray, take_or_pay: np.ndarray) -> np.ndarray:
    """What a foundry is paid per offer and quarter: the wafers used, and the take-or-pay share
    of those reserved and not used."""
    return price * (used + take_or_pay[:, None] * np.maximum(reserved - used, 0.0))


def buyer_costs(
    scenario: Scenario,
    q: BuyerQuantities,
    fabco_wafers: np.ndarray,
    packaging_builds: pd.DataFrame,
    prices: NodePrices | None = None,
    market: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The buyer's costs per product (or offer) and quarter, by kind (USD; [..., row, quarter]),
    with what it pays the fab company (`fabco_wafers`, [..., quarter]) as given; `prices` and
    `market` (accelerator market prices, [..., product, quarter]) override the scenario's."""
    periods = scenario.horizon.periods
    horizon = len(periods)
    products = scenario.products
    offers = scenario.foundry_offers
    tp = np.array([o.take_or_pay for o in offers])
    foundry = foundry_payments(offer_prices(scenario, periods, prices), q.reserved, q.used, tp)
    design, masks = np.zeros((len(products), horizon)), np.zeros((len(products), horizon))
    stack_price = np.zeros((len(products), horizon))
    parts = np.zeros(len(products))
    for p, product in enumerate(products):
        if not product.made:
            continue
        if product.design is not None:
            design[p], masks[p] = product.design.spending_usd(periods)
        if product.hbm is not None:
            stack_price[p] = product.hbm_stacks * scenario.hbm_supply(product.hbm).price(periods)
        line = scenario.packaging_line(product.packaging)
        parts[p] = line.wafer_cost_usd / line.packages_per_wafer + product.assembly_test_cost_usd
    price = market if market is not None else market_prices(scenario)
    return {
        "fabco_wafers_usd": fabco_wafers,
        "foundry_usd": foundry,
        "design_usd": design,
        "masks_usd": masks,
        "hbm_usd": q.packages * stack_price,
        "packaging_usd": q.packages * parts[:, None],
        "packaging_capex_usd": _packaging_capex(scenario, packaging_builds),
        "bought_usd": q.bought * price,
        "market_value_usd": q.delivered * price,
    }


def market_prices(scenario: Scenario) -> np.ndarray:
    """product × quarter: each accelerator's market price."""
    return product_prices(scenario, scenario.horizon.periods)


def _packaging_capex(scenario: Scenario, builds: pd.DataFrame) -> np.ndarray:
    """Packaging expansions the buyer pays for, spread over their lead time."""
    periods = scenario.horizon.periods
    index = {str(q): i for i, q in enumerate(periods)}
    spend = np.zeros(len(periods))
    for row in builds.itertuples():
        expansion = scenario.packaging_line(row.line).expansion
        assert expansion is not None
        start = index[row.started]
        end = min(start + expansion.lead_time_q, len(periods))
        spend[start:end] += row.modules * expansion.capex_usd / expansion.lead_time_q
    return spend


@dataclass(frozen=True)
class BuyerMetrics:
    """The buyer's headline figures (present values, USD), named as the figures are
    (fabnet.core.columns labels them; the store and the report key on them)."""

    buyer_cost_usd: float
    buyer_market_value_usd: float
    buyer_savings_vs_market_usd: float
    buyer_cost_per_accelerator_usd: float | None  # None when nothing is delivered
    market_price_per_accelerator_usd: float | None  # None when nothing is delivered
    accelerators_delivered: float


@dataclass(frozen=True)
class Buyer:
    quarterly: pd.DataFrame  # core.results: buyer_quarterly
    products: pd.DataFrame  # buyer_products
    metrics: BuyerMetrics


def buyer_financials(
    scenario: Scenario,
    q: BuyerQuantities,
    fabco_wafers: np.ndarray,
    packaging_builds: pd.DataFrame,
    production: pd.DataFrame,
) -> Buyer:
    """The buyer's money for a plan, with what it pays the fab company per quarter."""
    costs = buyer_costs(scenario, q, fabco_wafers, packaging_builds)
    periods = scenario.horizon.periods
    table = pd.DataFrame({"quarter": [str(t) for t in periods], "year": [t.year for t in periods]})
    for kind in BUYER_COSTS:
        table[kind] = per_quarter(costs, kind)
    table["cost_usd"] = table[list(BUYER_COSTS)].sum(axis=1)
    table["delivered"] = q.delivered.sum(axis=0)
    table["market_value_usd"] = per_quarter(costs, "market_value_usd")
    table = results.table("buyer_quarterly").conform(table)
    units = float(present_value(table["delivered"].to_numpy(), scenario.finance.discount_rate))
    value, cost = (float(v) for v in net_value(scenario, costs))
    products = _per_product(scenario, q, costs, production)
    metrics = BuyerMetrics(
        buyer_cost_usd=cost,
        buyer_market_value_usd=value,
        buyer_savings_vs_market_usd=value - cost,
        buyer_cost_per_accelerator_usd=cost / units if units > 0 else None,
        market_price_per_accelerator_usd=value / units if units > 0 else None,
        accelerators_delivered=float(table["delivered"].sum()),
    )
    return Buyer(table, products, metrics)


def _per_product(
    scenario: Scenario, q: BuyerQuantities, costs: dict[str, np.ndarray], production: pd.DataFrame
) -> pd.DataFrame:
    """Per product: accelerators delivered, levelised cost and market price per accelerator.
    The fab company's and each foundry offer's payments are shared out by each product's share
    of their wafer starts over the horizon, packaging expansions by its share of the packages
    started (the products' costs add up to the buyer's)."""
    rate = scenario.finance.discount_rate
    ids = [p.id for p in scenario.products]
    share_fabco = _shares(production[production["kind"] == "site"], "product", ids) if len(production) else None
    packages = q.packages.sum(axis=1)
    share_packages = packages / packages.sum() if packages.sum() > 0 else np.zeros(len(ids))
    rows = []
    for p, product in enumerate(scenario.products):
        own = sum(costs[kind][p] for kind in ("design_usd", "masks_usd", "hbm_usd", "packaging_usd", "bought_usd"))
        own = own + costs["packaging_capex_usd"] * share_packages[p]
        wafers = costs["fabco_wafers_usd"] * (share_fabco[p] if share_fabco is not None else 0.0)
        for o, offer_id in enumerate(scenario.offer_ids()):
            of_offer = production[production["source"] == offer_id] if len(production) else production
            if len(of_offer):
                wafers = wafers + costs["foundry_usd"][o] * _shares(of_offer, "product", ids)[p]
        units = float(present_value(q.delivered[p], rate))
        cost = float(present_value(own + wafers, rate))
        value = float(present_value(costs["market_value_usd"][p], rate))
        rows.append(
            {
                "product": product.id,
                "kind": product.kind,
                "delivered": float(q.delivered[p].sum()),
                "cost_per_accelerator_usd": cost / units if units > 0 else float("nan"),
                "market_price_usd": value / units if units > 0 else float("nan"),
                "cost_usd": cost,
                "market_value_usd": value,
            }
        )
    return results.table("buyer_products").conform(pd.DataFrame(rows))


def _shares(rows: pd.DataFrame, key: str, ids: list[str]) -> np.ndarray:
    """Each id's share of the wafer starts in `rows` over the horizon."""
    totals = rows.groupby(key)["wafer_starts"].sum().reindex(ids).fillna(0.0).to_numpy()
    return totals / totals.sum() if totals.sum() > 0 else np.zeros(len(ids))
