"""Load-dependent cycle time: the fitted curve, its clearing function and the plans it makes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fabnet.core.units import DAYS_PER_QUARTER
from fabnet.network.loadcurve import (
    BREAKPOINTS,
    LoadCurve,
    clearing_function,
    curve_from_rows,
    fit_load_curve,
    load_curve,
    steady_available,
)
from fabnet.plan import SolveOptions, make_plan
from tests.plan.conftest import scenario, site, tiny

EXACT = SolveOptions(mip_gap=0.0)
HVLM = load_curve("smt2020_hvlm")

curves = st.builds(
    lambda a, p, saturation: LoadCurve("test", a, p, 1.2, saturation),
    a=st.floats(0.001, 2.0),
    p=st.floats(1.0, 8.0),
    saturation=st.floats(0.5, 0.995),
)
cycles = st.floats(0.05, 4.0)


# --- the curve --------------------------------------------------------------------------------


def test_fit_recovers_the_mm1_sojourn_time():
    # M/M/1: the mean time in system is the service time / (1 − u) = 1 + u/(1 − u) in service
    # times (Kleinrock, Queueing Systems I, §3.2): x0 = 1, a = 1, p = 1.
    u = np.linspace(0.1, 0.95, 12)
    assert fit_load_curve(u, 1 / (1 - u)) == pytest.approx((1.0, 1.0, 1.0))


def test_fit_recovers_parameters_it_did_not_see():
    u = np.array([0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95])
    x0, a, p = 1.19, 0.05, 3.5
    assert fit_load_curve(u, x0 * (1 + a * u**p / (1 - u))) == pytest.approx((x0, a, p), rel=1e-6)


def test_fit_needs_loads_inside_zero_and_one():
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        fit_load_curve(np.array([0.5, 0.8, 1.0]), np.array([1.2, 1.4, 2.0]))


def test_stored_curve_is_the_fit_of_its_own_points():
    """The file's parameters come from its simulated rows, by the rule the code states: the
    rows that settled are fitted, the others give the saturation."""
    rows = stored_rows()
    refit = curve_from_rows("smt2020_hvlm", rows)
    assert (refit.x0, refit.a, refit.p, refit.saturation) == pytest.approx((HVLM.x0, HVLM.a, HVLM.p, HVLM.saturation))
    assert {r["seed"] for r in rows} == {1, 2, 3}
    # SMT2020 HVLM never settles at its nominal release, and puts out a few per cent less
    assert 0.9 < HVLM.saturation < 1.0
    assert all(r["wip_growth_per_day"] > 0.01 * r["released_per_day"] for r in rows if r["load"] >= 1.0)


def stored_rows():
    import json

    from fabnet.network.loadcurve import CURVES_DIR

    return json.loads((CURVES_DIR / "smt2020_hvlm.json").read_text())["points"]


def test_stored_curve_fits_its_simulated_points_within_five_per_cent():
    means = {}
    for row in stored_rows():
        if row["load"] < 1.0:
            means.setdefault(row["load"], []).append(row["x_factor"])
    for load, values in means.items():
        assert HVLM.x0 * HVLM.multiplier(load) == pytest.approx(np.mean(values), rel=0.05), load


def test_stored_points_match_a_fresh_simulation(hvlm):
    """One point of the curve simulated again, with a seed the stored runs never used."""
    from fabnet.fabsim import SimOptions
    from fabnet.fabsim.curve import operating_curve

    row = operating_curve(hvlm, SimOptions(days=200, warmup_days=80), (0.85,), seeds=(7,)).iloc[0]
    stored = np.mean([r["x_factor"] for r in stored_rows() if r["load"] == 0.85])
    assert row["x_factor"] == pytest.approx(stored, rel=0.05)


# --- the clearing function --------------------------------------------------------------------


@settings(max_examples=200)
@given(curve=curves, cycle=cycles)
def test_clearing_function_is_concave_and_never_above_capacity(curve, cycle):
    f = clearing_function(curve, cycle)
    assert np.all(np.diff(f.slopes) <= 1e-12), "slopes must fall: concave"
    available = np.linspace(0, 10, 2001)
    cleared = f.cleared(available, capacity=1.0)
    assert np.all(cleared <= curve.saturation + 1e-12)
    assert np.all(cleared <= 1.0)
    assert np.all(cleared <= available + 1e-12), "never more than the wafers there"
    assert np.all(np.diff(cleared) >= -1e-12), "more WIP never clears less"
    second = np.diff(cleared, 2)
    assert np.all(second <= 1e-9), "concave on a fine grid too"


@settings(max_examples=100)
@given(curve=curves, cycle=cycles, capacity=st.floats(1.0, 1e6))
def test_clearing_function_meets_the_curve_at_its_breakpoints_and_scales_with_capacity(curve, cycle, capacity):
    f = clearing_function(curve, cycle)
    loads = np.array([u for u in BREAKPOINTS if u < curve.saturation - 1e-3] + [curve.saturation])
    # at a breakpoint, the steady WIP of load u clears exactly u of the capacity
    w = steady_available(curve, cycle, loads) * capacity
    assert f.cleared(w, capacity) == pytest.approx(loads * capacity, rel=1e-9)
    # between breakpoints the chord lies below the curve: it clears less, never more
    between = np.linspace(0.01, curve.saturation - 1e-3, 50)
    assert np.all(f.cleared(steady_available(curve, cycle, between), 1.0) <= between + 1e-9)


def test_little_law_at_a_breakpoint():
    """At load u the queue the clearing function holds in steady state is the extra cycle time
    times the throughput (Little's law), so the cycle time is raw × m(u)."""
    cycle_q, u = 1.2, 0.85
    f = clearing_function(HVLM, cycle_q)
    available = float(steady_available(HVLM, cycle_q, u))
    assert f.cleared(available) == pytest.approx(u)
    queue = available - u
    assert cycle_q + queue / u == pytest.approx(cycle_q * HVLM.multiplier(u))


# --- plans --------------------------------------------------------------------------------------


def with_curve(data, curve="smt2020_hvlm"):
    data["nodes"][0]["load_curve"] = curve
    return data


def fab_scenario(demand_per_quarter: float, quarters: int = 10, modules: int = 3):
    """One site whose modules (3,000 wafers a quarter) can come online from 2025Q2; no foundry."""
    data = with_curve(
        tiny(horizon={"start": "2025Q1", "quarters": quarters}, sites=[site("alpha", max_modules=modules)])
    )
    data["products"][0]["demand"] = {"per_quarter": {"2025Q1": demand_per_quarter}}
    return scenario(data)


def per_quarter(plan, column):
    return plan.supply.groupby("quarter", sort=False)[column].sum().to_numpy()


def dies_per_wafer(s):
    from fabnet.network.inputs import prepare

    return float(prepare(s).good_dies_per_wafer[0])


def test_at_low_load_the_two_plans_agree():
    s = fab_scenario(0)
    demand = 0.4 * 3000 * dies_per_wafer(s)  # 40 % of one module
    s = fab_scenario(demand)
    constant = make_plan(s, options=EXACT, cycle_time="constant")
    loaded = make_plan(s, options=EXACT, cycle_time="load")
    assert loaded.builds.equals(constant.builds)
    np.testing.assert_allclose(
        per_quarter(loaded, "delivered"), per_quarter(constant, "delivered"), rtol=0.02, atol=1.0
    )
    assert loaded.capacity["load"].max() < 0.5


@pytest.mark.parametrize("share", [0.9, 0.97, 1.0])
def test_at_high_load_the_load_dependent_plan_builds_earlier_or_delivers_less(share):
    s = fab_scenario(0)
    s = fab_scenario(share * 3000 * dies_per_wafer(s))
    constant = make_plan(s, options=EXACT, cycle_time="constant")
    loaded = make_plan(s, options=EXACT, cycle_time="load")
    more_modules = loaded.builds["modules"].sum() > constant.builds["modules"].sum()
    first = lambda p: min(p.builds["started"])  # noqa: E731
    earlier = first(loaded) < first(constant)
    delivered_c, delivered_l = per_quarter(constant, "delivered"), per_quarter(loaded, "delivered")
    assert delivered_l.sum() <= delivered_c.sum() + 1e-6, "never more"
    assert more_modules or earlier or delivered_l.sum() < delivered_c.sum() - 1.0


def test_no_fab_runs_above_its_saturation_and_the_rows_hold():
    """The plan's own numbers, put through the clearing function in numpy, obey it."""
    s = fab_scenario(0)
    s = fab_scenario(1.2 * 3000 * dies_per_wafer(s), modules=1)
    plan = make_plan(s, options=EXACT)
    f = clearing_function(HVLM, s.nodes[0].cycle_time_days / DAYS_PER_QUARTER)
    cap = plan.capacity[plan.capacity["site"] == "alpha"]
    queue_before = np.concatenate([[0.0], cap["queue"].to_numpy()[:-1]])
    available = queue_before + cap["wafer_starts"].to_numpy()
    limit = np.array([f.cleared(w, c) for w, c in zip(available, cap["effective_capacity"], strict=True)])
    assert np.all(cap["cleared"].to_numpy() <= limit + 1e-6)
    assert np.all(cap["wafer_starts"] <= HVLM.saturation * cap["effective_capacity"] + 1e-6)
    np.testing.assert_allclose(cap["queue"], queue_before + cap["wafer_starts"] - cap["cleared"], atol=1e-6)
    assert cap["load"].max() == pytest.approx(HVLM.saturation, rel=1e-6)
    assert (cap["cycle_days"] > s.nodes[0].cycle_time_days).any()


def test_a_node_without_a_curve_keeps_its_raw_cycle_time():
    s = fab_scenario(0)
    data = tiny(horizon={"start": "2025Q1", "quarters": 10}, sites=[site("alpha", max_modules=3)])
    data["products"][0]["demand"] = {"per_quarter": {"2025Q1": 3000 * dies_per_wafer(s)}}
    data["nodes"][0]["load_curve"] = None
    plan = make_plan(scenario(data), options=EXACT)
    assert (plan.capacity["queue"] == 0).all()
    raw = data["nodes"][0]["mask_layers"] * data["nodes"][0]["days_per_mask_layer"]
    assert plan.capacity["cycle_days"].to_numpy() == pytest.approx(raw)
    assert plan.capacity["load"].max() == pytest.approx(1.0)
