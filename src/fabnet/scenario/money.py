"""The money: the fab company's investors and project debt, tax, depreciation, discounting and
continuing value, and the offtake contract under which it sells its wafers to the buyer.
"""

from __future__ import annotations

from typing import Annotated, Literal, cast

import numpy as np
import numpy.typing as npt
from pydantic import Field

from fabnet.core.periods import Quarter
from fabnet.scenario.fields import (
    MAX_ENTRIES,
    MAX_QUARTERS,
    MAX_RATIO,
    AnnualRate,
    Flag,
    Frozen,
    Id,
    NonNegativeQuarters,
    Number,
    PenaltyRule,
    PositiveRatio,
    PositiveUsd,
    PriceShare,
    QuarterField,
    Quarters,
    Ratio,
    Share,
    Whole,
    YearPath,
)

#: Who an investor or a lender is, in the words labels use ("the buyer's own stake"): an id
#: names it for --set paths and tables, where "company" would not say whose company.
ShownName = Annotated[str, Field(min_length=1, max_length=80)]
_SHOWN_NAME = 'How labels name it (e.g. "the buyer\'s own stake"); omitted means its id.'


class Investor(Frozen):
    id: Id = Field(description="Investor name.")
    name: ShownName | None = Field(default=None, description=_SHOWN_NAME)
    kind: Literal["equity", "debt"] = Field(description="equity or debt.")
    amount_usd: PositiveUsd = Field(description="Total commitment, USD.")
    available_from: QuarterField | None = Field(
        default=None, description="Quarter the whole amount is committed (or give tranches)."
    )
    tranches: Annotated[dict[QuarterField, PositiveUsd], Field(min_length=1, max_length=MAX_ENTRIES)] | None = Field(
        default=None, description="Amounts committed by quarter, USD; must add up to amount_usd."
    )
    preferred_return: AnnualRate = Field(
        default=0.0, description="Equity only: annual preferred return paid before common distributions (a waterfall)."
    )
    hurdle_rate: AnnualRate | None = Field(
        default=None,
        description="Annual IRR this investor needs to join the deal (`fabnet "
        "deal`); omitted means finance.discount_rate.",
    )
    hurdle_spread: Annotated[Number, Field(ge=-1, le=MAX_RATIO)] | None = Field(
        default=None,
        description="Instead of hurdle_rate: the hurdle as a spread over a rate (hurdle_over), "
        "e.g. 0.04 over the discount rate.",
    )
    hurdle_over: Literal["discount_rate", "debt_rate"] = Field(
        default="discount_rate",
        description="The rate hurdle_spread is added to: finance.discount_rate, or the interest "
        "rate of the first senior project debt (else the first project debt).",
    )
    interest_rate: AnnualRate | None = Field(default=None, description="Debt only: annual interest rate.")
    tenor_q: Quarters | None = Field(default=None, description="Debt only: quarters to maturity.")
    grace_q: NonNegativeQuarters = Field(default=0, description="Debt only: quarters before repayment starts.")


