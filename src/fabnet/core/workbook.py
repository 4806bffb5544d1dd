"""The layout a run's workbook shares with the reader that runs its inputs again: the names of
the inputs sheet and of the hidden sheet holding the scenario as run, and the inputs' columns.
report.workbook writes it; scenario.workbook reads it back."""

from __future__ import annotations

#: The sheet of inputs, one row per scenario path: edit a value, then `fabnet run book.xlsx`.
INPUTS_SHEET = "inputs"
#: The inputs' columns; "as run" (hidden) keeps each value as the run used it, so an edit is
#: found by comparing the two.
INPUT_COLUMNS = ("section", "path", "value", "as run")
#: The rows of the inputs that are the scenario's values (the others say where the run came from).
SCENARIO_SECTION = "scenario"
#: A hidden sheet with the resolved scenario as run, as YAML, one line per row (a cell holds at
#: most 32,767 characters): the base the edits are applied to.
SCENARIO_TEXT_SHEET = "scenario_yaml"
