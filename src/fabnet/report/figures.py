"""Plotly figures of a stored run. Each function takes the run's tables and returns a figure, or
None when the run holds no data for it (a run without simulation has no operating curve).
A sweep's and a robust plan's figures are in report.risk_figures, runs compared in report.compare."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from fabnet.core import columns, yearly
from fabnet.core import format as fmt
from fabnet.report import style
from fabnet.report.compare import compare_figures as compare_figures
from fabnet.report.risk_figures import npv_histogram, one_at_a_time, risk_fan, robust_builds, robust_npv, tornado
from fabnet.store import StoredRun

Tables = dict[str, pd.DataFrame]


def _build_label(row: Any) -> str:
    """A build's row in the timeline: site, what (module, shell, tool sets), how many, when."""
    kind = str(getattr(row, "kind", "module"))  # a run stored before tool sets has no kind
    what = columns.BUILD_KINDS.get(kind, kind)
    return f"{row.site} {what} ({row.modules}×, {row.started})"


Phase = tuple[str, pd.Timestamp, pd.Timestamp]
#: A build's phases in the Gantt chart, each in one colour whatever the build.
PHASE_COLOURS = {"construction": "#9aa5b1", "ramp": "#f0a04b", "full output": "#2e7d32"}


def _fab_phases(row: Any, end: pd.Timestamp | None) -> list[Phase]:
    """A fab build's construction, ramp and full output to the horizon's end; a shell is a
    building, under construction until it is ready for tools, with no output of its own."""
    started, online = style.quarter_date(row.started), style.quarter_date(row.online)
    if getattr(row, "kind", "module") == "shell":
        return [("construction", started, online)]
    ramp_end = online + pd.DateOffset(months=3 * int(getattr(row, "ramp_quarters", 4)))
    return [("construction", started, online), ("ramp", online, ramp_end), ("full output", ramp_end, end or ramp_end)]


def _packaging_phases(row: Any, end: pd.Timestamp | None) -> list[Phase]:
    """A packaging line's construction, then its output to the horizon's end (the planner gives
    a line its whole capacity once online: no ramp)."""
    started, online = style.quarter_date(row.started), style.quarter_date(row.online)
    return [("construction", started, online), ("full output", online, end or online)]


def _gantt_rows(t: Tables, end: pd.Timestamp | None) -> list[tuple[str, str, list[Phase]]]:
    """Every build, fabs' and packaging lines', as (label, site, phases), in order of start."""
    rows = []
    builds, packaging = t.get("builds"), t.get("packaging_builds")
    if builds is not None:
        rows += [(_build_label(r), str(r.site), _fab_phases(r, end)) for r in builds.itertuples()]
    if packaging is not None:
        rows += [
            (f"{r.line} packaging line ({r.modules}×, {r.started})", str(r.line), _packaging_phases(r, end))
            for r in packaging.itertuples()
        ]
    return sorted(rows, key=lambda row: row[2][0][1])


def fab_timeline(t: Tables) -> go.Figure | None:
    """A Gantt chart of every build: fab modules, shells and tool sets by site, and packaging
    lines, each through construction, ramp and full output, the first started on top."""
    capacity = t.get("capacity")
    end = (
        style.quarter_date(capacity["quarter"].iloc[-1]) + pd.offsets.QuarterEnd(0)
        if capacity is not None and len(capacity)
        else None
    )
    rows = _gantt_rows(t, end)
    if not rows:
        return None
    fig, shown = go.Figure(), set()
    for label, site, phases in rows:
        for phase, start, stop in phases:
            if stop <= start:
                continue
            fig.add_trace(
                go.Bar(
                    x=[(stop - start).days * 86_400_000],
                    base=[start],
                    y=[label],
                    orientation="h",
                    marker_color=PHASE_COLOURS[phase],
                    name=phase,
                    showlegend=phase not in shown,
                    hovertemplate=f"{site}: {phase} %{{base|%Y-%m}} → {stop:%Y-%m}<extra></extra>",
                )
            )
            shown.add(phase)
    fig.update_xaxes(type="date")
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_layout(barmode="overlay")
    style.layout(fig, "Builds: fabs and packaging lines, construction, ramp, full output")
    fig.update_layout(height=max(300, 160 + 34 * len(rows)))
    return fig


