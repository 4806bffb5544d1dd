"""What a simulation is asked (SimOptions, and the conventions under which its model follows
the peer PySCFabSim) and what it returns (SimResult): the same for both engines, the reference
(engine.py) and the compiled kernel (fast.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class SimOptions:
    days: float = 90.0
    rule: str = "fifo"
    seed: int = 0
    warmup_days: float = 0.0
    release_scale: float = 1.0  # multiplies the release rate (operating curves)
    #: Per-day multiples of the release rate on top of release_scale (a plan's changing load);
    #: day d covers the minutes (d·1440, (d+1)·1440]; days past the end keep the last value.
    release_schedule: tuple[float, ...] = ()
    initial_wip: bool = True
    breakdowns: bool = True
    pms: bool = True
    sample_every_days: float = 1.0
    kernel: str = "numba"  # "numba" (compiled, kernel.py) or "python" (this file)
    #: "fabnet" (this model), "pyscfabsim" (the peer's conventions wherever the two differ, to
    #: validate against it like for like), or some of the DIFFERENCES by name: "wip,outages"
    #: validate against it like for like; see CONVENTIONS)
    conventions: str = "fabnet"


#: Where fabnet's model and the peer PySCFabSim's differ, by convention name. So far (a) the
#: initial WIP: fabnet starts every lot of WIP.txt that has a step left, a lot at its last step
#: included (it still has that operation to do); the peer keeps a lot only when its 1-based
#: CURSTEP < steps − 1 (file_instance.py), so it also drops lots at their last two steps
#: (11 of 2,255 on HVLM, 10 of 2,156 on LVHM); (b) the critical ratio's remaining time
#: (remaining_minutes); (c) batches: started at the minimum or only when full (batch_minimum);
#: (d) outages: a breakdown or calendar PM takes the tool down in fabnet; in the peer it only
#: delays the tool's running operation and an idle tool stays usable (Simulation._outage);
#: (e) pms: fabnet staggers a family's calendar PMs over its tools, the peer starts every tool's
#: first PM at the calendar's first-occurrence time (file_instance.py), so a family's PMs fall
#: together (start_of); (f) cqt: the rules rank first a lot whose critical queue time runs
#: (to its target step, in fabnet); in the peer that flag is `lot.cqt_waiting is not None`, and
#: since a step without a queue time reads its empty STEP_CQT column as '' (read.py try_to_num),
#: every lot that has started one step carries it: lots never started yet (new releases, WIP
#: before its first start) rank after all others (Simulation._queue_time_running).
CONVENTIONS = ("fabnet", "pyscfabsim")
#: The differences one by one, each switchable alone (to measure what each one does).
DIFFERENCES = ("wip", "batches", "cr", "outages", "pms", "cqt")


def peer_differences(conventions: str) -> frozenset[str]:
    """Which of the peer's conventions apply: none for "fabnet", all for "pyscfabsim", else the
    named ones ("wip,batches")."""
    if conventions == "fabnet":
        return frozenset()
    if conventions == "pyscfabsim":
        return frozenset(DIFFERENCES)
    named = frozenset(name.strip() for name in conventions.split(","))
    if not named or not named <= set(DIFFERENCES):
        raise ValueError(
            f"unknown conventions {conventions!r}; use one of {', '.join(CONVENTIONS)}, "
            f"or some of {', '.join(DIFFERENCES)} separated by commas"
        )
    return named


def starts_as_wip(step: int, steps: int, conventions: str) -> bool:
    """Whether a lot of the initial WIP at 0-based `step` of a `steps`-step route is simulated."""
    return step < (steps - 2 if "wip" in peer_differences(conventions) else steps)


def release_scale_on(options: SimOptions, day: int) -> float:
    """The release-rate multiple in force on `day` (see SimOptions.release_schedule)."""
    schedule = options.release_schedule
    return options.release_scale * (schedule[min(day, len(schedule) - 1)] if schedule else 1.0)


def peak_release_scale(options: SimOptions) -> float:
    return options.release_scale * (max(options.release_schedule) if options.release_schedule else 1.0)


@dataclass
class SimResult:
    """Flat records, built into tables by kpi_tables.py."""

    options: SimOptions
    lots: list[tuple]  # model.LotRecord, a NamedTuple
    family_busy: np.ndarray  # minutes after warm-up, summed over the family's tools
    family_setup: np.ndarray
    family_down: np.ndarray
    family_pm: np.ndarray
    family_wait: np.ndarray  # summed queue minutes of lots that started
    family_starts: np.ndarray
    cqt_violations: dict[tuple[int, int], int]
    cqt_checks: dict[tuple[int, int], int]
    wip: list[tuple[float, int]]  # (day, lots in the fab)
    batch_sizes: dict[int, int]  # lots per batch → batches started
    lot_steps: int = 0
    events: int = 0
    wall_s: float = 0.0
    released: int = 0
