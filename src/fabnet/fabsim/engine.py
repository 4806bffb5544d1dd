"""Discrete-event simulation of one wafer fab in the SMT2020 format.

A SimPy-sized kernel: one heap of (time, seq, kind, a, b) entries, the sequence number breaking
ties in FIFO order so that runs are reproducible, and all state in plain lists indexed by
integer ids (lots, tools, families), so that the loop can later move to a compiled kernel.

What happens to a lot: it is released (or starts as initial WIP), waits in the queue of its
step's tool family, is dispatched to a tool (dispatch rules are plain functions in rules.py),
is set up, loaded, processed and unloaded, may be reworked, skips steps that sample it out,
and is transported to the next step. Modelling choices, where the data leave room:

- Processing times are U(PTIME − PTIME2/2, PTIME + PTIME2/2) (as the peer PySCFabSim reads
  them); per_piece times count 25 wafers; load and unload add to the lot's time, and to the
  tool's unless the tool is cascading.
- Cascading tools free up before the lot is done: after BatchInterval (per lot) or 25 ×
  PartInterval (per piece), while the lot takes PTIME (+ 24 × PartInterval per piece).
- Batching: lots at the same step name (DESC) share a batch, across products. Batch-forming
  policy: an idle tool starts a batch as soon as the waiting compatible lots reach the minimum
  batch size (taking up to the maximum), because waiting longer would leave it idle; with
  fewer than the minimum it waits.
- Setups: a step needing setup S on a tool set up otherwise takes the step's own setup time,
  else the setup table's (from, to), else its (any, to). A tool that has not yet run its
  setup's minimum run prefers lots that keep the setup.
- Breakdowns (exponential, by tool group) and preventive maintenance (by calendar, or by
  wafers processed) take the tool out of service: a down tool starts nothing. A failure or PM
  that falls due while the tool is processing begins when that operation ends (no preemption).
  Calendar PMs of a family are staggered over its tools (tool k of n starts k/n of an
  interval later), so that a family is never all down at once by construction.
- Lot-to-lens dedication: the later step must use the tool of the earlier one.
- Rework happens at most once per lot and step. Critical queue times are measured, not
  enforced: a violation is a start of the target step after the limit.
- Transport between Fab families takes U(6.25, 8.75) min; to or from the Delay family none.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from fabnet.core.units import MINUTES_PER_DAY
from fabnet.fabsim.model import (
    ARRIVE,
    BUSY,
    DOWN,
    DOWN_END,
    FAIL,
    LOT_DONE,
    PER_BATCH,
    PER_PIECE,
    PM_DUE,
    RELEASE,
    SAMPLE,
    TOOL_FREE,
    U_DOWN,
    U_MOVE,
    U_PROCESS,
    U_RELEASE,
    U_ROUTE,
    UP,
    WAFERS_PER_LOT,
    LotRecord,
)
from fabnet.fabsim.options import (
    CONVENTIONS,
    DIFFERENCES,
    SimOptions,
    SimResult,
    peer_differences,
    release_scale_on,
)
from fabnet.fabsim.prepare import (
    Prepared,
    Uniforms,
    mean_raw_days,
    random_streams,
    remaining_minutes,
    start_of,
    step_minutes,
)
from fabnet.fabsim.rules import critical_ratio
from fabnet.fabsim.smt2020 import FabData

#: The options, the result and the start of a run live in options.py and prepare.py, which both
#: engines read; they are named here too, where check.py, the CLI, the tests and the benchmarks
#: have always imported them from.
__all__ = [
    "CONVENTIONS",
    "DIFFERENCES",
    "SimOptions",
    "SimResult",
    "Simulation",
    "mean_raw_days",
    "remaining_minutes",
    "start_of",
    "step_minutes",
]


class Simulation(Prepared):
    def __init__(self, fab: FabData, options: SimOptions) -> None:
        super().__init__(fab, options)
        streams = random_streams(options.seed)
        self.u_process = Uniforms(streams[U_PROCESS])
        self.u_route = Uniforms(streams[U_ROUTE])
        self.u_down = Uniforms(streams[U_DOWN])
        self.u_move = Uniforms(streams[U_MOVE])
        self.u_release = Uniforms(streams[U_RELEASE])
        self.end = options.days * MINUTES_PER_DAY
        self.warmup = options.warmup_days * MINUTES_PER_DAY
        self.heap: list[tuple] = []
        self.seq = 0
        self._tools(fab)
        self.queue: list[list[int]] = [[] for _ in fab.families]
        self.lot_route: list[int] = []
        self.lot_step: list[int] = []
        self.lot_priority: list[int] = []
        self.lot_stream: list[int] = []
        self.lot_release: list[float] = []
        self.lot_due: list[float] = []
        self.lot_queued_at: list[float] = []
        self.lot_dedicated: list[dict[int, int] | None] = []
        self.lot_reworked: list[set[int] | None] = []
        self.lot_cqt: list[tuple[int, float, int] | None] = []
        self.lot_started: list[bool] = []
        self.in_fab = 0
        self.stream_released = [0] * len(fab.streams)
        self.batch_sizes: dict[int, int] = {}
        self.records: list[tuple] = []  # LotRecord
        self.lot_steps = 0
        self.released = 0
        self.cqt_violations: dict[tuple[int, int], int] = {}
        self.cqt_checks: dict[tuple[int, int], int] = {}
        self.wip_samples: list[tuple[float, int]] = []
        n = len(fab.families)
        self.family_busy, self.family_setup = np.zeros(n), np.zeros(n)
        self.family_down, self.family_pm = np.zeros(n), np.zeros(n)
        self.family_wait, self.family_starts = np.zeros(n), np.zeros(n, dtype=np.int64)

    # --- set-up --------------------------------------------------------------------------

    def _tools(self, fab: FabData) -> None:
        t = len(self.tool_family)
        self.tool_state = [UP] * t
        self.tool_setup = [-1] * t
        self.tool_runs = [0] * t
        self.tool_wafers = [0.0] * t
        self.tool_pm_wafers: list[list[tuple[float, float, float, float]]] = [[] for _ in range(t)]
        self.tool_pending: list[list[tuple[int, float]]] = [[] for _ in range(t)]  # (kind, minutes)
        # the peer's outages: minutes each tool has been out, and that figure when its running
        # operation (and each lot on it) was scheduled; an event is late by the difference
        self.peer_outages = "outages" in peer_differences(self.o.conventions)
        self.tool_delay = [0.0] * t
        self.tool_snap = [0.0] * t
        self.lot_snap: dict[int, float] = {}
        self.idle: list[set[int]] = [set(tools) for tools in self.family_tools]

    def push(self, time: float, kind: int, a: int = 0, b: int = 0) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (time, self.seq, kind, a, b))

    def _schedule_start(self) -> None:
        start = start_of(self.fab, self.o, self.family_tools, self.u_down)
        for lot in start.wip:
            self._new_lot(lot.route, lot.priority, -1, lot.release_min, lot.due_min, lot.step, 0.0)
        for time, kind, a, b in start.events:
            self.push(time, kind, a, b)
        for tool, first, interval, duration, spread in start.piece_pms:
            self.tool_pm_wafers[tool].append((first, interval, duration, spread))

    def _new_lot(
        self, route: int, priority: int, stream: int, release: float, due: float, step: int, now: float
    ) -> None:
        lot = len(self.lot_route)
        self.lot_route.append(route)
        self.lot_step.append(step)
        self.lot_priority.append(priority)
        self.lot_stream.append(stream)
        self.lot_release.append(release)
        self.lot_due.append(due)
        self.lot_queued_at.append(now)
        self.lot_dedicated.append(None)
        self.lot_reworked.append(None)
        self.lot_cqt.append(None)
        self.lot_started.append(False)
        self.in_fab += 1
        self._enter_step(lot, now, moved=False)

    # --- the loop ------------------------------------------------------------------------

    def run(self, progress=None) -> SimResult:
        import time as wall

        started = wall.perf_counter()
        self._schedule_start()
        heap, end = self.heap, self.end
        events = 0
        next_report = MINUTES_PER_DAY
        while heap:
            time, _, kind, a, b = heapq.heappop(heap)
            if time > end:
                break
            events += 1
            if kind == ARRIVE:
                self._arrive(a, time)
            elif kind == LOT_DONE:
                if not self._late(LOT_DONE, a, b, time):
                    self._lot_done(a, b, time)
            elif kind == TOOL_FREE:
                if not self._late(TOOL_FREE, a, b, time):
                    self._tool_free(a, time)
            elif kind == RELEASE:
                self._release(a, time)
            elif kind == FAIL:
                self._fail(a, time)
            elif kind == DOWN_END:
                self._down_end(a, b, time)
            elif kind == PM_DUE:
                self._pm_due(a, b, time)
            else:
                self.wip_samples.append((time / MINUTES_PER_DAY, self.in_fab))
                self.push(time + self.o.sample_every_days * MINUTES_PER_DAY, SAMPLE)
            if progress is not None and time >= next_report:
                progress(time / MINUTES_PER_DAY)
                next_report = time + MINUTES_PER_DAY
        return SimResult(
            options=self.o,
            lots=self.records,
            family_busy=self.family_busy,
            family_setup=self.family_setup,
            family_down=self.family_down,
            family_pm=self.family_pm,
            family_wait=self.family_wait,
            family_starts=self.family_starts,
            cqt_violations=self.cqt_violations,
            cqt_checks=self.cqt_checks,
            wip=self.wip_samples,
            batch_sizes=self.batch_sizes,
            lot_steps=self.lot_steps,
            events=events,
            wall_s=wall.perf_counter() - started,
            released=self.released,
        )

    # --- lots ----------------------------------------------------------------------------

    def _release(self, s: int, now: float) -> None:
        stream = self.fab.streams[s]
        self.released += 1
        self.stream_released[s] += 1
        self._new_lot(stream.route, stream.priority, s, now, now + stream.due_allowance_min, 0, now)
        if self.stream_released[s] >= stream.count:
            return
        interval = stream.interval_min / release_scale_on(self.o, max(0, math.ceil(now / MINUTES_PER_DAY) - 1))
        if stream.exponential:
            interval *= -math.log(1.0 - self.u_release())
        self.push(now + interval, RELEASE, s, 0)

    def _enter_step(self, lot: int, now: float, moved: bool) -> None:
        """Skip sampled-out steps, finish the lot after its last, else send it to the queue."""
        r = self.r[self.lot_route[lot]]
        step = self.lot_step[lot]
        sample = r["sample"]
        while step < r["steps"] and sample[step] < 1.0 and self.u_route() >= sample[step]:
            step += 1
        self.lot_step[lot] = step
        if step >= r["steps"]:
            self._finish(lot, now)
            return
        delay = 0.0
        if moved:
            fab = self.fab
            previous = r["family"][step - 1] if step > 0 else -1
            if not fab.family_delay[r["family"][step]] and (previous < 0 or not fab.family_delay[previous]):
                low, high = fab.transport_min
                delay = low + (high - low) * self.u_move()
        self.push(now + delay, ARRIVE, lot, 0)

    def _arrive(self, lot: int, now: float) -> None:
        family = self.r[self.lot_route[lot]]["family"][self.lot_step[lot]]
        self.lot_queued_at[lot] = now
        self.queue[family].append(lot)
        self._dispatch(family, now)

    def _lot_done(self, lot: int, tool: int, now: float) -> None:
        r = self.r[self.lot_route[lot]]
        step = self.lot_step[lot]
        self.lot_steps += 1
        if r["ltl"][step] >= 0:
            dedicated = self.lot_dedicated[lot]
            if dedicated is None:
                dedicated = self.lot_dedicated[lot] = {}
            dedicated[r["ltl"][step]] = tool
        if r["cqt"][step] >= 0:
            self.lot_cqt[lot] = (r["cqt"][step], now + r["cqtmin"][step], step)
        if r["rwkp"][step] > 0 and self.u_route() < r["rwkp"][step]:
            done = self.lot_reworked[lot]
            if done is None or step not in done:
                self.lot_reworked[lot] = (done or set()) | {step}
                self.lot_step[lot] = r["rwk"][step]
                self._enter_step(lot, now, moved=True)
                return
        self.lot_step[lot] = step + 1
        self._enter_step(lot, now, moved=True)

    def _finish(self, lot: int, now: float) -> None:
        self.in_fab -= 1
        if now >= self.warmup:
            route = self.lot_route[lot]
            self.records.append(
                LotRecord(
                    route,
                    self.lot_priority[lot],
                    self.lot_stream[lot],
                    self.lot_release[lot],
                    now,
                    self.lot_due[lot],
                    self.r[route]["raw"],
                )
            )

    # --- dispatching ---------------------------------------------------------------------

    def _dispatch(self, family: int, now: float) -> None:
        queue = self.queue[family]
        idle = self.idle[family]
        while queue and idle:
            started = False
            for tool in sorted(idle):
                chosen = self._choose(family, tool, now)
                if chosen:
                    self._start(tool, chosen, now)
                    started = True
                    break
            if not started:
                return

    def _choose(self, family: int, tool: int, now: float) -> list[int]:
        """The lot (or batch of lots) this idle tool should start now, or none."""
        queue = self.queue[family]
        candidates = [lot for lot in queue if self._may_use(lot, tool)] if self.family_has_ltl[family] else queue
        if not candidates:
            return []
        keys = self._keys(candidates, tool, now)
        if not self.family_batches[family]:
            return [candidates[min(range(len(candidates)), key=keys.__getitem__)]]
        order = sorted(range(len(candidates)), key=keys.__getitem__)
        first = candidates[order[0]]
        r = self.r[self.lot_route[first]]
        if r["per"][self.lot_step[first]] != PER_BATCH:
            return [first]
        return self._form_batch([candidates[i] for i in order])

    def _keys(self, lots: list[int], tool: int, now: float) -> list[tuple]:
        """The rule's rank key of each lot for this tool (rules.py: the order of its parts)."""
        family = self.tool_family[tool]
        criterion, by_cr = self.rule.criterion, self.family_by_cr[family]
        has_setup, setup_first = self.family_has_setup[family], self.family_setup_first[family]
        keep = self._min_run_setup(tool) if has_setup else -1
        keys: list[tuple[float, ...]] = []
        for lot in lots:
            r = self.r[self.lot_route[lot]]
            step = self.lot_step[lot]
            due, remaining = self.lot_due[lot], r["remaining"][step]
            last = criterion(
                self.lot_queued_at[lot],
                due,
                remaining,
                critical_ratio(due, now, remaining),
                r["mean"][step],
                now,
                by_cr,
            )
            waits = not self._queue_time_running(lot)
            if not has_setup:  # no minimum run to keep and no setup to weigh: the same order
                keys.append((waits, -self.lot_priority[lot], last))
                continue
            breaks = keep >= 0 and r["setup"][step] != keep
            setup = self.setup_minutes(tool, lot)
            keys.append(
                (breaks, waits, setup, -self.lot_priority[lot], last)
                if setup_first
                else (breaks, waits, -self.lot_priority[lot], setup, last)
            )
        return keys

    def _queue_time_running(self, lot: int) -> bool:
        """Whether the lot's critical queue time runs to the step it waits at; under the peer's
        "cqt", whether it has started any step (see DIFFERENCES)."""
        if self.peer_cqt:
            return self.lot_started[lot]
        pending = self.lot_cqt[lot]
        return pending is not None and pending[0] == self.lot_step[lot]

    def _min_run_setup(self, tool: int) -> int:
        """The tool's setup while it has not yet run that setup's minimum number of lots, else -1."""
        setup = self.tool_setup[tool]
        needed = self.fab.min_run.get(setup, 0)
        return setup if setup >= 0 and self.tool_runs[tool] < needed else -1

    def _may_use(self, lot: int, tool: int) -> bool:
        dedicated = self.lot_dedicated[lot]
        if dedicated is None:
            return True
        owner = dedicated.get(self.lot_step[lot])
        return owner is None or owner == tool

    def _form_batch(self, ordered: list[int]) -> list[int]:
        """The best-ranked group of lots at one step name whose wafers reach the minimum."""
        groups: dict[int, list[int]] = {}
        for lot in ordered:
            r = self.r[self.lot_route[lot]]
            step = self.lot_step[lot]
            if r["per"][step] != PER_BATCH:
                continue
            group = groups.setdefault(r["desc"][step], [])
            if (len(group) + 1) * WAFERS_PER_LOT <= r["bmax"][step]:
                group.append(lot)
            if len(group) * WAFERS_PER_LOT >= r["bmax"][step]:
                return group
        for group in groups.values():
            first = group[0]
            r = self.r[self.lot_route[first]]
            if len(group) * WAFERS_PER_LOT >= r["bmin"][self.lot_step[first]]:
                return group
        return []

    def setup_minutes(self, tool: int, lot: int) -> float:
        r = self.r[self.lot_route[lot]]
        step = self.lot_step[lot]
        wanted = r["setup"][step]
        if wanted < 0 or self.tool_setup[tool] == wanted:
            return 0.0
        if not math.isnan(r["stime"][step]):
            return r["stime"][step]
        table = self.fab.setup_table
        return table.get((self.tool_setup[tool], wanted), table.get((-1, wanted), 0.0))

    def _start(self, tool: int, lots: list[int], now: float) -> None:
        fab = self.fab
        first = lots[0]
        r = self.r[self.lot_route[first]]
        step = self.lot_step[first]
        family = self.tool_family[tool]
        queue = self.queue[family]
        for lot in lots:
            queue.remove(lot)
            self.lot_started[lot] = True
            if now >= self.warmup:
                self.family_wait[family] += now - self.lot_queued_at[lot]
                self.family_starts[family] += 1
            pending = self.lot_cqt[lot]
            if pending is not None and pending[0] == self.lot_step[lot]:
                key = (self.lot_route[lot], pending[2])
                self.cqt_checks[key] = self.cqt_checks.get(key, 0) + 1
                if now > pending[1]:
                    self.cqt_violations[key] = self.cqt_violations.get(key, 0) + 1
                self.lot_cqt[lot] = None
        setup = self.setup_minutes(tool, first)
        wanted = r["setup"][step]
        if wanted >= 0:
            if self.tool_setup[tool] != wanted:
                self.tool_setup[tool], self.tool_runs[tool] = wanted, 0
            self.tool_runs[tool] += len(lots)
        spread = r["spread"][step]
        process = r["ptime"][step] + spread * (self.u_process() - 0.5)
        per = r["per"][step]
        if per == PER_BATCH:
            self.batch_sizes[len(lots)] = self.batch_sizes.get(len(lots), 0) + 1
        load = fab.family_load_min[family]
        if per == PER_PIECE:
            interval = r["pint"][step]
            if fab.family_cascading[family] and not math.isnan(interval):
                lot_time = process + (WAFERS_PER_LOT - 1) * interval + load
                tool_time = WAFERS_PER_LOT * interval
            else:
                lot_time = tool_time = process * WAFERS_PER_LOT + load
        else:
            lot_time = process + load
            interval = r["bint"][step]
            tool_time = interval if fab.family_cascading[family] and not math.isnan(interval) else lot_time
        lot_time += setup
        tool_time += setup
        self.idle[family].discard(tool)
        self.tool_state[tool] = BUSY
        self._account(family, self.family_setup, now, setup)
        self._account(family, self.family_busy, now + setup, tool_time - setup)
        self.tool_wafers[tool] += WAFERS_PER_LOT * len(lots)
        self.tool_snap[tool] = self.tool_delay[tool]
        self.push(now + tool_time, TOOL_FREE, tool, 0)
        for lot in lots:
            self.lot_snap[lot] = self.tool_delay[tool]
            self.push(now + lot_time, LOT_DONE, lot, tool)

    def _account(self, family: int, totals: np.ndarray, start: float, minutes: float) -> None:
        """Add the part of [start, start + minutes] after the warm-up and before the end."""
        lo, hi = max(start, self.warmup), min(start + minutes, self.end)
        if hi > lo:
            totals[family] += hi - lo

    # --- tools: free, down, maintenance --------------------------------------------------

    def _tool_free(self, tool: int, now: float) -> None:
        family = self.tool_family[tool]
        self._due_piece_pms(tool)
        if self.tool_pending[tool]:
            kind, minutes = self.tool_pending[tool].pop(0)
            self._go_down(tool, kind, minutes, now)
            return
        self.tool_state[tool] = UP
        self.idle[family].add(tool)
        self._dispatch(family, now)

    def _due_piece_pms(self, tool: int) -> None:
        pms = self.tool_pm_wafers[tool]
        for i, (next_at, interval, mean, spread) in enumerate(pms):
            if self.tool_wafers[tool] >= next_at:
                pms[i] = (next_at + interval, interval, mean, spread)
                self.tool_pending[tool].append((PM_DUE, mean + spread * (self.u_down() - 0.5)))

    def _fail(self, tool: int, now: float) -> None:
        group = self.fab.family_group[self.tool_family[tool]]
        repair = -math.log(1.0 - self.u_down()) * self.fab.breakdown_mttr_min[group]
        if self.peer_outages:
            self._outage(tool, FAIL, repair, now)
            self.push(now + repair - math.log(1.0 - self.u_down()) * self.fab.breakdown_mttf_min[group], FAIL, tool, 0)
            return
        self._take_down(tool, FAIL, repair, now)

    def _pm_due(self, tool: int, pm_index: int, now: float) -> None:
        pm = self.fab.pms[pm_index]
        if self.peer_outages:
            duration = pm.duration_min + pm.duration_spread_min * (self.u_down() - 0.5)
            self._outage(tool, PM_DUE, duration, now)
            self.push(now + duration + pm.interval, PM_DUE, tool, pm_index)
            return
        self.push(now + pm.interval, PM_DUE, tool, pm_index)
        self._take_down(tool, PM_DUE, pm.duration_min + pm.duration_spread_min * (self.u_down() - 0.5), now)

    def _outage(self, tool: int, kind: int, minutes: float, now: float) -> None:
        """The peer's outage (PySCFabSim instance.handle_breakdown): counted, and it delays
        whatever the tool is running; an idle tool stays usable, and the next outage is drawn
        from the end of this one."""
        self.tool_delay[tool] += minutes
        family = self.tool_family[tool]
        self._account(family, self.family_down if kind == FAIL else self.family_pm, now, minutes)

    def _late(self, kind: int, a: int, tool: int, now: float) -> bool:
        """Whether an outage struck since this event was scheduled; if so it is pushed back by
        the outage's minutes (the peer's conventions; never otherwise)."""
        if kind == TOOL_FREE:
            tool = a
            late = self.tool_delay[tool] - self.tool_snap[tool]
            if late > 0.0:
                self.tool_snap[tool] = self.tool_delay[tool]
        else:
            late = self.tool_delay[tool] - self.lot_snap[a]
            if late > 0.0:
                self.lot_snap[a] = self.tool_delay[tool]
        if late > 0.0:
            self.push(now + late, kind, a, tool if kind == LOT_DONE else 0)
        return late > 0.0

    def _take_down(self, tool: int, kind: int, minutes: float, now: float) -> None:
        if self.tool_state[tool] == UP:
            self._go_down(tool, kind, minutes, now)
        else:
            self.tool_pending[tool].append((kind, minutes))  # after the running operation

    def _go_down(self, tool: int, kind: int, minutes: float, now: float) -> None:
        family = self.tool_family[tool]
        self.idle[family].discard(tool)
        self.tool_state[tool] = DOWN
        self._account(family, self.family_down if kind == FAIL else self.family_pm, now, minutes)
        self.push(now + minutes, DOWN_END, tool, kind)

    def _down_end(self, tool: int, kind: int, now: float) -> None:
        if kind == FAIL:
            group = self.fab.family_group[self.tool_family[tool]]
            self.push(now - math.log(1.0 - self.u_down()) * self.fab.breakdown_mttf_min[group], FAIL, tool, 0)
        if self.tool_pending[tool]:
            next_kind, minutes = self.tool_pending[tool].pop(0)
            self._go_down(tool, next_kind, minutes, now)
            return
        self.tool_state[tool] = UP
        family = self.tool_family[tool]
        self.idle[family].add(tool)
        self._dispatch(family, now)
