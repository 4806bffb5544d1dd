"""The deal between the fab company's investors and the buyer: the offtake price range that
serves both.

For one plan (its builds and operations held), the offtake price is swept as a share of the
market wafer price (an indexed contract): at each price, each investor's IRR and multiple, the
fab company's NPV, and the buyer's gain against the foundry route (its market value less its
costs, with the network, against the same without any fab of its own — the counterfactual).
The range's low end is the lowest price at which every investor whose money is called clears
its hurdle; its high end the highest at which the buyer still gains. Both ends are found by
bisection to a thousandth of a per cent of the market price, between 0 and MOST_SHARE, starting
from the narrowest bracket the swept prices leave (the tests turn once as the price grows): a
high end at MOST_SHARE is the search's limit, not an answer (`Deal.high_at_limit`), and says so.

`contract_messages` is the one rule for what a run says about the contract itself: where its
price lies outside the deal range, and which investor misses its hurdle under it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fabnet.core import results
from fabnet.core.format import percent, usd
from fabnet.finance import Financials, PlanTables, Pricing
from fabnet.finance.fabco import wafer_payments
from fabnet.scenario.schema import Offtake, Scenario

#: Shares of the market wafer price swept by default.
DEFAULT_SHARES = tuple(np.round(np.arange(0.2, 1.51, 0.1), 2))
#: Both ends of the range are searched for up to this share of the market price (an absolute
#: bound, whatever the sweep shown): beyond it the deal is called impossible, or the high end
#: "beyond" it.
MOST_SHARE = 5.0
TOLERANCE = 1e-5


@dataclass(frozen=True)
class Deal:
    points: pd.DataFrame  # core.results: deal_points
    investors: pd.DataFrame  # deal_investors
    low: float | None  # share of the market price from which every investor clears its hurdle
    high: float | None  # share up to which the buyer gains against the foundry route
    market_price_usd: float  # average market price of the fab company's wafers (weighted by output)
    verdict: str
    #: the scenario's own offtake contract: what it pays for the plan's wafers as a share of
    #: their market price (None without wafers)
    contract_share: float | None = None

    @property
    def exists(self) -> bool:
        return self.low is not None and self.high is not None and self.low <= self.high

    @property
    def high_at_limit(self) -> bool:
        """The high end is the search's upper bound (MOST_SHARE): the buyer gains at least up to it."""
        return self.high is not None and self.high >= MOST_SHARE

    @classmethod
    def stored(cls, tables: Mapping[str, pd.DataFrame]) -> Deal:
        """A stored run's deal, from its tables deal_points, deal_investors and deal_range."""
        bounds = tables["deal_range"].iloc[0]

        def share(value: Any) -> float | None:
            return None if pd.isna(value) else float(value)

        return cls(
            tables["deal_points"],
            tables["deal_investors"],
            share(bounds["low_share"]),
            share(bounds["high_share"]),
            float(bounds["market_price_usd"]),
            str(bounds["verdict"]),
            share(bounds["contract_share"]),
        )

    def to_dict(self) -> dict[str, Any]:
        """The deal as one document, each table a list of rows: what `fabnet deal --json` prints
        (fabnet.api.json_text), so the CLI and Python see one shape."""
        return {
            "low_share": self.low,
            "high_share": self.high,
            "high_is_search_limit": self.high_at_limit,
            "contract_share": self.contract_share,
            "exists": self.exists,
            "market_price_usd": self.market_price_usd,
            "verdict": self.verdict,
            "points": self.points.to_dict("records"),
            "investors": self.investors.to_dict("records"),
        }


def indexed(scenario: Scenario, share: float) -> Offtake:
    """The scenario's offtake contract with its price indexed at `share` of the market price."""
    return scenario.offtake.model_copy(update={"price": "indexed", "share_of_market_price": float(share)})


def make_deal(
    scenario: Scenario, tables: PlanTables, foundry_route: Financials, shares: tuple[float, ...] = DEFAULT_SHARES
) -> Deal:
    """Sweep the offtake price over `shares` of the market price for the plan of `tables`;
    `foundry_route` is the same scenario's money without any fab (the counterfactual)."""
    return sweep_deal(scenario, tables, _net(foundry_route), shares)


