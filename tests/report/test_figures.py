"""The report's figures read as they should: demand visible over deliveries, every investor's
amount legible, inputs named in words, the NPV's downside, axes titled, no cycle time for a fab
that makes nothing, and runs compared."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fabnet.core import format as fmt
from fabnet.report import FIGURES
from fabnet.report.figures import (
    compare_figures,
    delivered_vs_demand,
    load_curves,
    money_per_investor,
    npv_histogram,
    plan_check,
    tornado,
)
from fabnet.store import StoredRun, open_store

QUARTERS = ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]


def supply_of(*products: str) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"product": p, "quarter": q, "year": 2025, "demand": 100.0 * (k + 1), "delivered": 100.0 * (k + 1)}
            for p in products
            for k, q in enumerate(QUARTERS)
        ]
    )


def test_demand_is_drawn_over_deliveries_in_the_products_colour():
    fig = delivered_vs_demand({"supply": supply_of("a", "b")})
    names = [trace.name for trace in fig.data]
    demand = [t for t in fig.data if t.name.endswith("demand")]
    delivered = [t for t in fig.data if t.name.endswith("delivered")]
    # every demand line after every delivered area, so that none of them is hidden
    assert max(names.index(t.name) for t in delivered) < min(names.index(t.name) for t in demand)
    for product in ("a", "b"):
        line, area = (next(t for t in fig.data if t.name == f"{product} {kind}") for kind in ("demand", "delivered"))
        assert line.line.color == area.line.color
        assert line.line.dash == "dash" and "markers" in line.mode
        assert area.fill == "tozeroy" and area.line.width < line.line.width
    assert demand[0].line.color != demand[1].line.color
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text


def test_every_investor_bar_carries_its_amount():
    investors = pd.DataFrame(
        {
            "investor": ["whale", "minnow"],
            "committed_usd": [9e9, 5e7],
            "called_usd": [8e9, 5e7],
            "received_usd": [1.2e10, 0.0],
        }
    )
    fig = money_per_investor({"investors": investors})
    assert {t.name for t in fig.data} == {"committed", "called", "received"}
    # by hand, as core.format.usd documents money ("$12.35 B, $350 M, $14.8 M, $8,519"): billions
    # with two decimals, millions to three significant digits, nothing as $0
    texts = {
        "committed": ["$9.00 B", "$50 M"],
        "called": ["$8.00 B", "$50 M"],
        "received": ["$12.00 B", "$0"],
    }
    for trace in fig.data:
        assert trace.orientation == "h" and trace.textposition == "outside"
        assert list(trace.text) == texts[trace.name]
        assert list(trace.y) == ["whale", "minnow"]
    assert fig.layout.xaxis.range[1] > 12  # room for the longest bar's text ($ B axis)


def risk_tables(npv: list[float], words: bool = True) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(4)
    samples = pd.DataFrame(
        {
            "sample": range(len(npv)),
            "fabco_npv_usd": npv,
            "input_0": np.asarray(npv) + rng.normal(0, 1e8, len(npv)),
            "input_1": rng.normal(0, 1, len(npv)),
        }
    )
    inputs = pd.DataFrame({"input": [0, 1], "path": ["sites.arizona.lead_time_q", "nodes.N3.wafer_price_usd"]})
    if words:
        inputs["words"] = [
            "arizona: quarters from construction start to first wafer",
            "N3: market price of one processed wafer at a foundry, USD",
        ]
    return {"risk_samples": samples, "risk_inputs": inputs}


def test_tornado_names_its_inputs_in_words_and_titles_its_axis():
    npv = [float(v) * 1e9 for v in range(-3, 7)]
    fig = tornado(risk_tables(npv))
    bars = fig.data[0]
    assert set(bars.y) == {
        "arizona: quarters from construction start to first wafer",
        "N3: market price of one processed wafer at a foundry, USD",
    }
    assert set(bars.customdata) == {"sites.arizona.lead_time_q", "nodes.N3.wafer_price_usd"}  # in the hover
    assert bars.y[-1].startswith("arizona")  # the strongest on top
    assert fig.layout.xaxis.title.text
    # a sweep stored before the words still draws, with its paths
    assert set(tornado(risk_tables(npv, words=False)).data[0].y) == {
        "sites.arizona.lead_time_q",
        "nodes.N3.wafer_price_usd",
    }


def test_npv_histogram_marks_zero_and_says_the_downside():
    npv = [v * 1e9 for v in (-5, -3, -1, 0, 1, 2, 4, 6, 8, 10)]
    fig = npv_histogram(risk_tables(npv))
    title = fig.layout.title.text
    assert fmt.percent(0.3) in title and fmt.usd(-5e9) in title  # 3 of 10 below zero; the worst one
    assert [(s.x0, s.x1) for s in fig.layout.shapes] == [(0, 0)]
    assert list(fig.data[0].x) == pytest.approx([v / 1e9 for v in npv])
    assert fig.layout.xaxis.title.text == f"fab company NPV, {fmt.scale_for([1e9]).unit}"
    assert list(FIGURES).index("npv-histogram") == list(FIGURES).index("risk-fan") + 1
    assert npv_histogram({"risk_samples": pd.DataFrame(columns=["fabco_npv_usd"])}) is None


def check_quarters(output: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "quarter": QUARTERS,
            "load": [0.5] * 4,
            "wafer_starts": [output] * 4,
            "planned_output": [output] * 4,
            "simulated_output": [output] * 4,
            "planned_cycle_days": [100.0] * 4,
            "simulated_cycle_days": [110.0 if output else math.nan] * 4,
            "lots_finished": [3 if output else 0] * 4,
            "site": "s",
            "node": "N",
            "dataset": "HVLM",
            "stretch": 1.0,
        }
    )


def test_plan_check_axes_say_wafers_per_quarter_and_days():
    fig = plan_check({"check_quarters": check_quarters(1000.0)})
    assert fig.layout.yaxis.title.text == "wafers per quarter"
    assert fig.layout.yaxis2.title.text == "days"


def load_curve_tables(starts: dict[str, float]) -> dict[str, pd.DataFrame]:
    curves = pd.concat(
        [
            pd.DataFrame(
                {"node": node, "curve": "smt2020_hvlm", "kind": kind, "load": [0.5, 0.9], "cycle_days": [100.0, 200.0]}
            )
            for node in ("N3", "N5")
            for kind in ("fitted", "simulated")
        ],
        ignore_index=True,
    )
    capacity = pd.DataFrame(
        [
            {"site": f"{node} fab", "node": node, "quarter": q, "wafer_starts": wafers}
            for node, wafers in starts.items()
            for q in QUARTERS
        ]
    )
    return {"load_curves": curves, "capacity": capacity}


def test_a_fab_that_makes_nothing_has_no_cycle_time_figure():
    assert load_curves(load_curve_tables({"N3": 0.0, "N5": 0.0})) is None
    assert load_curves({"load_curves": load_curve_tables({})["load_curves"]}) is None  # no own fab at all
    assert plan_check({"check_quarters": check_quarters(0.0)}) is None
    # a node whose fab runs keeps its curve; the idle one's is left out
    fig = load_curves(load_curve_tables({"N3": 500.0, "N5": 0.0}))
    assert {t.name.split()[0] for t in fig.data} == {"N3"}


def investors_table(irrs: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"investor": list(irrs), "irr": list(irrs.values())})


def run_of(run_id: int, label: str | None, irrs: dict[str, float]) -> StoredRun:
    return StoredRun({"run_id": run_id, "label": label, "figures": "{}"}, {"investors": investors_table(irrs)})


def test_runs_compared_overlay_two_stored_runs(store_with_runs):
    path, _ = store_with_runs
    with open_store(path, read_only=True) as store:
        first, second = store.run(1), store.run(2)
    first.meta["label"] = "base case"
    figures = compare_figures([first, second])
    assert list(figures) == ["compare-delivered", "compare-cash", "compare-irr"]
    delivered = figures["compare-delivered"]
    assert [t.name for t in delivered.data] == ["run 1 (base case)", "run 2", "demand (run 1 (base case))"]
    per_quarter = first.tables["supply"].groupby("quarter")["delivered"].sum()
    assert list(delivered.data[0].y) == pytest.approx(per_quarter.tolist())
    cash = figures["compare-cash"]
    assert [t.name for t in cash.data] == ["run 1 (base case)", "run 2"]
    fcf = second.tables["fabco_quarterly"].groupby("year")["project_fcf_usd"].sum().cumsum() / 1e9
    assert list(cash.data[1].y) == pytest.approx(fcf.tolist())
    assert cash.data[0].line.color != cash.data[1].line.color
    assert [t.name for t in figures["compare-irr"].data] == ["run 1 (base case)", "run 2"]
    assert compare_figures([first]) == {}


def test_compared_irrs_leave_out_none_and_clip_above_100_percent():
    runs = [run_of(1, "", {"a": 0.12, "b": 3.5}), run_of(2, None, {"a": float("nan"), "c": 0.2})]
    fig = compare_figures(runs)["compare-irr"]
    one, two = fig.data
    assert (one.name, two.name) == ("run 1", "run 2")
    assert list(one.x) == ["a", "b", "c"] and list(two.x) == ["a", "b", "c"]
    assert list(one.y) == [0.12, 1.0, None]  # b clipped at 100 %; c not in run 1
    assert list(two.y) == [None, None, 0.2]  # a has no IRR in run 2
    assert list(one.text) == [fmt.irr(0.12), "> 100 %", ""]
    assert any("above 100 %" in a.text for a in fig.layout.annotations)


def test_the_timeline_shows_a_shell_as_construction_and_tool_sets_with_their_ramp():
    """A shell is a building: construction until it is ready for tools, no output of its own;
    its tool sets ramp and run. Each row says what was built, how many and when."""
    from fabnet.report.figures import fab_timeline

    builds = pd.DataFrame(
        [
            {"site": "k", "kind": "shell", "modules": 1, "started": "2025Q1", "online": "2025Q3", "ramp_quarters": 2},
            {"site": "k", "kind": "tools", "modules": 2, "started": "2025Q3", "online": "2025Q4", "ramp_quarters": 2},
        ]
    )
    capacity = pd.DataFrame({"quarter": ["2026Q4"]})
    fig = fab_timeline({"builds": builds, "capacity": capacity})
    rows = {trace.y[0]: [] for trace in fig.data}
    for trace in fig.data:
        rows[trace.y[0]].append(trace.name)
    assert rows == {
        "k shell (1×, 2025Q1)": ["construction"],
        "k tool sets (2×, 2025Q3)": ["construction", "ramp", "full output"],
    }


def test_the_cash_flow_says_who_paid_for_the_wafers():
    """Revenue in three parts that add up to it: the buyer's wafers, other customers' and the
    buyer's take-or-pay for wafers it did not take."""
    from fabnet.core import results
    from fabnet.report.figures import cash_flow

    names = results.table("fabco_quarterly").names
    q = pd.DataFrame({c: [0.0, 0.0] for c in names if c not in ("quarter", "year")})
    q["quarter"], q["year"] = ["2028Q1", "2028Q2"], [2028, 2028]
    q["wafer_revenue_usd"], q["spare_revenue_usd"], q["take_or_pay_usd"] = [3e9, 3e9], [1e9, 0.0], [0.0, 5e8]
    fig = cash_flow({"fabco_quarterly": q})
    bars = {trace.name: trace.y[0] for trace in fig.data if trace.type == "bar"}
    assert bars["wafers sold to the buyer"] == pytest.approx(6.0)
    assert bars["wafers sold to other customers"] == pytest.approx(1.0)
    assert bars["take-or-pay for wafers not taken"] == pytest.approx(0.5)
