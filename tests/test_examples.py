"""The examples/ notebooks run, top to bottom, as an analyst would run them (issue 31)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def run_notebook(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setenv("FABNET_EXAMPLE_STORE", str(tmp_path / "examples.duckdb"))
    monkeypatch.chdir(ROOT)  # where scenarios/ is, as the notebook says
    return runpy.run_path(str(ROOT / "examples" / name), run_name="__main__")


def test_every_example_is_tested():
    assert [p.name for p in sorted((ROOT / "examples").glob("*.py"))] == ["analyst_loop.py"]


def test_the_analyst_loop_runs_and_compares_what_it_changed(tmp_path, monkeypatch, capsys):
    cells = run_notebook("analyst_loop.py", tmp_path, monkeypatch)
    assert "fab company NPV $" in capsys.readouterr().out
    # a lower price of the same plan (80 % of market, tigris.yaml asks 90 %) leaves the fab
    # company less: the offtake is its revenue
    assert cells["cheaper"].fabco.metrics.fabco_npv_usd < cells["figures"]["fabco_npv_usd"]
    # the comparison names the input the notebook changed, from tigris.yaml's 0.8 to 0.0
    moved = cells["moved"].set_index("name")
    row = moved.loc["offtake.take_or_pay_share"]
    assert (row["kind"], float(row["run_1"]), float(row["run_2"])) == ("input", 0.8, 0.0)