def sweep_deal(
    scenario: Scenario, tables: PlanTables, route_net: float, shares: tuple[float, ...] = DEFAULT_SHARES
) -> Deal:
    """make_deal, given only what the foundry route leaves the buyer (`route_net`, its market
    value less its costs, present value): all of the route the deal reads, so a stored run's
    deal can be swept again without its counterfactual plan."""
    pricing = Pricing(scenario, tables)
    ops = pricing.ops
    out = ops.wafers_out.sum()
    at_market = float(wafer_payments(scenario, ops, indexed(scenario, 1.0))["wafers"].sum())
    market = at_market / out if out > 0 else float("nan")
    contract = float(wafer_payments(scenario, ops)["wafers"].sum()) / at_market if at_market > 0 else None

    financed: dict[float, Financials] = {}  # the verdict asks again for prices the search tried

    def at(share: float) -> Financials:
        if share not in financed:
            financed[share] = pricing.financials(indexed(scenario, share))
        return financed[share]

    rows, investor_rows = [], []
    for share in shares:
        money = at(share)
        rows.append(
            {
                "share_of_market": share,
                "price_per_wafer_usd": share * market,
                "fabco_npv_usd": money.fabco.metrics.fabco_npv_usd,
                "fabco_irr": money.fabco.metrics.fabco_irr,
                "buyer_gain_usd": network_gains(money, route_net)["network_adds_buyer_gain_usd"],
                "investors_clear": _all_clear(money),
            }
        )
        for row in money.fabco.investors.itertuples():
            investor_rows.append(
                {
                    "share_of_market": share,
                    "investor": row.investor,
                    "irr": row.irr,
                    "multiple": row.multiple,
                    "hurdle": row.hurdle,
                    "cleared": row.clears_hurdle,
                }
            )
    points = results.table("deal_points").conform(pd.DataFrame(rows))
    investors = results.table("deal_investors").conform(pd.DataFrame(investor_rows))
    if out <= 0:
        return Deal(
            points,
            investors,
            None,
            None,
            market,
            "No deal to strike: the plan builds no fab, so the fab company sells no wafers.",
            contract,
        )
    low = _first_true(lambda k: _all_clear(at(k)), *_bracket(points["share_of_market"], points["investors_clear"]))

    def gain(share: float) -> float:
        # the buyer's side alone: the search for the high end needs no investor
        return pricing.buyer_savings(indexed(scenario, share)) - route_net

    gains = points["buyer_gain_usd"] < 0.0
    high = _last_true(lambda k: gain(k) >= 0.0, *_bracket(points["share_of_market"], gains))
    verdict = _verdict(at, gain, low, high, market, scenario.funding.shown_names())
    return Deal(points, investors, low, high, market, verdict, contract)


def contract_messages(money: Financials, deal: Deal | None = None, who: Mapping[str, str] | None = None) -> list[str]:
    """What a run says about its own offtake contract: each investor whose money is called and
    who misses its hurdle under it (its IRR and hurdle), and, with the deal, a contract price
    below the deal's low end (some investor misses its hurdle) or above its high end (the buyer
    would do better on the foundry route)."""
    notes = []
    if deal is not None and deal.contract_share is not None:
        share, market = deal.contract_share, deal.market_price_usd

        def price(k: float) -> str:
            return f"{usd(k * market)} a wafer ({percent(k)} of the market price)"

        if deal.low is not None and share < deal.low - TOLERANCE:
            notes.append(
                f"The offtake contract pays {price(share)}, below the deal's low end of {price(deal.low)}: "
                "at it, not every investor clears its hurdle."
            )
        if deal.high is not None and share > deal.high + TOLERANCE:
            notes.append(
                f"The offtake contract pays {price(share)}, above the deal's high end of {price(deal.high)}: "
                "at it, the buyer does better with the foundry route."
            )
    investors = money.fabco.investors
    for row in investors[(investors["called_usd"] > 0) & ~investors["clears_hurdle"].astype(bool)].itertuples():
        earned = "no IRR (its cash flows never change sign)" if _missing(row.irr) else f"an IRR of {percent(row.irr)}"
        name = (who or {}).get(row.investor, row.investor)
        notes.append(
            f"{name} misses its hurdle under the offtake contract: it earns {earned}, "
            f"below its hurdle of {percent(row.hurdle)}."
        )
    return notes


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def network_gains(money: Financials, route_net: float) -> dict[str, float]:
    """What the network adds in money: the buyer's gain against the foundry route, which leaves
    the buyer `route_net` (market value less costs, present value), and the system's value."""
    gain = money.buyer.metrics.buyer_savings_vs_market_usd - route_net
    return {
        "network_adds_buyer_gain_usd": gain,
        "network_adds_system_value_usd": gain + money.fabco.metrics.fabco_npv_usd,
    }


