"""Semantic checks of the sites (scenario.checks runs them with the others): ramps, tool
phases, pre-operating quarters, and conversions of one site's fabs to another node."""

from __future__ import annotations

import itertools
from typing import Any

from fabnet.core.errors import Problem, show_list
from fabnet.scenario.schema import Scenario


def check_sites(s: Scenario) -> list[Problem]:
    ramps = [(("sites", i, "ramp"), site.ramp) for i, site in enumerate(s.sites)]
    ramps += [(("operators", i, "ramp"), o.ramp) for i, o in enumerate(s.operators) if o.ramp is not None]
    return (
        [
            Problem(loc, show_list(ramp), "shares that never fall and end at 1.0, e.g. [0.25, 0.5, 0.75, 1.0]")
            for loc, ramp in ramps
            if any(later < earlier for earlier, later in itertools.pairwise(ramp)) or ramp[-1] != 1.0
        ]
        + [problem for i, site in enumerate(s.sites) for problem in _phase_problems(i, site)]
        + [problem for i, site in enumerate(s.sites) for problem in _pre_operating_problems(i, site)]
        + _conversion_problems(s)
    )


def _phase_problems(i: int, site: Any) -> list[Problem]:
    phases = site.tool_phases
    if phases is None:
        return []
    loc = ("sites", i, "tool_phases")
    count = site.module_wspm / phases.wspm
    if abs(count - round(count)) > 1e-9 or round(count) < 1:
        return [
            Problem(
                (*loc, "wspm"),
                f"{phases.wspm:g}",
                f"a whole share of module_wspm ({site.module_wspm:g}), e.g. {site.module_wspm / 4:g}",
            )
        ]
    if phases.lead_time_q >= site.lead_time_q:
        return [
            Problem(
                (*loc, "lead_time_q"),
                str(phases.lead_time_q),
                f"fewer quarters than the site's lead_time_q ({site.lead_time_q}): the shell is built first",
            )
        ]
    return []


def _pre_operating_problems(i: int, site: Any) -> list[Problem]:
    """Fixed opex can start no earlier than the build that needs it: within its lead time."""
    lead, what = (
        (site.lead_time_q, "lead_time_q")
        if site.tool_phases is None
        else (site.tool_phases.lead_time_q, "tool_phases.lead_time_q")
    )
    if site.pre_operating_q <= lead:
        return []
    return [
        Problem(
            ("sites", i, "pre_operating_q"),
            str(site.pre_operating_q),
            f"at most the capacity unit's lead time ({what}: {lead}), e.g. {min(3, lead)}",
        )
    ]


def _conversion_problems(s: Scenario) -> list[Problem]:
    """A converting site names another site, retools that site's building (same region and tax
    regime, a module the size of that site's capacity unit, no shells of its own) for another
    node, and no chain of conversions comes back to where it started."""
    by_id = {site.id: site for site in s.sites}
    problems = []
    for i, site in enumerate(s.sites):
        parent = by_id.get(site.converts_from) if site.converts_from is not None else None
        if site.converts_from is None:
            continue
        loc = ("sites", i, "converts_from")
        if parent is None or parent.id == site.id:
            others = [o for o in by_id if o != site.id]
            problems.append(
                Problem(loc, repr(site.converts_from), f"the id of another site, one of: {', '.join(others)}")
            )
            continue
        unit = parent.module_wspm if parent.tool_phases is None else parent.tool_phases.wspm
        wants = [
            (
                "module_wspm",
                site.module_wspm != unit,
                f"{site.module_wspm:g}",
                f"{unit:g}: the capacity unit of {parent.id} it retools",
            ),
            (
                "region",
                site.region != parent.region,
                site.region,
                f"{parent.region}: the region of {parent.id}, whose building it is",
            ),
            (
                "tax_regime",
                site.tax_regime != parent.tax_regime,
                site.tax_regime,
                f"{parent.tax_regime}, as {parent.id}",
            ),
            ("node", site.node == parent.node, site.node, f"another node than {parent.id}'s ({parent.node})"),
            ("tool_phases", site.tool_phases is not None, "set", "omitted: a conversion retools a whole capacity unit"),
        ]
        problems += [Problem(("sites", i, field), shown, fix) for field, wrong, shown, fix in wants if wrong]
        if _comes_back(site.id, by_id):
            problems.append(
                Problem(loc, repr(site.converts_from), "a chain of conversions that does not come back to this site")
            )
    return problems


def _comes_back(start: str, by_id: dict[str, Any]) -> bool:
    seen, current = {start}, by_id[start].converts_from
    while current is not None and current in by_id:
        if current in seen:
            return True
        seen.add(current)
        current = by_id[current].converts_from
    return False
