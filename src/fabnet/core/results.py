"""Every table fabnet stores, declared once: its columns, their types and what each means.

The producers (plan, finance, the pipeline, the checks and sweeps) return frames with exactly
these columns (`Table.conform`); the stores create their tables from these types, so a table
first stored empty is typed all the same, and refuse a column declared nowhere
(`Table.check`); the export's legend reads the meanings. A column's label and unit are declared
with it (core.columns reads them): adding a column is one line here. What a Column and a Table
are is core.tables'.

Stored result tables also carry `run_id` (RUN_ID), added by the store. Frames are typed `Any`:
core imports no pandas (tests/test_layers.py).
"""

from __future__ import annotations

from fabnet.core.sim_results import CHECK_TABLES, SIM_TABLES
from fabnet.core.tables import (
    INVESTOR,
    LINE,
    MESSAGE,
    NODE,
    PANDAS_DTYPES,
    PRODUCT,
    QUARTER,
    RUN_ID,
    SHARE_OF_MARKET,
    SITE,
    UNITS,
    WHERE,
    YEAR,
    Column,
    MissingColumn,
    Table,
    Undeclared,
    UndeclaredColumn,
    UndeclaredTable,
)

__all__ = [
    "DECISION_GAP",
    "DEFAULT_STORE",
    "PANDAS_DTYPES",
    "RUN_ID",
    "TABLES",
    "UNITS",
    "WHERE",
    "Column",
    "MissingColumn",
    "Table",
    "Undeclared",
    "UndeclaredColumn",
    "UndeclaredTable",
    "column_meaning",
    "table",
]

#: The results store (a DuckDB file) a run goes to and is read from unless another is given.
DEFAULT_STORE = "fabnet.duckdb"

#: The relative gap of a plan a decision rests on (`fabnet plan`, `fabnet run`, the API's
#: plan_network and decide): on tigris 0.2 % of its ~$40 B system cost is ~$80 M, well inside a
#: $0.5 B decision such as one tool set or one fab, and solves in about the time 1 % takes (the
#: polishing pass already tightens the builds). Samples of a sweep and robust futures keep
#: SolveOptions' 1 %.
DECISION_GAP = 0.002


def table(name: str) -> Table:
    """The declaration of table `name` (UndeclaredTable when there is none)."""
    if name not in TABLES:
        raise UndeclaredTable(name)
    return TABLES[name]


def column_meaning(table_name: str, column: str) -> str:
    """What a stored column means; "" for one no declaration names (an older store's)."""
    found = TABLES[table_name].column(column) if table_name in TABLES else None
    return found.meaning if found is not None else ""


# --- the declarations ----------------------------------------------------------------------
# Quantities are per quarter unless a meaning says otherwise; money is nominal USD; wafers
# "mature-equivalent" count a young fab's lower yield as fewer wafers (the planner's unit).


def _modules_started(*keys: Column) -> tuple[Column, ...]:
    """Modules started per entity (a site, a packaging line) and quarter."""
    return (
        *keys,
        Column("started", "text", "quarter construction of the modules starts"),
        Column("modules", "int", "modules started that quarter", "modules", "count"),
        Column("online", "text", "quarter the modules come online (start plus lead time)"),
    )


def _buyer_quarterly(name: str, whose: str) -> Table:
    """The buyer's money per quarter: the plan's, or the foundry route's (no fab of its own)."""
    return Table(
        name,
        (
            QUARTER,
            YEAR,
            Column("fabco_wafers_usd", "float", f"paid to the fab company for wafers and take-or-pay{whose}"),
            Column("foundry_usd", "float", f"paid to foundries for wafers used and take-or-pay on reservations{whose}"),
            Column("design_usd", "float", f"chip design programmes{whose}"),
            Column("masks_usd", "float", f"mask sets{whose}"),
            Column("hbm_usd", "float", f"HBM stacks for the packages started{whose}"),
            Column("packaging_usd", "float", f"interposer wafers, assembly and test of the packages started{whose}"),
            Column("packaging_capex_usd", "float", f"packaging line expansions{whose}"),
            Column("bought_usd", "float", f"finished accelerators bought from vendors at market price{whose}"),
            Column("cost_usd", "float", f"all of the buyer's costs above{whose}"),
            Column("delivered", "float", f"accelerators delivered (made and bought){whose}", unit="count"),
            Column("market_value_usd", "float", f"the accelerators delivered at market prices{whose}"),
        ),
    )


