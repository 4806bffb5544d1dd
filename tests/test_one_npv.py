"""One plan, one fab company NPV: `fabnet plan`, `fabnet finance`, `fabnet run` and a neutral
fixed-plan risk sample all report the same figure (within 0.1 %), because all of them call the
same money functions; the planner's objective is printed under its own name."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from fabnet.cli import app
from fabnet.pipeline import make_plan as plan_network
from fabnet.risk.fixed import evaluate_fixed
from fabnet.scenario import load_scenario
from fabnet.store import open_store
from tests.conftest import TIGRIS, neutral_row

runner = CliRunner()


def test_plan_finance_run_and_a_neutral_risk_sample_report_one_fab_company_npv(tmp_path):
    planned = runner.invoke(app, ["plan", str(TIGRIS), "--json"])
    assert planned.exit_code == 0, planned.output
    from_plan = json.loads(planned.stdout)
    financed = runner.invoke(app, ["finance", str(TIGRIS), "--json"])
    assert financed.exit_code == 0, financed.output
    from_finance = json.loads(financed.stdout)["metrics"]["fabco_npv_usd"]
    ran = runner.invoke(
        app, ["run", str(TIGRIS), "--no-check", "--store", str(tmp_path / "s.duckdb"), "--report-dir", str(tmp_path)]
    )
    assert ran.exit_code == 0, ran.output
    with open_store(tmp_path / "s.duckdb", read_only=True) as store:
        from_run = store.run(1).figures["fabco_npv_usd"]
    s = load_scenario(TIGRIS)
    from_risk = evaluate_fixed(s, plan_network(s), neutral_row(s)[None, :])["fabco_npv_usd"].iloc[0]

    npv = from_plan["fabco_npv_usd"]
    assert abs(npv) > 1e8  # a real figure, not an empty plan
    for other in (from_finance, from_run, from_risk):
        assert other == pytest.approx(npv, rel=1e-3)
    # the planner's objective is another figure, and says so
    assert from_plan["system_cost_usd"] != pytest.approx(npv, rel=1e-3)
    assert "npv_usd" not in from_plan
