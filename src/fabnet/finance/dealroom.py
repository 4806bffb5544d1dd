"""The deal room's arithmetic: a stored plan's money again under the terms both parties
negotiate — the offtake price (a share of the market wafer price), the take-or-pay share, the
contract's end, each investor's hurdle, the project debt's terms — with the plan held. One
change costs one `compute_financials` (0.1 s on tigris); the foundry route has no fab company,
so the buyer's money there does not move with these terms and is read once from the run's
figures.

The suggested price is the one that splits the network's value evenly: where the fab company's
NPV equals the buyer's gain against the foundry route (both in present value; the offtake
payments between them cancel in the sum, so moving the price moves value from one to the other).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from fabnet.finance import Financials, PlanTables, compute_financials
from fabnet.scenario.loader import stored_scenario, with_overrides
from fabnet.scenario.schema import Scenario

#: The suggested price is searched between these shares of the market price, to this tolerance.
SUGGEST_RANGE, SUGGEST_TOLERANCE = (0.1, 3.0), 1e-3
#: The terms of a project loan (scenario.money.ProjectDebt) the room lets the parties move, and
#: the range of each control (the scenario's own checks still apply to what it sends); those
#: counted in quarters are whole numbers.
DEBT_TERMS = {
    "target_dscr": (1.0, 10.0),
    "gearing": (0.0, 1.0),
    "interest_rate": (0.0, 1.0),
    "tenor_q": (1.0, 200.0),
    "grace_q": (0.0, 200.0),
}


@dataclass(frozen=True)
class Terms:
    """What the parties negotiate; None keeps the scenario's own."""

    share: float | None = None  # offtake price, a share of the market wafer price (indexed)
    take_or_pay: float | None = None
    end: str | None = None  # the contract's last quarter, "2030Q4"
    hurdles: Mapping[str, float] | None = None  # investor id → hurdle rate
    debt: Mapping[str, float] | None = None  # "loan id.term" (a DEBT_TERMS key) → value

    def overrides(self) -> list[str]:
        """The terms as `--set` texts (what a run stored from them records as its overrides)."""
        texts = []
        if self.share is not None:
            texts += ["offtake.price=indexed", f"offtake.share_of_market_price={self.share!r}"]
        if self.take_or_pay is not None:
            texts.append(f"offtake.take_or_pay_share={self.take_or_pay!r}")
        if self.end:
            texts.append(f"offtake.end={self.end}")
        for investor, rate in (self.hurdles or {}).items():  # a rate, instead of any spread over one
            texts += [
                f"funding.investors.{investor}.hurdle_spread=null",
                f"funding.investors.{investor}.hurdle_rate={rate!r}",
            ]
        for key, value in (self.debt or {}).items():
            whole = key.endswith("_q") and float(value).is_integer()
            texts.append(f"funding.project_debt.{key}={int(value) if whole else value!r}")
        return texts


@dataclass(frozen=True)
class DealRoom:
    """A stored run's plan, ready to be re-financed under other terms."""

    scenario: Scenario
    planned: PlanTables
    route_net_usd: float  # the buyer's net value on the foundry route (present value)
    market_price_usd: float  # the market price of the plan's wafers, on average

    @classmethod
    def of(cls, meta: Mapping[str, Any], tables: Mapping[str, pd.DataFrame], figures: Mapping[str, Any]) -> DealRoom:
        """From a stored run's provenance, tables and key figures (a main run with its deal)."""
        fields = PlanTables.__dataclass_fields__
        missing = [name for name in (*fields, "deal_range") if name not in tables]
        gain = figures.get("network_adds_buyer_gain_usd")
        if missing or not isinstance(gain, int | float):
            raise ValueError("the deal room needs a main run with its deal (fabnet run): this run has none")
        net = float(figures["buyer_savings_vs_market_usd"])
        market = float(tables["deal_range"]["market_price_usd"].iloc[0])
        planned = PlanTables(**{name: tables[name] for name in fields})
        return cls(stored_scenario(meta), planned, net - float(gain), market)

    def scenario_at(self, terms: Terms) -> Scenario:
        return with_overrides(self.scenario, terms.overrides())

    def money(self, terms: Terms) -> Financials:
        return compute_financials(self.scenario_at(terms), self.planned)

    def at(self, terms: Terms) -> dict[str, Any]:
        """Both parties' figures under `terms`: the fab company's NPV and IRR, each investor's
        IRR against its hurdle, the buyer's gain, the price per wafer, the project debt drawn, its
        lowest DSCR and the equity's IRR."""
        money = self.money(terms)
        investors = money.fabco.investors
        share = terms.share if terms.share is not None else self.scenario.offtake.share_of_market_price
        return {
            "share_of_market": share,
            "price_per_wafer_usd": share * self.market_price_usd,
            "fabco_npv_usd": money.fabco.metrics.fabco_npv_usd,
            "fabco_irr": money.fabco.metrics.fabco_irr,
            "buyer_gain_usd": money.buyer.metrics.buyer_savings_vs_market_usd - self.route_net_usd,
            "debt_draws_usd": float(money.fabco.quarterly["debt_draws_usd"].sum()),
            "min_dscr": money.fabco.metrics.min_dscr,
            "equity_irr": money.fabco.metrics.equity_irr,
            "investors": [
                {
                    "investor": row.investor,
                    "irr": None if pd.isna(row.irr) else float(row.irr),
                    "hurdle": float(row.hurdle),
                    "called_usd": float(row.called_usd),
                    "clears": bool(row.clears_hurdle),
                }
                for row in investors.itertuples()
            ],
        }

    def even_split(self, terms: Terms) -> float | None:
        """The share of the market price at which the fab company's NPV equals the buyer's gain
        (the other terms as given), or None when no price in SUGGEST_RANGE does."""

        def lead(share: float) -> float:  # NPV − gain: rises with the price
            figures = self.at(dataclasses.replace(terms, share=share))
            return float(figures["fabco_npv_usd"]) - float(figures["buyer_gain_usd"])

        low, high = SUGGEST_RANGE
        if lead(low) > 0 or lead(high) < 0:
            return None
        while high - low > SUGGEST_TOLERANCE:
            mid = (low + high) / 2
            low, high = (mid, high) if lead(mid) < 0 else (low, mid)
        return (low + high) / 2