#: Fab modules a plan starts.
BUILD_COLUMNS = (
    *_modules_started(SITE, NODE),
    Column(
        "ramp_quarters",
        "int",
        "quarters the site's ramp lasts once online (its operator's or its own)",
        "ramp",
        "quarters",
    ),
    Column(
        "kind",
        "text",
        "what is built: module (building and tools at once), shell (building, ready for tool sets), tools, "
        "or conversion (another site's fab retooled for this site's node)",
    ),
    Column(
        "wspm",
        "float",
        "wafer starts a month the builds add at full ramp (0 for a shell)",
        "wafer starts a month",
        "count",
    ),
)

#: What a sample of a risk sweep (and a fresh future of a robust run) stores.
SAMPLE_OUTCOMES = (
    Column("sample", "int", "the sample's number"),
    Column("fabco_npv_usd", "float", "the fab company's NPV in the sample", "fab company NPV", "usd"),
    Column(
        "buyer_net_usd",
        "float",
        "the buyer's savings against market prices, present value",
        "buyer's net value (present value)",
        "usd",
    ),
    Column(
        "modules_built",
        "int",
        "fab modules the sample's plan builds (a fixed-plan sweep: the base plan's)",
        "fab modules built (shells and whole modules)",
        "count",
    ),
    Column("unmet", "float", "accelerators not delivered over the horizon", unit="count"),
)
SAMPLE_FAMILIES = (
    Column("input_{n}", "float", "the value drawn for uncertain input {n} (risk_inputs)"),
    Column("demand_{year}", "float", "accelerators wanted in {year}"),
    Column("delivered_{year}", "float", "accelerators delivered in {year}"),
    Column("irr_{investor}", "float", "annual IRR of investor {investor} (re-optimised sweeps)"),
)

