"""The registry of dispatching rules: the one place a rule is named and defined. The scenario
schema, the CLI and both engines take their rules from RULES, so a rule registered here runs in
the reference engine and, compiled by numba, in the kernel.

A rule ranks the lots an idle tool may start, smallest key first. Every rule shares the
tie-break order of the peer PySCFabSim and differs only in its last criterion:

    (breaks the tool's unfinished minimum run, no critical queue time running,
     setup minutes and −priority (in the order the rule gives for the family), criterion)

- fifo: earliest arrival in the queue;
- cr: smallest critical ratio, (due − now) / remaining raw processing time;
- edd: earliest due date;
- spt: shortest processing time of the step;
- dataset: each family's own chain from tool.txt — FIFO or CR (rank_FIFO / rank_CR), priority
  before setup, except that the least-setup rule (rule_LSSU) puts setup first.

Priorities: super-hot 30, hot 20, normal 10. Without setup avoidance FIFO collapses the implant
families: every other lot would need a 72-minute setup.

To add a rule: `register(Rule("name", criterion, "what it does"))`. A criterion is a plain
function of numbers only, so that numba can compile it:

    criterion(queued, due, remaining, ratio, mean, now, family_by_cr) -> float

queued = minute the lot joined the queue, due = its due minute, remaining = raw minutes from
this step to the route's end, ratio = its critical ratio (critical_ratio, computed by the engine
from the one function below), mean = the step's mean minutes, now = the minute of the decision,
family_by_cr = whether the tool family's own chain in the data ranks by critical ratio. This
module imports nothing heavy: the schema reads it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

Criterion = Callable[[float, float, float, float, float, float, bool], float]


def _always(family_rule: str) -> bool:
    return True


def _never(family_by_cr: bool) -> bool:
    return False


def _timeless(family_by_cr: bool) -> bool:
    return True


def _timeless_unless_by_cr(family_by_cr: bool) -> bool:
    return not family_by_cr


@dataclass(frozen=True)
class Rule:
    name: str
    criterion: Criterion
    help: str
    #: Given the family's rule name in tool.txt (rule_HotLotFIRST, rule_LSSU, …): whether
    #: setup minutes rank before priority.
    setup_first: Callable[[str], bool] = _always
    #: Given whether the family ranks by critical ratio in tool.txt: whether the criterion is the
    #: same at every minute while a lot waits (it ignores `now` and `ratio`). The compiled kernel
    #: then keeps that family's queue in rank order as lots arrive instead of ranking the whole
    #: queue at each dispatch; same choices, far less work. A rule that does not say is ranked
    #: anew each time, which is always right.
    timeless: Callable[[bool], bool] = _never


def critical_ratio(due: float, now: float, remaining: float) -> float:
    """(due − now) / remaining; infinite when nothing remains (cannot happen at a dispatch: the
    step a lot waits at counts). The kernel compiles this same function."""
    return (due - now) / remaining if remaining > 0 else math.inf


def fifo(
    queued: float, due: float, remaining: float, ratio: float, mean: float, now: float, family_by_cr: bool
) -> float:
    return queued


def cr(queued: float, due: float, remaining: float, ratio: float, mean: float, now: float, family_by_cr: bool) -> float:
    return ratio


def edd(
    queued: float, due: float, remaining: float, ratio: float, mean: float, now: float, family_by_cr: bool
) -> float:
    return due


def spt(
    queued: float, due: float, remaining: float, ratio: float, mean: float, now: float, family_by_cr: bool
) -> float:
    return mean


def dataset(
    queued: float, due: float, remaining: float, ratio: float, mean: float, now: float, family_by_cr: bool
) -> float:
    return ratio if family_by_cr else queued


def _least_setup_first(family_rule: str) -> bool:
    return family_rule == "rule_LSSU"


RULES: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    """Add a rule (or replace one of the same name) for both engines, the schema and the CLI."""
    if not rule.name.isidentifier() or rule.name != rule.name.lower():
        raise ValueError(f"a rule's name is a lowercase identifier, not {rule.name!r}")
    RULES[rule.name] = rule
    return rule


for _rule in (
    Rule("fifo", fifo, "earliest arrival in the queue", timeless=_timeless),
    Rule("cr", cr, "smallest critical ratio (due − now) / remaining raw time"),
    Rule("edd", edd, "earliest due date", timeless=_timeless),
    Rule("spt", spt, "shortest processing time of the step", timeless=_timeless),
    Rule(
        "dataset",
        dataset,
        "each tool family's own chain from the data (tool.txt)",
        _least_setup_first,
        timeless=_timeless_unless_by_cr,
    ),
):
    register(_rule)


def rule_named(name: str) -> Rule:
    """The registered rule `name`, or a ValueError that lists the rules."""
    if name not in RULES:
        raise ValueError(f"unknown rule {name!r}; use one of {', '.join(RULES)}")
    return RULES[name]


def rules_help() -> str:
    """The rules in one line, for the CLI's --help and the schema's description."""
    return "; ".join(f"{rule.name} = {rule.help}" for rule in RULES.values())