class ProjectDebt(Frozen):
    """A loan to the fab company, drawn as capex is spent and repaid from its operating cash
    (finance/debt.py). Senior debt is sized and sculpted to a target DSCR; a government loan
    (CHIPS-style) has its own amount, rate and tenor and amortises linearly or as an annuity."""

    id: Id = Field(description="Lender or facility name.")
    name: ShownName | None = Field(default=None, description=_SHOWN_NAME)
    kind: Literal["senior", "government"] = Field(
        default="senior", description="senior: sized to target_dscr and gearing; government: amount_usd."
    )
    repayment: Literal["sculpted", "linear", "annuity"] = Field(
        default="sculpted",
        description="sculpted: debt service = CFADS / target DSCR (senior); linear: equal "
        "principal; annuity: equal debt service.",
    )
    interest_rate: AnnualRate = Field(description="Annual interest rate (compounded quarterly).")
    tenor_q: Quarters = Field(description="Repayment quarters, from the first repayment to maturity.")
    grace_q: NonNegativeQuarters = Field(
        default=0,
        description="Quarters from the first module online to the first repayment; interest "
        "until then is capitalised (interest during construction).",
    )
    amount_usd: PositiveUsd | None = Field(
        default=None,
        description="government: the loan's amount (drawn as capex is spent); senior: an "
        "optional cap on the balance at first repayment.",
    )
    target_dscr: Annotated[Number, Field(ge=1, le=MAX_RATIO)] = Field(
        default=1.30, description="sculpted: debt service = CFADS / target_dscr; sizes the debt."
    )
    gearing: Share = Field(
        default=0.6,
        description="senior: the most the balance at first repayment (with capitalised interest) may be, "
        "as a share of the capex net of grants spent before it (debt / (debt + equity)).",
    )
    covenant_dscr: Annotated[Number, Field(ge=0, le=MAX_RATIO)] = Field(
        default=1.10, description="A quarter's DSCR below this is a covenant breach (a message)."
    )
    dsra_q: NonNegativeQuarters = Field(
        default=2,
        description="Debt-service reserve: the next dsra_q quarters' debt service, funded at the "
        "first repayment and released at maturity.",
    )


class Funding(Frozen):
    total_usd: PositiveUsd | None = Field(
        default=None, description="Declared total; when given, investor amounts must add up to it."
    )
    reinvest_operating_cash: Flag = Field(
        default=False,
        description="May the fab company's operating cash pay for later capex; "
        "if not, capex comes from the investors, debt, grants and tax credits alone and surplus "
        "operating cash is distributed.",
    )
    investors: tuple[Investor, ...] = Field(
        min_length=1, max_length=100, description="Who puts money in, how and when."
    )
    ambition_usd: PositiveUsd | None = Field(
        default=None,
        description="A capital ambition to measure the plan against, USD (e.g. the reported "
        "$5–7 T): the plan's capex, the fab company's and the foundry capacity it relies on, "
        "is reported as a share of it.",
    )
    project_debt: tuple[ProjectDebt, ...] = Field(
        default=(),
        max_length=20,
        description="Loans to the fab company drawn as capex is spent and repaid from its "
        "operating cash; government loans are drawn first, senior debt on the rest.",
    )

    def shown_names(self) -> dict[str, str]:
        """Each investor's and lender's id → the name labels give it (its id when it has none)."""
        lenders = {debt.id: debt.name or debt.id for debt in self.project_debt}
        return {investor.id: investor.name or investor.id for investor in self.investors} | lenders

    def commitments_usd(self, periods: list[Quarter]) -> npt.NDArray[np.float64]:
        """USD each investor commits in each quarter (investors × periods). The planner's
        budget is the sum over investors; the finance calls capital against each row."""
        position = {q: i for i, q in enumerate(periods)}
        schedule = np.zeros((len(self.investors), len(periods)))
        for row, investor in enumerate(self.investors):
            # the model's validator allows tranches or available_from, never neither
            tranches = investor.tranches or {cast(Quarter, investor.available_from): investor.amount_usd}
            for quarter, amount in tranches.items():
                schedule[row, position[quarter]] += amount
        return schedule


class TaxRegime(Frozen):
    id: Id = Field(description="Name sites refer to, e.g. US.")
    rate: Share = Field(description="Corporate income tax rate (0–1).")
    investment_tax_credit: Share = Field(default=0.0, description="Credit as a share of tools capex.")
    itc_construction_deadline: QuarterField | None = Field(
        default=None, description="Last quarter construction may start and still earn the credit."
    )


class DepreciationYears(Frozen):
    building: Annotated[Whole, Field(gt=0, le=100)] = Field(
        default=20, description="Straight-line life of buildings, years."
    )
    tools: Annotated[Whole, Field(gt=0, le=100)] = Field(default=5, description="Straight-line life of tools, years.")