def _net(money: Financials) -> float:
    """What the buyer comes out with: market value of its accelerators less their cost (PV)."""
    return money.buyer.metrics.buyer_savings_vs_market_usd


def _all_clear(money: Financials) -> bool:
    called = money.fabco.investors[money.fabco.investors["called_usd"] > 0]
    return bool(len(called)) and bool(called["clears_hurdle"].all())


def _bracket(shares: pd.Series, flags: pd.Series) -> tuple[float, float]:
    """The narrowest [lo, hi] within [0, MOST_SHARE] in which a test that turns from false to
    true as the share grows turns, as far as the swept `shares` (with the test's `flags`) show."""
    lo, hi = 0.0, MOST_SHARE
    for share, flag in sorted(zip(shares.astype(float), flags.astype(bool), strict=True)):
        if not 0.0 <= share <= MOST_SHARE:
            continue
        if flag:
            return lo, share
        lo = share
    return lo, hi


def _first_true(test: Callable[[float], bool], lo: float, hi: float) -> float | None:
    """Smallest share in [lo, hi] where a test that turns true as the share grows is true."""
    if test(lo):
        return lo
    if not test(hi):
        return None
    while hi - lo > TOLERANCE:
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if test(mid) else (mid, hi)
    return hi


def _last_true(test: Callable[[float], bool], lo: float, hi: float) -> float | None:
    """Largest share in [lo, hi] where a test that turns false as the share grows is true."""
    if not test(lo):
        return None
    if test(hi):
        return hi
    while hi - lo > TOLERANCE:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if test(mid) else (lo, mid)
    return lo


def _verdict(
    at: Callable[[float], Financials],
    gain: Callable[[float], float],
    low: float | None,
    high: float | None,
    market: float,
    who: Mapping[str, str],
) -> str:
    """The deal in a sentence; `who` names the investors (Funding.shown_names)."""

    def price(share: float) -> str:
        return f"{usd(share * market)} a wafer ({percent(share, 0)} of the market price)"

    if low is None:
        investors = at(MOST_SHARE).fabco.investors
        short = investors[(investors["called_usd"] > 0) & ~investors["clears_hurdle"]]
        if short.empty:
            return (
                "No deal is needed: the plan's fabs call no money from the investors, so there is "
                "no hurdle to clear; any price the buyer accepts will do."
            )
        short = short.iloc[0]
        return (
            f"No price serves both: even at {percent(MOST_SHARE, 0)} of the market price "
            f"{who.get(short.investor, short.investor)} earns {percent(short.irr)}, "
            f"below its hurdle of {percent(short.hurdle)}."
        )
    binding = _binding_investor(at(max(low - 2 * TOLERANCE, 0.0)))
    binding = who.get(binding, binding)
    if high is None:
        return (
            f"No price serves both: the buyer does better with the foundry route even if the "
            f"fab company's wafers were free, while {binding} needs at least {price(low)}."
        )
    if low > high:
        return (
            f"No price serves both: {binding}'s hurdle needs at least {price(low)}, but the buyer "
            f"gains against the foundry route only up to {price(high)}. At {price(low)} the buyer "
            f"is {usd(-gain(low))} (present value) worse off than with the foundry route: that is "
            "the figure to close (grants, cheaper fabs, a lower hurdle or a higher market price)."
        )
    top = f"at least {price(high)}, the search's limit," if high >= MOST_SHARE else price(high)
    return (
        f"Deal range: {price(low)} to {top}. From the low end every investor clears "
        f"its hurdle ({binding} last); up to the high end the buyer still gains against the "
        "foundry route."
    )


def _binding_investor(money: Financials) -> str:
    """The investor whose hurdle fails just below the low end."""
    investors = money.fabco.investors
    short = investors[(investors["called_usd"] > 0) & ~investors["clears_hurdle"]]
    return str(short.iloc[0].investor) if len(short) else str(investors.iloc[0].investor)
