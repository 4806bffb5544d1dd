"""The results store, on a DuckDB file and on PostgreSQL: round trip, atomicity, comparison,
types; then what only the shared DuckDB file needs: waiting for another process, clear errors
for what is not a store."""

from __future__ import annotations

import math
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from fabnet.core import results
from fabnet.core.errors import FabnetError
from fabnet.store import DuckStore, PgStore, StoreBusy, StoreError, UnknownRun, change_files, open_store, store_name

# ad-hoc tables, declared by conftest.AD_HOC
TABLES = {
    "sites": pd.DataFrame({"site": ["a", "b"], "modules": [1, 2], "started": ["2025Q1", "2026Q3"]}),
    "cash": pd.DataFrame({"quarter": ["2025Q1"], "capex_usd": [1.5e9]}),
}


def test_round_trip(location):
    with open_store(location) as store:
        run_id = store.save_run({"scenario_name": "x", "seed": 7, "figures": {"npv_usd": 1.5e9}}, TABLES)
        loaded = store.run(run_id)
    assert run_id == 1
    assert loaded.meta["seed"] == 7 and loaded.figures == {"npv_usd": 1.5e9}
    for name, frame in TABLES.items():
        pd.testing.assert_frame_equal(loaded.tables[name], frame, check_dtype=False)


def test_types_nan_and_missing_values_survive(location):
    frame = pd.DataFrame(
        {
            "flag": [True, False],
            "count": np.array([3, 4], dtype=np.int64),
            "share": [0.5, math.nan],
            "label": ["x", None],
            "when": pd.to_datetime(["2025-01-01", "2026-06-30"]),
        }
    )
    with open_store(location) as store:
        loaded = store.run(store.save_run({"scenario_name": "types"}, {"t": frame})).tables["t"]
    assert loaded["flag"].tolist() == [True, False] and loaded["count"].tolist() == [3, 4]
    assert loaded["share"].iloc[0] == 0.5 and math.isnan(loaded["share"].iloc[1])
    assert loaded["label"].iloc[0] == "x" and pd.isna(loaded["label"].iloc[1])
    assert pd.Timestamp(loaded["when"].iloc[1]) == pd.Timestamp("2026-06-30")


def test_run_ids_count_up_and_survive_reopening(location):
    with open_store(location) as store:
        store.save_run({"scenario_name": "x"}, TABLES)
    with open_store(location) as store:
        assert store.save_run({"scenario_name": "y"}, TABLES) == 2
        assert store.runs()["scenario_name"].tolist() == ["x", "y"]


def test_a_failure_midway_leaves_the_store_as_it_was(location, monkeypatch):
    with open_store(location) as store:
        store.save_run({"scenario_name": "kept"}, TABLES)
        kind = type(store)
        calls = {"n": 0}
        real_insert = kind._insert

        def failing_insert(self, *args):
            calls["n"] += 1
            if calls["n"] == 2:  # the first table is written, then the crash
                raise RuntimeError("disk on fire")
            return real_insert(self, *args)

        monkeypatch.setattr(kind, "_insert", failing_insert)
        with pytest.raises(RuntimeError, match="disk on fire"):
            store.save_run({"scenario_name": "lost"}, TABLES)
    monkeypatch.undo()
    with open_store(location) as store:
        assert store.runs()["scenario_name"].tolist() == ["kept"]
        assert len(store.run(1).tables["sites"]) == 2
        with pytest.raises(UnknownRun):
            store.run(2)


def test_unknown_run_lists_the_known_ones(location):
    with open_store(location) as store:
        store.save_run({"scenario_name": "x"}, TABLES)
        with pytest.raises(UnknownRun, match="runs: 1"):
            store.run(5)


def test_a_table_first_stored_empty_has_its_declared_types(location):
    with open_store(location) as store:
        first = store.save_run({"scenario_name": "a"}, {"loads": pd.DataFrame(columns=["node", "load"])})
        second = store.save_run({"scenario_name": "b"}, {"loads": pd.DataFrame({"node": ["N3"], "load": [0.5]})})
        assert store.run(first).tables["loads"].empty
        assert store.run(second).tables["loads"].to_dict("records") == [{"node": "N3", "load": 0.5}]


def test_a_column_an_older_fabnet_left_untyped_takes_its_declared_type(location):
    # an older fabnet typed the columns of an empty first frame from the frame: NULL in DuckDB,
    # TEXT in PostgreSQL
    if location.startswith("postgresql"):
        import psycopg

        with psycopg.connect(location, autocommit=True) as con:
            con.execute("CREATE TABLE result_loads (run_id BIGINT, node TEXT, load TEXT)")
    else:
        with duckdb.connect(location) as con:
            con.execute("CREATE TABLE result_loads AS SELECT 1::BIGINT AS run_id, NULL AS node, NULL AS load LIMIT 0")
    with open_store(location) as store:
        run_id = store.save_run({"scenario_name": "b"}, {"loads": pd.DataFrame({"node": ["N3"], "load": [0.5]})})
        assert store.run(run_id).tables["loads"].to_dict("records") == [{"node": "N3", "load": 0.5}]