class ContinuingValue(Frozen):
    """What the fab company is worth after the last quarter (finance/terminal.py)."""

    method: Literal["gordon", "tail", "book_value"] = Field(
        default="gordon",
        description="gordon: steady-state free cash flow / (discount rate − growth); tail: "
        "tail_years more years at a price falling by growth, then salvage; book_value: the "
        "modules' book value net of grants.",
    )
    growth: Annotated[Number, Field(ge=-0.5, lt=0.5)] = Field(
        default=-0.02,
        description="Annual growth of the steady-state cash flow (gordon) or of the wafer price (tail).",
    )
    maintenance_capex_basis: Literal["tools_capex", "depreciation"] = Field(
        default="tools_capex",
        description="What maintenance capex after the horizon is a share of: the tools capex "
        "of the modules built, or the last year's depreciation.",
    )
    maintenance_capex_share: Annotated[Number, Field(ge=0, le=2)] = Field(
        default=0.10, description="Maintenance capex a year as a share of its basis."
    )
    tail_years: Annotated[Whole, Field(gt=0, le=100)] = Field(default=15, description="tail: years operated.")
    salvage_share_of_capex: Share = Field(
        default=0.0, description="tail: what the modules fetch at the tail's end, as a share of their capex."
    )


class Finance(Frozen):
    discount_rate: Annotated[Number, Field(ge=0, lt=1)] = Field(description="Annual nominal discount rate (WACC).")
    depreciation_years: DepreciationYears = Field(
        default_factory=DepreciationYears, description="Straight-line lives by asset class."
    )
    tax_regimes: tuple[TaxRegime, ...] = Field(
        min_length=1, max_length=100, description="Tax rules sites refer to; the first is home."
    )
    unmet_demand_penalty: PenaltyRule = Field(
        default="market_price",
        description="What an accelerator not delivered costs the buyer: "
        "market_price (its market price, what it is worth to the buyer), or USD per accelerator.",
    )
    continuing_value: ContinuingValue = Field(
        default_factory=ContinuingValue,
        description="The fab company's value after the horizon, in its NPV and its equity's terminal payout.",
    )


class Offtake(Frozen):
    """The contract under which the fab company sells its wafers to the buyer."""

    price: Literal["indexed", "fixed", "cost_plus"] = Field(
        default="indexed",
        description="indexed: a share of the node's market wafer price; "
        "fixed: fixed_price_usd per node; cost_plus: the site's standard cost per wafer at full "
        "load (variable and fixed opex, operator fee per wafer, depreciation) times 1 + markup.",
    )
    share_of_market_price: PriceShare = Field(
        default=1.0,
        description="indexed: price as a share of the market wafer price (0.9 = 10 % below what a foundry charges).",
    )
    fixed_price_usd: Annotated[dict[Id, YearPath], Field(max_length=100)] | None = Field(
        default=None, description="fixed: price per wafer by node id (one number or a path per year)."
    )
    markup: Ratio = Field(default=0.15, description="cost_plus: mark-up on standard cost.")
    take_or_pay_share: Share = Field(
        default=0.0,
        description="Share of the fab company's wafer output at capacity that the "
        "buyer pays for whether it takes the wafers or not (0–1); wafers sold to other customers "
        "count against it.",
    )
    end: QuarterField | None = Field(
        default=None,
        description="Last quarter of the contract; afterwards wafers are sold at "
        "the market price, without take-or-pay. Omitted means the whole horizon.",
    )
    spare_wafers_to_market: Flag = Field(
        default=False,
        description="May the fab company sell wafers the buyer does not need to "
        "other customers (at spare_wafer_price_share of the market wafer price).",
    )
    spare_wafer_price_share: PositiveRatio = Field(
        default=1.0,
        description="What other customers pay for spare wafers, as a share of the "
        "market wafer price (a newcomer may have to sell below the leader's price).",
    )
    buyer_default_q: NonNegativeQuarters = Field(
        default=MAX_QUARTERS,
        description="Quarter the buyer defaults, counted from the horizon's first (0); at or beyond the "
        "horizon's end (the default), never. From it on the buyer pays nothing (wafers or take-or-pay); "
        "the fab company sells what it made for the buyer at the spare price where spare_wafers_to_market, "
        "else not at all. Draw it with `dist: hazard` in uncertainty; the planner does not foresee it.",
    )