def capacity_vs_demand(t: Tables) -> go.Figure | None:
    """Wafer starts the demand needs per node against own capacity and foundry wafers used."""
    demand, capacity, production = t.get("wafer_demand"), t.get("capacity"), t.get("production")
    if demand is None or demand.empty:
        return None
    fig = go.Figure()
    need = demand.groupby(["node", "quarter"], sort=False)["wafer_starts"].sum().reset_index()
    for node, rows in need.groupby("node", sort=False):
        x = [style.quarter_date(q) for q in rows["quarter"]]
        if capacity is not None and len(capacity):
            own = capacity[capacity["node"] == node].groupby("quarter", sort=False)["effective_capacity"].sum()
            fig.add_trace(
                go.Scatter(
                    x=[style.quarter_date(q) for q in own.index],
                    y=own.values,
                    name=f"{node} own capacity",
                    stackgroup=node,
                )
            )
        if production is not None and len(production):
            bought = production[(production["node"] == node) & (production["kind"] == "foundry")]
            used = bought.groupby("quarter", sort=False)["wafer_starts"].sum()
            if len(used):
                fig.add_trace(
                    go.Scatter(
                        x=[style.quarter_date(q) for q in used.index],
                        y=used.values,
                        name=f"{node} foundry wafers",
                        stackgroup=node,
                    )
                )
        fig.add_trace(
            go.Scatter(x=x, y=rows["wafer_starts"], name=f"{node} wafer demand", line=dict(dash="dash", width=3))
        )
    return style.layout(fig, "Capacity against wafer demand, per node", "wafers per quarter")


def delivered_vs_demand(t: Tables) -> go.Figure | None:
    """Per product, accelerators delivered (a light area) and demand (a dashed line with markers,
    drawn after every area so that no delivery hides it), both in the product's colour."""
    supply = t.get("supply")
    if supply is None or supply.empty:
        return None
    fig = go.Figure()
    products = list(supply.groupby("product", sort=False))
    for k, (product, rows) in enumerate(products):
        fig.add_trace(
            go.Scatter(
                x=[style.quarter_date(q) for q in rows["quarter"]],
                y=rows["delivered"],
                name=f"{product} delivered",
                legendgroup=str(product),
                fill="tozeroy",
                line=dict(color=style.colour(k), width=1),
                fillcolor=style.translucent(style.colour(k), 0.2),
            )
        )
    for k, (product, rows) in enumerate(products):
        fig.add_trace(
            go.Scatter(
                x=[style.quarter_date(q) for q in rows["quarter"]],
                y=rows["demand"],
                name=f"{product} demand",
                legendgroup=str(product),
                mode="lines+markers",
                line=dict(color=style.colour(k), dash="dash", width=2),
                marker=dict(size=5),
            )
        )
    return style.layout(fig, "Accelerators delivered against demand", "accelerators per quarter", "quarter")


def network_adds(t: Tables) -> go.Figure | None:
    """Accelerators delivered per year with the network and on the foundry route, against demand."""
    supply, without = t.get("supply"), t.get("counterfactual_supply")
    if supply is None or supply.empty or without is None or without.empty:
        return None
    with_fabs = supply.groupby("year")[["demand", "delivered"]].sum()
    alone = without.groupby("year")["delivered"].sum()
    years = with_fabs.index.astype(str)
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=years, y=alone.reindex(with_fabs.index).to_numpy(), name="foundry route (no fabs)", marker_color="#9aa5b1"
        )
    )
    fig.add_trace(go.Bar(x=years, y=with_fabs["delivered"], name="with the network", marker_color="#2e7d32"))
    fig.add_trace(
        go.Scatter(
            x=years, y=with_fabs["demand"], name="demand", mode="lines+markers", line=dict(color="black", dash="dash")
        )
    )
    fig.update_layout(barmode="group")
    return style.layout(fig, "What the network adds: accelerators delivered per year", "accelerators per year")


#: The buyer's colour in every figure: outside the palette the investors take theirs from.
BUYER_COLOUR = "#111111"


