"""The documents: the scenario reference is current, and the tutorial's commands really run and
print what the tutorial says they print."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from fabnet.scenario.reference import json_schema, markdown_reference

DOCS = Path(__file__).parent.parent / "docs"
REPO = DOCS.parent


def test_scenario_reference_is_current():
    assert (DOCS / "scenario-reference.md").read_text() == markdown_reference(), (
        "run `fabnet schema --markdown > docs/scenario-reference.md`"
    )
    assert (DOCS / "scenario.schema.json").read_text() == json_schema(), (
        "run `fabnet schema --json > docs/scenario.schema.json`"
    )


def test_every_scenario_field_has_a_meaning():
    rows = [line for line in markdown_reference().splitlines() if line.startswith("| `")]
    assert len(rows) > 100
    undocumented = [row.split("|")[1].strip() for row in rows if not row.split("|")[-2].strip()]
    assert undocumented == []


def console_blocks(text: str) -> list[list[str]]:
    return [block.strip("\n").splitlines() for block in re.findall(r"```console\n(.*?)```", text, re.S)]


def test_tutorial_runs_as_written(tmp_path, hvlm):
    """Each `$ fabnet …` line runs in a fresh folder holding the scenarios; every line shown
    below it (other than `…`) must appear in what the command printed."""
    shutil.copytree(REPO / "scenarios", tmp_path / "scenarios")
    env = {**os.environ, "COLUMNS": "80"}  # a default terminal, or a pipe
    blocks = console_blocks((DOCS / "tutorial.md").read_text())
    assert len(blocks) >= 5
    for block in blocks:
        command, output = None, []
        for line in [*block, "$ end"]:
            if line.startswith("$ "):
                if command is not None:
                    _check(command, output, tmp_path, env)
                command, output = line[2:], []
            elif line.strip() not in ("…", ""):
                output.append(line.strip())


def _check(command: str, expected: list[str], folder: Path, env: dict[str, str]) -> None:
    if command == "end":
        return
    assert command.startswith("fabnet "), f"the tutorial only runs fabnet commands: {command}"
    args = [sys.executable, "-m", "fabnet", *command.split()[1:]]
    done = subprocess.run(args, cwd=folder, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"`{command}` failed:\n{done.stderr}"
    printed = " ".join(done.stdout.split())
    for line in expected:
        assert " ".join(line.split()) in printed, f"`{command}` no longer prints:\n{line}\n---\n{done.stdout}"


def test_python_api_examples_run_as_written(tmp_path, monkeypatch):
    """docs/python-api.md's examples, in order, in one namespace, from a folder holding the
    scenarios (as a notebook next to a clone would)."""
    shutil.copytree(REPO / "scenarios", tmp_path / "scenarios")
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", (DOCS / "python-api.md").read_text(), re.S)
    assert len(blocks) >= 4
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "docs/python-api.md", "exec"), namespace)
    assert (tmp_path / "exports" / "run-1.xlsx").exists() and (tmp_path / "analysis.duckdb").exists()


def test_python_api_page_lists_every_api_function():
    import fabnet

    page = (DOCS / "python-api.md").read_text()
    assert all(f"`fabnet.{name}(" in page for name in fabnet.__all__ if name != "__version__")
