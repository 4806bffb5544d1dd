"""Two or more stored runs overlaid: deliveries, the fab company's cumulative cash, investors' IRRs."""

from __future__ import annotations

import math

import plotly.graph_objects as go

from fabnet.core import format as fmt
from fabnet.core import yearly
from fabnet.report import style
from fabnet.store import StoredRun


def compare_figures(runs: list[StoredRun]) -> dict[str, go.Figure]:
    """Two or more runs overlaid, by id: accelerators delivered per quarter (with the first
    run's demand), the fab company's cumulative project cash flow, and the investors' IRRs.
    Each run is named as the store names it ("run 3 (base case)") and keeps one colour; a
    figure no run has data for is left out, and so is everything for fewer than two runs."""
    if len(runs) < 2:
        return {}
    made = {
        "compare-delivered": _compare_delivered(runs),
        "compare-cash": _compare_cash(runs),
        "compare-irr": _compare_irr(runs),
    }
    return {name: fig for name, fig in made.items() if fig is not None}


def _compare_delivered(runs: list[StoredRun]) -> go.Figure | None:
    fig = go.Figure()
    for k, run in enumerate(runs):
        supply = run.tables.get("supply")
        if supply is None or supply.empty:
            continue
        per_quarter = supply.groupby("quarter")["delivered"].sum()  # every product together
        fig.add_trace(
            go.Scatter(
                x=[style.quarter_date(q) for q in per_quarter.index],
                y=per_quarter.to_numpy(),
                name=run.name,
                line=dict(color=style.colour(k)),
            )
        )
    if not fig.data:
        return None
    first = runs[0].tables.get("supply")
    if first is not None and not first.empty:
        demand = first.groupby("quarter")["demand"].sum()
        fig.add_trace(
            go.Scatter(
                x=[style.quarter_date(q) for q in demand.index],
                y=demand.to_numpy(),
                name=f"demand ({runs[0].name})",
                line=dict(color="black", dash="dash"),
            )
        )
    return style.layout(fig, "Runs compared: accelerators delivered per quarter", "accelerators per quarter", "quarter")


def _compare_cash(runs: list[StoredRun]) -> go.Figure | None:
    fig = go.Figure()
    for k, run in enumerate(runs):
        q = run.tables.get("fabco_quarterly")
        if q is None or q.empty:
            continue
        cumulative = yearly.fabco_years(q).set_index("year")["project_free_cash_flow_usd"].cumsum()
        fig.add_trace(
            go.Scatter(
                x=cumulative.index.astype(str),
                y=cumulative.to_numpy() / style.BILLIONS.divisor,
                name=run.name,
                mode="lines+markers",
                line=dict(color=style.colour(k)),
            )
        )
    if not fig.data:
        return None
    fig.add_hline(y=0, line=dict(color="#9aa5b1", width=1))
    return style.layout(
        fig, "Runs compared: the fab company's cumulative project cash flow", style.BILLIONS.unit, "year"
    )


def _compare_irr(runs: list[StoredRun]) -> go.Figure | None:
    """Grouped bars, one group per investor: an IRR that does not exist (flows that never
    change sign) has no bar, and one above 100 % is drawn at 100 % with its text saying so."""
    tables = [(k, run, table) for k, run in enumerate(runs) if (table := run.tables.get("investors")) is not None]
    tables = [(k, run, table) for k, run, table in tables if not table.empty]
    if not tables:
        return None
    names = list(dict.fromkeys(name for _, _, table in tables for name in table["investor"]))
    fig, clipped = go.Figure(), False
    for k, run, table in tables:
        rates = table.set_index("investor")["irr"].astype(float).reindex(names)
        shown = [None if math.isnan(rate) else min(rate, fmt.IRR_SHOWN_UP_TO) for rate in rates]
        clipped |= bool((rates > fmt.IRR_SHOWN_UP_TO).any())
        fig.add_trace(
            go.Bar(
                x=names,
                y=shown,
                name=run.name,
                marker_color=style.colour(k),
                text=["" if math.isnan(rate) else fmt.irr(rate) for rate in rates],
                textposition="outside",
                cliponaxis=False,
            )
        )
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    fig.update_layout(barmode="group")
    if clipped:
        fig.add_annotation(
            text=f"IRRs above {fmt.percent(fmt.IRR_SHOWN_UP_TO, 0)} are drawn at {fmt.percent(fmt.IRR_SHOWN_UP_TO, 0)}",
            xref="paper",
            yref="paper",
            x=1,
            y=1.08,
            showarrow=False,
            xanchor="right",
        )
    return style.layout(fig, "Runs compared: investors' IRR", "IRR", "investor")
