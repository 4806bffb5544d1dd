"""What the network commands print (wafers, plan, finance, run, deal)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fabnet.cli.terminal import err, figures_table, new_table, out, print_frame, show, styled
from fabnet.core import columns, yearly
from fabnet.core import format as fmt
from fabnet.core.secrets import redact

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd
    from rich.table import Table

    from fabnet.api import Deal, Financials, JobResult, Plan, PlanCapex, PlanCheck, Scenario


def print_deal(scenario: Scenario, result: Deal) -> None:
    """What each side gets at each offtake price, and the range that serves both (or why none)."""
    # one column per investor, an IRR that never exists included (never called, no sign change)
    investors = result.investors.set_index(["share_of_market", "investor"])["irr"].unstack()
    names = [i.id for i in scenario.funding.investors]
    who = scenario.funding.shown_names()
    hurdles = result.investors.groupby("investor")["hurdle"].first()
    table = new_table(
        "price, share of market",
        "$ per wafer",
        "fab company NPV",
        "fab company IRR",
        *[f"IRR of {who[name]} (hurdle {fmt.percent(hurdles[name])})" for name in names],
        "buyer's gain vs foundry route",
        title="The deal: what each side gets at each offtake price (the plan held)",
    )
    for row in result.points.itertuples():
        table.add_row(
            fmt.percent(row.share_of_market, 0),
            fmt.usd(row.price_per_wafer_usd),
            fmt.usd(row.fabco_npv_usd),
            fmt.irr(row.fabco_irr),
            *[fmt.irr(investors.at[row.share_of_market, name]) if name in investors else "–" for name in names],
            fmt.usd(row.buyer_gain_usd),
        )
    show(table)
    out.print(result.verdict)


def print_run(
    job: JobResult, store: str, report_path: Path | None, report_problem: str | None, who: dict[str, str]
) -> bool:
    """The main job's decision figures first, then its builds, the other key figures (an
    investor's named as `who` says), the plan check and where the run and its report are; False
    when the run was not stored or has no report (the message says how to finish)."""
    store = redact(store)
    out.print(f"Plan: {job.plan.result.describe()}")
    figures = dict(job.figures)
    show(
        figures_table(
            "Decision: what the network adds, and for whom",
            {k: figures.pop(k) for k in list(job.decision.decision_figures())},
            who,
        )
    )
    for sentence in job.decision.sentences():
        out.print(f"  • {sentence}")
    show(builds_table(job.plan))
    show(figures_table("Key figures", figures, who))
    if job.check is not None:
        show(check_table(job.check))
    for message in job.messages:
        if message not in job.decision.sentences():
            out.print(f"  • {message}")
    if job.run_id is None:
        err.print(styled(("not stored:", "bold red"), f" {redact(job.store_error)}"), soft_wrap=True)
        out.print(
            styled(
                "the run is kept in ",
                (str(job.archive), "bold"),
                f": `fabnet runs import {job.archive} --store {store}` stores it, then `fabnet report ID` draws it",
            )
        )
        return False
    if report_problem is not None:
        err.print(styled(("no report:", "bold red"), f" {report_problem}"), soft_wrap=True)
        out.print(
            styled(
                f"run {job.run_id} stored in ",
                (store, "bold"),
                f"; `fabnet report {job.run_id} --store {store}` writes its report",
            )
        )
        return False
    out.print(styled(f"run {job.run_id} stored in ", (store, "bold"), "; report: ", (str(report_path), "bold")))
    return True


def builds_table(p: Plan) -> Table:
    """Fab modules, shells, tool sets and packaging expansions the plan starts, and when they
    come online (a shell: when it is ready for tool sets)."""
    builds = new_table("site", "node", "what", "count", "wspm", "started", "online", title="Fabs built", text_columns=3)
    for row in p.builds.itertuples():
        wspm = fmt.count(row.wspm) if row.wspm else "–"
        what = columns.BUILD_KINDS[row.kind]
        builds.add_row(row.site, row.node, what, str(row.modules), wspm, row.started, row.online)
    for row in p.packaging_builds.itertuples():
        builds.add_row(f"{row.line} (packaging)", "", "line", str(row.modules), "", row.started, row.online)
    if not len(p.builds) and not len(p.packaging_builds):
        builds.add_row("none: foundry capacity and secured packaging are cheaper", "", "", "", "", "", "")
    return builds


def print_plan(scenario: Scenario, p: Plan, money: Financials) -> None:
    style = "green" if p.optimal else "yellow"
    out.print(styled("\n", ("Plan", "bold"), ": ", (p.result.describe(), style)))
    show(builds_table(p))

    supply = p.supply.groupby(["product", "year"], sort=False)[["demand", "made", "bought", "delivered", "unmet"]].sum()
    delivered = new_table(
        "product",
        "year",
        "demand",
        "made",
        "bought",
        "delivered",
        "unmet",
        "met",
        title="Accelerators delivered versus demand",
        text_columns=2,
    )
    for (product, year), row in supply.iterrows():
        if row.demand > 0 or row.delivered > 0:
            met = fmt.percent(row.delivered / row.demand, 0) if row.demand else "–"
            delivered.add_row(
                str(product),
                str(year),
                fmt.count(row.demand),
                fmt.count(row.made),
                fmt.count(row.bought),
                fmt.count(row.delivered),
                fmt.count(row.unmet),
                met,
            )
    show(delivered)
    _print_fab_load(p)

    import pandas as pd

    b = p.budget.groupby("year").sum(numeric_only=True)
    budget = pd.DataFrame(
        {
            "year": b.index.astype(str),
            "capex_usd": b.capex_usd,
            "grants_usd": -(b.grants_usd + b.tax_credits_usd),
            "opex_usd": b.opex_usd + b.fixed_opex_usd + b.operator_fees_usd,
            "wafer_revenue_usd": -b.wafer_revenue_usd,
            "commitments_usd": b.commitments_usd,
            "cash_usd": p.budget.groupby("year")["cash_usd"].last(),
        }
    )
    print_frame(
        budget,
        "The fab company's budget per year, as planned (nominal)",
        1,
        FINANCE_NAMES | {"grants_usd": "grants+credits"},
    )
    out.print(
        f"Fab company NPV at {fmt.percent(scenario.finance.discount_rate)}: "
        f"{fmt.usd(money.fabco.metrics.fabco_npv_usd)} (finance, as `fabnet finance` and `fabnet run`); "
        f"planner objective: system cost {fmt.usd(p.objective_usd)} (present value)"
    )
    capex = _plan_capex(scenario, p, money)
    if capex.industry_capex_usd is not None:
        used = capex.offers[capex.offers["capex_usd"] > 0]
        peaks = ", ".join(f"{r.offer} {fmt.count(r.peak_wafers_per_month)} wspm" for r in used.itertuples())
        out.print(
            f"Foundry capacity the plan relies on (peak use: {peaks or 'none'}): "
            f"{fmt.usd(capex.industry_capex_usd)} of the industry's capex, apart from the fab company's "
            f"{fmt.usd(capex.fabco_capex_usd)}"
        )
    if (sentence := capex.sentence()) is not None:
        out.print(sentence)
    if p.messages:
        out.print(styled(("Shortfalls", "bold")))
        for message in p.messages:
            out.print(f"  • {message}")
    else:
        out.print("All demand is met.")


def _plan_capex(scenario: Scenario, p: Plan, money: Financials) -> PlanCapex:
    from fabnet.api import plan_capex

    return plan_capex(scenario, p.foundry, money.fabco.quarterly)


def _print_fab_load(p: Plan) -> None:
    """Per own fab and year: how loaded it is and the cycle time the plan expects."""
    running = p.capacity[p.capacity["wafer_starts"] > 0]
    if running.empty:
        return
    table = new_table(
        "site",
        "year",
        "wafer starts",
        "mean load",
        "peak load",
        "cycle time, days",
        title="Own fabs: load and planned cycle time",
        text_columns=2,
    )
    years = running.assign(year=running["quarter"].str[:4]).groupby(["site", "year"], sort=False)
    for (site, year), rows in years:
        table.add_row(
            site,
            year,
            f"{rows['wafer_starts'].sum():,.0f}",
            f"{rows['load'].mean():.0%}",
            f"{rows['load'].max():.0%}",
            f"{rows['cycle_days'].min():.0f}–{rows['cycle_days'].max():.0f}",
        )
    show(table)


def check_table(check: PlanCheck) -> Table:
    """The plan check per fab and year: its load, wafer output and cycle time, planned against
    simulated."""
    several = len(check.fabs) > 1
    table = new_table(
        "fab, year" if several else "year",
        "mean load",
        "wafers out: planned",
        "simulated",
        "cycle time, days: planned",
        "simulated",
        title=f"Plan check: {check.named()} simulated at {'their' if several else 'its'} planned load "
        f"(SMT2020 {check.dataset})",
    )
    for fab in check.fabs:
        q = fab.quarters.assign(year=fab.quarters["quarter"].str[:4])
        for year, rows in q.groupby("year", sort=False):
            running = rows[rows["wafer_starts"] > 0]
            table.add_row(
                f"{fab.site} {year}" if several else str(year),
                f"{running['load'].mean():.0%}" if len(running) else "–",
                f"{rows['planned_output'].sum():,.0f}",
                f"{rows['simulated_output'].sum():,.0f}",
                _mean_days(running["planned_cycle_days"]),
                _mean_days(running["simulated_cycle_days"]),
            )
    return table


def _mean_days(days: pd.Series) -> str:
    return "–" if days.isna().all() else f"{days.mean():.0f}"


def print_finance(scenario: Scenario, money: Financials) -> None:

    fabco = yearly.fabco_years(money.fabco.quarterly)
    fabco["year"] = fabco["year"].astype(str)
    print_frame(fabco, "The fab company: cash flows per year", 1, FINANCE_NAMES)
    m = money.fabco.metrics
    out.print(
        f"Fab company: NPV at {fmt.percent(scenario.finance.discount_rate)} {fmt.usd(m.fabco_npv_usd)} · "
        f"IRR {fmt.irr(m.fabco_irr)} ({fmt.irr(m.fabco_irr_before_grants)} before grants) · "
        f"gross margin {fmt.percent(m.fabco_gross_margin)} · "
        f"payback {m.payback_quarter or 'not within the horizon'} · peak funding need "
        f"{fmt.usd(m.peak_funding_need_usd)} (continuing value after the horizon "
        f"{fmt.usd(m.continuing_value_usd)} included, {fmt.usd(m.continuing_value_pv_usd)} of the NPV) · "
        f"equity IRR {fmt.irr(m.equity_irr)}"
        + (
            f" · lowest DSCR {fmt.multiple(m.min_dscr)}, LLCR {fmt.multiple(m.min_llcr)}"
            if m.min_dscr is not None
            else ""
        )
    )
    investors = money.fabco.investors.assign(
        irr=[r.irr if r.called_usd > 0 else None for r in money.fabco.investors.itertuples()]
    )
    print_frame(
        investors[["investor", "kind", "committed_usd", "called_usd", "received_usd", "irr", "hurdle", "multiple"]],
        "Investors",
    )
    for note in [m.fabco_irr_note, *money.fabco.investors["irr_note"]]:
        if note:
            out.print(f"  • {note}")
    buyer = yearly.buyer_years(money.buyer.quarterly)
    buyer["year"] = buyer["year"].astype(str)
    print_frame(buyer, "The buyer: costs per year", 1, FINANCE_NAMES)
    print_frame(
        money.buyer.products[["product", "kind", "delivered", "cost_per_accelerator_usd", "market_price_usd"]],
        "The buyer per product (levelised)",
    )
    for message in money.messages:
        out.print(styled((f"  • {message}", "yellow")))


#: Short labels of the yearly money tables (the sums of several stored columns).
FINANCE_NAMES = {
    "wafers_to_buyer_usd": "buyer's wafers",
    "wafers_to_others_usd": "others' wafers",
    "take_or_pay_usd": "take-or-pay",
    "operating_costs_usd": "opex",
    "opex_usd": "opex",
    "grants_and_credits_usd": "grants+ITC",
    "grants_usd": "grants+ITC",
    "project_free_cash_flow_usd": "project FCF",
    "equity_called_usd": "equity called",
    "debt_drawn_usd": "debt drawn",
    "distributed_usd": "distributed",
    "fab_company_wafers_usd": "fab company wafers",
    "foundry_wafers_usd": "foundry",
    "design_and_masks_usd": "design+masks",
    "HBM_usd": "HBM",
    "packaging_usd": "packaging",
    "bought_accelerators_usd": "bought",
    "accelerators_delivered": "delivered",
    "market_value_usd": "market value",
    "capex_usd": "capex",
    "wafer_revenue_usd": "wafer revenue",
    "commitments_usd": "committed",
    "cash_usd": "cash at end",
}


def print_economics(economics: pd.DataFrame, basis: str) -> None:
    per_product = new_table(
        "product",
        "node",
        "priced at",
        "die mm²",
        "D0/cm²",
        "gross/wafer",
        "yield",
        "good/wafer",
        "$/good die",
        "$/accelerator",
        "market price",
        title=f"Per-accelerator economics at {basis}",
        text_columns=3,
    )
    for row in economics.itertuples():
        per_product.add_row(
            row.product,
            row.node,
            row.priced_at,
            f"{row.die_area_mm2:,.0f}",
            f"{row.d0_per_cm2:.3f}",
            f"{row.gross_dies:,}",
            f"{row.die_yield:.1%}",
            f"{row.good_dies_per_wafer:,.1f}",
            fmt.usd(row.cost_per_good_die_usd),
            fmt.usd(row.cost_per_accelerator_usd),
            fmt.usd(row.market_price_usd),
        )
    show(per_product)


def print_wafer_report(
    scenario: Scenario,
    economics: pd.DataFrame,
    table: pd.DataFrame,
    by: str,
    fab_age_q: float | None,
    site: str | None = None,
) -> None:
    basis = "mature D0" if fab_age_q is None else f"D0 of a fab {fab_age_q:g} quarters into production"
    basis += f" at {site}" if site is not None else ""
    print_economics(economics, basis)

    key, months = by, (12 if by == "year" else 3)
    sums = (
        table.groupby(["product", "node", key], sort=False)[
            ["accelerators", "good_dies", "wafer_starts", "interposer_wafers"]
        ]
        .sum()
        .reset_index()
    )
    sums = sums[sums["accelerators"] > 0]  # a product before launch or after phase-out
    demand = new_table(
        "product",
        "node",
        key,
        "accelerators",
        "good dies",
        "wafer starts",
        "wafer starts/month",
        "interposer wafers",
        title=f"Accelerators → wafers by {key} (at {basis})",
        text_columns=3,
    )
    for row in sums.itertuples():
        demand.add_row(
            row.product,
            row.node,
            str(getattr(row, key)),
            f"{row.accelerators:,.0f}",
            f"{row.good_dies:,.0f}",
            f"{row.wafer_starts:,.0f}",
            f"{row.wafer_starts / months:,.0f}",
            f"{row.interposer_wafers:,.0f}",
        )
    show(demand)
    _print_wafers_per_node(scenario, table, by)


def _print_wafers_per_node(scenario: Scenario, table: pd.DataFrame, by: str) -> None:
    from fabnet.core.units import DAYS_PER_QUARTER

    key, months = by, (12 if by == "year" else 3)
    per_node = table.groupby(["node", key], sort=False)["wafer_starts"].sum().unstack(key)
    nodes = new_table(
        "node",
        "cycle time",
        *[str(c) for c in per_node.columns],
        title=f"Wafer starts per month the demand needs, by node and {key} (mature D0)",
    )
    for node_id, values in per_node.iterrows():
        cycle = scenario.node(str(node_id)).cycle_time_days
        nodes.add_row(
            str(node_id), f"{cycle:.0f} d ({cycle / DAYS_PER_QUARTER:.1f} q)", *[f"{v / months:,.0f}" for v in values]
        )
    show(nodes)
