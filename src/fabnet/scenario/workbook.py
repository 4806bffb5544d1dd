"""A run's workbook read back as a scenario: the scenario as run (the workbook's hidden YAML)
with every value edited on its inputs sheet applied as `--set` applies it, so the workbook's
scenario is validated and checked as a file is, with the same errors. The layout is
core.workbook's; report.workbook writes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl

from fabnet.core import workbook as layout
from fabnet.core.errors import Problem, ScenarioError
from fabnet.scenario import yamltext
from fabnet.scenario.loader import Overrides, override_texts, stored_scenario, with_overrides
from fabnet.scenario.schema import Scenario


def load_workbook_scenario(path: str | Path, overrides: Overrides | str | None = ()) -> Scenario:
    """The scenario of a run's workbook with its edits, then `overrides`, applied."""
    base, edits = read_workbook(path)
    scenario = stored_scenario({"scenario_text": base, "source": str(path), "overrides": "[]"})
    return with_overrides(scenario, [*edits, *override_texts(overrides)])


def read_workbook(path: str | Path) -> tuple[str, list[str]]:
    """The scenario as run (YAML) and the edits of the inputs sheet as "path=value" overrides."""
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, KeyError, ValueError) as error:
        raise _not_a_run_workbook(path, f"a file that cannot be read as a workbook ({error})") from None
    missing = [s for s in (layout.INPUTS_SHEET, layout.SCENARIO_TEXT_SHEET) if s not in book.sheetnames]
    if missing:
        raise _not_a_run_workbook(path, f"a workbook without the sheet {' or '.join(missing)}")
    lines = [row[0] or "" for row in book[layout.SCENARIO_TEXT_SHEET].iter_rows(values_only=True)]
    rows = book[layout.INPUTS_SHEET].iter_rows(min_row=2, values_only=True)
    edits = [_override(path_text, value) for section, path_text, value, was, *_ in rows if _edited(section, value, was)]
    return "\n".join(lines) + "\n", edits


def _edited(section: Any, value: Any, was: Any) -> bool:
    """A scenario value that differs from the value as run (an emptied cell and an empty one are one)."""
    return section == layout.SCENARIO_SECTION and _blank(value) != _blank(was)


def _blank(value: Any) -> Any:
    return None if value == "" else value


def _override(path: str, value: Any) -> str:
    """An edit as --set writes it: text as typed (read as YAML, as on the command line), any
    other value as one line of YAML; an emptied cell is null."""
    if value is None or value == "":
        return f"{path}=null"
    if isinstance(value, str):
        return f"{path}={value}"
    return f"{path}={yamltext.flow(value)}"


def _not_a_run_workbook(path: str | Path, found: str) -> ScenarioError:
    expected = "a run's workbook from `fabnet export RUN --format xlsx` (its inputs sheet edited)"
    return ScenarioError(Problem((), found, expected), file=str(path))
