"""Checked risk (issue 32): sampled plans run on the fab simulator, and the shortfall chance."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

from fabnet.risk.checked import run_checks, shortfall_by_year
from fabnet.risk.runner import SweepSpec


def test_the_shortfall_chance_counts_samples_short_by_more_than_the_share_by_hand():
    checks = pd.DataFrame(
        {
            "sample": [0, 1, 2, 3, 0, 1],
            "year": [2027, 2027, 2027, 2027, 2028, 2028],
            "fabs": 1,
            # 2027: sample 0 is 10 % short, 1 exactly 5 % short (not more), 2 over, 3 6 % short
            "planned_output": [100.0, 100.0, 100.0, 100.0, 0.0, 50.0],
            "simulated_output": [90.0, 95.0, 110.0, 94.0, 0.0, 50.0],
            "demand": [10.0, 10.0, 10.0, 0.0, 5.0, 5.0],
            # the planner's figure: under 90 % of demand served (sample 0: 8 of 10)
            "planned_delivered": [8.0, 9.0, 10.0, 0.0, 5.0, 4.0],
        }
    )
    table = shortfall_by_year(checks, shortfall=0.05).set_index("year")
    assert table.at[2027, "samples"] == 4
    assert table.at[2027, "p_simulated_short"] == pytest.approx(2 / 4)  # samples 0 and 3
    assert table.at[2027, "simulated_over_planned"] == pytest.approx(389 / 400)
    assert table.at[2027, "p_planned_unserved"] == pytest.approx(1 / 3)  # sample 3 wants nothing
    # 2028: only sample 1 plans wafers; it makes them all and serves 80 % of its demand
    assert table.at[2028, "samples"] == 1
    assert table.at[2028, "p_simulated_short"] == 0.0
    assert table.at[2028, "p_planned_unserved"] == 1.0
    assert not math.isnan(table.at[2028, "shortfall"])


def test_sampled_plans_are_checked_on_the_simulator_and_stored(tmp_path, hvlm):
    from fabnet.scenario.schema import Scenario
    from fabnet.store import stored_rows
    from tests.plan.conftest import scenario, tiny

    data = tiny()
    data["uncertainty"] = [{"path": "nodes.N.wafer_price_usd", "dist": "uniform", "low": 9000, "high": 11000}]
    s: Scenario = scenario(data)
    from fabnet.pipeline import main_job

    base = main_job(s, tmp_path / "s.duckdb", check=False, compare=False)
    with ThreadPoolExecutor(2) as pool:
        checks = run_checks(s, base.run_id, tmp_path / "s.duckdb", SweepSpec(4, 1), 2, pool)
    assert sorted(set(checks["sample"])) == [0, 1]
    stored = stored_rows(tmp_path / "s.duckdb", base.run_id, "risk_checks")
    assert len(stored) == len(checks)
    # tiny's demand (conftest): a path from 0 in 2025Q1 to 1 M in 2025Q3 (0.5 M in 2025Q2 between
    # them) and 2 M a quarter from 2025Q4 to the horizon's end (2026Q2); a sampled wafer price
    # does not move it
    per_year = checks.groupby("year")["demand"].first()
    assert per_year.to_dict() == {2025: 3_500_000, 2026: 4_000_000}
    assert (checks["fabs"] >= 1).all()


@pytest.mark.parametrize("demand", [1.0, 0.5])
def test_a_held_plan_is_checked_as_the_fixed_plan_model_runs_it_in_each_sample(tmp_path, hvlm, demand):
    from fabnet.pipeline import main_job
    from fabnet.risk.checked import checked_rows
    from tests.plan.conftest import scenario, tiny

    data = tiny()
    data["uncertainty"] = [
        {"path": "products.chip.demand.per_quarter", "dist": "discrete", "values": [demand], "apply": "multiply"}
    ]
    s = scenario(data)
    base = main_job(s, tmp_path / "s.duckdb", check=False, compare=False)
    with ThreadPoolExecutor(2) as pool:
        held = run_checks(s, base.run_id, tmp_path / "s.duckdb", SweepSpec(3, 1), 2, pool, held=base.plan)
    assert sorted(set(held["sample"])) == [0, 1]
    # the base plan's own check, with the same seeds (the sweep's 1 + the sample's index)
    planned = pd.DataFrame([row for i in (0, 1) for row in checked_rows(s, base.plan, i, 1)])
    # tiny's load curve is off and it sells no spare wafers: the fixed-plan model starts the
    # plan's wafers scaled by demand (yields unchanged), and they all clear; demand scales alike
    for column in ("planned_output", "demand"):
        assert held[column].to_numpy() == pytest.approx(demand * planned[column].to_numpy())
    if demand == 1.0:  # a sample that changes nothing checks the plan itself: the same lots
        assert held["simulated_output"].to_numpy() == pytest.approx(planned["simulated_output"].to_numpy())
    else:  # half the starts: the fab is simulated at half the load, and puts out about half
        assert held["simulated_output"].sum() < 0.6 * planned["simulated_output"].sum()


def test_a_reoptimised_sweep_and_its_checks_share_one_executor(tmp_path, hvlm, monkeypatch):
    import contextlib

    import fabnet.risk.job as job
    from fabnet.scenario.schema import Scenario
    from tests.plan.conftest import tiny
    from tests.risk.test_risk import DEMAND_NOISE

    started = []

    @contextlib.contextmanager
    def threads(*args):
        started.append(args)
        with ThreadPoolExecutor(2) as pool:
            yield pool

    monkeypatch.setattr(job, "make_executor", threads)
    s = Scenario.model_validate(tiny(uncertainty=[DEMAND_NOISE]))
    run = job.risk_job(tmp_path / "s.duckdb", s, SweepSpec(3, 1), reoptimise=True, check_samples=2)
    assert len(started) == 1, "one executor for the samples and the checks"
    assert len(run.samples) == 3 and sorted(set(run.checks["sample"])) == [0, 1]
