"""What a scenario could know on its own date (issue 27, item 8): a scenario is "as of" a quarter
(`as_of`, or `horizon.start`), and a grant it counts should have been known by then. A grant
recorded with a status reached later (say a CHIPS award made final in Nov 2024, in a scenario as
of January 2024) is hindsight: these checks warn, naming the file, the field and the fix; they
never stop a run (checks.WARNINGS)."""

from __future__ import annotations

from fabnet.core.errors import Problem
from fabnet.core.periods import Quarter
from fabnet.scenario.schema import Scenario


def as_of(s: Scenario) -> Quarter:
    """The quarter the scenario's facts are as of: its `as_of`, or the horizon's first quarter."""
    return s.as_of if s.as_of is not None else s.horizon.start


def check_grant_dates(s: Scenario) -> list[Problem]:
    """A grant dated after the scenario's as-of quarter was not known on that date."""
    known_by = as_of(s)
    since = "as_of" if s.as_of is not None else "horizon.start, as no as_of is given"
    problems = []
    for i, site in enumerate(s.sites):
        grant = site.grants
        if grant.as_of is None or grant.as_of <= known_by:
            continue
        status = f"{grant.status} " if grant.status else ""
        problems.append(
            Problem(
                ("sites", i, "grants", "as_of"),
                f"{site.id}'s grant {status}in {grant.as_of}, after the scenario's date {known_by} ({since})",
                f"the grant as it stood in {known_by} (its earlier status and share, or none), "
                f"or a scenario as_of {grant.as_of} or later",
            )
        )
    return problems


def warning_text(problem: Problem, file: str | None) -> str:
    """One line that names the file, the field, what was found and what would fix it."""
    return f"{file or '<scenario>'}: {problem.path}: {problem.found}; expected {problem.expected}"
