"""`fabnet data fetch smt2020` against a loopback HTTP server: nothing here leaves the machine.

The server serves the testbed from where the tests find it (../shared/data/smt2020), a copy with
one byte changed, or the real files with one that breaks off halfway. The fetched folder must
verify against the SHA-256 sums fabnet ships and then serve the simulator and the plan check;
a corrupted or broken download must leave nothing installed.
"""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fabnet.fabsim import smt2020
from fabnet.fabsim.fetch import address, differences, fetch, manifest, survey
from fabnet.fabsim.smt2020 import DatasetError, find_dataset, load_smt2020


class BreakingHandler(SimpleHTTPRequestHandler):
    """Serves files, but sends only half of route_3.txt before closing the connection."""

    def copyfile(self, source, outputfile):  # type: ignore[no-untyped-def]
        if self.path.endswith("/route_3.txt"):
            data = source.read()
            outputfile.write(data[: len(data) // 2])
            self.close_connection = True
            return
        super().copyfile(source, outputfile)

    def log_message(self, *args):  # type: ignore[no-untyped-def]
        pass


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # type: ignore[no-untyped-def]
        pass


def serve(folder: Path, handler=QuietHandler) -> Iterator[str]:  # type: ignore[no-untyped-def]
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def published(hvlm) -> Path:
    return find_dataset("HVLM").parent


@pytest.fixture
def mirror(published) -> Iterator[str]:
    yield from serve(published)


@pytest.fixture
def nowhere_else(monkeypatch, tmp_path) -> Path:
    """No ../shared and no $FABNET_SMT2020_DIR: only the per-user folder (under tmp_path) is left."""
    monkeypatch.setattr(smt2020, "shared_folders", lambda: [])
    monkeypatch.delenv(smt2020.DATA_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "fabnet" / "smt2020"


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_the_shipped_checksums_are_those_of_the_published_files(published):
    for dataset in manifest():
        assert differences(published / dataset, dataset) == []


def test_fetch_installs_a_verified_copy_that_the_simulator_then_reads(mirror, nowhere_else):
    with pytest.raises(DatasetError, match="fabnet data fetch smt2020"):
        find_dataset("HVLM")
    folder = fetch("HVLM", source=mirror)
    assert folder == nowhere_else / "HVLM" and differences(folder, "HVLM") == []
    assert leftovers(nowhere_else) == ["HVLM"]  # no partial folder left beside it
    assert find_dataset("HVLM") == folder
    fab = load_smt2020("HVLM")
    assert len(fab.families) == 105 + 1 and len(fab.wip) == 2255  # FORMAT.md: 105 Fab families + Delay; WIP lots


def test_the_plan_check_runs_on_the_fetched_testbed(mirror, nowhere_else):
    from fabnet.check import PlanCheck
    from fabnet.pipeline import make_plan as plan_network
    from fabnet.pipeline import plan_check
    from fabnet.scenario import load_scenario

    scenario = load_scenario("scenarios/tigris.yaml")
    plan = plan_network(scenario)
    missing = plan_check(scenario, plan)
    assert isinstance(missing, str) and missing.count("fabnet data fetch smt2020") == 1
    fetch("HVLM", source=mirror)
    assert isinstance(plan_check(scenario, plan), PlanCheck)


def test_a_file_that_differs_leaves_nothing_installed_and_is_named(published, tmp_path):
    corrupted = tmp_path / "corrupted"
    shutil.copytree(published, corrupted)
    route = corrupted / "HVLM" / "route_4.txt"
    route.write_bytes(route.read_bytes().replace(b"1", b"2", 1))
    target = tmp_path / "data"
    for url in serve(corrupted):
        with pytest.raises(DatasetError, match=r"route_4\.txt of HVLM .* differs from the published file"):
            fetch("HVLM", to=target, source=url)
    assert leftovers(target) == []


def test_a_connection_that_breaks_off_leaves_the_old_copy_as_it_was(published, mirror, tmp_path):
    target = tmp_path / "data"
    fetch("HVLM", to=target, source=mirror)
    for url in serve(published, BreakingHandler):
        with pytest.raises(DatasetError, match=r"route_3\.txt"):
            fetch("HVLM", to=target, source=url)
    assert leftovers(target) == ["HVLM"] and differences(target / "HVLM", "HVLM") == []
    fetch("HVLM", to=target, source=mirror)  # and a fetch after it starts over cleanly
    assert leftovers(target) == ["HVLM"]


def test_a_local_folder_or_a_template_serves_as_the_source(published, tmp_path):
    assert fetch("LVHM", to=tmp_path / "a", source=str(published)) == tmp_path / "a" / "LVHM"
    template = published.as_uri() + "/{dataset}/{file}"
    assert address(template, "HVLM", "WIP.txt") == published.as_uri() + "/HVLM/WIP.txt"
    assert address(None, "HVLM", "WIP.txt").endswith("/datasets/SMT2020_HVLM/WIP.txt")
    assert (
        address("https://mirror.internal/smt2020/", "LVHM", "part.txt")
        == "https://mirror.internal/smt2020/LVHM/part.txt"
    )


def test_cli_fetch_then_list(mirror, nowhere_else):
    from fabnet.cli import app

    runner = CliRunner()
    before = runner.invoke(app, ["data", "list"], env={"COLUMNS": "200"})
    assert before.exit_code == 0 and "not found" in before.output and "fabnet data fetch smt2020" in before.output
    fetched = runner.invoke(app, ["data", "fetch", "smt2020", "--from", mirror])
    assert fetched.exit_code == 0, fetched.output
    assert "SMT2020 HVLM: verified and installed" in fetched.output and "SMT2020 LVHM" in fetched.output
    after = runner.invoke(app, ["data", "list"], env={"COLUMNS": "200"})
    assert after.exit_code == 0 and "not found" not in after.output
    # where each was found, from the survey the listing prints (a long folder wraps in the table)
    found = {f.dataset: (f.folder, f.problems) for f in survey()}
    assert found == {name: (nowhere_else / name, ()) for name in ("HVLM", "LVHM")}
    bad = runner.invoke(app, ["data", "fetch", "smt2020", "--dataset", "HVLM", "--from", mirror + "/nothing"])
    assert bad.exit_code != 0 and "could not fetch" in bad.output
