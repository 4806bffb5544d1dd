"""Size limits a user may raise, kept where the command line reads them without importing the
engines (the planner's import costs linopy's)."""

from __future__ import annotations

#: Largest planning model planned unless told otherwise (`--max-model-size`; plan.size): ~10 GB
#: by the fitted rule there, under half of this 24 GB machine.
MAX_PLAN_VARIABLES = 1_000_000