def deal_curves(t: Tables) -> go.Figure | None:
    """The deal: each investor's IRR (against its dotted hurdle, both in the investor's colour)
    and the buyer's gain against the foundry route, as the offtake price moves; the range that
    serves both shaded, its ends and the scenario's contract marked, and the x-axis wide enough
    for all three (a high end of 390 % is on the chart, not beyond its edge)."""
    points, investors = t.get("deal_points"), t.get("deal_investors")
    if points is None or points.empty or investors is None or investors.empty:
        return None
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for k, (investor, rows) in enumerate(investors.groupby("investor", sort=False)):
        colour = style.colour(k)
        fig.add_trace(
            go.Scatter(
                x=rows["share_of_market"],
                y=rows["irr"],
                name=f"IRR of {investor}",
                legendgroup=str(investor),
                line=dict(color=colour),
            ),
            secondary_y=False,
        )
        fig.add_trace(
            go.Scatter(
                x=rows["share_of_market"],
                y=rows["hurdle"],
                name=f"hurdle of {investor}",
                legendgroup=str(investor),
                line=dict(color=colour, dash="dot"),
            ),
            secondary_y=False,
        )
    fig.add_trace(
        go.Scatter(
            x=points["share_of_market"],
            y=points["buyer_gain_usd"] / style.BILLIONS.divisor,
            name=f"buyer's gain vs foundry route ({style.BILLIONS.unit})",
            line=dict(color=BUYER_COLOUR, width=3),
        ),
        secondary_y=True,
    )
    marks = _deal_marks(t.get("deal_range"))
    _shade_deal_range(fig, marks)
    widest = max([float(points["share_of_market"].max()), *marks.values()])
    fig.update_xaxes(
        title="offtake price, share of the market wafer price", tickformat=".0%", range=[0.0, widest * 1.05]
    )
    fig.update_yaxes(title="investor IRR", tickformat=".0%", secondary_y=False)
    fig.update_yaxes(title=f"buyer's gain, {style.BILLIONS.unit} (present value)", secondary_y=True)
    style.layout(fig, "The deal: investors' IRR and the buyer's gain by offtake price")
    fig.update_layout(height=460, legend=dict(orientation="h", y=-0.25))
    return fig


def _deal_marks(bounds: pd.DataFrame | None) -> dict[str, float]:
    """The deal range's ends and the scenario's contract, as shares of the market price, where
    the run has them."""
    if bounds is None or bounds.empty:
        return {}
    row = bounds.iloc[0]
    named = {"low end": row.get("low_share"), "high end": row.get("high_share"), "contract": row.get("contract_share")}
    return {name: float(v) for name, v in named.items() if v is not None and not pd.isna(v)}


def _shade_deal_range(fig: go.Figure, marks: dict[str, float]) -> None:
    """The range that serves both shaded, and a labelled line at each end and at the contract."""
    low, high = marks.get("low end"), marks.get("high end")
    if low is not None and high is not None and low <= high:
        fig.add_vrect(x0=low, x1=high, fillcolor="rgba(46,125,50,0.12)", line_width=0)
    for name, share in marks.items():
        fig.add_vline(
            x=share,
            line=dict(color="#2e7d32" if name != "contract" else "#555555", dash="dash", width=1),
            annotation_text=f"{name} {fmt.percent(share, 0)}",
            annotation_position="top right" if name != "low end" else "top left",
        )


def cash_flow(t: Tables) -> go.Figure | None:
    q = t.get("fabco_quarterly")
    if q is None or q.empty:
        return None
    years = yearly.fabco_years(q).set_index("year")
    fig = go.Figure()
    parts = {
        "wafers sold to the buyer": years["wafers_to_buyer_usd"],
        "wafers sold to other customers": years["wafers_to_others_usd"],
        "take-or-pay for wafers not taken": years["take_or_pay_usd"],
        "operating costs": -years["operating_costs_usd"],
        "capex": -years["capex_usd"],
        "grants and credits": years["grants_and_credits_usd"],
        "tax": -years["tax_usd"],
    }
    for name, values in parts.items():
        fig.add_trace(go.Bar(x=years.index.astype(str), y=values / style.BILLIONS.divisor, name=name))
    fig.add_trace(
        go.Scatter(
            x=years.index.astype(str),
            y=years["project_free_cash_flow_usd"].cumsum() / style.BILLIONS.divisor,
            name="cumulative project cash flow",
            line=dict(color="black", width=3),
        )
    )
    fig.update_layout(barmode="relative")
    return style.layout(
        fig, "The fab company: who pays it, what it spends, by year, and cumulative", style.BILLIONS.unit
    )


def buyer_costs(t: Tables) -> go.Figure | None:
    """What the buyer spends per year, by kind, against the market value of what it gets."""
    q = t.get("buyer_quarterly")
    if q is None or q.empty:
        return None
    years = yearly.buyer_years(q).set_index("year")
    fig = go.Figure()
    parts = {
        "fab company wafers": years["fab_company_wafers_usd"],
        "foundry wafers": years["foundry_wafers_usd"],
        "design and masks": years["design_and_masks_usd"],
        "HBM": years["HBM_usd"],
        "packaging": years["packaging_usd"],
        "bought accelerators": years["bought_accelerators_usd"],
    }
    for name, values in parts.items():
        fig.add_trace(go.Bar(x=years.index.astype(str), y=values / style.BILLIONS.divisor, name=name))
    fig.add_trace(
        go.Scatter(
            x=years.index.astype(str),
            y=years["market_value_usd"] / style.BILLIONS.divisor,
            name="market value of its accelerators",
            line=dict(color="black", width=3),
        )
    )
    fig.update_layout(barmode="stack")
    return style.layout(
        fig, "The buyer: costs by year against the market value of its accelerators", style.BILLIONS.unit
    )


