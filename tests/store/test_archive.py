"""Nothing computed is lost: a run no store would take is kept in a file of its own and `runs
import` brings it back; a report is written whole or not at all."""

from __future__ import annotations

import math
import subprocess
import uuid

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from fabnet.cli import app
from fabnet.pipeline import main_job
from fabnet.store import DuckStore, StoreError, open_store
from fabnet.store.archive import Place, read_archive, write_archive
from tests.plan.conftest import scenario, tiny

runner = CliRunner()


def test_an_archive_keeps_tables_types_and_figures(tmp_path):
    tables = {
        "a": pd.DataFrame({"x": [1, 2], "y": [0.5, math.nan], "z": ["p", None]}),
        "empty": pd.DataFrame(columns=["node", "load"]),
    }
    meta = {"scenario_name": "s", "seed": 3, "figures": {"fabco_npv_usd": 1.5e9, "irr_g42": None}}
    kept = write_archive(meta, tables, [Place("here", tmp_path / "run.fabnetrun")])
    record, back = read_archive(kept.path)
    assert record["seed"] == 3 and '"irr_g42": null' in record["figures"]
    assert back["a"]["x"].tolist() == [1, 2] and math.isnan(back["a"]["y"].iloc[1]) and pd.isna(back["a"]["z"].iloc[1])
    assert back["empty"].empty and list(back["empty"].columns) == ["node", "load"]
    assert not list(tmp_path.glob("*.partial"))


def test_what_is_not_an_archive_is_said(tmp_path):
    path = tmp_path / "x.fabnetrun"
    path.write_text("hello")
    result = runner.invoke(app, ["runs", "import", str(path), "--store", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 2 and "is not a run kept by fabnet" in result.stderr


@pytest.fixture
def full_disk(tmp_path):
    """A folder on a full file system: a small tmpfs filled up where the machine lets us mount
    one (as root here and in CI); otherwise None, and the test simulates the failure."""
    folder = tmp_path / f"full-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    mounted = (
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(folder)], capture_output=True).returncode
        == 0
    )
    if not mounted:
        yield None
        return
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder):
    """Use up what is left of the file system under `folder`."""
    with open(folder / "ballast", "wb") as ballast:
        try:
            while True:
                ballast.write(b"\0" * 65536)
                ballast.flush()
        except OSError:
            pass


def test_a_full_disk_keeps_the_run_in_a_file_that_runs_import_brings_back(tmp_path, full_disk, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if full_disk is None:  # no tmpfs here: the store fails as a full disk makes it fail

        def no_space(self, meta, tables):
            raise StoreError(f"cannot write the results store {self.path}: No space left on device")

        store = tmp_path / "s.duckdb"
        monkeypatch.setattr(DuckStore, "save_run", no_space)
    else:
        store = full_disk / "s.duckdb"
        open_store(store).close()
        fill(full_disk)
    job = main_job(scenario(tiny()), store, check=False)
    assert job.run_id is None and job.archive is not None and job.archive.exists()
    assert "cannot write the results store" in job.store_error or "No space" in job.store_error
    if full_disk is not None:
        assert job.archive.parent == tmp_path  # not beside the store: that disk is full
    monkeypatch.undo()
    other = tmp_path / "other.duckdb"
    result = runner.invoke(app, ["runs", "import", str(job.archive), "--store", str(other)])
    assert result.exit_code == 0, result.output
    assert "stored as run 1" in result.stdout
    with open_store(other, read_only=True) as s:
        stored = s.run(1)
    assert stored.figures["fabco_npv_usd"] == pytest.approx(job.figures["fabco_npv_usd"])
    pd.testing.assert_frame_equal(stored.tables["supply"], job.plan.supply, check_dtype=False)


def test_run_says_where_the_run_is_kept_when_the_store_cannot_take_it(tmp_path, monkeypatch):
    def no_space(self, meta, tables):
        raise StoreError(f"cannot write the results store {self.path}: No space left on device")

    monkeypatch.setattr(DuckStore, "save_run", no_space)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny()))
    result = runner.invoke(
        app,
        [
            "run",
            str(path),
            "--store",
            str(tmp_path / "s.duckdb"),
            "--no-check",
            "--report-dir",
            str(tmp_path / "reports"),
        ],
    )
    assert result.exit_code == 4
    assert "not stored: cannot write the results store" in result.stderr
    assert "the run is kept in" in result.stdout and "fabnet runs import" in result.stdout
    assert "Traceback" not in result.output
    assert list(tmp_path.glob("tiny-*.fabnetrun"))


def test_when_no_folder_takes_the_run_either_one_error_gives_both_reasons(tmp_path, monkeypatch):
    import fabnet.store.archive as archive

    def no_space(self, meta, tables):
        raise StoreError(f"cannot write the results store {self.path}: No space left on device")

    monkeypatch.setattr(DuckStore, "save_run", no_space)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setattr(archive, "archive_path", lambda store, name: [Place("a file", blocked / "run.fabnetrun")])
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny()))
    result = runner.invoke(
        app,
        [
            "run",
            str(path),
            "--store",
            str(tmp_path / "s.duckdb"),
            "--no-check",
            "--report-dir",
            str(tmp_path / "reports"),
        ],
    )
    assert result.exit_code == 2
    assert "No space left on device; and no folder would take the run as a file either" in result.stderr
    assert "Traceback" not in result.output


def test_a_report_that_cannot_be_written_leaves_no_file_and_says_how_to_redo_it(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny()))
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    store = tmp_path / "s.duckdb"
    result = runner.invoke(
        app, ["run", str(path), "--store", str(store), "--no-check", "--report-dir", str(blocked / "reports")]
    )
    assert result.exit_code == 4
    assert "no report: cannot write the report" in result.stderr
    assert "run 1 stored in" in result.stdout and "`fabnet report 1" in result.stdout
    again = runner.invoke(app, ["report", "1", "--store", str(store), "--output", str(tmp_path / "r.html")])
    assert again.exit_code == 0 and (tmp_path / "r.html").stat().st_size > 10_000
    assert list(tmp_path.glob("plotly-*.min.js"))  # the bundle the report loads, beside it


def test_a_report_on_a_full_disk_is_not_left_half_written(tmp_path, full_disk, store_with_runs):
    from fabnet.report import write_report
    from fabnet.report.html import ReportError

    if full_disk is None:
        pytest.skip("no tmpfs can be mounted here; the write itself is covered by the folder case")
    path, _ = store_with_runs
    with open_store(path, read_only=True) as s:
        run = s.run(1)
    fill(full_disk)
    with pytest.raises(ReportError, match="cannot write the report"):
        write_report(run, full_disk / "run-1.html")
    assert not (full_disk / "run-1.html").exists() and not list(full_disk.glob(".*.partial"))


def test_output_that_is_a_folder_is_a_clear_error(store_with_runs, tmp_path):
    path, _ = store_with_runs
    result = runner.invoke(app, ["report", "1", "--store", str(path), "--output", str(tmp_path)])
    assert result.exit_code == 2 and "is a folder; give the report a file name" in result.stderr
