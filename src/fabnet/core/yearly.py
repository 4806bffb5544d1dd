"""The yearly roll-ups of the stored quarterly money tables, declared once: which quarterly
columns (core.results' `fabco_quarterly` and `buyer_quarterly`) add up to each yearly column.

`fabnet finance`/`fabnet run` (cli/network_views.py), the HTML report's tables and its figures all read the
years from here, so a year's capex or operating costs is summed the same way everywhere
(issue 27, item 9; tests/core/test_yearly.py fails if the fab company's quarterly table is
grouped by year anywhere else). Frames are typed `Any`: core imports no pandas.
"""

from __future__ import annotations

from typing import Any

#: The fab company's money per year: yearly column → the quarterly columns it sums.
FABCO_YEARLY: dict[str, tuple[str, ...]] = {
    "revenue_usd": ("revenue_usd",),
    "wafers_to_buyer_usd": ("wafer_revenue_usd",),
    "wafers_to_others_usd": ("spare_revenue_usd",),
    "take_or_pay_usd": ("take_or_pay_usd",),
    "operating_costs_usd": ("opex_usd", "fixed_opex_usd", "operator_fees_usd"),
    "capex_usd": ("capex_usd",),
    "grants_and_credits_usd": ("grants_usd", "itc_usd"),
    "tax_usd": ("tax_usd",),
    "project_free_cash_flow_usd": ("project_fcf_usd",),
    "equity_called_usd": ("equity_calls_usd",),
    "debt_drawn_usd": ("debt_draws_usd",),
    "distributed_usd": ("distributions_usd",),
}

#: What the buyer pays per year, by kind, the accelerators it gets and their market value.
BUYER_YEARLY: dict[str, tuple[str, ...]] = {
    "fab_company_wafers_usd": ("fabco_wafers_usd",),
    "foundry_wafers_usd": ("foundry_usd",),
    "design_and_masks_usd": ("design_usd", "masks_usd"),
    "HBM_usd": ("hbm_usd",),
    "packaging_usd": ("packaging_usd", "packaging_capex_usd"),
    "bought_accelerators_usd": ("bought_usd",),
    "accelerators_delivered": ("delivered",),
    "market_value_usd": ("market_value_usd",),
}


def fabco_years(quarterly: Any) -> Any:
    """The fab company's quarterly table (`fabco_quarterly`) summed per year: one row per year,
    a `year` column and the columns of FABCO_YEARLY."""
    return roll_up(quarterly, FABCO_YEARLY)


def buyer_years(quarterly: Any) -> Any:
    """The buyer's quarterly table (`buyer_quarterly`) summed per year (BUYER_YEARLY)."""
    return roll_up(quarterly, BUYER_YEARLY)


def roll_up(quarterly: Any, rule: dict[str, tuple[str, ...]]) -> Any:
    """`quarterly` (a frame with a `year` column) summed per year by `rule`."""
    sums = quarterly.groupby("year").sum(numeric_only=True)
    years = sums.iloc[:, :0].copy()  # the years, no columns
    for name, parts in rule.items():
        years[name] = sums[list(parts)].sum(axis=1)
    return years.rename_axis("year").reset_index()
