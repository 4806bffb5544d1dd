"""Hostile command lines, archives, chains of files and URLs (issue 28, item 8): each ends in one
clear message, never a traceback, a silent default or a second copy."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from fabnet.cli import app
from fabnet.core.errors import ScenarioError
from fabnet.scenario import load_scenario
from fabnet.store.archive import Place, write_archive
from tests.conftest import MINIMAL
from tests.web.test_web import get, serving

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["simulate", "--days", "nan"], "nan is not a finite number"),
        (["simulate", "--days", "inf"], "inf is not a finite number"),
        (["simulate", "--days", "1e308"], "at most 3650"),
        (["simulate", "--warmup-days", "-inf"], "not a finite number"),
        (["simulate", "--seed", str(2**64)], "is not in the range 0<=x<=9223372036854775807"),
        (["risk", "--seed", str(2**64)], "is not in the range 0<=x<=9223372036854775807"),
        (["risk", "--samples", str(10**8)], "is not in the range 1<=x<=1000000"),
        (["plan", "--gap", "nan"], "nan is not a finite number"),
        (["plan", "--time-limit", "inf"], "inf is not a finite number"),
        (["plan", "--robust", "1001"], "is not in the range 1<=x<=1000"),
    ],
)
def test_numbers_out_of_bounds_are_one_clear_error(args, says):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert says in " ".join(result.stderr.replace("│", " ").split())
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("folder", ["/etc", "/no/such/folder"])
def test_data_that_holds_no_dataset_is_an_error_not_the_default_one(folder):
    result = runner.invoke(app, ["simulate", "--data", folder, "--days", "1"])
    assert result.exit_code == 2
    assert f"--data {folder} holds no SMT2020 dataset 'HVLM'" in result.stderr


def test_a_run_imported_twice_is_stored_once(tmp_path):
    meta = {
        "scenario_name": "s",
        "seed": 1,
        "figures": {"fabco_npv_usd": 1.0},
        "created_at": "2026-01-02 03:04:05.678901",
    }
    kept = write_archive(meta, {}, [Place("here", tmp_path / "r.fabnetrun")])
    store = str(tmp_path / "s.duckdb")
    first = runner.invoke(app, ["runs", "import", str(kept.path), "--store", store])
    second = runner.invoke(app, ["runs", "import", str(kept.path), "--store", store])
    assert first.exit_code == 0 and "stored as run 1" in first.stdout and "already" not in first.stdout
    assert second.exit_code == 0 and "already stored as run 1" in second.stdout
    listed = runner.invoke(app, ["runs", "list", "--store", store])
    assert listed.stdout.count(" s ") == 1, listed.stdout


def test_a_store_cut_short_is_one_error(tmp_path, store_with_runs):
    whole = store_with_runs[0].read_bytes()
    cut = tmp_path / "cut.duckdb"
    cut.write_bytes(whole[: len(whole) // 3])
    result = runner.invoke(app, ["runs", "list", "--store", str(cut)])
    assert result.exit_code == 2, result.output
    assert "results store" in result.stderr and "Traceback" not in result.output


def chain(tmp_path, files: int):
    """A chain of `files` scenario files, each extending the one before; the last one."""
    (tmp_path / "f1.yaml").write_text(MINIMAL.read_text())
    for k in range(2, files + 1):
        (tmp_path / f"f{k}.yaml").write_text(f"extends: f{k - 1}.yaml\n")
    return tmp_path / f"f{files}.yaml"


def test_extends_takes_16_files_and_no_more(tmp_path):
    assert load_scenario(chain(tmp_path, 16)).name
    with pytest.raises(ScenarioError, match="a chain of more than 16 files"):
        load_scenario(chain(tmp_path, 17))


def test_extends_names_a_file_that_is_no_scenario_without_quoting_it(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:hunter2:/root:/bin/bash\n")
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {secret}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    assert "hunter2" not in str(info.value) and "root:x" not in str(info.value)
    assert str(secret) in str(info.value) and "not a scenario" in str(info.value)


def test_the_dashboard_says_which_methods_and_reads_run_ids_as_written(store_with_runs):
    import urllib.request

    with serving(store_with_runs[0]) as server:
        request = urllib.request.Request(server + "/runs/1", method="POST")
        try:
            urllib.request.urlopen(request, timeout=60)
            raise AssertionError("POST was answered")
        except urllib.error.HTTPError as error:
            assert error.code == 405 and "GET" in error.headers["Allow"]
        assert get(server, "/runs/1")[0] == 200
        assert get(server, "/runs/01")[0] == 404
        assert get(server, "/runs/0")[0] == 404
