"""Run the compiled kernel (kernel.py) with the same set-up (prepare.py), random streams and
result as engine.Simulation, so that `simulate(..., kernel="numba")` and the reference agree exactly."""

from __future__ import annotations

import time as wall
from functools import cache

import numpy as np

from fabnet.core.units import MINUTES_PER_DAY
from fabnet.fabsim import kernel_state as K
from fabnet.fabsim.kernel import run_chunk
from fabnet.fabsim.kernel_base import CRITERION
from fabnet.fabsim.kernel_queue import empty_queue
from fabnet.fabsim.model import STREAMS, U_DOWN, WAFERS, LotRecord
from fabnet.fabsim.numba_import import kernel_cache, nb
from fabnet.fabsim.options import SimOptions, SimResult, peak_release_scale, peer_differences, release_scale_on
from fabnet.fabsim.prepare import Prepared, random_streams, start_of
from fabnet.fabsim.rules import Criterion
from fabnet.fabsim.smt2020 import FabData

BLOCK = 1 << 16  # the reference engine's Uniforms block
PENDING = 32
MAX_PIECE_PMS = 16
MAX_LTL = K.LTL_SLOTS
MAX_REWORK = 16
MAX_BATCH_LOTS = K.MAX_BATCH_LOTS


class _Buffers:
    """The five random streams for the kernel: row s holds stream s's next draws, in the order
    its Generator made them in blocks, as the reference engine takes them. `pos` holds each
    row's read position and, after it, each row's length (rows may differ in length).

    A refill moves a row's unread draws to its front and fills the rest in place, whole blocks
    (Generator.random(out=...) gives the same numbers as a new array would): the buffer was
    rebuilt by concatenation at each refill, 63 of them a simulated year and 0.3 s of CPU, 6 %
    of the run (HVLM FIFO 365 days, cProfile). Rows of ROW_BLOCKS blocks (10 MB) halve the
    refills, hence the kernel's returns to Python, against rows of two."""

    ROW_BLOCKS = K.DRAW_ROW // BLOCK

    def __init__(self, seed: int) -> None:
        self.generators = random_streams(seed)
        self.pos = np.zeros(2 * STREAMS, np.int64)
        self.u = np.zeros((STREAMS, K.DRAW_ROW))
        self.refill()

    def draw(self, stream: int) -> float:
        """The stream's next draw, taken in Python (the start's breakdowns)."""
        value = float(self.u[stream, self.pos[stream]])
        self.pos[stream] += 1
        return value

    def refill(self) -> None:
        for s, generator in enumerate(self.generators):
            row = self.u[s]
            rest = int(self.pos[STREAMS + s] - self.pos[s])
            row[:rest] = row[self.pos[s] : self.pos[STREAMS + s]].copy()  # the tail may overlap the front
            while rest + BLOCK <= len(row):
                generator.random(out=row[rest : rest + BLOCK])
                rest += BLOCK
            self.pos[s], self.pos[STREAMS + s] = 0, rest


def _dedicating_slot(ltl: list[int]) -> np.ndarray:
    """Per step of a route (its steps' lot-to-lens targets, -1 for none): the slot of the one
    step that dedicates it (slots number the dedicating steps in route order), -1 when no step
    does, kernel.LTL_SLOTS when several do."""
    slots = np.full(len(ltl), -1, np.int64)
    for slot, source in enumerate(step for step, target in enumerate(ltl) if target >= 0):
        target = ltl[source]
        slots[target] = slot if slots[target] == -1 else K.LTL_SLOTS
    return slots


def _idle_words(tools: int) -> np.ndarray:
    """The kernel's idle-tool bit words (kernel.IDLE_SHIFT) with every tool up and idle."""
    bits = np.zeros((tools >> K.IDLE_SHIFT) + 1, np.int64)
    for tool in range(tools):
        bits[tool >> K.IDLE_SHIFT] |= 1 << (tool & K.IDLE_MASK)
    return bits


@cache
def compiled(criterion: Criterion):
    """A rule's criterion compiled by numba as a C callback of the kernel's CRITERION type:
    the kernel is compiled once for every rule, and its on-disk cache names no rule's module
    (an overload typed by a function defined in a test or a notebook would make the cache
    unreadable to every process that cannot import that module)."""
    with kernel_cache():
        return nb.cfunc(CRITERION, cache=True)(criterion)