def money_per_investor(t: Tables) -> go.Figure | None:
    """Committed, called and received per investor as horizontal bars, each with its amount
    written on it: an investor of $50 M beside one of $9 B has a bar too short to read, but
    its text still says what it is."""
    investors = t.get("investors")
    if investors is None or investors.empty:
        return None
    fig = go.Figure()
    parts = (("committed_usd", "committed"), ("called_usd", "called"), ("received_usd", "received"))
    for column, label in parts:  # on the reversed axis below, committed is the top bar of each group
        amounts = investors[column].astype(float)
        fig.add_trace(
            go.Bar(
                y=investors["investor"],
                x=amounts / style.BILLIONS.divisor,
                name=label,
                orientation="h",
                text=[fmt.usd(v) for v in amounts],
                textposition="outside",
                cliponaxis=False,
                hovertemplate="%{y}: %{text} " + label + "<extra></extra>",
            )
        )
    amounts = investors[[column for column, _ in parts]].to_numpy(dtype=float) / style.BILLIONS.divisor
    # room right of the longest bar for its text
    low, high = min(0.0, float(amounts.min()) * 1.3), max(float(amounts.max()), 0.0) * 1.3
    fig.update_xaxes(range=[low, high or 1.0])
    fig.update_yaxes(autorange="reversed")  # the investors top down in the table's order
    fig.update_layout(barmode="group")
    style.layout(fig, "Money committed, called and received per investor", x=style.BILLIONS.unit)
    fig.update_layout(height=max(380, 140 + 90 * len(investors)))
    return fig


def investor_returns(t: Tables) -> go.Figure | None:
    investors = t.get("investors")
    if investors is None or investors.empty:
        return None
    cells = [
        investors["investor"],
        investors["kind"],
        [fmt.usd(v) for v in investors["committed_usd"]],
        [fmt.usd(v) for v in investors["called_usd"]],
        [fmt.usd(v) for v in investors["received_usd"]],
        [fmt.irr(v) for v in investors["irr"]],
        [fmt.percent(v) for v in investors["hurdle"]],
        ["–" if v != v else f"{v:,.2f}×" for v in investors["multiple"]],
    ]
    fig = go.Figure(
        go.Table(
            header=dict(values=["investor", "kind", "committed", "called", "received", "IRR", "hurdle", "multiple"]),
            cells=dict(values=cells),
        )
    )
    return style.layout(fig, "Investor returns")


def operating_curve(t: Tables) -> go.Figure | None:
    curve = t.get("sim_curve")
    if curve is None or curve.empty:
        return None
    fig = go.Figure(
        go.Scatter(
            x=curve["bottleneck_utilisation"],
            y=curve["x_factor"],
            mode="lines+markers",
            text=[f"×{s:g}" for s in curve["release_scale"]],
            name="X-factor",
        )
    )
    fig.update_xaxes(title="bottleneck utilisation")
    return style.layout(fig, "Fab operating curve (simulated)", "X-factor (cycle time / raw process time)")


def load_curves(t: Tables) -> go.Figure | None:
    """Each node's cycle time against the load of its fab, as the planner uses it; only for
    nodes where an own fab starts wafers (a curve for a fab that makes nothing says nothing)."""
    curves = t.get("load_curves")
    if curves is None or curves.empty:
        return None
    curves = curves[curves["node"].isin(_running_nodes(t))]
    if curves.empty:
        return None
    fig = go.Figure()
    for node, rows in curves.groupby("node", sort=False):
        fitted, simulated = rows[rows["kind"] == "fitted"], rows[rows["kind"] == "simulated"]
        fig.add_trace(go.Scatter(x=fitted["load"], y=fitted["cycle_days"], name=f"{node} (fitted)"))
        fig.add_trace(
            go.Scatter(
                x=simulated["load"],
                y=simulated["cycle_days"],
                mode="markers",
                name=f"{node} (simulated, {rows['curve'].iloc[0]})",
            )
        )
    fig.update_xaxes(title="load (wafer starts / capacity)", tickformat=".0%")
    return style.layout(fig, "Cycle time against load, per node (the planner's load curves)", "cycle time, days")


