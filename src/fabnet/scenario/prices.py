"""Prices that combine sections of a scenario, each computed by one function that the planner,
finance and the fixed-plan risk model all call: what a foundry offer charges, what the fab
company charges the buyer under the offtake contract, what other customers pay for its spare
wafers, and the standard cost behind a cost-plus price. All in USD per wafer, one value per
quarter.

The price paths themselves — a node's market wafer price, an accelerator's market price, an HBM
stack's price, each a path by year with an optional decline (scenario.pricing: a node's price
falls as it matures, an accelerator's once its successor ships) — are read through
`node_prices`, `product_prices` and `hbm_prices` here (or the schema accessors they call, which
apply the decline by scenario.pricing.declined): one formula for every engine.

The price functions take optional `prices`: node id → market wafer price per quarter, with any
leading axes (the fixed-plan risk model passes one row per sample); the result then has those
axes in front.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fabnet.core.periods import Quarter
from fabnet.scenario.assets import depreciation_per_quarter_at_capacity
from fabnet.scenario.schema import Offtake, Scenario, Site, year_path

Array = npt.NDArray[np.float64]
NodePrices = dict[str, Array]


def node_prices(scenario: Scenario, periods: list[Quarter]) -> NodePrices:
    """Each node's market wafer price per quarter, as the scenario gives it."""
    return {n.id: n.wafer_price(periods) for n in scenario.nodes}


def product_prices(scenario: Scenario, periods: list[Quarter]) -> Array:
    """[product, quarter]: each product's market price per accelerator (USD)."""
    return _rows([p.market_price(periods) for p in scenario.products], periods)


def hbm_prices(scenario: Scenario, periods: list[Quarter]) -> Array:
    """[hbm, quarter]: each HBM supply's price per stack (USD)."""
    return _rows([h.price(periods) for h in scenario.hbm], periods)


def _rows(values: list[Array], periods: list[Quarter]) -> Array:
    """Stack per-entity rows ([..., quarter]) on the second-to-last axis."""
    if not values:
        return np.zeros((0, len(periods)))
    return np.stack(np.broadcast_arrays(*values), axis=-2)


def offer_prices(scenario: Scenario, periods: list[Quarter], prices: NodePrices | None = None) -> Array:
    """[..., offer, quarter]: each foundry offer's price, its node's market price × (1 + premium)."""
    prices = prices or node_prices(scenario, periods)
    return _rows([prices[o.node] * (1.0 + o.price_premium) for o in scenario.foundry_offers], periods)


def market_prices(scenario: Scenario, periods: list[Quarter], prices: NodePrices | None = None) -> Array:
    """[..., site, quarter]: the market price of a wafer of each site's node."""
    prices = prices or node_prices(scenario, periods)
    return _rows([prices[s.node] for s in scenario.sites], periods)


def spare_prices(scenario: Scenario, periods: list[Quarter], prices: NodePrices | None = None) -> Array:
    """[..., site, quarter]: what other customers pay the fab company for its spare wafers."""
    return market_prices(scenario, periods, prices) * scenario.offtake.spare_wafer_price_share


@dataclass(frozen=True)
class ContractDraws:
    """Offtake terms drawn per sample by the fixed-plan risk model (one value per sample)."""

    take_or_pay_share: Array  # [sample]
    buyer_default_q: Array  # [sample]: quarter the buyer defaults (0 = the horizon's first)


def contract_terms(
    offtake: Offtake, periods: list[Quarter], draws: ContractDraws | None = None
) -> tuple[float | Array, npt.NDArray[np.bool_]]:
    """The take-or-pay share ([..., 1, 1] with draws) and the quarters the buyer pays in
    ([..., 1, quarter]): those before it defaults (offtake.buyer_default_q, or each sample's)."""
    quarter = np.arange(len(periods))
    if draws is None:
        return offtake.take_or_pay_share, (quarter < offtake.buyer_default_q)[None]
    return draws.take_or_pay_share[:, None, None], quarter < draws.buyer_default_q[:, None, None]


def in_contract(offtake: Offtake, periods: list[Quarter]) -> npt.NDArray[np.bool_]:
    """Quarters the offtake contract covers (to its end, or all)."""
    return np.array([offtake.end is None or q <= offtake.end for q in periods], dtype=bool)


def offtake_prices(
    scenario: Scenario, periods: list[Quarter], offtake: Offtake | None = None, prices: NodePrices | None = None
) -> Array:
    """[..., site, quarter]: what the buyer pays the fab company per wafer from each site, under
    `offtake` (the scenario's contract unless given); after the contract, the market price."""
    contract = offtake or scenario.offtake
    market = market_prices(scenario, periods, prices)
    if contract.price == "indexed":
        price = market * contract.share_of_market_price
    elif contract.price == "fixed":
        fixed = contract.fixed_price_usd or {}
        price = np.broadcast_to(
            _rows([year_path(fixed[s.node], periods) for s in scenario.sites], periods), market.shape
        )
    else:
        price = np.broadcast_to(
            _rows(
                [
                    np.full(len(periods), standard_cost_per_wafer(scenario, s)) * (1.0 + contract.markup)
                    for s in scenario.sites
                ],
                periods,
            ),
            market.shape,
        )
    return np.where(in_contract(contract, periods), price, market)


def standard_cost_per_wafer(scenario: Scenario, site: Site) -> float:
    """USD per wafer of a module run at full capacity: variable opex, the operator's fee per
    wafer, fixed opex and straight-line depreciation spread over the module's wafers."""
    wafers_q = site.module_wspm * 3
    depreciation_q = depreciation_per_quarter_at_capacity(site, scenario.finance.depreciation_years)
    operator = scenario.operator(site.operator)
    fee = operator.fee_per_wafer_usd if operator else 0.0
    return site.opex_per_wafer_usd + fee + (site.fixed_opex_per_module_q_usd + depreciation_q) / wafers_q
