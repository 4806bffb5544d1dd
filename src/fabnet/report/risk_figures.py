"""The figures of a sweep (risk) and of a robust plan: the delivery fan, the NPV's spread and
downside, what moves it most, and the robust plan against the central-value plan; and of a
one-at-a-time sensitivity (`fabnet sensitivity --store`): the headline's tornado."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from fabnet.core import columns
from fabnet.core.stats import expected_shortfall
from fabnet.report import style
from fabnet.store.compare import build_differences

Tables = dict[str, pd.DataFrame]


def risk_fan(t: Tables) -> go.Figure | None:
    """P10–P90 band and median of accelerators delivered per year across the risk samples."""
    samples = t.get("risk_samples")
    if samples is None or samples.empty:
        return None
    years = sorted(int(c.split("_")[1]) for c in samples.columns if c.startswith("delivered_"))
    delivered = samples[[f"delivered_{y}" for y in years]]
    demand = samples[[f"demand_{y}" for y in years]].median().to_numpy()
    x = [str(y) for y in years]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=delivered.quantile(0.9).to_numpy(), line=dict(width=0), showlegend=False))
    fig.add_trace(
        go.Scatter(
            x=x,
            y=delivered.quantile(0.1).to_numpy(),
            fill="tonexty",
            line=dict(width=0),
            name="delivered P10–P90",
            fillcolor="rgba(46,125,50,0.25)",
        )
    )
    fig.add_trace(go.Scatter(x=x, y=delivered.median().to_numpy(), name="delivered P50", line=dict(color="#2e7d32")))
    fig.add_trace(go.Scatter(x=x, y=demand, name="demand P50", line=dict(dash="dash")))
    return style.layout(fig, f"Risk: accelerators delivered per year ({len(samples)} samples)", "accelerators per year")


def npv_histogram(t: Tables) -> go.Figure | None:
    """The fab company's NPV across the risk samples, with zero marked and the downside written
    in the title: the chance the NPV is below zero and the mean of the worst tenth."""
    samples = t.get("risk_samples")
    if samples is None or samples.empty:
        return None
    npv = samples["fabco_npv_usd"].to_numpy(dtype=float)
    below, shortfall = float((npv < 0).mean()), expected_shortfall(npv)
    fig = go.Figure(
        go.Histogram(
            x=npv / style.BILLIONS.divisor, name="samples", marker_color=style.translucent(style.colour(0), 0.7)
        )
    )
    fig.add_vline(x=0, line=dict(color="black", dash="dash"))
    downside = " · ".join(
        f"{columns.label(name)}: {columns.show(name, value)}"
        for name, value in (("p_npv_below_zero", below), ("expected_shortfall_usd", shortfall))
    )
    return style.layout(
        fig,
        f"Risk: the fab company's NPV ({len(npv)} samples)<br><sub>{downside}</sub>",
        "samples",
        f"fab company NPV, {style.BILLIONS.unit}",
    )


def tornado(t: Tables) -> go.Figure | None:
    """Inputs ranked by their rank correlation with NPV across the risk samples, named in words
    (the `words` stored with the sweep's inputs; a sweep stored before them shows its paths);
    inputs that do not touch the plan the sweep held (risk.summary.touches_plan) left out."""
    samples, inputs = t.get("risk_samples"), t.get("risk_inputs")
    if samples is None or samples.empty or inputs is None or len(samples) < 3:
        return None
    if "touches_plan" in inputs:
        inputs = inputs[inputs["touches_plan"].fillna(True).astype(bool)]
    rho = [samples[f"input_{i}"].corr(samples["fabco_npv_usd"], method="spearman") for i in inputs["input"]]
    names = inputs["words"] if "words" in inputs else inputs["path"]
    frame = pd.DataFrame({"input": names, "path": inputs["path"], "rho": rho}).fillna({"rho": 0.0})
    frame = frame.reindex(frame["rho"].abs().sort_values().index)
    fig = go.Figure(
        go.Bar(
            x=frame["rho"],
            y=frame["input"],
            orientation="h",
            customdata=frame["path"],
            hovertemplate="%{y}<br>%{customdata}: %{x:.2f}<extra></extra>",
            marker_color=["#c62828" if v < 0 else "#1565c0" for v in frame["rho"]],
        )
    )
    fig.update_xaxes(range=[-1, 1], title="rank correlation with the fab company's NPV")
    fig.update_yaxes(automargin=True)
    return style.layout(fig, "Risk: what moves the fab company's NPV most")


def one_at_a_time(t: Tables) -> go.Figure | None:
    """The stored sensitivity's tornado: for each input, the fab company's NPV at its low and at
    its high as bars from the base, the inputs that move it most on top."""
    table = t.get("sensitivity")
    if table is None or table.empty or not (table["end"] == "base").any():
        return None
    base = float(table.loc[table["end"] == "base", "fabco_npv_usd"].iloc[0])
    swung = table[table["end"] != "base"]
    order = list(dict.fromkeys(swung["input"]))[::-1]  # stored widest first; plotly draws bottom up
    fig = go.Figure()
    for k, end in enumerate(("low", "high")):
        rows = swung[swung["end"] == end].set_index("input").reindex(order)
        fig.add_bar(
            name=f"input at its {end}",
            y=order,
            x=(rows["fabco_npv_usd"] - base) / style.BILLIONS.divisor,
            base=base / style.BILLIONS.divisor,
            orientation="h",
            customdata=rows["setting"],
            hovertemplate="%{y}: %{customdata}<br>NPV %{x:+.2f} from the base<extra></extra>",
            marker_color=style.colour(k),
        )
    fig.add_vline(x=base / style.BILLIONS.divisor, line_dash="dot", annotation_text="base")
    fig.update_layout(barmode="overlay", height=max(380, 90 + 40 * len(order)))
    fig.update_yaxes(automargin=True)
    return style.layout(
        fig,
        "One input at a time: the fab company's NPV at each input's low and high",
        x=f"fab company NPV, {style.BILLIONS.unit}",
    )


def robust_npv(t: Tables) -> go.Figure | None:
    """A robust run: the fab company's NPV of the robust plan and of the central-value plan in
    the same fresh futures, as two overlaid histograms, each plan's mean marked."""
    samples = t.get("robust_samples")
    if samples is None or samples.empty:
        return None
    fig = go.Figure()
    for k, plan in enumerate(("central", "robust")):
        npv = samples.loc[samples["plan"] == plan, "fabco_npv_usd"].to_numpy(dtype=float) / style.BILLIONS.divisor
        colour = style.colour(k)
        fig.add_trace(go.Histogram(x=npv, name=f"{plan} plan", marker_color=style.translucent(colour, 0.55)))
        fig.add_vline(x=float(npv.mean()), line=dict(color=colour, dash="dash"))
    fig.update_layout(barmode="overlay")
    futures = int((samples["plan"] == "robust").sum())
    return style.layout(
        fig,
        f"Robust plan against the central-value plan: the fab company's NPV in {futures} fresh futures"
        "<br><sub>dashed: each plan's mean</sub>",
        "futures",
        f"fab company NPV, {style.BILLIONS.unit}",
    )


def robust_builds(t: Tables) -> go.Figure | None:
    """A robust run: modules started per site and quarter by each plan, where they differ."""
    robust, central = t.get("builds"), t.get("central_builds")
    if central is None or robust is None:
        return None
    differ = build_differences(central, robust)
    if differ.empty:
        return None
    labels = differ["site"] + " " + differ["started"]
    fig = go.Figure(
        [
            go.Bar(x=labels, y=differ[f"modules_{plan}"], name=f"{plan} plan", marker_color=style.colour(k))
            for k, plan in enumerate(("central", "robust"))
        ]
    )
    fig.update_layout(barmode="group")
    return style.layout(fig, "Builds that differ: modules started by site and quarter", "modules", "site and quarter")