def _running_nodes(t: Tables) -> set[str]:
    """Nodes on which an own fab starts at least one wafer in the plan."""
    capacity = t.get("capacity")
    if capacity is None or capacity.empty:
        return set()
    starts = capacity.groupby("node")["wafer_starts"].sum()
    return set(starts[starts > 0].index)


def _makes_nothing(q: pd.DataFrame) -> bool:
    """A checked fab that starts no wafer and puts none out, planned or simulated: its cycle
    times would be drawn from no lot at all."""
    made = q[["wafer_starts", "planned_output", "simulated_output"]].fillna(0.0).to_numpy()
    return bool((made <= 0).all())


def plan_check(t: Tables) -> go.Figure | None:
    """Each checked fab's wafer output and cycle time per quarter, as planned (solid) and as
    simulated (dotted), a colour per fab."""
    q = t.get("check_quarters")
    if q is None or q.empty or _makes_nothing(q):
        return None
    fig = make_subplots(rows=1, cols=2, subplot_titles=("wafer output", "cycle time"))
    fabs = list(dict.fromkeys(q["site"]))
    for k, (site, rows) in enumerate((site, q[q["site"] == site]) for site in fabs):
        x = [style.quarter_date(quarter) for quarter in rows["quarter"]]  # dates: an axis of years
        who = f"{site}: " if len(fabs) > 1 else ""
        colour = style.colour(k)
        for column, name, dash in (("planned_output", "planned", None), ("simulated_output", "simulated", "dot")):
            fig.add_trace(
                go.Scatter(x=x, y=rows[column], name=f"{who}output {name}", line=dict(dash=dash, color=colour)),
                row=1,
                col=1,
            )
        for column, name, dash in (
            ("planned_cycle_days", "planned", None),
            ("simulated_cycle_days", "simulated", "dot"),
        ):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=rows[column],
                    name=f"{who}cycle time {name}",
                    line=dict(dash=dash, color=colour if len(fabs) > 1 else style.colour(1)),
                    customdata=list(zip(rows["quarter"], rows["load"], strict=True)),
                    hovertemplate="%{customdata[0]}: %{y:.0f} d at load %{customdata[1]:.0%}",
                ),
                row=1,
                col=2,
            )
    fig.update_yaxes(title="wafers per quarter", row=1, col=1)
    fig.update_yaxes(title="days", row=1, col=2)
    named = ", ".join(f"{site} ({q.loc[q['site'] == site, 'node'].iloc[0]})" for site in fabs)
    verb = "each simulated at its" if len(fabs) > 1 else "simulated at its"
    return style.layout(fig, f"Plan check: {named} {verb} planned load on SMT2020 {q['dataset'].iloc[0]}")


def plan_check_deliveries(t: Tables) -> go.Figure | None:
    """Accelerators per year as planned and as simulated by the plan check."""
    d = t.get("check_delivered")
    if d is None or d.empty:
        return None
    yearly = d.groupby("year", as_index=False)[["demand", "planned", "simulated", "difference"]].sum()
    yearly = yearly[(yearly["demand"] > 0) | (yearly["planned"] > 0)]
    cells = [yearly["year"].astype(str)] + [
        [f"{v:,.0f}" for v in yearly[c]] for c in ("demand", "planned", "simulated", "difference")
    ]
    fig = go.Figure(
        go.Table(
            header=dict(values=["year", "demand", "delivered as planned", "as simulated", "difference"]),
            cells=dict(values=cells),
        )
    )
    return style.layout(fig, "Plan check: accelerators delivered per year")


FIGURES: dict[str, Callable[[Tables], go.Figure | None]] = {
    "network-adds": network_adds,
    "deal": deal_curves,
    "fab-timeline": fab_timeline,
    "capacity-vs-demand": capacity_vs_demand,
    "delivered-vs-demand": delivered_vs_demand,
    "cash-flow": cash_flow,
    "buyer-costs": buyer_costs,
    "money-per-investor": money_per_investor,
    "investor-returns": investor_returns,
    "load-curves": load_curves,
    "plan-check": plan_check,
    "plan-check-deliveries": plan_check_deliveries,
    "operating-curve": operating_curve,
    "risk-fan": risk_fan,
    "npv-histogram": npv_histogram,
    "tornado": tornado,
    "robust-npv": robust_npv,
    "robust-builds": robust_builds,
    "sensitivity": one_at_a_time,
}


def figures(run: StoredRun) -> dict[str, go.Figure]:
    """Every figure the run has data for, by id."""
    made = {name: make(run.tables) for name, make in FIGURES.items()}
    return {name: fig for name, fig in made.items() if fig is not None}