_TABLES = (
    Table(
        "runs",
        (
            RUN_ID,
            Column("created_at", "time", "when the run was stored (UTC)", "when (UTC)", "text"),
            Column("scenario_name", "text", "the scenario's name"),
            Column("scenario_hash", "text", "SHA-256 of the resolved scenario text"),
            Column("scenario_text", "text", "the resolved scenario as YAML (extends and --set applied)"),
            Column("seed", "int", "the scenario's random seed", "seed", "text"),
            Column("fabnet_version", "text", "fabnet version that made the run"),
            Column("solver_status", "text", "how the planner's solve ended, in words"),
            Column("solver_gap", "float", "the solver's relative optimality gap", "solver gap", "share"),
            Column("figures", "text", "the run's key figures as JSON"),
            Column("label", "text", "the label given with --label"),
            Column("kind", "text", "run, risk, deal or robust"),
            Column("source", "text", "the scenario file the run was read from"),
            Column("overrides", "text", "the --set overrides as a JSON list of path=value"),
        ),
    ),
    Table("builds", BUILD_COLUMNS),
    Table("packaging_builds", _modules_started(LINE)),
    Table(
        "capacity",
        (
            SITE,
            NODE,
            QUARTER,
            Column(
                "modules_online",
                "float",
                "modules producing (a tool set counts as its share of a module)",
                unit="count",
            ),
            Column(
                "modules_staffed",
                "float",
                "modules whose fixed costs are paid: producing, or qualifying before their first wafer",
                unit="count",
            ),
            Column(
                "wafer_capacity",
                "float",
                "wafer starts the modules online allow (real wafers, ramp applied)",
                unit="count",
            ),
            Column(
                "effective_capacity",
                "float",
                "the same capacity in mature-equivalent wafers (yield learning)",
                unit="count",
            ),
            Column("wafer_starts", "float", "mature-equivalent wafers started, for the buyer and spare", unit="count"),
            Column("spare_starts", "float", "mature-equivalent wafers started for other customers", unit="count"),
            Column("load", "float", "wafer starts over effective capacity", "load", "share"),
            Column(
                "queue",
                "float",
                "the buyer's wafers waiting at the end of the quarter (load-dependent cycle time)",
                unit="count",
            ),
            Column("cleared", "float", "the buyer's wafers that entered processing", unit="count"),
            Column("cycle_days", "float", "cycle time the plan implies: raw cycle time plus time queued"),
            Column(
                "real_wafer_starts", "float", "real wafers started (a young fab needs more per good die)", unit="count"
            ),
            Column("wafers_out", "float", "real wafers leaving the fab for the buyer", unit="count"),
            Column("spare_out", "float", "real wafers leaving the fab for other customers", unit="count"),
            Column(
                "capacity_out",
                "float",
                "the capacity's output one cycle time later (what take-or-pay counts)",
                unit="count",
            ),
        ),
    ),
    Table(
        "production",
        (
            Column("source", "text", "where the wafers start: a site id or a foundry offer id"),
            Column("kind", "text", "site (the fab company's) or foundry"),
            NODE,
            PRODUCT,
            QUARTER,
            Column("wafer_starts", "float", "mature-equivalent wafers started for the product"),
        ),
    ),
    Table(
        "supply",
        (
            PRODUCT,
            Column("node", "text", "the product's node ('' for a bought product)"),
            QUARTER,
            YEAR,
            Column("demand", "float", "accelerators wanted", unit="count"),
            Column(
                "made",
                "float",
                "accelerators packaged from the buyer's dies (packages times packaging yield)",
                unit="count",
            ),
            Column("bought", "float", "finished accelerators bought from a vendor", unit="count"),
            Column("delivered", "float", "accelerators delivered: made plus bought"),
            Column("unmet", "float", "accelerators wanted and not delivered (lost, not carried)"),
            Column("packages_started", "float", "packages started on the product's packaging line", unit="count"),
            Column("die_bank", "float", "good dies ready and not yet packaged at the end of the quarter", unit="count"),
        ),
    ),
    Table(
        "packaging",
        (
            LINE,
            QUARTER,
            Column(
                "capacity_wafers", "float", "interposer wafers the line can take, expansions included", unit="count"
            ),
            Column("used_wafers", "float", "interposer wafers the packages started use", unit="count"),
        ),
    ),
    Table(
        "foundry",
        (
            Column("offer", "text", "foundry offer id (scenario `foundry_offers`)"),
            NODE,
            QUARTER,
            Column("capacity", "float", "wafers the offer makes available", unit="count"),
            Column("reserved", "float", "wafers the buyer reserves", unit="count"),
            Column("used", "float", "wafers the buyer starts (in a plan, all it reserves)", unit="count"),
        ),
    ),
    Table(
        "hbm",
        (
            Column("memory", "text", "HBM supply id (scenario `hbm`)"),
            QUARTER,
            Column("stacks_available", "float", "stacks the supply sells (inf: no limit)", unit="count"),
            Column("stacks_used", "float", "stacks the packages started take", unit="count"),
        ),
    ),
    Table(
        "plan_budget",
        (
            QUARTER,
            YEAR,
            Column("capex_usd", "float", "construction spending as the planner's budget saw it"),
            Column("grants_usd", "float", "grants received (negative: money in)"),
            Column("tax_credits_usd", "float", "investment tax credits received (negative: money in)"),
            Column("opex_usd", "float", "variable operating costs"),
            Column("fixed_opex_usd", "float", "fixed operating costs of the modules online"),
            Column("operator_fees_usd", "float", "operators' fees and revenue shares"),
            Column("wafer_revenue_usd", "float", "wafer revenue (negative: money in)"),
            Column("commitments_usd", "float", "investors' commitments arriving"),
            Column("cash_usd", "float", "the fab company's cash at the end of the quarter"),
        ),
    ),
    Table(
        "wafer_demand",
        (
            PRODUCT,
            NODE,
            QUARTER,
            YEAR,
            Column("accelerators", "float", "accelerators wanted (the product's demand)", unit="count"),
            Column("good_dies", "float", "good compute dies they need, packaging losses included", unit="count"),
            Column("wafer_starts", "float", "wafers they need at mature yield"),
            Column("interposer_wafers", "float", "interposer wafers their packages need", unit="count"),
        ),
    ),
    Table(
        "fabco_quarterly",
        (
            QUARTER,
            YEAR,
            Column("ebitda_usd", "float", "revenue less opex, fixed opex and operator fees"),
            Column("wafers_sold", "float", "real wafers sold: to the buyer and spare ones to others", unit="count"),
            Column("wafer_revenue_usd", "float", "the buyer's payments for wafers at the offtake price"),
            Column("take_or_pay_usd", "float", "the buyer's take-or-pay top-up for output it did not take"),
            Column("spare_revenue_usd", "float", "spare wafers sold to other customers at the market price"),
            Column("revenue_usd", "float", "all wafer revenue"),
            Column("opex_usd", "float", "variable operating costs per wafer started"),
            Column("fixed_opex_usd", "float", "fixed operating costs per module online"),
            Column("operator_fees_usd", "float", "operators' fees per wafer and revenue shares"),
            Column("capex_building_usd", "float", "construction spending on buildings"),
            Column("capex_tools_usd", "float", "construction spending on tools"),
            Column("capex_usd", "float", "construction spending, buildings and tools"),
            Column("grants_usd", "float", "grants received (their share of capex, up to their cap)"),
            Column("itc_usd", "float", "investment tax credit received as cash"),
            Column("depreciation_usd", "float", "straight-line depreciation of buildings and tools"),
            Column("tax_unlevered_usd", "float", "income tax before interest deductions (for the project flows)"),
            Column("project_fcf_usd", "float", "unlevered free cash flow: EBITDA − capex + grants + credits − tax"),
            Column("tax_usd", "float", "income tax paid, interest deducted, losses carried forward"),
            Column("interest_usd", "float", "interest on debt"),
            Column("principal_usd", "float", "debt repaid"),
            Column("equity_calls_usd", "float", "capital called from equity investors"),
            Column("debt_draws_usd", "float", "debt drawn"),
            Column("distributions_usd", "float", "cash distributed to equity"),
            Column("terminal_payout_usd", "float", "end of horizon: continuing value plus cash after repaying debt"),
            Column("funding_gap_usd", "float", "cash needed that no investor had left to give", "funding gap", "usd"),
            Column("cash_usd", "float", "cash held at the end of the quarter"),
            Column("equity_fcf_usd", "float", "equity's flow: distributions − equity calls"),
            Column(
                "cfads_usd", "float", "cash flow available for debt service: EBITDA − unlevered tax", "CFADS", "usd"
            ),
            Column(
                "dsra_usd",
                "float",
                "debt-service reserve held at the end of the quarter",
                "debt-service reserve",
                "usd",
            ),
            Column(
                "debt_balance_usd",
                "float",
                "project debt owed at the end of the quarter (the last's is repaid from the continuing value)",
            ),
            Column(
                "dscr", "float", "debt service cover: (EBITDA − tax paid) / project debt service", "DSCR", "multiple"
            ),
            Column("llcr", "float", "loan life cover: PV(CFADS to maturity) / project debt owed", "LLCR", "multiple"),
        ),
    ),
    Table(
        "investors",
        (
            INVESTOR,
            Column("kind", "text", "equity or debt"),
            Column("committed_usd", "float", "what the investor commits over the horizon"),
            Column("called_usd", "float", "what is called from it"),
            Column("received_usd", "float", "what it gets back (distributions, interest, repayments)"),
            Column("irr", "float", "its annual IRR (NaN when it has none)", "IRR", "irr"),
            Column("multiple", "float", "received over called", "multiple", "multiple"),
            Column("hurdle", "float", "the annual IRR it needs", "hurdle rate", "share"),
            Column("clears_hurdle", "bool", "whether its IRR reaches its hurdle"),
            Column("irr_note", "text", "why its IRR reads as it does, where it needs a word"),
        ),
    ),
    Table(
        "investor_flows",
        (
            QUARTER,
            INVESTOR,
            Column("called_usd", "float", "capital called or debt drawn"),
            Column("received_usd", "float", "distributions, interest and repayments"),
            Column("flow_usd", "float", "received − called"),
        ),
    ),
    _buyer_quarterly("buyer_quarterly", ""),
    Table(
        "buyer_products",
        (
            PRODUCT,
            Column("kind", "text", "design (the buyer's own, made from wafers) or bought"),
            Column("delivered", "float", "accelerators delivered over the horizon"),
            Column("cost_per_accelerator_usd", "float", "levelised cost: present value of costs over accelerators"),
            Column("market_price_usd", "float", "levelised market price of the accelerators delivered"),
            Column("cost_usd", "float", "present value of the product's share of the buyer's costs"),
            Column("market_value_usd", "float", "present value of its accelerators at market prices"),
        ),
    ),
    Table(
        "counterfactual_supply",
        (
            PRODUCT,
            QUARTER,
            YEAR,
            Column("demand", "float", "accelerators wanted"),
            Column("delivered", "float", "accelerators delivered without the fab company's fabs"),
            Column("unmet", "float", "accelerators not delivered without the fab company's fabs"),
        ),
    ),
    _buyer_quarterly("counterfactual_buyer_quarterly", ", without the fab company's fabs"),
    Table(
        "deal_points",
        (
            SHARE_OF_MARKET,
            Column("price_per_wafer_usd", "float", "the offtake price per wafer at that share"),
            Column("fabco_npv_usd", "float", "the fab company's NPV at that price"),
            Column(
                "fabco_irr", "float", "the fab company's project IRR at that price", "fab company IRR (project)", "irr"
            ),
            Column("buyer_gain_usd", "float", "the buyer's net value against the foundry route, present value"),
            Column("investors_clear", "bool", "whether every investor clears its hurdle at that price"),
        ),
    ),
    Table(
        "deal_investors",
        (
            SHARE_OF_MARKET,
            INVESTOR,
            Column("irr", "float", "the investor's annual IRR at that price"),
            Column("multiple", "float", "received over called at that price"),
            Column("hurdle", "float", "the annual IRR it needs"),
            Column("cleared", "bool", "whether it clears its hurdle at that price"),
        ),
    ),
    Table(
        "deal_range",
        (
            Column(
                "low_share",
                "float",
                "lowest offtake price, as a share of market, at which every investor clears",
                "lowest price investors accept, of market",
                "share",
            ),
            Column(
                "high_share",
                "float",
                "highest offtake price, as a share of market, at which the buyer still gains",
                "highest price the buyer accepts, of market",
                "share",
            ),
            Column("market_price_usd", "float", "the fab company's wafers' average market price (output-weighted)"),
            Column("contract_share", "float", "what the scenario's offtake contract pays, as a share of market"),
            Column(
                "high_at_search_limit",
                "bool",
                "the high end is the search's upper bound: the buyer gains at least to it",
            ),
            Column("verdict", "text", "the deal in one sentence"),
        ),
    ),
    Table("messages", (MESSAGE,)),
    *CHECK_TABLES,
    Table(
        "risk_spec",
        (
            Column("samples", "int", "samples the sweep draws"),
            Column("seed", "int", "the sweep's random seed"),
            Column("method", "text", "how samples are drawn (lhs or sobol)"),
        ),
    ),
    Table(
        "risk_inputs",
        (
            Column("input", "int", "the uncertain input's number (column input_{n} of risk_samples)"),
            Column("path", "text", "the scenario path it varies"),
            Column("words", "text", "the path in words"),
            Column("touches_plan", "bool", "whether it can move the plan the sweep holds (not an unbuilt site's)"),
        ),
    ),
    Table("risk_samples", SAMPLE_OUTCOMES, families=SAMPLE_FAMILIES),
    Table(
        "risk_checks",
        (
            Column("sample", "int", "the sample's number (the first K of the sweep's draw)"),
            YEAR,
            Column("fabs", "int", "own fabs the sample's plan runs, each simulated"),
            Column("planned_output", "float", "wafers out of those fabs as planned"),
            Column("simulated_output", "float", "wafers out of those fabs as simulated"),
            Column("demand", "float", "accelerators wanted in the year"),
            Column("planned_delivered", "float", "accelerators the sample's plan delivers"),
        ),
    ),
    Table(
        "robust_spec",
        (
            Column("futures", "int", "futures the robust plan was chosen for (K)"),
            Column("seed", "int", "the seed they were drawn from (the fresh futures: seed + 1)"),
            Column("method", "text", "how futures are drawn (lhs or sobol)"),
            Column("out_of_sample", "int", "fresh futures both plans were measured on"),
            Column("cvar_level", "float", "α: CVaR is the expected cost of the worst 1 − α of futures"),
            Column("risk_weight", "float", "λ: the objective is (1 − λ) E[cost] + λ CVaR"),
            Column("robust_usd", "float", "the robust plan's objective over the K futures (system cost)"),
            Column("wait_and_see_usd", "float", "mean system cost of each future planned alone (few futures)"),
            Column("central_usd", "float", "mean system cost of the central plan's builds in the K futures"),
        ),
    ),
    Table(
        "robust_figures",
        (
            Column("figure", "text", "what is measured over the fresh futures"),
            Column("central", "float", "the central-value plan's figure"),
            Column("robust", "float", "the robust plan's figure"),
            Column("difference", "float", "robust − central"),
        ),
    ),
    Table(
        "robust_samples",
        (Column("plan", "text", "the plan measured: central or robust"), *SAMPLE_OUTCOMES),
        families=SAMPLE_FAMILIES,
    ),
    # a robust run's builds are its `builds`; the central-value plan's, beside them
    Table("central_builds", BUILD_COLUMNS),
    Table(
        "robust_futures",
        (
            Column("future", "int", "the future's number among the K the robust plan was chosen for"),
            Column("cost_usd", "float", "the system cost of that future under the robust plan's first stage"),
        ),
        families=SAMPLE_FAMILIES[:1],
    ),
    # `fabnet sensitivity --store`: the headline one input at a time, and the break-even
    Table(
        "sensitivity",
        (
            Column("input", "text", "the input in words (base: every input as the scenario has it)"),
            Column("path", "text", "the scenario path it varies"),
            Column("end", "text", "base, low or high"),
            Column("setting", "text", "the input's value there, as drawn (×0.85: its numbers multiplied)"),
            Column("fabco_npv_usd", "float", "the fab company's NPV at that point"),
            Column("fabco_irr", "float", "the fab company's project IRR at that point"),
            Column("network_adds_buyer_gain_usd", "float", "the buyer's gain against the foundry route there"),
        ),
        families=(
            Column("irr_{investor}", "float", "annual IRR of investor {investor} at that point"),
            Column("deal_{end}_share_of_market", "float", "the deal's {end} end at that point (--deal)"),
        ),
    ),
    Table(
        "break_even",
        (
            Column("path", "text", "the input the break-even moves"),
            Column("how", "text", "replace: the value itself; multiply: a factor on its numbers"),
            Column("key", "text", "the headline figure that reaches its target"),
            Column("target", "float", "the figure's target (a number, or the investor's hurdle)"),
            Column("low", "float", "the lower end searched"),
            Column("high", "float", "the upper end searched"),
            Column("at", "float", "the input's value at the break-even (empty: none in the range)"),
            Column("at_low", "float", "the figure at the lower end"),
            Column("at_high", "float", "the figure at the upper end"),
        ),
    ),
    *SIM_TABLES,
)

#: Every stored table by name.
TABLES: dict[str, Table] = {t.name: t for t in _TABLES}
