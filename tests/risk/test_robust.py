"""Robust plans measured (risk/robust.py): the same seed draws the same futures and chooses the
same plan, the comparison is what each plan does in the same fresh futures, and a stored robust
run holds both plans and the comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fabnet.core.errors import FabnetError
from fabnet.plan import RiskMeasure, make_plan
from fabnet.risk import apply_sample, draw
from fabnet.risk.fixed import evaluate_fixed
from fabnet.risk.robust import RobustSpec, draw_futures, outcomes, robust_job, robust_run
from tests.plan.conftest import scenario, tiny

#: Demand uncertain by ±60 %, and the learning of a new fab: the futures differ in what to build.
UNCERTAIN = [
    {"path": "products.chip.demand.per_quarter", "dist": "uniform", "apply": "multiply", "low": 0.4, "high": 1.6},
    {"path": "nodes.N.defect_density.ramp_per_cm2", "dist": "uniform", "low": 0.1, "high": 0.8},
]


@pytest.fixture(scope="module")
def uncertain():
    return scenario(tiny(uncertainty=UNCERTAIN))


def test_the_same_seed_draws_the_same_futures_and_chooses_the_same_plan(uncertain):
    spec = RobustSpec(futures=4, seed=7, out_of_sample=50)
    first, again = robust_run(uncertain, spec), robust_run(uncertain, spec)
    assert first.solution.first_stage.values == again.solution.first_stage.values
    pd.testing.assert_frame_equal(first.figures, again.figures)
    other = draw_futures(uncertain, 4, 8)
    assert [f.products[0].demand for f in other] != [f.products[0].demand for f in draw_futures(uncertain, 4, 7)]


def test_the_comparison_is_each_plan_in_the_same_fresh_futures(uncertain):
    spec = RobustSpec(futures=3, seed=2, measure=RiskMeasure(0.5, 0.5), out_of_sample=40)
    run = robust_run(uncertain, spec)
    fresh = draw(uncertain, 40, spec.seed + 1)
    for name, plan in (("central", run.central), ("robust", run.robust)):
        by_hand = outcomes(evaluate_fixed(uncertain, plan, fresh))
        measured = run.figures.set_index("figure")[name]
        assert measured.to_dict() == pytest.approx(by_hand.to_dict())
    difference = run.figures["robust"] - run.figures["central"]
    assert run.figures["difference"].to_numpy() == pytest.approx(difference.to_numpy())
    npv = run.samples[run.samples["plan"] == "robust"]["fabco_npv_usd"]
    assert run.figures.set_index("figure").at["fabco_npv_p10_usd", "robust"] == pytest.approx(np.quantile(npv, 0.1))


def test_perfect_information_is_worth_at_least_nothing_and_the_robust_plan_beats_the_central_in_sample(uncertain):
    run = robust_run(uncertain, RobustSpec(futures=3, seed=5, out_of_sample=20))
    robust, alone, central = (run.in_sample[k] for k in ("robust_usd", "wait_and_see_usd", "central_usd"))
    assert alone <= robust * (1 + 1e-6) and robust <= central * (1 + 1e-6)


def test_a_stored_robust_run_holds_both_plans_and_the_comparison(uncertain, tmp_path):
    import fabnet

    store = tmp_path / "robust.duckdb"
    run, job = robust_job(store, uncertain, RobustSpec(futures=2, seed=3, out_of_sample=30), label="two futures")
    stored = fabnet.stored(job.run_id, store)
    assert stored.kind == "robust" and stored.meta["label"] == "two futures"
    pd.testing.assert_frame_equal(
        stored.tables["robust_figures"].drop(columns="run_id", errors="ignore"), run.figures, check_dtype=False
    )
    assert len(stored.tables["robust_samples"]) == 60
    assert stored.tables["robust_spec"].iloc[0]["futures"] == 2
    assert stored.tables["builds"]["modules"].sum() == run.robust.builds["modules"].sum()
    # the futures the plan was chosen for: their drawn inputs, and what each costs under its builds
    futures = stored.tables["robust_futures"]
    np.testing.assert_array_equal(futures[["input_0", "input_1"]].to_numpy(), draw(uncertain, 2, 3))
    # the two-stage program's own identity: at risk weight 0 its objective is the expected cost,
    # the mean over the (equally likely) futures of each one's cost under the chosen first stage;
    # and each future's cost is a plan of that future alone (an independent solve) with those builds
    spec = stored.tables["robust_spec"].iloc[0]
    assert spec["risk_weight"] == 0 and futures["cost_usd"].mean() == pytest.approx(spec["robust_usd"], rel=1e-6)
    alone = [make_plan(apply_sample(uncertain, d), first_stage=run.solution.first_stage) for d in draw(uncertain, 2, 3)]
    assert futures["cost_usd"].tolist() == pytest.approx([plan.result.objective * 1e6 for plan in alone], rel=1e-6)
    assert list(stored.tables["risk_inputs"]["path"]) == [u["path"] for u in UNCERTAIN]
    from fabnet.report import figures

    histogram = figures(stored)["robust-npv"]  # the report's and the dashboard's figure
    assert [trace.name for trace in histogram.data] == ["central plan", "robust plan"]
    assert [len(trace.x) for trace in histogram.data] == [30, 30]
    robust_npv = run.samples.loc[run.samples["plan"] == "robust", "fabco_npv_usd"].to_numpy() / 1e9
    np.testing.assert_allclose(histogram.data[1].x, robust_npv)


def test_a_scenario_without_uncertainty_has_no_futures_to_plan_for():
    with pytest.raises(FabnetError, match="no uncertainty section"):
        robust_run(scenario(tiny()), RobustSpec(futures=3, seed=1))


def test_benders_gives_the_same_plan_on_worker_processes_and_on_dask():
    from fabnet.network import prepare
    from fabnet.plan.decompose import solve_decomposed
    from fabnet.risk import make_executor

    s = scenario(tiny(uncertainty=UNCERTAIN))
    futures = [prepare(f) for f in draw_futures(s, 3, 11)]
    measure = RiskMeasure(0.5, 0.5)
    answers = []
    for where in ({"workers": 2}, {"dask_local": 2}):
        with make_executor(**where) as executor:
            answers.append(solve_decomposed(futures, measure=measure, executor=executor))
    (processes, dask), alone = answers, solve_decomposed(futures, measure=measure)
    assert processes.first_stage.values == dask.first_stage.values == alone.first_stage.values
    assert processes.result.objective == dask.result.objective == alone.result.objective
    np.testing.assert_array_equal(processes.costs, dask.costs)
