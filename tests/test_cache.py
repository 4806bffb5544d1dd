"""fabnet's cache (fabnet.cache): a plan solved once for some model inputs is served again for the
same inputs, never for others, never when reuse is off, and a damaged entry is solved over; old
versioned folders (the compiled kernel's) are pruned."""

from __future__ import annotations

import json
import os
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

import fabnet.cache as cache
from fabnet._documents import PLAN_TABLES
from fabnet.cli import app
from fabnet.plan import SolveOptions, make_plan
from fabnet.scenario import load_scenario
from tests.conftest import MINIMAL

REUSE = SolveOptions(reuse=True)


@pytest.fixture
def kept(tmp_path, monkeypatch):
    """The cache on, in a folder of this test's own."""
    monkeypatch.setenv("FABNET_CACHE", "1")
    monkeypatch.setenv("FABNET_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "plans"


@pytest.fixture
def solves(monkeypatch):
    """How many models make_plan built (a reused plan builds none)."""
    import fabnet.plan.planner as plan_module

    built: list[object] = []
    build = plan_module.build_with_money
    monkeypatch.setattr(plan_module, "build_with_money", lambda inputs: built.append(inputs) or build(inputs))
    return built


def same_tables(a, b) -> None:
    for name in PLAN_TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.messages == b.messages and a.result.objective == b.result.objective


def test_the_same_inputs_are_solved_once_and_the_plan_served_again(kept, solves):
    scenario = load_scenario(MINIMAL)
    first = make_plan(scenario, REUSE)
    again = make_plan(scenario, REUSE)
    assert len(solves) == 1 and len(list(kept.glob("*.pickle"))) == 1
    assert not first.result.reused and again.result.reused
    same_tables(first, again)
    assert "reused" in again.result.describe() and "--fresh" in again.result.describe()


def test_changed_inputs_or_options_are_solved_anew(kept, solves):
    scenario = load_scenario(MINIMAL)
    make_plan(scenario, REUSE)
    dearer = load_scenario(MINIMAL, ["sites.alpha.lead_time_q=6"])
    assert not make_plan(dearer, REUSE).result.reused
    assert not make_plan(scenario, SolveOptions(mip_gap=0.005, reuse=True)).result.reused
    assert len(solves) == 3 and len(list(kept.glob("*.pickle"))) == 3


def test_reuse_off_neither_reads_nor_writes(kept, solves, monkeypatch):
    scenario = load_scenario(MINIMAL)
    make_plan(scenario, SolveOptions())  # reuse is for the commands that ask for it
    assert not kept.exists()
    make_plan(scenario, REUSE)
    monkeypatch.setenv("FABNET_CACHE", "0")
    assert not make_plan(scenario, REUSE).result.reused
    assert len(solves) == 3


def test_a_damaged_entry_is_solved_over_and_repaired(kept, solves):
    scenario = load_scenario(MINIMAL)
    first = make_plan(scenario, REUSE)
    (entry,) = kept.glob("*.pickle")
    entry.write_bytes(entry.read_bytes()[:200])  # cut short, as by a full disk
    again = make_plan(scenario, REUSE)
    assert not again.result.reused and len(solves) == 2
    same_tables(first, again)
    assert make_plan(scenario, REUSE).result.reused


def test_the_least_recently_used_entries_go_beyond_the_limit(kept, monkeypatch):
    monkeypatch.setattr(cache, "MAX_ENTRIES", 3)
    for n in range(5):
        cache.keep("plans", f"entry{n}", n)
    assert sorted(p.stem for p in kept.glob("*.pickle")) == ["entry2", "entry3", "entry4"]
    assert cache.read("plans", "entry2", int) == 2 and cache.read("plans", "entry2", str) is None


def test_the_cli_says_a_plan_was_reused_and_fresh_solves_anew(kept):
    runner = CliRunner()

    def status(*extra: str) -> dict:
        result = runner.invoke(app, ["plan", str(MINIMAL), "--json", *extra])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["status"]

    assert status()["reused"] is False
    reused = status()
    assert reused["reused"] is True and "solved before" in reused["description"]
    assert status("--fresh")["reused"] is False


def test_old_versioned_folders_go_beyond_the_newest_kept_unless_in_use(tmp_path, monkeypatch):
    """The kernel's compiled code lives in versioned folders (numba_import.kernel_cache_folder):
    making one keeps the KEPT_FOLDERS most recently used others and removes older ones, unless
    used within the hour (another process may be reading it); made with reuse off too."""
    monkeypatch.setenv("FABNET_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("FABNET_CACHE", "0")
    root = tmp_path / "numba"

    def folders(hours_old: list[float]) -> None:
        for i, hours in enumerate(hours_old):
            folder = root / f"f{i}"
            folder.mkdir(parents=True)
            os.utime(folder, (folder.stat().st_atime, folder.stat().st_mtime - 3600.0 * hours))

    kept = cache.KEPT_FOLDERS
    folders([2.0 + i for i in range(kept + 3)])  # f0 the newest; the three oldest go
    assert cache.versioned_folder("numba", "current") == root / "current"
    assert sorted(p.name for p in root.iterdir()) == sorted(["current", *(f"f{i}" for i in range(kept))])
    shutil.rmtree(root)
    folders([0.01 * i for i in range(kept + 3)])  # all used within the hour: none goes
    cache.versioned_folder("numba", "current")
    assert len(list(root.iterdir())) == kept + 4
