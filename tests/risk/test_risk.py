"""Risk sweeps: reproducible samples, the same answers on any executor, exact resume, and a case
with an analytic answer."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest

from fabnet.chips import die_yield, gross_dies
from fabnet.core.errors import ScenarioError
from fabnet.pipeline import main_job
from fabnet.risk import SAMPLES_TABLE, SweepSpec, apply_sample, draw, make_executor, run_sweep, summarise
from fabnet.risk.sampling import inverse_cdf
from fabnet.scenario import load_scenario
from fabnet.scenario.schema import Uncertain
from fabnet.store import stored_rows
from tests.plan.conftest import scenario, tiny

DEMAND_NOISE = {
    "path": "products.chip.demand.per_quarter",
    "dist": "normal",
    "apply": "multiply",
    "mean": 1.0,
    "sd": 0.2,
}
LEAD_DELAY = {"path": "sites.alpha.lead_time_q", "dist": "discrete", "apply": "add", "values": [0, 1, 2]}


def uncertain_tiny(**changes):
    return scenario(tiny(uncertainty=[DEMAND_NOISE, LEAD_DELAY], **changes))


def test_same_seed_same_samples_and_another_seed_differs():
    s = uncertain_tiny()
    assert np.array_equal(draw(s, 16, 3), draw(s, 16, 3))
    assert not np.array_equal(draw(s, 16, 3), draw(s, 16, 4))
    assert set(np.unique(draw(s, 30, 1)[:, 1])) == {0.0, 1.0, 2.0}


def test_latin_hypercube_puts_one_point_in_every_stratum():
    s = uncertain_tiny()
    u = np.round(((draw(s, 50, 2)[:, 0] - 1.0) / 0.2), 9)
    from scipy.stats import norm

    strata = np.floor(norm.cdf(u) * 50).astype(int)
    assert sorted(strata) == list(range(50))


def test_an_entry_without_a_parameter_its_distribution_needs_is_named():
    # a loaded scenario's checks require it; an entry built in code may lack it
    entry = Uncertain(path="products.chip.demand.per_quarter", dist="normal", mean=1.0)
    with pytest.raises(ValueError, match="dist normal needs sd"):
        inverse_cdf(entry, np.array([0.5]))


def test_rank_correlation_is_imposed():
    data = tiny(
        uncertainty=[DEMAND_NOISE, {**DEMAND_NOISE, "path": "products.chip.market_price_usd"}],
        correlation=[[1.0, 0.8], [0.8, 1.0]],
    )
    table = draw(scenario(data), 2000, 5)
    rho = pd.Series(table[:, 0]).corr(pd.Series(table[:, 1]), method="spearman")
    assert rho == pytest.approx(6 / math.pi * math.asin(0.4), abs=0.03)


def test_a_sample_changes_the_fields_it_names():
    s = uncertain_tiny()
    changed = apply_sample(s, np.array([1.5, 2.0]))
    assert changed.sites[0].lead_time_q == s.sites[0].lead_time_q + 2
    before = s.products[0].demand.per_quarter
    after = changed.products[0].demand.per_quarter
    assert all(after[q] == pytest.approx(1.5 * before[q]) for q in before)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"path": "sites.omega.lead_time_q", "dist": "uniform", "low": 0, "high": 1}, "no entry with id 'omega'"),
        ({**DEMAND_NOISE, "sd": -0.2}, "greater than 0"),
    ],
)
def test_bad_uncertainty_specs_give_one_clear_error(tmp_path, entry, message):
    import yaml

    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(tiny(uncertainty=[entry])))
    with pytest.raises(ScenarioError, match=message):
        load_scenario(path)


def test_a_correlation_that_cannot_hold_is_refused(tmp_path):
    import yaml

    three = [
        DEMAND_NOISE,
        {**DEMAND_NOISE, "path": "products.chip.market_price_usd"},
        {**DEMAND_NOISE, "path": "nodes.N.wafer_price_usd"},
    ]
    impossible = [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(tiny(uncertainty=three, correlation=impossible)))
    with pytest.raises(ScenarioError, match="positive semi-definite"):
        load_scenario(path)


def sweep(tmp_path, executor_args, spec, limit=None, store=None):
    s = uncertain_tiny()
    store = store or tmp_path / "risk.duckdb"
    run_id = main_job(s, store).run_id if not store.exists() else 1
    with make_executor(**executor_args) as executor:
        run_sweep(s, run_id, store, spec, executor, limit=limit)
    rows = stored_rows(store, run_id, SAMPLES_TABLE)
    return rows.sort_values("sample").reset_index(drop=True)


def test_one_worker_two_workers_dask_and_a_remote_scheduler_agree(tmp_path):
    from dask.distributed import LocalCluster

    spec = SweepSpec(samples=4, seed=11)
    results = []
    for name, args in (("one", {"workers": 1}), ("two", {"workers": 2}), ("dask", {"dask_local": 2})):
        (tmp_path / name).mkdir()
        results.append(sweep(tmp_path / name, args, spec))
    # An existing cluster reached by its address, as `--scheduler tcp://host:8786` would.
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster:
        (tmp_path / "remote").mkdir()
        results.append(sweep(tmp_path / "remote", {"scheduler": cluster.scheduler_address}, spec))
    first = results[0]
    for other in results[1:]:
        pd.testing.assert_frame_equal(first, other)


def test_a_killed_sweep_resumes_to_exactly_the_uninterrupted_one(tmp_path):
    spec = SweepSpec(samples=5, seed=2)
    (tmp_path / "whole").mkdir()
    (tmp_path / "killed").mkdir()
    whole = sweep(tmp_path / "whole", {"workers": 2}, spec)
    store = tmp_path / "killed" / "risk.duckdb"
    partial = sweep(tmp_path / "killed", {"workers": 2}, spec, limit=2, store=store)
    assert len(partial) == 2
    resumed = sweep(tmp_path / "killed", {"workers": 2}, spec, store=store)
    pd.testing.assert_frame_equal(whole, resumed)
    assert resumed["sample"].tolist() == list(range(5))  # nothing lost, nothing twice


SIGMA = 0.2


def foundry_only_case(take_or_pay=0.0):
    """Foundry capacity S per quarter, demand D·m with m ~ N(1, σ) and D = S. Quarter 0 gets no
    wafers (they take a quarter), so over six quarters E[unmet] = D + 5·D·σ/√(2π), using
    E[max(m − 1, 0)] = σ/√(2π)."""
    good = gross_dies(300, 10, 10, 3.0, 0.1) * float(die_yield(100, 0.1, "poisson"))
    supply = 3 * 1000 * good
    data = tiny(
        sites=[],
        foundry_offers=[{"node": "N", "max_wafers_per_month": 1000, "take_or_pay": take_or_pay}],
        uncertainty=[{**DEMAND_NOISE, "sd": SIGMA}],
    )
    data["products"][0]["demand"] = {"per_quarter": {"2025Q1": supply}}
    return scenario(data), supply, supply + 5 * supply * SIGMA / math.sqrt(2 * math.pi)


def test_expected_shortfall_matches_the_normal_formula(tmp_path):
    s, supply, expected = foundry_only_case()
    store = tmp_path / "risk.duckdb"
    run_id = main_job(s, store).run_id
    with make_executor(workers=2) as executor:
        run_sweep(s, run_id, store, SweepSpec(samples=24, seed=9), executor)
    rows = stored_rows(store, run_id, SAMPLES_TABLE)
    assert rows["unmet"].mean() == pytest.approx(expected, rel=0.05)
    summary = summarise(s, rows)
    assert summary["tornado"]["path"].tolist() == ["products.chip.demand.per_quarter"]
    headline = summary["headline"].set_index("figure")
    assert headline.at["accelerators_unmet", "p10"] == pytest.approx(
        0.75 * supply, rel=0.05
    )  # m ≈ 0.74: only quarter 0


def test_fixed_plan_neutral_sample_reproduces_the_base_plan():
    from fabnet.pipeline import make_plan as plan_network
    from fabnet.pipeline import plan_finance
    from fabnet.risk.fixed import evaluate_fixed
    from tests.conftest import TIGRIS, neutral_row

    s = load_scenario(TIGRIS)
    plan = plan_network(s)
    money = plan_finance(s, plan)
    out = evaluate_fixed(s, plan, neutral_row(s)[None, :])
    delivered = out[[c for c in out.columns if c.startswith("delivered_")]].to_numpy().sum()
    assert delivered == pytest.approx(plan.supply["delivered"].sum(), rel=0.001)
    # the same money functions on the same operations: one fab company NPV
    assert out["fabco_npv_usd"].iloc[0] == pytest.approx(money.fabco.metrics.fabco_npv_usd, rel=0.001)
    assert out["buyer_net_usd"].iloc[0] == pytest.approx(money.buyer.metrics.buyer_savings_vs_market_usd, rel=0.001)


def test_fixed_plan_expected_shortfall_matches_the_normal_formula():
    from fabnet.pipeline import make_plan as plan_network
    from fabnet.risk.fixed import evaluate_fixed

    s, _, expected = foundry_only_case()
    out = evaluate_fixed(s, plan_network(s), draw(s, 4000, 3))
    assert out["unmet"].mean() == pytest.approx(expected, rel=0.01)


def test_fixed_plan_pays_take_or_pay_reservations_that_demand_no_longer_needs():
    # The plan reserves the whole offer; when demand halves, half the wafers go unused and the
    # buyer still pays half of those (take_or_pay 0.5): 3 × 1,000 × $10,000 × (0.5 + 0.5 × 0.5)
    # a quarter, against 3 × 1,000 × $10,000 in the neutral sample.
    from fabnet.pipeline import make_plan as plan_network
    from fabnet.risk.fixed import evaluate_fixed

    s, supply, _ = foundry_only_case(take_or_pay=0.5)
    plan = plan_network(s)
    out = evaluate_fixed(s, plan, np.array([[1.0], [0.5]]))
    value = out["buyer_net_usd"]  # market value of what is delivered less what it costs
    paid_full, paid_half = 3 * 1000 * 10000.0, 3 * 1000 * 10000 * 0.75
    # quarters 0..5 reserve wafers (the last quarter's serve the demand just after the horizon,
    # which the buyer's money, ending at the horizon, does not count), quarters 1..5 deliver
    # (one-quarter cycle), each accelerator worth its $1,000 market price
    assert value.iloc[0] == pytest.approx(5 * supply * 1000 - 6 * paid_full, rel=1e-6)
    assert value.iloc[1] == pytest.approx(5 * supply * 500 - 6 * paid_half, rel=1e-6)


def test_fixed_plan_refuses_inputs_it_cannot_vary():
    from fabnet.pipeline import make_plan as plan_network
    from fabnet.risk.fixed import Unsupported, evaluate_fixed

    s = scenario(
        tiny(uncertainty=[{"path": "sites.alpha.opex_per_wafer_usd", "dist": "uniform", "low": 1000, "high": 2000}])
    )
    with pytest.raises(Unsupported, match="use --reoptimise"):
        evaluate_fixed(s, plan_network(s), draw(s, 4, 1))


def _processes() -> dict[int, tuple[int, str]]:
    """pid → (parent pid, state) of every process, from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            table[int(entry)] = (int(fields[1]), fields[0])
    return table


