"""What every figure and column means: one label and one unit per name, so that the CLI, the
report, the dashboard and the exports call a number the same thing and write it the same way.

A name's unit follows from its suffix (`_usd` money, `_days` days, `irr` a return, …) unless the
table below says otherwise; its label is the table's, or the name in words.
"""

from __future__ import annotations

from dataclasses import dataclass

from fabnet.core import format as fmt


@dataclass(frozen=True)
class Meaning:
    label: str
    #: usd, irr, share, points, count, days, quarters, mm2, per_cm2, multiple, number or text
    unit: str


#: Units as a heading shows them (money's scale is chosen per column, see `heading`); shares,
#: IRRs and multiples are written with their unit in each cell.
HEADING_UNITS = {"usd": "$", "days": "days", "quarters": "quarters", "mm2": "mm²", "per_cm2": "per cm²"}

#: What a row of the builds table is (its `kind`), in words, for the terminal and the report.
BUILD_KINDS = {"module": "module", "shell": "shell", "tools": "tool sets", "conversion": "conversion to the node"}

#: Units in words, for an export's headers and its legend.
UNIT_WORDS = {
    "usd": "USD",
    "irr": "annual rate",
    "share": "share, 1 = 100 %",
    "points": "share points",
    "days": "days",
    "quarters": "quarters",
    "mm2": "mm²",
    "per_cm2": "per cm²",
    "multiple": "times",
    "count": "count",
    "number": "",
    "text": "",
}

