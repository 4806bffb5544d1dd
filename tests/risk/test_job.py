"""The risk job (risk/job.py) as `fabnet risk` runs it: refusals before anything is stored, the
fixed-plan sweep's refusal as a user's error, and a resume that ends where an unbroken sweep does."""

from __future__ import annotations

import pandas as pd
import pytest

from fabnet.core.errors import FabnetError
from fabnet.pipeline import make_decision as decide
from fabnet.risk import SweepSpec
from fabnet.risk.job import risk_job
from fabnet.store import stored_run
from tests.plan.conftest import scenario, tiny

DEMAND = {"path": "products.chip.demand.per_quarter", "dist": "normal", "apply": "multiply", "mean": 1.0, "sd": 0.2}


def runs_in(store) -> int:
    from fabnet.store import open_store

    if not store.exists():
        return 0
    with open_store(store, read_only=True) as s:
        return len(s.runs())


def test_a_scenario_without_uncertainty_is_refused_before_a_run_is_stored(tmp_path):
    store = tmp_path / "r.duckdb"
    with pytest.raises(FabnetError, match="no uncertainty section"):
        risk_job(store, scenario(tiny()), SweepSpec(10, 1))
    assert runs_in(store) == 0


def test_an_input_the_fixed_plan_cannot_vary_is_a_users_error_naming_the_way_out(tmp_path):
    unsupported = {"path": "sites.alpha.opex_per_wafer_usd", "dist": "uniform", "low": 1000, "high": 2000}
    store = tmp_path / "r.duckdb"
    with pytest.raises(FabnetError, match="use --reoptimise"):
        risk_job(store, scenario(tiny(uncertainty=[unsupported])), SweepSpec(4, 1))
    assert runs_in(store) == 0  # refused before the base run is stored


def test_a_resumed_fixed_plan_sweep_keeps_the_samples_it_stored(tmp_path):
    store = tmp_path / "r.duckdb"
    s = scenario(tiny(uncertainty=[DEMAND]))
    first = risk_job(store, s, SweepSpec(50, 3))
    again = risk_job(store, resume=first.run_id)
    assert again.spec == first.spec and again.scenario == s
    pd.testing.assert_frame_equal(again.samples, first.samples)
    stored = stored_run(store, first.run_id).tables["risk_samples"]
    assert len(stored) == 50  # not stored twice
    assert again.title == f"Risk of run {first.run_id} (builds fixed): 50 samples (lhs, seed 3)"


def test_a_decision_without_the_foundry_route_says_so_when_asked_for_the_deal():
    decision = decide(scenario(tiny()), compare=False)
    assert decision.comparison is None and "network_adds_accelerators" not in decision.figures()
    with pytest.raises(ValueError, match="without the foundry route"):
        _ = decision.deal
