"""Every failure to store a finished run ends in a `.fabnetrun` file: whatever the store raised,
in the first place that takes it (the store's folder, the current folder, the temporary folder,
the user's data folder), each tried even when the one before failed on its clean-up too."""

from __future__ import annotations

import errno
import subprocess
import uuid
from pathlib import Path

import duckdb
import pytest

from fabnet.pipeline import main_job
from fabnet.store import open_store
from fabnet.store.archive import NowhereToKeep, Place, archive_path, read_archive, write_archive
from tests.plan.conftest import scenario, tiny


@pytest.fixture
def read_only_store(tmp_path):
    """A store on a file system mounted read-only (a small tmpfs, remounted read-only after
    the store is made); None where the machine lets no one mount."""
    folder = tmp_path / f"ro-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)], capture_output=True).returncode:
        yield None
        return
    try:
        open_store(folder / "s.duckdb").close()
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield folder / "s.duckdb"
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_store_on_a_read_only_file_system_keeps_the_run_in_the_current_folder(tmp_path, read_only_store, monkeypatch):
    if read_only_store is None:
        pytest.skip("no tmpfs can be mounted here; the places are covered by the EROFS case below")
    monkeypatch.chdir(tmp_path)
    job = main_job(scenario(tiny()), read_only_store, check=False)
    assert job.run_id is None and job.archive is not None
    assert job.archive.parent == tmp_path
    assert "the folder of the store" in job.store_error and "Read-only file system" in job.store_error
    assert "kept in the current folder" in job.store_error
    record, _ = read_archive(job.archive)
    assert record["scenario_name"] == scenario(tiny()).name


def test_every_place_is_tried_even_when_the_clean_up_raises_too(tmp_path, monkeypatch):
    first, second = tmp_path / "a", tmp_path / "b"
    real_replace, real_unlink = Path.replace, Path.unlink

    def replace(self, target):
        if Path(target).parent == first:
            raise OSError(errno.EROFS, "Read-only file system")
        return real_replace(self, target)

    def unlink(self, missing_ok=False):
        if self.parent == first:
            raise OSError(errno.EROFS, "Read-only file system")
        return real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "replace", replace)
    monkeypatch.setattr(Path, "unlink", unlink)
    kept = write_archive(
        {"scenario_name": "s"}, {}, [Place("first", first / "r.fabnetrun"), Place("second", second / "r.fabnetrun")]
    )
    assert kept.path == second / "r.fabnetrun" and kept.path.exists()
    assert kept.describe() == "kept in second (first: [Errno 30] Read-only file system)"


def test_when_no_place_takes_the_run_each_reason_is_given(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    places = [Place("one", blocked / "x" / "r.fabnetrun"), Place("two", blocked / "r.fabnetrun")]
    with pytest.raises(NowhereToKeep, match=r"one: .*; two: .*"):
        write_archive({"scenario_name": "s"}, {}, places)


def test_the_places_are_the_store_s_folder_the_current_and_temporary_folders_and_the_user_s_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    places = archive_path(tmp_path / "stores" / "s.duckdb", "tiny")
    assert [p.path.parent for p in places] == [
        tmp_path / "stores",
        tmp_path,
        tmp_path / "tmp",
        tmp_path / "data" / "fabnet",
    ]
    assert all(p.path.name.startswith("tiny-") and p.path.suffix == ".fabnetrun" for p in places)
    remote = archive_path("postgresql://u:secret@db/fabnet", "tiny")
    assert [p.where for p in remote] == ["the current folder", "the temporary folder", "the user's data folder"]


@pytest.mark.parametrize(
    "damage",
    [
        "ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT 'x'; ALTER TABLE runs ALTER owner DROP DEFAULT",
        "ALTER TABLE runs ALTER scenario_name TYPE INTEGER",
        "ALTER TABLE runs RENAME TO runs_table; CREATE VIEW runs AS SELECT * FROM runs_table",
    ],
    ids=["extra-not-null-column", "changed-type", "runs-a-view"],
)
def test_a_store_that_refuses_the_run_in_any_way_keeps_it_in_a_file(tmp_path, monkeypatch, damage):
    monkeypatch.chdir(tmp_path)
    store = tmp_path / "s.duckdb"
    open_store(store).close()
    with duckdb.connect(str(store)) as con:
        for statement in damage.split("; "):
            con.execute(statement)
    job = main_job(scenario(tiny()), store, check=False)
    assert job.run_id is None and job.archive is not None and job.archive.exists()
    assert job.archive.parent == tmp_path
    # found on opening, before a row is written, and named
    assert f"the results store {store} has another shape than fabnet" in job.store_error
    assert "use another --store" in job.store_error
