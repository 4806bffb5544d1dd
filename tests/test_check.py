"""The plan check: the busiest fab of a plan simulated at its planned load."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fabnet.check import bank_deliveries, check_plan, running_sites
from fabnet.fabsim.curve import nominal_release_per_day
from fabnet.fabsim.engine import mean_raw_days
from fabnet.network.loadcurve import load_curve
from fabnet.pipeline import main_job
from fabnet.plan import make_plan as plan_network
from fabnet.scenario import load_scenario


def test_deliveries_bank_what_comes_early_and_lose_what_is_missing():
    assert bank_deliveries(np.array([5.0, 15.0, 10.0]), np.array([10.0, 10.0, 10.0])) == pytest.approx([5, 10, 10])
    assert bank_deliveries(np.array([-3.0, 10.0]), np.array([10.0, 10.0])) == pytest.approx([0, 10])
    assert bank_deliveries(np.array([30.0, 0.0, 0.0]), np.array([10.0, 10.0, 10.0])) == pytest.approx([10, 10, 10])


@pytest.fixture(scope="module")
def tigris():
    """Tigris with whole modules and no third-party market: one 20 k wspm module for a buyer who
    needs a third to a half of it, so the fab runs from full to half load — the range where the
    plan check has something to compare (the default, in tool sets, runs near saturation)."""
    default = load_scenario("scenarios/tigris.yaml")
    whole = tuple(s.model_copy(update={"tool_phases": None}) for s in default.sites)
    return default.model_copy(update={"sites": whole, "wafer_markets": ()})


@pytest.fixture(scope="module")
def plans(tigris):
    return {kind: plan_network(tigris, cycle_time=kind) for kind in ("constant", "load")}


@pytest.fixture(scope="module")
def checks(tigris, plans, hvlm):
    return {kind: check_plan(tigris, plan, hvlm) for kind, plan in plans.items()}


def test_the_busiest_fab_is_simulated_at_the_nodes_scale(tigris, plans, checks, hvlm):
    check = checks["load"].fabs[0]
    assert running_sites(plans["load"])[0] == check.site == "kumamoto"  # the busiest first
    assert checks["load"].sites == ["kumamoto"], "tigris runs one fab"
    # one simulated day is `stretch` node days: the unloaded simulated cycle time becomes N3's
    # 90 layers × 1.2 days
    assert check.stretch * load_curve("smt2020_hvlm").x0 * mean_raw_days(hvlm) == pytest.approx(108.0)


def test_the_simulated_fab_releases_what_the_plan_starts(checks, hvlm):
    q = checks["load"].fabs[0].quarters
    days_per_quarter = 365.25 / 4 / checks["load"].fabs[0].stretch
    # A stream keeps the interval it drew before a change of load for one release: in a quarter
    # after the load falls by more than half (tigris: 96 % → 17 % as the ramp ends) that one
    # release is a large share of the few, so those quarters are left out here.
    steady = q["load"] >= 0.5 * q["load"].shift(1, fill_value=0.0)
    ran = q[(q["load"] > 0.1) & (q["lots_finished"] > 0) & steady].iloc[:-2]  # the last lots are still in the fab
    assert len(ran) >= 10
    expected_lots = nominal_release_per_day(hvlm) * ran["load"] * days_per_quarter
    # within 5 %: the same release interval, drawn before a change of load, spans quarters
    np.testing.assert_allclose(ran["lots_finished"], expected_lots, rtol=0.05)
    # and the fab puts out no more wafers than were started
    assert q["simulated_output"].sum() <= q["wafer_starts"].sum() + 1e-6


def test_where_the_fab_is_half_loaded_plan_and_simulation_agree(checks):
    q = checks["load"].fabs[0].quarters
    half = q[(q["load"] > 0.4) & (q["load"] < 0.6) & q["simulated_cycle_days"].notna()].iloc[1:]
    assert len(half) >= 5
    np.testing.assert_allclose(half["simulated_cycle_days"], half["planned_cycle_days"], rtol=0.08)


def test_the_load_dependent_plan_promises_less_than_the_constant_one_overpromises(checks):
    constant, loaded = (checks[k].delivered["difference"].sum() for k in ("constant", "load"))
    assert constant < 0, "a fab at full load makes less than the constant plan assumes"
    assert abs(loaded) < abs(constant)
    full = checks["constant"].fabs[0].quarters.query("load > 0.99")
    assert (full["simulated_cycle_days"] > full["planned_cycle_days"] * 1.05).all()


def test_run_says_why_it_did_not_check_without_the_data(tmp_path, monkeypatch):
    import fabnet.fabsim as fabsim
    from fabnet.fabsim import DatasetError
    from tests.plan.conftest import scenario, tiny

    def missing(name):
        raise DatasetError(f"no SMT2020 dataset {name!r}")

    monkeypatch.setattr(fabsim, "load_smt2020", missing)
    job = main_job(scenario(tiny()), tmp_path / "s.duckdb")
    assert any(m.startswith("Plan not checked on the fab simulator: no SMT2020 dataset 'HVLM'") for m in job.messages)
    assert "checked_fab" not in job.figures


@pytest.fixture(scope="module")
def three_fabs():
    """Three identical one-module sites for a buyer who needs all three from 2025Q3."""
    from fabnet.plan import make_plan
    from tests.plan.conftest import scenario, site, tiny

    data = tiny(sites=[site(name, max_modules=1) for name in ("alpha", "beta", "gamma")])
    data["products"][0]["demand"] = {"per_quarter": {"2025Q1": 0, "2025Q3": 4_500_000}}
    s = scenario(data)
    return s, make_plan(s)


def test_every_fab_a_plan_runs_is_checked_and_stored(three_fabs, hvlm):
    from fabnet.check import check_tables, running_sites

    s, plan = three_fabs
    assert sorted(running_sites(plan)) == ["alpha", "beta", "gamma"]
    check = check_plan(s, plan, hvlm)
    assert check.sites == running_sites(plan)
    stored = check_tables(check)["check_quarters"]
    assert sorted(set(stored["site"])) == ["alpha", "beta", "gamma"]
    for fab in check.fabs:
        q = fab.quarters
        # each fab's rows run from its first quarter with capacity to the end of the horizon
        assert len(q) == s.horizon.quarters - fab.first
        # and it released the lots the plan's load asks for: nominal release × load × quarter
        days_per_quarter = 365.25 / 4 / fab.stretch
        ran = q[(q["load"] > 0.1) & (q["lots_finished"] > 0)].iloc[:-2]  # the last lots are still in the fab
        assert len(ran) >= 3
        expected = nominal_release_per_day(hvlm) * ran["load"] * days_per_quarter
        np.testing.assert_allclose(ran["lots_finished"], expected, rtol=0.05)


def test_identical_fabs_at_one_load_simulate_alike_and_a_parallel_map_changes_nothing(three_fabs, hvlm):
    from concurrent.futures import ThreadPoolExecutor

    s, plan = three_fabs
    one_by_one = check_plan(s, plan, hvlm)
    with ThreadPoolExecutor(2) as pool:
        in_parallel = check_plan(s, plan, hvlm, mapper=lambda one, sites: list(pool.map(one, sites)))
    for a, b in zip(one_by_one.fabs, in_parallel.fabs, strict=True):
        assert a.site == b.site
        pd.testing.assert_frame_equal(a.quarters, b.quarters)
    pd.testing.assert_frame_equal(one_by_one.delivered, in_parallel.delivered)
    loads = {fab.site: tuple(fab.quarters["load"].round(9)) for fab in one_by_one.fabs}
    same_load = [fab for fab in one_by_one.fabs if loads[fab.site] == loads[one_by_one.fabs[0].site]]
    for fab in same_load[1:]:
        pd.testing.assert_frame_equal(fab.quarters, same_load[0].quarters)
    # the buyer's accelerators: planned plus every fab's simulated difference, banked
    assert (one_by_one.delivered["simulated"] <= one_by_one.delivered["demand"] + 1e-6).all()


def test_a_fab_checked_before_at_the_same_starts_and_seed_is_not_simulated_again(
    three_fabs, hvlm, tmp_path, monkeypatch
):
    import pickle

    import fabnet.check as check_module

    monkeypatch.setenv("FABNET_CACHE", "1")
    monkeypatch.setenv("FABNET_CACHE_DIR", str(tmp_path))
    runs: list[object] = []
    simulate = check_module.simulate
    monkeypatch.setattr(check_module, "simulate", lambda *args: runs.append(args) or simulate(*args))
    s, plan = three_fabs
    first = check_plan(s, plan, hvlm, reuse=True)
    simulated = len(runs)
    assert 1 <= simulated <= 3  # identical fabs at one load are one simulation
    # the dataset read back from fabnet's cache by another command is the same content
    again = check_plan(s, plan, pickle.loads(pickle.dumps(hvlm)), reuse=True)
    assert len(runs) == simulated
    for a, b in zip(first.fabs, again.fabs, strict=True):
        pd.testing.assert_frame_equal(a.quarters, b.quarters)
    check_plan(s, plan, hvlm, seed=s.seed + 1, reuse=True)
    assert len(runs) > simulated


def test_a_mix_sending_every_start_to_one_smt2020_product_releases_only_its_lots(hvlm, monkeypatch):
    import fabnet.check as check_module
    from fabnet.check import MIN_LOAD
    from fabnet.plan import make_plan
    from tests.plan.conftest import scenario, site, tiny

    data = tiny(sites=[site("alpha", max_modules=1)])
    data["products"][0]["demand"] = {"per_quarter": {"2025Q1": 0, "2025Q3": 1_500_000}}
    data["plan_check"] = {"products": {"chip": {"part_4": 1}}}
    s = scenario(data)
    plan = make_plan(s)
    runs = []

    def simulate(fab, options, progress=None):
        runs.append(result := real(fab, options, progress))
        return result

    real = check_module.simulate
    monkeypatch.setattr(check_module, "simulate", simulate)
    (fab,) = check_plan(s, plan, hvlm).fabs
    assert fab.mix == {"part_3": 0.0, "part_4": 1.0}
    (result,) = runs
    assert {hvlm.route_part[lot[0]] for lot in result.lots} == {"part_4"}
    # the lots the plan's starts ask for, by hand: per quarter its wafer starts / capacity online
    # (the load, at least MIN_LOAD) × HVLM's lots a day at load 1 (order.txt: 1440 min × (2/51.69
    # + 2/2016 + 1/27397.61)) × the simulated days of a quarter — all of them part_4's now
    rows = plan.capacity[plan.capacity["site"] == "alpha"].iloc[fab.first :]
    loads = np.maximum(rows["wafer_starts"] / rows["effective_capacity"], MIN_LOAD)
    per_day = 1440 * (2 / 51.69 + 2 / 2016 + 1 / 27397.61)
    expected = float((loads * per_day * 365.25 / 4 / fab.stretch).sum())
    assert result.released == pytest.approx(expected, rel=0.01)


def test_fabnet_run_checks_its_fabs_on_processes_and_finds_what_one_by_one_finds(
    three_fabs, hvlm, tmp_path, monkeypatch
):
    import contextlib

    import fabnet.risk.runner as runner
    from fabnet._jobs import run_job

    s, _ = three_fabs
    pools = []

    @contextlib.contextmanager
    def counted(workers=2, *args):
        pools.append(workers)
        with real(workers, *args) as pool:
            yield pool

    real = runner.make_executor
    monkeypatch.setattr(runner, "make_executor", counted)
    monkeypatch.setattr(runner.os, "cpu_count", lambda: 2)
    _, job = run_job(s, tmp_path / "s.duckdb")  # as `fabnet run` does
    assert len(job.check.fabs) == 3 and pools == [2], "three fabs on two processes"
    one_by_one = check_plan(s, job.plan, hvlm)
    for a, b in zip(one_by_one.fabs, job.check.fabs, strict=True):
        assert a.site == b.site
        pd.testing.assert_frame_equal(a.quarters, b.quarters)
    pd.testing.assert_frame_equal(one_by_one.delivered, job.check.delivered)