def _descendants(pid: int) -> set[int]:
    table, found, frontier = _processes(), set(), {pid}
    while frontier:
        frontier = {child for child, (parent, _) in table.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pids: set[int]) -> set[int]:
    table = _processes()
    return {pid for pid in pids if pid in table and table[pid][1] != "Z"}


@pytest.mark.parametrize("executor", [["--workers", "2"], ["--dask-local", "2"]])
def test_a_killed_sweep_leaves_no_worker_behind(tmp_path, executor):
    import signal
    import subprocess
    import sys
    import time

    import yaml

    path = tmp_path / "risky.yaml"
    path.write_text(yaml.safe_dump(tiny(uncertainty=[DEMAND_NOISE])))
    sweep = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fabnet",
            "risk",
            str(path),
            "--samples",
            "400",
            "--reoptimise",
            *executor,
            "--store",
            str(tmp_path / "s.duckdb"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline, workers = time.monotonic() + 120, set()
    while time.monotonic() < deadline and len(workers) < 2:
        time.sleep(0.5)
        workers = _alive(_descendants(sweep.pid))
    assert len(workers) >= 2, "the sweep never started its workers"
    time.sleep(2)  # well into the sweep
    workers = _alive(_descendants(sweep.pid))
    os.kill(sweep.pid, signal.SIGKILL)
    sweep.wait()
    deadline = time.monotonic() + 30
    while _alive(workers) and time.monotonic() < deadline:
        time.sleep(0.25)
    assert _alive(workers) == set()


@pytest.mark.parametrize("override", ["uncertainty[5].high=.nan", "uncertainty[0].sigma=3"])
def test_a_sweep_whose_draws_would_be_nonsense_stops_before_storing(tmp_path, override):
    """A NaN bound once gave a sweep that exited 0 printing nan; a wide lognormal draws demand
    past its bound. Both are one error, and nothing is planned or stored."""
    from typer.testing import CliRunner

    from fabnet.cli import app
    from tests.conftest import TIGRIS

    store = tmp_path / "risk.duckdb"
    result = CliRunner().invoke(
        app, ["risk", str(TIGRIS), "--set", override, "--samples", "2000", "--store", str(store)]
    )
    assert result.exit_code == 2, result.output
    assert "uncertainty[" in result.stderr and "Traceback" not in result.output
    assert not store.exists()


def samples_with_npv(npv_billions: list[float]) -> pd.DataFrame:
    """Risk samples of uncertain_tiny() with the given fab company NPVs; the rest is filler."""
    n = len(npv_billions)
    return pd.DataFrame(
        {
            "sample": range(n),
            "fabco_npv_usd": [v * 1e9 for v in npv_billions],
            "buyer_net_usd": 0.0,
            "unmet": 0.0,
            "input_0": np.linspace(0.8, 1.2, n),
            "input_1": np.arange(n) % 3,
            "demand_2025": 10.0,
            "delivered_2025": 9.0,
        }
    )


def test_downside_is_the_chance_of_a_loss_and_the_mean_of_the_worst_tenth():
    from fabnet.core import columns

    summary = summarise(uncertain_tiny(), samples_with_npv([-5, -3, -1, 0, 1, 2, 4, 6, 8, 10]))
    assert {"headline", "per_year", "tornado"} <= set(summary)
    downside = summary["downside"]
    assert list(downside.columns) == ["p_npv_below_zero", "expected_shortfall_usd"]
    assert all(columns.meaning(c).unit in ("share", "usd") for c in downside.columns)  # known to core.columns
    # 3 of 10 below zero (0 is not); the worst tenth of 10 samples is the one at -5
    assert downside.at[0, "p_npv_below_zero"] == pytest.approx(0.3)
    assert downside.at[0, "expected_shortfall_usd"] == pytest.approx(-5e9)
    # 15 samples: the worst 1.5 are all of -5 and half of -3
    fifteen = summarise(uncertain_tiny(), samples_with_npv([-5, -3, -1, *range(1, 13)]))["downside"]
    assert fifteen.at[0, "p_npv_below_zero"] == pytest.approx(3 / 15)
    assert fifteen.at[0, "expected_shortfall_usd"] == pytest.approx((-5 - 0.5 * 3) / 1.5 * 1e9)


def test_tornado_table_names_inputs_in_words_and_keeps_their_paths():
    from fabnet.risk.summary import inputs_table

    s = uncertain_tiny()
    tornado = summarise(s, samples_with_npv(list(range(12))))["tornado"]
    assert list(tornado.columns) == ["input", "path", "rank_correlation_with_npv"]
    words = dict(zip(tornado["path"], tornado["input"], strict=True))
    assert words == {
        "products.chip.demand.per_quarter": "chip demand: accelerators per quarter",
        "sites.alpha.lead_time_q": "alpha: quarters from construction start to first wafer",
    }
    stored = inputs_table(s)  # what a sweep stores for the report's tornado
    assert stored.to_dict("list") == {
        "input": [0, 1],
        "path": [DEMAND_NOISE["path"], LEAD_DELAY["path"]],
        "words": [words[DEMAND_NOISE["path"]], words[LEAD_DELAY["path"]]],
        "touches_plan": [True, True],  # no plan given: every input may move one planned anew
    }


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("sites.arizona.lead_time_q", "arizona: quarters from construction start to first wafer"),
        ("sites[2].lead_time_q", "sites[2]: quarters from construction start to first wafer"),
        ("nodes.N3.wafer_price_usd", "N3: market price of one processed wafer at a foundry, USD"),
        ("nodes.N3.wafer_price_usd.2026", "N3: market price of one processed wafer at a foundry, USD, 2026"),
        (
            "nodes.N3.defect_density.learning_rate_per_q",
            "N3 defect density: share of the gap to mature D0 closed each quarter of fab age",
        ),
        ("products.tigris.demand.per_year", "tigris demand: accelerators per calendar year"),
        ("products.tigris.die_width_mm", "tigris: compute die width, mm"),  # "design only:" left out
        ("funding.investors.bank.interest_rate", "funding bank: annual interest rate"),
        ("sites.a.capex_per_module_usd.tools", "a capex per module: tools per module, USD"),
        ("packaging.cowos_l.yield", "cowos_l: packaging yield"),  # an alias, its range note left out
        ("finance.discount_rate", "finance: annual nominal discount rate (WACC)"),
        # not in the schema: the path as it is
        ("sites.a.no_such_field", "sites.a.no_such_field"),
        ("sites..x", "sites..x"),
        ("sites.a.lead_time_q.more", "sites.a.lead_time_q.more"),
    ],
)
def test_a_field_path_in_words(path, words):
    from fabnet.scenario.reference import path_words

    assert path_words(path) == words
