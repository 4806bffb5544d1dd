"""Key figures as a person reads them: one label and one format per figure, for the CLI, the
report and the dashboard alike. The decision figures come first, in the order a run reports them."""

from __future__ import annotations

from fabnet.core import format as fmt

#: Label of each key figure a run stores; an investor's IRR is "IRR of INVESTOR".
LABELS = {
    "network_adds_accelerators": "accelerators the network adds (against the foundry route)",
    "network_adds_buyer_gain_usd": "buyer's gain from the network (present value)",
    "buyer_cost_per_accelerator_usd": "buyer's cost per accelerator, with the network",
    "foundry_route_cost_per_accelerator_usd": "buyer's cost per accelerator, foundry route",
    "market_price_per_accelerator_usd": "market price per accelerator",
    "fabco_npv_usd": "fab company NPV",
    "fabco_irr": "fab company IRR (project)",
    "deal_low_share_of_market": "deal: lowest offtake price investors accept (share of market)",
    "deal_high_share_of_market": "deal: highest offtake price the buyer accepts (share of market)",
    "fabco_gross_margin": "fab company gross margin",
    "fabco_revenue_usd": "fab company revenue (nominal)",
    "peak_funding_need_usd": "peak funding need",
    "payback_quarter": "payback (investors' cash back)",
    "funding_gap_usd": "funding gap",
    "buyer_savings_vs_market_usd": "buyer's savings against market prices (present value)",
    "accelerators_demanded": "accelerators demanded",
    "accelerators_delivered": "accelerators delivered",
    "accelerators_unmet": "accelerators unmet",
    "modules_built": "fab modules built",
    "sites_built": "sites built",
    "fabco_capex_usd": "fab company capex (nominal)",
    "system_cost_usd": "planner objective: system cost (present value)",
    "solver": "solver",
    "solver_gap": "solver gap",
    "cycle_time": "cycle time",
    "checked_fab": "checked fab",
    "accelerators_delivered_as_simulated": "accelerators delivered as simulated",
    "simulated_minus_planned_accelerators": "simulated minus planned accelerators",
}

PERCENT = ("fabco_gross_margin", "solver_gap", "deal_low_share_of_market", "deal_high_share_of_market")


def label(key: str) -> str:
    if key.startswith("irr_"):
        return f"IRR of {key.removeprefix('irr_')}"
    return LABELS.get(key, key.replace("_", " "))


def format_figure(key: str, value: object) -> str:
    """A key figure as a person reads it: money with core.format.usd, IRRs and shares in %,
    counts with commas."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return fmt.irr(None) if _is_irr(key) else "–"
    if abs(value) < 1e-6:  # solver round-off, not a quantity
        value = 0
    if key.endswith("_usd"):
        return fmt.usd(value)
    if _is_irr(key):
        return fmt.irr(value)
    if key in PERCENT:
        return fmt.percent(value)
    return fmt.count(value) if abs(value) >= 100 or float(value).is_integer() else f"{value:,.4g}"


def _is_irr(key: str) -> bool:
    return key == "fabco_irr" or key.startswith("irr_")


def format_difference(key: str, first: object, second: object, difference: object) -> str:
    """The difference column of a comparison: text as it came, numbers like their figure (an
    IRR's or a share's in percentage points), and none between IRRs above 100 %."""
    if isinstance(difference, str):
        return difference
    if _is_irr(key) and any(isinstance(v, float) and v > fmt.IRR_SHOWN_UP_TO for v in (first, second)):
        return "–"
    if (_is_irr(key) or key in PERCENT) and isinstance(difference, int | float):
        return fmt.points(difference)
    return format_figure(key, difference)