_KNOWN: dict[str, tuple[str, str]] = {
    # key figures of a run, decision figures first
    "network_adds_accelerators": ("accelerators the network adds (against the foundry route)", "count"),
    "network_adds_buyer_gain_usd": ("buyer's gain from the network (present value)", "usd"),
    "buyer_cost_per_accelerator_usd": ("buyer's cost per accelerator, with the network", "usd"),
    "foundry_route_cost_per_accelerator_usd": ("buyer's cost per accelerator, foundry route", "usd"),
    "market_price_per_accelerator_usd": ("market price per accelerator", "usd"),
    "fabco_npv_usd": ("fab company NPV", "usd"),
    "fabco_irr": ("fab company IRR (project)", "irr"),
    "fabco_irr_before_grants": ("fab company IRR (project, before grants)", "irr"),
    "equity_irr": ("fab company IRR (equity)", "irr"),
    "continuing_value_usd": ("continuing value after the horizon (at its end)", "usd"),
    "continuing_value_pv_usd": ("continuing value, its part of the NPV (present value)", "usd"),
    "continuing_value_share_of_npv": ("continuing value's share of the NPV", "share"),
    "min_dscr": ("lowest DSCR (project debt)", "multiple"),
    "min_llcr": ("lowest LLCR (project debt)", "multiple"),
    "debt_at_horizon_usd": ("project debt owed at the horizon", "usd"),
    "deal_low_share_of_market": ("deal: lowest offtake price investors accept (share of market)", "share"),
    "deal_high_share_of_market": ("deal: highest offtake price the buyer accepts (share of market)", "share"),
    "fabco_gross_margin": ("fab company gross margin", "share"),
    "fabco_gross_margin_after_ramp": ("fab company gross margin once its fabs have ramped", "share"),
    "take_or_pay_share_of_revenue": ("take-or-pay for wafers not taken, share of revenue", "share"),
    "network_adds_system_value_usd": (
        "value to buyer and fab company together (buyer's gain + fab company NPV)",
        "usd",
    ),
    "mean_load_after_ramp": ("mean load of the fabs once they have ramped", "share"),
    "wafer_capacity_built_wspm": ("wafer capacity built (wafer starts a month)", "count"),
    "fabco_revenue_usd": ("fab company revenue (nominal)", "usd"),
    "peak_funding_need_usd": ("peak funding need", "usd"),
    "payback_quarter": ("payback (investors' cash back)", "text"),
    "funding_gap_usd": ("funding gap", "usd"),
    "buyer_savings_vs_market_usd": ("buyer's savings against market prices (present value)", "usd"),
    "accelerators_demanded": ("accelerators demanded", "count"),
    # a robust plan against the central-value plan, over fresh futures
    "fabco_npv_p10_usd": ("fab company NPV, P10", "usd"),
    "fabco_npv_worst_tenth_usd": ("fab company NPV, mean of the worst tenth", "usd"),
    "p_year_meets_90pct": ("share of years that get 90 % of their demand", "share"),
    "accelerators_delivered": ("accelerators delivered", "count"),
    "accelerators_unmet": ("accelerators unmet", "count"),
    "modules_built": ("fab modules built (shells and whole modules)", "count"),
    "sites_built": ("sites built", "text"),
    "fabco_capex_usd": ("fab company capex (nominal)", "usd"),
    "industry_capex_usd": ("industry capex: the foundry capacity the plan relies on (not the fab company's)", "usd"),
    "plan_capex_usd": ("plan capex: the fab company's and the foundry capacity it relies on", "usd"),
    "ambition_usd": ("the capital ambition measured against (scenario funding.ambition_usd)", "usd"),
    "plan_capex_share_of_ambition": ("plan capex as a share of the ambition", "share"),
    "peak_wafers_per_month": ("peak wafers per month", "count"),
    "system_cost_usd": ("planner objective: system cost (present value)", "usd"),
    "solver": ("solver", "text"),
    "solver_gap": ("solver gap", "share"),
    "cycle_time": ("cycle time", "text"),
    "checked_fab": ("checked fab", "text"),
    "accelerators_delivered_as_simulated": ("accelerators delivered as simulated", "count"),
    "simulated_minus_planned_accelerators": ("simulated minus planned accelerators", "count"),
    # risk summaries
    "p10": ("P10", "number"),
    "p50": ("P50", "number"),
    "p90": ("P90", "number"),
    "mean": ("mean", "number"),
    "delivered_p10": ("delivered P10", "count"),
    "delivered_p50": ("delivered P50", "count"),
    "delivered_p90": ("delivered P90", "count"),
    "demand_p50": ("demand P50", "count"),
    "p_meet_90pct": ("chance of meeting 90 % of demand", "share"),
    "p_simulated_short": ("chance the simulated fabs fall short of plan", "share"),
    "shortfall": ("shortfall counted", "share"),
    "p_planned_unserved": ("chance the plan serves under 90 % of demand", "share"),
    "simulated_over_planned": ("simulated over planned wafers out", "share"),
    "rank_correlation_with_npv": ("rank correlation with fab company NPV", "number"),
    "p_npv_below_zero": ("chance the fab company's NPV is below 0", "share"),
    "buyer_net_usd": ("buyer's net value (present value)", "usd"),
    "expected_shortfall_usd": ("expected NPV of the worst 10 % of samples", "usd"),
    # table columns whose suffix says too little
    "irr": ("IRR", "irr"),
    "hurdle": ("hurdle rate", "share"),
    "multiple": ("multiple", "multiple"),
    "dscr": ("DSCR", "multiple"),
    "llcr": ("LLCR", "multiple"),
    "cfads_usd": ("CFADS", "usd"),
    "dsra_usd": ("debt-service reserve", "usd"),
    "load": ("load", "share"),
    "die_yield": ("die yield", "share"),
    "share_of_market": ("share of market", "share"),
    "low_share": ("lowest price investors accept, of market", "share"),
    "high_share": ("highest price the buyer accepts, of market", "share"),
    "d0_per_cm2": ("D0", "per_cm2"),
    "die_area_mm2": ("die area", "mm2"),
    "created_at": ("when (UTC)", "text"),
    "run_id": ("run", "text"),
    "year": ("year", "text"),
    "quarter": ("quarter", "text"),
    "modules": ("modules", "count"),
    "ramp_quarters": ("ramp", "quarters"),
    "lead_time_q": ("lead time", "quarters"),
    "wspm": ("wafer starts a month", "count"),
    "stretch": ("simulated time per planned time", "multiple"),
    "seed": ("seed", "text"),
}