def test_rows_added_to_a_run_later_and_a_familys_new_column(location):
    with open_store(location) as store:
        run_id = store.save_run({"scenario_name": "sweep"}, {})
        store.save_rows(run_id, "samples", pd.DataFrame({"sample": [0], "npv": [1.0]}))
        store.save_rows(run_id, "samples", pd.DataFrame({"sample": [1], "npv": [2.0], "irr_a": [0.1]}))
        rows = store.run(run_id).tables["samples"].sort_values("sample")
    assert rows["npv"].tolist() == [1.0, 2.0] and pd.isna(rows["irr_a"].iloc[0]) and rows["irr_a"].iloc[1] == 0.1


def test_undeclared_tables_and_columns_are_refused_and_nothing_is_stored(location):
    with open_store(location) as store:
        with pytest.raises(results.UndeclaredColumn, match=r"'cash' has no column 'opex_usd'.*core/results\.py"):
            store.save_run({"scenario_name": "x"}, {"cash": TABLES["cash"].assign(opex_usd=1.0)})
        with pytest.raises(results.UndeclaredTable, match=r"'cashflow'.*core/results\.py"):
            store.save_run({"scenario_name": "x"}, {"cashflow": TABLES["cash"]})
        with pytest.raises(results.UndeclaredColumn, match="'runs' has no column 'colour'"):
            store.save_run({"scenario_name": "x", "colour": "red"}, {})
        assert store.runs().empty


def test_a_whole_main_job_round_trips(location):
    from fabnet.pipeline import main_job
    from tests.plan.conftest import scenario, tiny

    job = main_job(scenario(tiny()), location, check=False)
    with open_store(location, read_only=True) as store:
        stored = store.run(job.run_id)
    assert stored.figures["fabco_npv_usd"] == pytest.approx(job.figures["fabco_npv_usd"])
    pd.testing.assert_frame_equal(stored.tables["supply"], job.plan.supply, check_dtype=False)


def test_compare_two_stored_plans(store_with_runs):
    from fabnet.store.compare import figure_differences, input_differences

    path, jobs = store_with_runs
    with open_store(path, read_only=True) as store:
        runs = [store.run(1), store.run(2)]
    table = figure_differences(runs).set_index("figure")
    assert table.loc["fabco_npv_usd", "run_1"] == pytest.approx(jobs[0].money.fabco.metrics.fabco_npv_usd)
    assert table.loc["fabco_npv_usd", "difference"] == pytest.approx(
        jobs[1].money.fabco.metrics.fabco_npv_usd - jobs[0].money.fabco.metrics.fabco_npv_usd
    )
    # run 2 differs from run 1 by its investor's commitment (see store_with_runs), and only there
    inputs = input_differences(runs).set_index("path")
    assert list(inputs.index) == ["funding.investors.i.amount_usd"]
    assert inputs.loc["funding.investors.i.amount_usd"].tolist() == ["1000000000.0", "2000000000.0"]
    stored = runs[0]
    assert stored.meta["scenario_hash"] and "name: tiny" in stored.meta["scenario_text"]
    assert {
        "builds",
        "supply",
        "fabco_quarterly",
        "investors",
        "buyer_quarterly",
        "counterfactual_supply",
        "deal_points",
        "wafer_demand",
    } <= set(stored.tables)


def test_open_store_picks_the_backend_by_address(tmp_path):
    with open_store(tmp_path / "s.duckdb") as store:
        assert isinstance(store, DuckStore)
    assert PgStore.__name__ == "PgStore"  # postgresql:// addresses, covered by the `location` cases


def test_read_only_store_that_does_not_exist(tmp_path):
    with pytest.raises(FabnetError, match="no results store"):
        open_store(tmp_path / "missing.duckdb", read_only=True)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "is a folder; give a file"),
        (lambda p: p.write_text("root:x:0:0:root:/root:/bin/bash\n"), "is not a fabnet results store"),
    ],
)
def test_what_is_not_a_store_is_said_in_words(tmp_path, make, message):
    path = tmp_path / "thing"
    make(path)
    for read_only in (True, False):
        with pytest.raises(StoreError, match=message):
            open_store(path, read_only=read_only)


