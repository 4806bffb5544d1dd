"""What both engines (engine.py, fast.py) prepare alike before a run: the random streams, the
mean minutes of each step that the rank keys and the records read, the tables of the fab they
read (Prepared) and the initial WIP and first events (start_of)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from fabnet.core.units import MINUTES_PER_DAY
from fabnet.fabsim.model import FAIL, PER_BATCH, PER_PIECE, PM_DUE, RELEASE, SAMPLE, STREAMS, WAFERS_PER_LOT
from fabnet.fabsim.options import SimOptions, peer_differences, starts_as_wip
from fabnet.fabsim.rules import Rule, rule_named
from fabnet.fabsim.smt2020 import FabData, WipLot


class Uniforms:
    """Uniform draws from a numpy Generator, taken in blocks so the event loop stays cheap."""

    def __init__(self, generator: np.random.Generator, block: int = 1 << 16) -> None:
        self._generator, self._block = generator, block
        self._values: list[float] = []
        self._next = 0

    def __call__(self) -> float:
        if self._next == len(self._values):
            self._values = self._generator.random(self._block).tolist()
            self._next = 0
        value = self._values[self._next]
        self._next += 1
        return value


def step_minutes(fab: FabData, route) -> np.ndarray:
    """Mean process (and load) minutes of each step of a route: a lot's raw time is their sum."""
    return (
        np.where(route.per == PER_PIECE, route.ptime * WAFERS_PER_LOT, route.ptime) + fab.family_load_min[route.family]
    )


