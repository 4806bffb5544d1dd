"""Errors a user can cause. The CLI prints them without a traceback and exits with `exit_code`."""

from __future__ import annotations

from dataclasses import dataclass

Loc = tuple[str | int, ...]


def show_list(value: object) -> str:
    """A value as a problem shows it: a tuple as a list, cut at 80 characters."""
    text = str(list(value)) if isinstance(value, tuple) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def format_loc(loc: Loc) -> str:
    """('sites', 2, 'lead_time_q') -> 'sites[2].lead_time_q'."""
    text = ""
    for key in loc:
        if isinstance(key, int):
            text += f"[{key}]"
        else:
            text += f".{key}" if text else str(key)
    return text


class FabnetError(Exception):
    """Base of every error caused by input rather than by a bug in fabnet."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario: where it is, what was found, what is expected."""

    loc: Loc
    found: str
    expected: str

    @property
    def path(self) -> str:
        return format_loc(self.loc)


class ScenarioError(FabnetError):
    """A scenario that cannot be read or does not make sense.

    The message names the file, the line (when the YAML parser knows it), the field path,
    what was found and what is expected, so the user can fix it without reading code.
    """

    def __init__(
        self,
        problem: Problem,
        *,
        file: str | None = None,
        line: int | None = None,
        more: int = 0,
    ) -> None:
        self.problem = problem
        self.file = file
        self.line = line
        self.more = more
        super().__init__(self._render())

    def _render(self) -> str:
        where = self.file or "<scenario>"
        if self.line is not None:
            where += f", line {self.line}"
        if self.problem.loc:
            where += f": {self.problem.path}"
        text = f"{where}\n  found:    {self.problem.found}\n  expected: {self.problem.expected}"
        if self.more:
            s = "s" if self.more > 1 else ""
            text += f"\n  ({self.more} more problem{s} after this one; fix it and validate again)"
        return text


class PlanInfeasible(FabnetError):
    """A valid scenario whose budget or policies no plan can satisfy; the message says which
    constraint, in which quarter, with the numbers."""

    exit_code = 3


class Interrupted(FabnetError):
    """Work stopped by Ctrl-C or SIGTERM; the message says what was kept and how to go on
    (the `--resume` command, where there is one). Exit status 130, as a shell reports SIGINT."""

    exit_code = 130
