"""The DuckDB results store: round trip, atomicity, comparison."""

from __future__ import annotations

import pandas as pd
import pytest

from fabnet.store import Store, UnknownRun

TABLES = {"builds": pd.DataFrame({"site": ["a", "b"], "modules": [1, 2], "started": ["2025Q1", "2026Q3"]}),
          "cash": pd.DataFrame({"quarter": ["2025Q1"], "capex_usd": [1.5e9]})}


def test_round_trip(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        run_id = store.save_run({"scenario_name": "x", "seed": 7, "figures": {"npv_usd": 1.5e9}}, TABLES)
        loaded = store.run(run_id)
    assert run_id == 1
    assert loaded.meta["seed"] == 7 and loaded.figures == {"npv_usd": 1.5e9}
    for name, frame in TABLES.items():
        pd.testing.assert_frame_equal(loaded.tables[name], frame, check_dtype=False)


def test_run_ids_count_up_and_survive_reopening(tmp_path):
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        store.save_run({"scenario_name": "x"}, TABLES)
    with Store(path) as store:
        assert store.save_run({"scenario_name": "y"}, TABLES) == 2
        assert store.runs()["scenario_name"].tolist() == ["x", "y"]


def test_a_failure_midway_leaves_the_store_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "s.duckdb"
    with Store(path) as store:
        store.save_run({"scenario_name": "kept"}, TABLES)
        calls = {"n": 0}
        real_insert = Store._insert

        def failing_insert(self, con, name, run_id, frame):
            calls["n"] += 1
            if calls["n"] == 2:  # the first table is written, then the crash
                raise RuntimeError("disk on fire")
            return real_insert(self, con, name, run_id, frame)

        monkeypatch.setattr(Store, "_insert", failing_insert)
        with pytest.raises(RuntimeError, match="disk on fire"):
            store.save_run({"scenario_name": "lost"}, TABLES)
    with Store(path) as store:
        assert store.runs()["scenario_name"].tolist() == ["kept"]
        assert len(store.run(1).tables["builds"]) == 2
        with pytest.raises(UnknownRun):
            store.run(2)


def test_unknown_run_lists_the_known_ones(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        store.save_run({"scenario_name": "x"}, TABLES)
        with pytest.raises(UnknownRun, match="runs: 1"):
            store.run(5)


def test_compare_two_stored_plans(store_with_runs):
    path, jobs = store_with_runs
    with Store(path, read_only=True) as store:
        table = store.compare(1, 2).set_index("figure")
        assert table.loc["fabco_npv_usd", "run 1"] == pytest.approx(jobs[0].money.metrics["fabco_npv_usd"])
        assert table.loc["fabco_npv_usd", "difference"] == pytest.approx(
            jobs[1].money.metrics["fabco_npv_usd"] - jobs[0].money.metrics["fabco_npv_usd"])
        stored = store.run(1)
    assert stored.meta["scenario_hash"] and "name: tiny" in stored.meta["scenario_text"]
    assert {"builds", "supply", "fabco_quarterly", "investors", "buyer_quarterly", "counterfactual_supply",
            "deal_points", "wafer_demand"} <= set(stored.tables)


def test_read_only_store_that_does_not_exist(tmp_path):
    from fabnet.core.errors import FabnetError

    with pytest.raises(FabnetError, match="no results store"):
        Store(tmp_path / "missing.duckdb", read_only=True)


def test_main_job_stores_a_simulation_when_the_scenario_asks(tmp_path, hvlm):
    from fabnet.pipeline import main_job
    from tests.plan.conftest import scenario, tiny

    data = tiny(simulation={"dataset": "HVLM", "days": 2, "rule": "fifo", "curve": False})
    job = main_job(scenario(data), tmp_path / "s.duckdb")
    with Store(tmp_path / "s.duckdb", read_only=True) as store:
        tables = store.run(job.run_id).tables
    assert tables["sim_lots"]["lots"].sum() > 0
    assert len(tables["sim_families"]) == 106


def test_a_table_first_stored_empty_takes_the_types_of_later_rows(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        first = store.save_run({"scenario_name": "a"}, {"t": pd.DataFrame(columns=["node", "load"])})
        second = store.save_run({"scenario_name": "b"}, {"t": pd.DataFrame({"node": ["N3"], "load": [0.5]})})
        assert store.run(first).tables["t"].empty
        assert store.run(second).tables["t"].to_dict("records") == [{"node": "N3", "load": 0.5}]
