from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from fabnet.core.errors import FabnetError
from fabnet.fabsim.smt2020 import WHERE_TO_GET, FabData, load_smt2020

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent
MINIMAL = DATA / "minimal.yaml"
TIGRIS = REPO / "scenarios" / "tigris.yaml"


def line_of(text: str, needle: str) -> int:
    """1-based line of the first occurrence of `needle` in `text`."""
    return text[: text.index(needle)].count("\n") + 1


@pytest.fixture
def variant(tmp_path: Path):
    """Write minimal.yaml with `old` replaced by `new`; return the new file's path and text."""

    def make(old: str, new: str, name: str = "variant.yaml") -> tuple[Path, str]:
        text = MINIMAL.read_text()
        assert text.count(old) == 1, f"{old!r} must occur exactly once in minimal.yaml"
        text = text.replace(old, new)
        path = tmp_path / name
        path.write_text(text)
        return path, text

    return make


# No test is served a result another test (or the user's last command) left in fabnet's cache:
# a test that changes the code under it with monkeypatch would be answered from the unchanged
# code. Tests of the cache turn it on in a folder of their own (tests/test_cache.py).
os.environ["FABNET_CACHE"] = "0"
os.environ.pop("FABNET_CACHE_DIR", None)


# Timing belongs in benchmarks/, not tests: no per-example deadline, so a busy CI machine
# cannot turn a slow example into a failure. Under CI the examples are derandomised, so a run
# of a commit is repeatable; elsewhere each run explores new ones (and keeps what failed).
settings.register_profile("fabnet", deadline=None, derandomize=os.environ.get("CI") == "true")
settings.load_profile("fabnet")


# The SMT2020 testbed: skipped with a pointer when absent, a failure when CI=true.
@pytest.fixture(scope="session")
def hvlm() -> FabData:
    return _dataset("HVLM")


@pytest.fixture(scope="session")
def lvhm() -> FabData:
    return _dataset("LVHM")


def _dataset(name: str) -> FabData:
    try:
        return load_smt2020(name)
    except FabnetError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"SMT2020 {name} is not here: these tests need {WHERE_TO_GET}")


@pytest.fixture(scope="session")
def store_with_runs(tmp_path_factory):
    """A results store holding two runs of a small scenario (run 2 with a bigger budget)."""
    from fabnet.pipeline import main_job
    from tests.plan.conftest import scenario, tiny

    folder = tmp_path_factory.mktemp("store")
    path = folder / "runs.duckdb"
    first = tiny()
    second = tiny(funding={"investors": [{"id": "i", "kind": "equity", "amount_usd": 2e9, "available_from": "2025Q1"}]})
    jobs = [main_job(scenario(data), path) for data in (first, second)]
    return path, jobs


def neutral_row(scenario):
    """The sample of the uncertainty section that changes nothing: 1 to multiply, 0 to add,
    the current value (a single number) to replace."""
    import numpy as np

    from fabnet.scenario.paths import get_at, parse_path, resolve

    data = scenario.model_dump(by_alias=True, mode="json")
    row = []
    for entry in scenario.uncertainty:
        if entry.apply == "multiply":
            row.append(1.0)
        elif entry.apply == "add":
            row.append(0.0)
        else:
            row.append(float(get_at(data, resolve(data, parse_path(entry.path)))))
    return np.array(row)
