"""Finance: the money of a plan for each of its two parties — the fab company (cash flows,
depreciation, tax, grants, debt, investor returns, NPV/IRR) and the buyer (what its
accelerators cost against the market) — and the deal between them (the offtake price range
that serves both)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from fabnet.finance.buyer import Buyer, BuyerMetrics, buyer_costs, buyer_financials, net_value, quantities
from fabnet.finance.fabco import FabCo, FabCoMetrics, fabco_financials, operating_flows, operations, paid_by_buyer
from fabnet.finance.metrics import annualise, irr, npv, payback_period, peak_funding_need, present_value
from fabnet.scenario.schema import Offtake, Scenario


@dataclass(frozen=True)
class PlanTables:
    """What finance reads of a plan (the tables of fabnet.plan.Plan, same columns)."""

    builds: pd.DataFrame  # site, started, modules, online
    packaging_builds: pd.DataFrame  # line, started, modules, online
    capacity: pd.DataFrame  # site, quarter: modules online, real wafer starts, wafers out, ...
    supply: pd.DataFrame  # product, quarter: packages started, bought, delivered
    foundry: pd.DataFrame  # offer, quarter: reserved, used
    production: pd.DataFrame  # source, kind, product, quarter, wafer starts


@dataclass(frozen=True)
class Financials:
    """The money of one plan: the fab company's and the buyer's."""

    fabco: FabCo
    buyer: Buyer

    @property
    def figures(self) -> dict[str, float | str | None]:
        """Both parties' metrics by figure name, to show, store or compare them all; code that
        wants one number reads it from `.fabco.metrics` or `.buyer.metrics`."""
        return {**asdict(self.fabco.metrics), **asdict(self.buyer.metrics)}

    @property
    def messages(self) -> list[str]:
        return self.fabco.messages

    def to_dict(self) -> dict[str, Any]:
        """Both parties' money as one document, each table a list of rows: what `fabnet finance
        --json` prints (fabnet.api.json_text), so the CLI and Python see one shape."""
        return {
            "metrics": self.figures,
            "messages": self.messages,
            "investors": self.fabco.investors.to_dict("records"),
            "fabco_quarterly": self.fabco.quarterly.to_dict("records"),
            "investor_flows": self.fabco.investor_flows.to_dict("records"),
            "buyer_quarterly": self.buyer.quarterly.to_dict("records"),
            "buyer_products": self.buyer.products.to_dict("records"),
        }


def compute_financials(scenario: Scenario, plan: PlanTables, offtake: Offtake | None = None) -> Financials:
    """Both parties' money for a plan, under the scenario's offtake contract or `offtake`."""
    return Pricing(scenario, plan).financials(offtake)


class Pricing:
    """One plan's money as a function of its offtake contract, for a caller that prices the
    plan many times (the deal): what no contract changes, the plan's operations and the buyer's
    quantities, is read from its tables once."""

    def __init__(self, scenario: Scenario, plan: PlanTables) -> None:
        self.scenario, self.plan = scenario, plan
        self.ops = operations(scenario, plan.capacity)
        self.bought = quantities(scenario, plan.supply, plan.foundry)

    def financials(self, offtake: Offtake | None = None) -> Financials:
        """Both parties' money under `offtake` (the scenario's contract when None)."""
        fab = fabco_financials(self.scenario, self.plan.builds, self.ops, offtake)
        paid = paid_by_buyer({k: fab.quarterly[k].to_numpy() for k in ("wafer_revenue_usd", "take_or_pay_usd")})
        plan = self.plan
        return Financials(
            fab, buyer_financials(self.scenario, self.bought, paid, plan.packaging_builds, plan.production)
        )

    def buyer_savings(self, offtake: Offtake | None = None) -> float:
        """The buyer's savings against the market under `offtake`
        (`financials(offtake).buyer.metrics.buyer_savings_vs_market_usd`, by the same functions),
        without the fab company's financing and investors: a third of the cost."""
        paid = paid_by_buyer(operating_flows(self.scenario, self.ops, offtake))
        value, cost = net_value(
            self.scenario, buyer_costs(self.scenario, self.bought, paid, self.plan.packaging_builds)
        )
        return float(value) - float(cost)


__all__ = [
    "Buyer",
    "BuyerMetrics",
    "FabCo",
    "FabCoMetrics",
    "Financials",
    "PlanTables",
    "Pricing",
    "annualise",
    "compute_financials",
    "irr",
    "npv",
    "payback_period",
    "peak_funding_need",
    "present_value",
]
