"""The formulation as a file: the tiny scenario's model written in LP format, compared with the
copy stored beside this test, with the cycle time constant and load-dependent. A change to any
variable, bound, constraint or objective term shows as a diff that the commit must carry:

    FABNET_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/plan/test_golden.py

rewrites the stored files; read their diff before committing it."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from fabnet.network import prepare
from fabnet.plan import build_from_inputs
from tests.plan.conftest import scenario, site, tiny

GOLDEN = Path(__file__).parent / "golden"


def tiny_with_both_sites_and_a_curve() -> dict:
    """tiny() with the HVLM load curve on its node, so one scenario exercises both modes."""
    data = tiny(sites=[site("alpha"), site("beta", lead_time_q=2, ramp=[0.5, 1.0])])
    data["nodes"][0]["load_curve"] = "smt2020_hvlm"
    return data


def lp_text(cycle_time: str, tmp_path: Path, data: dict | None = None) -> str:
    model = build_from_inputs(prepare(scenario(data or tiny_with_both_sites_and_a_curve()), cycle_time))
    path = model.to_file(tmp_path / f"{cycle_time}.lp", explicit_coordinate_names=True, progress=False)
    return "".join(line.rstrip() + "\n" for line in path.read_text().splitlines())


def differences(stored: str, made: str) -> str:
    lines = difflib.unified_diff(stored.splitlines(), made.splitlines(), "stored", "built", lineterm="", n=1)
    return "\n".join(list(lines)[:40])


def tiny_in_phases() -> dict:
    """tiny() whose site alpha builds shells (two quarters) and tool sets of half a module (one
    quarter), beside beta's whole modules."""
    alpha = site("alpha", lead_time_q=3, tool_phases={"wspm": 500, "lead_time_q": 1})
    return tiny(sites=[alpha, site("beta", lead_time_q=2, ramp=[0.5, 1.0])])


CASES = {"constant": ("constant", None), "load": ("load", None), "phases": ("constant", tiny_in_phases)}


@pytest.mark.parametrize("case", CASES)
def test_the_model_is_the_stored_one(case, tmp_path):
    cycle_time, data = CASES[case]
    made = lp_text(cycle_time, tmp_path, data() if data else None)
    stored_file = GOLDEN / f"tiny-{case}.lp"
    if os.environ.get("FABNET_UPDATE_GOLDEN") == "1":
        stored_file.write_text(made)
    stored = stored_file.read_text()
    assert made == stored, (
        f"the {case} model differs from {stored_file.name}; if the change is "
        f"meant, rerun with FABNET_UPDATE_GOLDEN=1 and commit the file:\n"
        f"{differences(stored, made)}"
    )


def test_the_comparison_sees_a_changed_number(tmp_path):
    """The golden test is no tautology: a different lead time gives a different file."""
    changed = tiny_with_both_sites_and_a_curve()
    changed["sites"][1]["lead_time_q"] = 1
    assert lp_text("constant", tmp_path, changed) != lp_text("constant", tmp_path)