def batch_minimum(route, conventions: str = "fabnet") -> np.ndarray:
    """Wafers a batch needs before a tool starts it: the dataset's minimum in fabnet's model
    (an idle tool starts as soon as it can, waiting would leave it idle); only full batches
    under the peer's conventions (PySCFabSim starts a batch of exactly int(max / 25) lots)."""
    if "batches" in peer_differences(conventions):
        return (route.batch_max // WAFERS_PER_LOT) * WAFERS_PER_LOT
    return route.batch_min


def remaining_minutes(fab: FabData, route, conventions: str = "fabnet") -> list[float]:
    """Raw minutes from each step of a route to its end (the critical ratio's denominator), and
    0 after the last step. fabnet counts each step as its lot takes a tool (step_minutes: load
    and unload included); the peer counts process time only, a cascading step as its first
    wafer plus one interval per further wafer (PySCFabSim simulation/classes.py, Step). The
    step a lot waits at is counted, so the denominator is never 0 at a dispatch."""
    if "cr" in peer_differences(conventions):
        cascading = ~np.isnan(route.part_interval)
        whole = np.where(route.per == PER_PIECE, route.ptime * WAFERS_PER_LOT, route.ptime)
        per_step = np.where(cascading, route.ptime + np.nan_to_num(route.part_interval) * (WAFERS_PER_LOT - 1), whole)
    else:
        per_step = step_minutes(fab, route)
    return [*np.cumsum(per_step[::-1])[::-1].tolist(), 0.0]


def mean_raw_days(fab: FabData) -> float:
    """Raw process days of the average lot released (streams weighted by their release rates)."""
    raw = np.array([step_minutes(fab, fab.routes[st.route]).sum() for st in fab.streams])
    rates = np.array([1.0 / st.interval_min for st in fab.streams])
    return float((raw * rates).sum() / rates.sum() / MINUTES_PER_DAY)


def random_streams(seed: int) -> list[np.random.Generator]:
    """The STREAMS generators of a run (model.U_PROCESS …), spawned from its seed."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(STREAMS)]


@dataclass(frozen=True)
class Start:
    """What a run starts from, the same for both engines: the initial-WIP lots it simulates
    (they enter first, in file order), then the first events in the order they are scheduled,
    and the wafer-count PMs as (tool, first, interval, mean minutes, spread minutes)."""

    wip: list[WipLot]
    events: list[tuple[float, int, int, int]]  # (minute, kind, a, b)
    piece_pms: list[tuple[int, float, float, float, float]]


def start_of(fab: FabData, options: SimOptions, family_tools: list[list[int]], draw_down: Callable[[], float]) -> Start:
    """The start of a run: WIP kept under the conventions, each stream's first release, each
    tool's first breakdown (drawn from the outage stream, tool by tool), each calendar PM
    (staggered over the family's tools: tool k of n is due k/n of an interval later; all at
    once under the peer's "pms") and the first WIP sample."""
    wip = (
        [lot for lot in fab.wip if starts_as_wip(lot.step, fab.routes[lot.route].steps, options.conventions)]
        if options.initial_wip
        else []
    )
    events: list[tuple[float, int, int, int]] = [(st.start_min, RELEASE, s, 0) for s, st in enumerate(fab.streams)]
    piece_pms = []
    if options.breakdowns:
        for family, tools in enumerate(family_tools):
            group = fab.family_group[family]
            if group in fab.breakdown_mttf_min:
                events += [
                    (-math.log(1.0 - draw_down()) * fab.breakdown_first_min[group], FAIL, tool, 0) for tool in tools
                ]
    if options.pms:
        stagger = "pms" not in peer_differences(options.conventions)
        for pm_index, pm in enumerate(fab.pms):
            tools = family_tools[pm.family]
            for k, tool in enumerate(tools):
                if pm.by_pieces:
                    piece_pms.append((tool, pm.first, pm.interval, pm.duration_min, pm.duration_spread_min))
                else:
                    events.append((pm.first + stagger * pm.interval * k / len(tools), PM_DUE, tool, pm_index))
    events.append((0.0, SAMPLE, 0, 0))
    return Start(wip, events, piece_pms)


class Prepared:
    """What both engines read of a fab under one set of options, built once before the run: the
    rule, each family's tools, each route's steps as Python lists, the families' traits.
    engine.Simulation is one; fast.py builds one for the kernel's arrays and runs no loop."""

    def __init__(self, fab: FabData, options: SimOptions) -> None:
        self.rule: Rule = rule_named(options.rule)
        peer_differences(options.conventions)  # a bad name fails here, in words
        if options.release_scale <= 0 or any(v <= 0 for v in options.release_schedule):
            raise ValueError("release multiples must be positive (a stream at zero would never restart)")
        self.fab, self.o = fab, options
        self.tool_family: list[int] = []
        for f, count in enumerate(fab.family_tools):
            self.tool_family += [f] * int(count)
        self.family_tools: list[list[int]] = [[] for _ in fab.families]
        for tool, f in enumerate(self.tool_family):
            self.family_tools[f].append(tool)
        self.peer_cqt = "cqt" in peer_differences(options.conventions)
        self._routes(fab)
        self._family_traits(fab)

    def _routes(self, fab: FabData) -> None:
        """Python lists of the route arrays: the loop reads them element by element."""
        self.r = []
        desc_ids: dict[str, int] = {}
        for route in fab.routes:
            mean_minutes = step_minutes(fab, route)
            self.r.append(
                {
                    "family": route.family.tolist(),
                    "ptime": route.ptime.tolist(),
                    "spread": route.ptime_spread.tolist(),
                    "per": route.per.tolist(),
                    "bmin": batch_minimum(route, self.o.conventions).tolist(),
                    "bmax": route.batch_max.tolist(),
                    "setup": route.setup.tolist(),
                    "stime": route.setup_time.tolist(),
                    "ltl": route.ltl_step.tolist(),
                    "bint": route.batch_interval.tolist(),
                    "pint": route.part_interval.tolist(),
                    "rwk": route.rework_step.tolist(),
                    "rwkp": route.rework_prob.tolist(),
                    "sample": route.sample_prob.tolist(),
                    "cqt": route.cqt_step.tolist(),
                    "cqtmin": route.cqt_min.tolist(),
                    "desc": [desc_ids.setdefault(d, len(desc_ids)) for d in route.desc],
                    "mean": mean_minutes.tolist(),
                    "remaining": remaining_minutes(fab, route, self.o.conventions),
                    "raw": float(mean_minutes.sum()),
                    "steps": route.steps,
                }
            )

    def _family_traits(self, fab: FabData) -> None:
        """Which families ever see setups, lot-to-lens dedication or batches (the dispatcher
        skips that work everywhere else), and how the rule ranks in each."""
        n = len(fab.families)
        self.family_has_setup = [False] * n
        self.family_has_ltl = [False] * n
        self.family_batches = [False] * n
        self.family_setup_first = [self.rule.setup_first(rule) for rule in fab.family_rule]
        self.family_by_cr = ["rank_CR" in rank for rank in fab.family_rank]
        for route in fab.routes:
            for step, family in enumerate(route.family.tolist()):
                self.family_has_setup[family] |= bool(route.setup[step] >= 0)
                self.family_batches[family] |= bool(route.per[step] == PER_BATCH)
                later = int(route.ltl_step[step])
                if later >= 0:
                    self.family_has_ltl[int(route.family[later])] = True
