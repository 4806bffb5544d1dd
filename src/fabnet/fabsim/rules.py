"""Dispatching rules as plain functions: each ranks the lots a tool may start, smallest first.

A rule maps (simulation, candidate lots, tool, now) to one sort key per lot. The global rules
share the tie-break order of the peer PySCFabSim — lots that keep a tool's unfinished minimum
run first, then lots whose critical queue time is running, then least setup time, then higher
priority (super-hot 30, hot 20, normal 10) — and end with their own criterion:

- fifo: earliest arrival in the queue;
- cr: smallest critical ratio, (due − now) / remaining raw processing time;
- edd: earliest due date;
- spt: shortest processing time of the step.

- dataset: each family's own chain from tool.txt — priority (rank_HP), least setup
  (rank_RSETUP), then FIFO or CR (rank_FIFO / rank_CR); the least-setup rule (rule_LSSU) puts
  setup time before priority. Minimum runs and running queue times come first here too.

Without setup avoidance FIFO collapses the implant families: every other lot would need a
72-minute setup. To add a rule, write a criterion and register it in RULES.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fabnet.fabsim.engine import Simulation

KeyFunction = Callable[["Simulation", list[int], int, float], list[tuple]]


@dataclass(frozen=True)
class Rule:
    name: str
    keys: KeyFunction


def critical_ratio(sim: Simulation, lot: int, now: float) -> float:
    r = sim.r[sim.lot_route[lot]]
    remaining = r["remaining"][sim.lot_step[lot]]
    return (sim.lot_due[lot] - now) / remaining if remaining > 0 else float("inf")


Criterion = Callable[["Simulation", int, float], float]


def _global(criterion: Criterion) -> KeyFunction:
    def keys(sim: Simulation, lots: list[int], tool: int, now: float) -> list[tuple]:
        cqt, priority = sim.lot_cqt, sim.lot_priority
        if not sim.family_has_setup[sim.tool_family[tool]]:  # most families: no setups to weigh
            return [(cqt[lot] is None or not _queue_time_running(sim, lot), -priority[lot],
                     criterion(sim, lot, now)) for lot in lots]
        keep = _min_run_setup(sim, tool)
        return [(_breaks_min_run(sim, lot, keep), cqt[lot] is None or not _queue_time_running(sim, lot),
                 sim.setup_minutes(tool, lot), -priority[lot], criterion(sim, lot, now))
                for lot in lots]
    return keys


def _dataset(sim: Simulation, lots: list[int], tool: int, now: float) -> list[tuple]:
    family = sim.tool_family[tool]
    by_cr = "rank_CR" in sim.fab.family_rank[family]
    least_setup_first = sim.fab.family_rule[family] == "rule_LSSU"
    keep = _min_run_setup(sim, tool)
    keys = []
    for lot in lots:
        setup = sim.setup_minutes(tool, lot)
        first = (_breaks_min_run(sim, lot, keep), not _queue_time_running(sim, lot))
        last = critical_ratio(sim, lot, now) if by_cr else sim.lot_queued_at[lot]
        if least_setup_first:
            keys.append((*first, setup, -sim.lot_priority[lot], last))
        else:
            keys.append((*first, -sim.lot_priority[lot], setup, last))
    return keys


def _breaks_min_run(sim: Simulation, lot: int, keep: int) -> bool:
    return keep >= 0 and sim.r[sim.lot_route[lot]]["setup"][sim.lot_step[lot]] != keep


def _queue_time_running(sim: Simulation, lot: int) -> bool:
    pending = sim.lot_cqt[lot]
    return pending is not None and pending[0] == sim.lot_step[lot]


def _min_run_setup(sim: Simulation, tool: int) -> int:
    """The tool's setup while it has not yet run that setup's minimum number of lots, else -1."""
    setup = sim.tool_setup[tool]
    needed = sim.fab.min_run.get(setup, 0)
    return setup if setup >= 0 and sim.tool_runs[tool] < needed else -1


RULES: dict[str, Rule] = {rule.name: rule for rule in (
    Rule("fifo", _global(lambda sim, lot, now: sim.lot_queued_at[lot])),
    Rule("cr", _global(critical_ratio)),
    Rule("edd", _global(lambda sim, lot, now: sim.lot_due[lot])),
    Rule("spt", _global(lambda sim, lot, now: sim.r[sim.lot_route[lot]]["mean"][sim.lot_step[lot]])),
    Rule("dataset", _dataset),
)}
