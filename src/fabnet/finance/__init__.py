"""Finance: a plan's cash flows, depreciation, tax, grants, debt, investor returns, NPV/IRR."""

from fabnet.finance.cashflow import Financials, PlanTables, compute_financials
from fabnet.finance.metrics import annualise, irr, npv, payback_period, peak_funding_need

__all__ = ["Financials", "PlanTables", "annualise", "compute_financials", "irr", "npv",
           "payback_period", "peak_funding_need"]