def _typed_once(dispatcher, args: tuple):
    """The compiled function the dispatcher chose for these arguments, to call without it. numba
    types a record of arrays in Python at every call (190 µs against 70 for the same arrays
    passed bare), and a simulated year returns to Python about 430 times (each day, each refill);
    within a run every argument keeps its type (the scalars are floats, the records' arrays keep
    their dtypes and shapes' ranks), so the first call's choice holds. `overloads` maps each
    compiled signature to its result, whose entry point unboxes the arguments as typed."""
    return dispatcher.overloads[tuple(nb.typeof(a) for a in args)].entry_point


def simulate_fast(fab: FabData, options: SimOptions, progress=None) -> SimResult:
    started = wall.perf_counter()
    ref = Prepared(fab, options)  # validates the options; its tables are the kernel's
    s = _State(fab, options, ref)
    criterion = compiled(ref.rule.criterion)
    end = float(options.days * MINUTES_PER_DAY)
    day = float(MINUTES_PER_DAY)
    chunk = None
    while True:
        args = (
            criterion,
            min(day, end),
            end,
            float(s.warmup),
            float(options.sample_every_days),
            float(release_scale_on(options, round(day / MINUTES_PER_DAY) - 1)),
            *s.records(),
        )
        if chunk is None:
            status = run_chunk(*args)
            chunk = _typed_once(run_chunk, args)
        else:
            status = chunk(*args)
        if status == 1:
            s.buffers.refill()
            continue
        if progress is not None:
            progress(min(day, end) / MINUTES_PER_DAY)
        if day >= end or s.sc[K.C_HSIZE] == 0:
            break
        day += MINUTES_PER_DAY
    return s.result(wall.perf_counter() - started)


