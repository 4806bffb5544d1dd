"""Named numbers that are no stored table's column, declared once with their label and unit as
the stored columns are in core.results: a run's key figures, a robust run's and a risk sweep's
summary figures, and columns of tables the CLI and the report show but do not store.
"""

from __future__ import annotations

from fabnet.core.tables import Column
from fabnet.core.units import SERVED_SHARE

#: The served-share rule as a person reads it ("90 %") and as the figures' names carry it ("90pct"),
#: both from its one number: a new rule renames the figures and relabels them together.
SERVED_PERCENT = f"{SERVED_SHARE * 100:g} %"
#: Per year of a risk sweep: the share of samples in which the year gets SERVED_SHARE of its demand.
P_MEET_SERVED = f"p_meet_{SERVED_SHARE * 100:g}pct"
#: Of a robust run's fresh futures: the share of years (with demand) that get SERVED_SHARE of it.
P_YEAR_SERVED = f"p_year_meets_{SERVED_SHARE * 100:g}pct"


def _figure(name: str, label: str, unit: str) -> Column:
    """A figure's meaning is its label: it is stored in no table whose legend would say more."""
    return Column(name, "text" if unit == "text" else "float", label, label, unit)


FIGURES = (
    # key figures of a run, decision figures first
    _figure("network_adds_accelerators", "accelerators the network adds (against the foundry route)", "count"),
    _figure("network_adds_buyer_gain_usd", "buyer's gain from the network (present value)", "usd"),
    _figure("buyer_cost_per_accelerator_usd", "buyer's cost per accelerator, with the network", "usd"),
    _figure("foundry_route_cost_per_accelerator_usd", "buyer's cost per accelerator, foundry route", "usd"),
    _figure("market_price_per_accelerator_usd", "market price per accelerator", "usd"),
    _figure("fabco_irr_before_grants", "fab company IRR (project, before grants)", "irr"),
    _figure("equity_irr", "fab company IRR (equity)", "irr"),
    _figure("continuing_value_usd", "continuing value after the horizon (at its end)", "usd"),
    _figure("continuing_value_pv_usd", "continuing value, its part of the NPV (present value)", "usd"),
    _figure("continuing_value_share_of_npv", "continuing value's share of the NPV", "share"),
    _figure("min_dscr", "lowest DSCR (project debt)", "multiple"),
    _figure("min_llcr", "lowest LLCR (project debt)", "multiple"),
    _figure("debt_at_horizon_usd", "project debt owed at the horizon", "usd"),
    _figure("deal_low_share_of_market", "deal: lowest offtake price investors accept (share of market)", "share"),
    _figure("deal_high_share_of_market", "deal: highest offtake price the buyer accepts (share of market)", "share"),
    _figure("fabco_gross_margin", "fab company gross margin", "share"),
    _figure("fabco_gross_margin_after_ramp", "fab company gross margin once its fabs have ramped", "share"),
    _figure("take_or_pay_share_of_revenue", "take-or-pay for wafers not taken, share of revenue", "share"),
    _figure(
        "network_adds_system_value_usd",
        "value to buyer and fab company together (buyer's gain + fab company NPV)",
        "usd",
    ),
    _figure("mean_load_after_ramp", "mean load of the fabs once they have ramped", "share"),
    _figure("wafer_capacity_built_wspm", "wafer capacity built (wafer starts a month)", "count"),
    _figure("fabco_revenue_usd", "fab company revenue (nominal)", "usd"),
    _figure("peak_funding_need_usd", "peak funding need", "usd"),
    _figure("payback_quarter", "payback (investors' cash back)", "text"),
    _figure("buyer_savings_vs_market_usd", "buyer's savings against market prices (present value)", "usd"),
    _figure("accelerators_demanded", "accelerators demanded", "count"),
    # a robust plan against the central-value plan, over fresh futures
    _figure("fabco_npv_p10_usd", "fab company NPV, P10", "usd"),
    _figure("fabco_npv_worst_tenth_usd", "fab company NPV, mean of the worst tenth", "usd"),
    _figure(P_YEAR_SERVED, f"share of years that get {SERVED_PERCENT} of their demand", "share"),
    _figure("accelerators_delivered", "accelerators delivered", "count"),
    _figure("accelerators_unmet", "accelerators unmet", "count"),
    _figure("sites_built", "sites built", "text"),
    _figure("fabco_capex_usd", "fab company capex (nominal)", "usd"),
    _figure(
        "industry_capex_usd", "industry capex: the foundry capacity the plan relies on (not the fab company's)", "usd"
    ),
    _figure("plan_capex_usd", "plan capex: the fab company's and the foundry capacity it relies on", "usd"),
    _figure("ambition_usd", "the capital ambition measured against (scenario funding.ambition_usd)", "usd"),
    _figure("plan_capex_share_of_ambition", "plan capex as a share of the ambition", "share"),
    _figure("peak_wafers_per_month", "peak wafers per month", "count"),
    _figure("system_cost_usd", "planner objective: system cost (present value)", "usd"),
    _figure("solver", "solver", "text"),
    _figure("cycle_time", "cycle time", "text"),
    _figure("checked_fab", "checked fab", "text"),
    _figure("accelerators_delivered_as_simulated", "accelerators delivered as simulated", "count"),
    _figure("simulated_minus_planned_accelerators", "simulated minus planned accelerators", "count"),
    # risk summaries
    _figure("p10", "P10", "number"),
    _figure("p50", "P50", "number"),
    _figure("p90", "P90", "number"),
    _figure("mean", "mean", "number"),
    _figure("delivered_p10", "delivered P10", "count"),
    _figure("delivered_p50", "delivered P50", "count"),
    _figure("delivered_p90", "delivered P90", "count"),
    _figure("demand_p50", "demand P50", "count"),
    _figure(P_MEET_SERVED, f"chance of meeting {SERVED_PERCENT} of demand", "share"),
    _figure("rank_correlation_with_npv", "rank correlation with fab company NPV", "number"),
    _figure("p_npv_below_zero", "chance the fab company's NPV is below 0", "share"),
    _figure("expected_shortfall_usd", "expected NPV of the worst 10 % of samples", "usd"),
    # sampled plans on the fab simulator (risk.checked)
    _figure("p_simulated_short", "chance the simulated fabs fall short of plan", "share"),
    _figure("p_planned_unserved", f"chance the plan serves under {SERVED_PERCENT} of demand", "share"),
    _figure("simulated_over_planned", "simulated over planned wafers out", "share"),
    _figure("shortfall", "shortfall counted", "share"),
    _figure("die_yield", "die yield", "share"),
    _figure("d0_per_cm2", "D0", "per_cm2"),
    _figure("die_area_mm2", "die area", "mm2"),
    _figure("lead_time_q", "lead time", "quarters"),
    # columns of tables shown but not stored
    _figure("wafers", "wafers", "count"),
    _figure("gross_dies", "gross dies", "count"),
    _figure("violations", "violations", "count"),
    _figure("stacks", "stacks", "count"),
)