def hold(path, seconds, read_only=False):
    """Another process that opens the store and holds it for `seconds`."""
    code = (
        "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=sys.argv[3] == '1'); "
        "print('held', flush=True); time.sleep(float(sys.argv[2]))"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(path), str(seconds), "1" if read_only else "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_writer_waits_for_a_reader_and_a_reader_for_a_writer(tmp_path):
    path = tmp_path / "s.duckdb"
    with open_store(path) as store:
        store.save_run({"scenario_name": "first"}, TABLES)
    waits = []
    holder = hold(path, 1.5, read_only=True)
    start = time.monotonic()
    with open_store(path, wait_s=30, waiting=waits.append) as store:
        store.save_run({"scenario_name": "second"}, TABLES)
    assert time.monotonic() - start > 0.5 and waits  # it waited, and said so
    holder.communicate()
    holder = hold(path, 1.5)
    with open_store(path, read_only=True, wait_s=30) as store:
        assert store.runs()["scenario_name"].tolist() == ["first", "second"]
    holder.communicate()


def test_a_store_held_too_long_is_a_clear_error(tmp_path):
    path = tmp_path / "s.duckdb"
    open_store(path).close()
    holder = hold(path, 5)
    try:
        with pytest.raises(StoreBusy, match=r"is held by process \d+; waited"):
            open_store(path, read_only=True, wait_s=0.5)
    finally:
        holder.kill()
        holder.communicate()


def test_a_postgresql_server_that_does_not_answer_is_retried_for_seconds_not_minutes(monkeypatch):
    """A writer waits up to WRITER_WAIT_S for a DuckDB file another process holds; a PostgreSQL
    connection that fails (down, wrong address, refused password: psycopg does not tell them
    apart) is retried only for CONNECT_WAIT_S, with backoff, then named without its password."""
    import psycopg

    import fabnet.store.pg as pg

    clock, attempts = [0.0], []

    def refused(url, **kwargs):
        attempts.append(clock[0])
        raise psycopg.OperationalError("connection failed: Connection refused")

    monkeypatch.setattr(pg.psycopg, "connect", refused)
    monkeypatch.setattr(pg.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(pg.time, "sleep", lambda s: clock.__setitem__(0, clock[0] + s))
    with pytest.raises(
        StoreBusy, match=r"cannot reach the results store postgresql://u:\*\*\*@h/db: connection failed"
    ):
        PgStore("postgresql://u:pw@h/db")  # a writer: WRITER_WAIT_S is 120 s
    assert pg.CONNECT_WAIT_S <= attempts[-1] < pg.CONNECT_WAIT_S + 2.0  # the last pause is at most 2 s
    assert attempts[1] - attempts[0] == pytest.approx(0.1) and 3 < len(attempts) < 20


def test_two_runs_at_once_on_one_store_both_land(tmp_path):
    # two whole `fabnet run`s, in their own processes, storing into one file at about the same time
    import yaml

    from tests.plan.conftest import tiny

    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(yaml.safe_dump(tiny()))
    store = tmp_path / "s.duckdb"
    runs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fabnet",
                "run",
                str(scenario),
                "--store",
                str(store),
                "--report-dir",
                str(tmp_path / f"r{i}"),
                "--no-check",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    for process in runs:
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
        assert "stored in" in stdout
    with open_store(store, read_only=True) as s:
        assert s.runs()["run_id"].tolist() == [1, 2]


def test_build_differences_name_each_start_the_two_plans_disagree_on():
    from fabnet.store.compare import build_differences

    def builds(*rows):
        return pd.DataFrame(rows, columns=["site", "node", "started", "modules", "online", "ramp_quarters"])

    central = builds(("a", "N3", "2025Q1", 1, "2027Q1", 4), ("b", "N2", "2026Q1", 2, "2028Q1", 4))
    robust = builds(("a", "N3", "2025Q2", 1, "2027Q2", 4), ("b", "N2", "2026Q1", 2, "2028Q1", 4))
    differ = build_differences(central, robust)
    assert differ[["site", "started", "modules_central", "modules_robust"]].values.tolist() == [
        ["a", "2025Q1", 1, 0],
        ["a", "2025Q2", 0, 1],
    ]
    assert build_differences(central, central).empty


def test_what_a_duckdb_file_and_a_postgresql_database_differ_in_is_said_by_the_store():
    """The report's file name and the dashboard's page cache ask the store (issue 29: the
    backend difference stays inside store), not is_postgres."""
    assert store_name("runs/fabnet.duckdb") == "fabnet"
    assert store_name("postgresql://me:secret@db.example/team_runs?sslmode=require") == "team_runs"
    assert store_name("postgres://db.example/other") == "other"
    file = Path("runs") / "fabnet.duckdb"
    assert change_files(file) == (file, Path("runs") / "fabnet.duckdb.wal")
    assert change_files("postgresql://db.example/team_runs") == ()
