"""Ctrl-C (or SIGTERM) stops a re-optimising sweep, its worker processes included, within 2 s:
a terminal sends SIGINT to the whole process group, so the test does the same. Nothing is left
running, no semaphore is leaked, and the message names the command that finishes the sweep."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from tests.plan.conftest import tiny
from tests.risk.test_risk import DEMAND_NOISE, _alive, _descendants

#: What the issue asks: every process gone this long after the signal.
STOP_S = 2.0


@pytest.mark.parametrize(
    ("signum", "executor"),
    [
        (signal.SIGINT, ["--workers", "2"]),
        (signal.SIGTERM, ["--workers", "2"]),
        (signal.SIGINT, ["--dask-local", "2"]),
    ],
    ids=["ctrl-c-workers", "sigterm-workers", "ctrl-c-dask"],
)
def test_an_interrupted_sweep_stops_every_process_and_names_the_resume_command(tmp_path, signum, executor):
    path = tmp_path / "risky.yaml"
    path.write_text(yaml.safe_dump(tiny(uncertainty=[DEMAND_NOISE])))
    sweep = subprocess.Popen(
        [sys.executable, "-m", "fabnet", "risk", str(path), "--samples", "400", "--reoptimise", *executor],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal's foreground job has
        cwd=tmp_path,
    )
    text = _interrupted_once_busy(sweep, signum, busy_s=3)  # well into the sweep: workers deep in their solves
    assert sweep.returncode == 130, text
    assert "fabnet risk --resume 1 --store" in text
    assert "leaked" not in text and "Traceback" not in text, text


def test_an_interrupted_plan_check_stops_the_processes_checking_its_fabs(tmp_path, hvlm):
    from tests.plan.conftest import site

    data = tiny(sites=[site(name, max_modules=1) for name in ("alpha", "beta", "gamma")])
    data["products"][0]["demand"] = {"per_quarter": {"2025Q1": 0, "2025Q3": 4_500_000}}
    path = tmp_path / "three.yaml"
    path.write_text(yaml.safe_dump(data))
    run = subprocess.Popen(
        [sys.executable, "-m", "fabnet", "run", str(path), "--store", str(tmp_path / "s.duckdb")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        cwd=tmp_path,
    )
    # its resource tracker and fork server, then two workers simulating fabs
    text = _interrupted_once_busy(run, signal.SIGINT, busy_s=2, processes=4)
    assert run.returncode == 130, text
    assert "leaked" not in text and "Traceback" not in text, text


def _interrupted_once_busy(command: subprocess.Popen, signum: int, busy_s: float, processes: int = 2) -> str:
    """Wait for `command` to start `processes` processes, let them work `busy_s`, then signal
    its process group as a terminal does; every process must be gone STOP_S later. Its stderr."""
    try:
        deadline, workers = time.monotonic() + 120, set()
        while time.monotonic() < deadline and len(workers) < processes:
            time.sleep(0.2)
            workers = _alive(_descendants(command.pid))
        assert len(workers) >= processes, "the command never started its workers"
        time.sleep(busy_s)
        everyone = _alive(_descendants(command.pid)) | {command.pid}
        sent = time.monotonic()
        os.killpg(command.pid, signum)
        while _alive(everyone) and time.monotonic() - sent < STOP_S:
            time.sleep(0.05)
        left = _alive(everyone)
        _, stderr = command.communicate(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(command.pid, signal.SIGKILL)
    assert left == set(), f"{len(left)} of {len(everyone)} processes still running {STOP_S} s after the signal"
    return stderr.decode()