_SHARE_NAMES = ("utilisation", "on_time", "bottleneck_utilisation", "yield")
_COUNT_NAMES = (
    "accelerators",
    "demand",
    "delivered",
    "unmet",
    "made",
    "bought",
    "wafers",
    "wafer_starts",
    "good_dies",
    "gross_dies",
    "lots",
    "planned",
    "simulated",
    "difference",
    "modules_online",
    "wafer_capacity",
    "effective_capacity",
    "queue",
    "cleared",
    "packages_started",
    "die_bank",
    "capacity_wafers",
    "used_wafers",
    "interposer_wafers",
    "planned_output",
    "simulated_output",
    "lots_finished",
    "violations",
    "stacks",
    "stacks_available",
    "stacks_used",
    "spare_starts",
    "real_wafer_starts",
    "wafers_out",
    "spare_out",
    "capacity_out",
    "wafers_sold",
    "capacity",
    "reserved",
    "used",
)


def meaning(name: str) -> Meaning:
    """The label and unit of a figure or a column."""
    if name in _KNOWN:
        return Meaning(*_KNOWN[name])
    if name.endswith(("_note", "_text", "_status")):
        return Meaning(_words(name), "text")
    if name.startswith("irr_"):
        return Meaning(f"IRR of investor {name.removeprefix('irr_')}", "irr")
    for suffix, unit in (
        ("_usd", "usd"),
        ("_days", "days"),
        ("_mm2", "mm2"),
        ("_per_cm2", "per_cm2"),
        ("_irr", "irr"),
        ("_share", "share"),
        ("_q", "quarters"),
    ):
        if name.endswith(suffix):
            return Meaning(_words(name.removesuffix(suffix)), unit)
    if name.startswith("share_") or name.endswith(_SHARE_NAMES):
        return Meaning(_words(name), "share")
    if name in _COUNT_NAMES or name.endswith(("_wafers", "_accelerators")):
        return Meaning(_words(name), "count")
    return Meaning(_words(name), "number")


def label(name: str) -> str:
    return meaning(name).label


def _words(name: str) -> str:
    return name.replace("_", " ")


def heading(name: str, scale: fmt.Scale | None = None, text: str | None = None) -> str:
    """A column heading with its unit: "capex building, $B", "wafer starts"; `text` instead of
    the label. Percentages, IRRs and multiples carry their unit in each cell."""
    m = meaning(name)
    unit = scale.unit if scale is not None and m.unit == "usd" else HEADING_UNITS.get(m.unit, "")
    shown = text or m.label
    return f"{shown}, {unit}" if unit else shown


def export_heading(name: str) -> str:
    """A heading for a spreadsheet: the label and the unit in words, "capex building (USD)"."""
    m = meaning(name)
    unit = UNIT_WORDS.get(m.unit, "")
    return f"{m.label} ({unit})" if unit else m.label


def show(name: str, value: object, scale: fmt.Scale | None = None) -> str:
    """A value as a person reads it: money with core.format (or in a column's scale), IRRs and
    shares in %, counts as whole numbers, text as it is."""
    if isinstance(value, str):
        return value
    unit = meaning(name).unit
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return fmt.irr(None) if unit == "irr" else "–"
    if abs(value) < 1e-6:  # solver round-off, not a quantity
        value = 0
    if unit == "usd":
        return fmt.usd(value) if scale is None else fmt.scaled(value, scale)
    if unit == "irr":
        return fmt.irr(value)
    if unit == "share":
        return fmt.percent(value)
    if unit == "points":
        return fmt.points(value)
    if unit == "count":
        return fmt.count(value)
    if unit == "multiple":
        return fmt.multiple(value)
    if unit == "text":
        return str(value)
    return fmt.number(value)


def show_difference(name: str, first: object, second: object, difference: object) -> str:
    """The difference column of a comparison: text as it came, numbers like their figure (an
    IRR's or a share's in percentage points), and none between IRRs above 100 %."""
    if isinstance(difference, str):
        return difference
    unit = meaning(name).unit
    if unit == "irr" and any(isinstance(v, float) and v > fmt.IRR_SHOWN_UP_TO for v in (first, second)):
        return "–"
    if unit in ("irr", "share") and isinstance(difference, int | float):
        return fmt.points(difference)
    text = show(name, difference)
    # a difference says which way, +$1.22 B like +1.5 pp (a fall already has its minus)
    rose = isinstance(difference, int | float) and difference > 0 and text[:1] not in ("-", "–", "")
    return f"+{text}" if rose else text