class _State:
    def __init__(self, fab: FabData, o: SimOptions, ref: Prepared) -> None:
        self.fab, self.o, self.ref = fab, o, ref
        self.warmup = o.warmup_days * MINUTES_PER_DAY
        self.buffers = _Buffers(o.seed)
        routes = ref.r
        offsets = np.cumsum([0] + [r["steps"] for r in routes])
        total = int(offsets[-1])
        self.ri = np.array([[offsets[i], r["steps"]] for i, r in enumerate(routes)], np.int64)
        self.si = np.full((total, K.S_INTS), -1, np.int64)
        self.sf = np.full((total, K.S_FLOATS), np.nan)
        for i, r in enumerate(routes):
            base = offsets[i]
            rows = slice(base, base + r["steps"])
            self.si[rows, K.S_FAM] = r["family"]
            self.si[rows, K.S_PER] = r["per"]
            self.si[rows, K.S_BMIN] = r["bmin"]
            self.si[rows, K.S_BMAX] = r["bmax"]
            self.si[rows, K.S_SETUP] = r["setup"]
            self.si[rows, K.S_LTL] = r["ltl"]
            self.si[rows, K.S_RWK] = r["rwk"]
            self.si[rows, K.S_CQT] = r["cqt"]
            self.si[rows, K.S_DESC] = r["desc"]
            self.si[rows, K.S_RWKSLOT] = np.cumsum(np.array(r["rwk"]) >= 0) - 1
            self.si[rows, K.S_LTLSLOT] = np.cumsum(np.array(r["ltl"]) >= 0) - 1
            self.si[rows, K.S_LTLIN] = _dedicating_slot(r["ltl"])
            for column, key in (
                (K.S_PTIME, "ptime"),
                (K.S_SPREAD, "spread"),
                (K.S_STIME, "stime"),
                (K.S_BINT, "bint"),
                (K.S_PINT, "pint"),
                (K.S_RWKP, "rwkp"),
                (K.S_SAMPLE, "sample"),
                (K.S_CQTMIN, "cqtmin"),
                (K.S_MEAN, "mean"),
            ):
                self.sf[rows, column] = r[key]
            self.sf[rows, K.S_REMAIN] = r["remaining"][: r["steps"]]
            assert (np.array(r["rwk"]) >= 0).sum() <= MAX_REWORK and (np.array(r["ltl"]) >= 0).sum() <= MAX_LTL
        n_fam = len(fab.families)
        first = np.cumsum([0, *fab.family_tools])[:-1]
        self.fi = np.zeros((n_fam, K.F_INTS), np.int64)
        self.fi[:, K.F_FIRST] = first
        self.fi[:, K.F_COUNT] = fab.family_tools
        self.fi[:, K.F_IDLE] = fab.family_tools  # every tool starts up and idle
        self.fi[:, K.F_CASC] = fab.family_cascading
        self.fi[:, K.F_DELAY] = fab.family_delay
        self.fi[:, K.F_HASSETUP] = ref.family_has_setup
        self.fi[:, K.F_HASLTL] = ref.family_has_ltl
        self.fi[:, K.F_BATCH] = ref.family_batches
        self.fi[:, K.F_BYCR] = ref.family_by_cr
        self.fi[:, K.F_SETUPFIRST] = ref.family_setup_first
        self.fi[:, K.F_PEERCQT] = ref.peer_cqt
        self.fi[:, K.F_RANKED] = [ref.rule.timeless(by_cr) for by_cr in ref.family_by_cr]
        self.famf = np.asarray(fab.family_load_min, float)
        self.grp = np.array(
            [[fab.breakdown_mttf_min.get(g, np.inf), fab.breakdown_mttr_min.get(g, 0.0)] for g in fab.family_group]
        )
        n_tools = fab.tools
        self.ti = np.zeros((n_tools, K.T_INTS), np.int64)
        self.ti[:, K.T_FAM] = ref.tool_family
        self.ti[:, K.T_SETUP] = -1
        self.tf = np.zeros((n_tools, K.T_FLOATS))
        self.idle = _idle_words(n_tools)
        self.pk = np.zeros((n_tools, PENDING), np.int64)
        self.pm = np.zeros((n_tools, PENDING))
        self.ppm = np.zeros((n_tools, MAX_PIECE_PMS, 4))
        n_setups = len(fab.setups)
        self.setm = np.full((n_setups + 1, max(n_setups, 1)), np.nan)
        for (cur, new), minutes in fab.setup_table.items():
            self.setm[cur + 1, new] = minutes
        self.minrun = np.zeros(max(n_setups, 1), np.int64)
        for setup, runs in fab.min_run.items():
            self.minrun[setup] = runs
        self.sti = np.array([[st.route, st.priority, st.count, 0] for st in fab.streams], np.int64).reshape(-1, 4)
        self.stf = np.array(
            [[st.start_min, st.interval_min, st.due_allowance_min, float(st.exponential)] for st in fab.streams]
        ).reshape(-1, 4)
        self.pmc = np.array(
            [[pm.family, pm.interval, pm.duration_min, pm.duration_spread_min] for pm in fab.pms]
        ).reshape(-1, 4)
        widest = max((int(np.nanmax(r["bmax"], initial=0)) for r in routes), default=0)
        if widest > MAX_BATCH_LOTS * WAFERS:
            # the kernel keeps a start's lots in rows of MAX_BATCH_LOTS and checks no bounds
            raise ValueError(
                f"a batch of up to {widest} wafers: more than the kernel's {MAX_BATCH_LOTS} lots a start; "
                "use kernel='python'"
            )
        days = o.days
        expected = sum(
            min(st.count, int(days * MINUTES_PER_DAY / st.interval_min * peak_release_scale(o) * 1.5) + 10)
            for st in fab.streams
        )
        max_lots = len(fab.wip) + expected
        if max(max_lots, n_tools, len(fab.pms), len(fab.streams)) >= 1 << K.PACK:
            raise ValueError(
                f"{max_lots:,} lots or {n_tools:,} tools: more than the kernel's event queue entries "
                f"address (2**{K.PACK}); use kernel='python'"
            )
        self.li = np.full((max_lots, K.L_INTS), -1, np.int64)
        self.lf = np.zeros((max_lots, K.L_FLOATS))
        self.lltl = np.full((max_lots, MAX_LTL, 2), -1, np.int64)
        self.lrwk = np.zeros((max_lots, MAX_REWORK), np.int8)
        self.recs = np.zeros((max_lots, 7))
        self.rec_raw = np.array([r["raw"] for r in routes])
        self.qh = np.full((n_fam, 2), -1, np.int64)
        self.qn = np.zeros(n_fam, np.int64)
        self.acc = np.zeros((n_fam, K.A_WIDTH))
        self.cqtc = np.zeros((total, 2), np.int64)
        self.bsizes = np.zeros(16, np.int64)
        self.wip = np.zeros((int(days / o.sample_every_days) + 3, 2))
        self.transport = np.array(fab.transport_min, float)
        capacity = 4 * (max_lots + n_tools) + 1024
        self.queue = empty_queue(capacity)
        self.sc = self.queue.counters
        self.sc[K.C_PEER] = int("outages" in peer_differences(o.conventions))
        self.cands = np.zeros(max_lots, np.int64)
        self.keys = np.zeros((max_lots, 5))
        self.order = np.zeros(max_lots, np.int64)
        self.chosen = np.zeros(MAX_BATCH_LOTS, np.int64)
        self.finishing = np.zeros(MAX_BATCH_LOTS, np.int64)
        self.groups = np.zeros((max_lots, K.G_LOTS + MAX_BATCH_LOTS), np.int64)
        self.offsets = offsets
        self._start(fab, o)

    def records(self) -> tuple:
        """The kernel's state as run_chunk takes it, after its scalars (kernel_state's records);
        the draws are named anew each time, as a refill replaces their array."""
        b = self.buffers
        return (
            self.queue,
            K.Draws(b.u.reshape(-1), b.pos),
            K.Lots(self.li.reshape(-1), self.lf.reshape(-1), self.lltl, self.lrwk),
            K.Steps(self.si.reshape(-1), self.sf.reshape(-1), self.ri.reshape(-1), self.rec_raw, self.transport),
            K.Families(self.fi.reshape(-1), self.famf, self.grp, self.qh, self.qn, self.setm, self.minrun),
            K.Tools(self.ti.reshape(-1), self.tf.reshape(-1), self.idle, self.pk, self.pm, self.ppm),
            K.Sources(self.sti, self.stf, self.pmc),
            K.Tally(self.recs, self.acc.reshape(-1), self.cqtc, self.bsizes, self.wip),
            K.Scratch(self.cands, self.keys, self.order, self.chosen, self.groups, self.finishing),
            K.Opening(self.wipi, self.wipf, self.evt, self.evi),
        )

    def _start(self, fab: FabData, o: SimOptions) -> None:
        """prepare.start_of's schedule as arrays; the kernel's first chunk enters and pushes it."""
        start = start_of(fab, o, self.ref.family_tools, lambda: self.buffers.draw(U_DOWN))
        self.wipi = np.array([(lot.route, lot.priority, lot.step) for lot in start.wip], np.int64).reshape(-1, 3)
        self.wipf = np.array([(lot.release_min, lot.due_min) for lot in start.wip], float).reshape(-1, 2)
        self.evt = np.array([event[0] for event in start.events], float)
        self.evi = np.array([event[1:] for event in start.events], np.int64).reshape(-1, 3)
        for tool, *pm in start.piece_pms:
            slot = self.ti[tool, K.T_NPPM]
            self.ppm[tool, slot] = pm
            self.ti[tool, K.T_NPPM] = slot + 1

    def result(self, wall_s: float) -> SimResult:
        n = self.sc[K.C_NREC]
        lots: list[tuple] = [
            LotRecord(int(r[0]), int(r[1]), int(r[2]), r[3], r[4], r[5], r[6]) for r in self.recs[:n].tolist()
        ]
        checks, violations = {}, {}
        for g in np.nonzero(self.cqtc[:, 0])[0]:
            route = int(np.searchsorted(self.offsets, g, side="right") - 1)
            key = (route, int(g - self.offsets[route]))
            checks[key] = int(self.cqtc[g, 0])
            if self.cqtc[g, 1]:
                violations[key] = int(self.cqtc[g, 1])
        samples = self.sc[K.C_NSAMPLES]
        return SimResult(
            options=self.o,
            lots=lots,
            family_busy=self.acc[:, K.A_BUSY].copy(),
            family_setup=self.acc[:, K.A_SETUP].copy(),
            family_down=self.acc[:, K.A_DOWN].copy(),
            family_pm=self.acc[:, K.A_PM].copy(),
            family_wait=self.acc[:, K.A_WAIT].copy(),
            family_starts=self.acc[:, K.A_STARTS].astype(np.int64),
            cqt_violations=violations,
            cqt_checks=checks,
            wip=[(float(d), int(c)) for d, c in self.wip[:samples]],
            batch_sizes={int(k): int(v) for k, v in enumerate(self.bsizes) if v},
            lot_steps=int(self.sc[K.C_STEPS]),
            events=int(self.sc[K.C_EVENTS]),
            wall_s=wall_s,
            released=int(self.sc[K.C_RELEASED]),
        )
