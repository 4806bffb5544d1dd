"""The event loop of engine.py compiled with numba: the same model over array state.

`engine.Simulation` is the readable reference; this module is its fast twin and must give the
same answer. Both draw their random numbers from the same numpy Generator blocks in the same
order, so for the same seed the two produce identical lots, times and counters (a test holds
them to it). The kernel runs in chunks: it returns to Python when a simulated day is done (for
the progress bar) or when a buffer of random numbers runs low (Python refills it from the
Generator), and all state lives in named records of arrays (kernel_state.py) that survive
between chunks.

Codes come from model.py and the rule from the registry (rules.py): run_chunk takes the rule's
criterion, compiled by numba as a C callback of type CRITERION, as its first argument, so one
compiled (and cached) loop serves every rule and a rule registered once runs here too. The
dispatcher (queues, rank keys, batches, starts) is kernel_dispatch.py.
"""

from __future__ import annotations

import math

from fabnet.core.units import MINUTES_PER_DAY as MIN_PER_DAY
from fabnet.fabsim.kernel_base import account, draw, jit, jit_inline, set_state
from fabnet.fabsim.kernel_dispatch import dispatch, queue_insert_ranked, queue_link, rank
from fabnet.fabsim.kernel_queue import earliest, pop, push
from fabnet.fabsim.kernel_state import (
    A_DOWN,
    A_PM,
    C_EVENTS,
    C_HSIZE,
    C_INFAB,
    C_NLOTS,
    C_NREC,
    C_NSAMPLES,
    C_PEER,
    C_RELEASED,
    C_STARTED,
    C_STEPS,
    F_BYCR,
    F_DELAY,
    F_IDLE,
    F_INTS,
    F_PEERCQT,
    F_RANKED,
    FREE_AND_DONE,
    L_CQTD,
    L_CQTS,
    L_CQTT,
    L_DSNAP,
    L_DUE,
    L_FLOATS,
    L_INTS,
    L_PRIO,
    L_QUEUED,
    L_RANK,
    L_RELEASE,
    L_ROUTE,
    L_STEP,
    L_STREAM,
    LOW_WATER,
    LTL_SLOTS,
    R_FIRST,
    R_STEPS,
    R_WIDTH,
    S_CQT,
    S_CQTMIN,
    S_FAM,
    S_FLOATS,
    S_INTS,
    S_LTL,
    S_LTLSLOT,
    S_RWK,
    S_RWKP,
    S_RWKSLOT,
    S_SAMPLE,
    T_FAM,
    T_FLOATS,
    T_INTS,
    T_LOTS,
    T_NLOTS,
    T_NPPM,
    T_PEND,
    T_STATE,
    TF_DELAY,
    TF_SNAP,
    TF_WAFERS,
)
from fabnet.fabsim.model import (
    ARRIVE,
    DOWN,
    DOWN_END,
    FAIL,
    LOT_DONE,
    PM_DUE,
    RELEASE,
    SAMPLE,
    STREAMS,
    TOOL_FREE,
    U_DOWN,
    U_MOVE,
    U_RELEASE,
    U_ROUTE,
    UP,
)

#: LTL_SLOTS is read by the tests under the name it always had here.
__all__ = ["LTL_SLOTS", "run_chunk"]


@jit_inline
def _enter_step(lot, now, moved, lots, steps, fams, draws, heap, tally, warmup):
    li, lf, si, sf, sc = lots.ints, lots.floats, steps.ints, steps.floats, heap.counters
    route = li[lot * L_INTS + L_ROUTE]
    base = steps.routes[route * R_WIDTH + R_FIRST]
    n_steps = steps.routes[route * R_WIDTH + R_STEPS]
    step = li[lot * L_INTS + L_STEP]
    while (
        step < n_steps
        and sf[(base + step) * S_FLOATS + S_SAMPLE] < 1.0
        and draw(draws, U_ROUTE) >= sf[(base + step) * S_FLOATS + S_SAMPLE]
    ):
        step += 1
    li[lot * L_INTS + L_STEP] = step
    if step >= n_steps:
        sc[C_INFAB] -= 1
        if now >= warmup:
            n = sc[C_NREC]
            recs = tally.records  # model.LOT_RECORD's order
            recs[n, 0] = route
            recs[n, 1] = li[lot * L_INTS + L_PRIO]
            recs[n, 2] = li[lot * L_INTS + L_STREAM]
            recs[n, 3] = lf[lot * L_FLOATS + L_RELEASE]
            recs[n, 4] = now
            recs[n, 5] = lf[lot * L_FLOATS + L_DUE]
            recs[n, 6] = steps.raw[route]
            sc[C_NREC] = n + 1
        return
    delay = 0.0
    if moved:
        fi = fams.ints
        previous = si[(base + step - 1) * S_INTS + S_FAM] if step > 0 else -1
        if fi[si[(base + step) * S_INTS + S_FAM] * F_INTS + F_DELAY] == 0 and (
            previous < 0 or fi[previous * F_INTS + F_DELAY] == 0
        ):
            transport = steps.transport
            delay = transport[0] + (transport[1] - transport[0]) * draw(draws, U_MOVE)
    push(heap, now + delay, ARRIVE, lot, 0)


@jit
def _go_down(tool, kind, minutes, now, ti, fi, idle, heap, acc, warmup, end):
    set_state(tool, DOWN, ti, fi, idle)
    account(acc, A_DOWN if kind == FAIL else A_PM, ti[tool * T_INTS + T_FAM], now, minutes, warmup, end)
    push(heap, now + minutes, DOWN_END, tool, kind)


@jit
def _outage(tool, column, minutes, now, tf, ti, acc, warmup, end):
    """The peer's outage: counted, and it delays whatever the tool is running; an idle tool stays
    usable (PySCFabSim instance.handle_breakdown)."""
    tf[tool * T_FLOATS + TF_DELAY] += minutes
    account(acc, column, ti[tool * T_INTS + T_FAM], now, minutes, warmup, end)


@jit
def _take_down(tool, kind, minutes, now, tools, fi, heap, acc, warmup, end):
    ti = tools.ints
    if ti[tool * T_INTS + T_STATE] == UP:
        _go_down(tool, kind, minutes, now, ti, fi, tools.idle, heap, acc, warmup, end)
    else:
        n = ti[tool * T_INTS + T_PEND]
        tools.pending_kind[tool, n] = kind
        tools.pending_minutes[tool, n] = minutes
        ti[tool * T_INTS + T_PEND] = n + 1


@jit
def _pop_pending(tool, ti, pk, pm):
    kind, minutes = pk[tool, 0], pm[tool, 0]
    n = ti[tool * T_INTS + T_PEND]
    for k in range(1, n):
        pk[tool, k - 1] = pk[tool, k]
        pm[tool, k - 1] = pm[tool, k]
    ti[tool * T_INTS + T_PEND] = n - 1
    return kind, minutes


@jit
def run_chunk(
    criterion,
    t_stop,
    end,
    warmup,
    sample_every,
    release_scale,
    heap,
    draws,
    lots,
    steps,
    fams,
    tools,
    sources,
    tally,
    scratch,
    opening,
):
    """Process events until the next one is after t_stop or a random stream runs low.
    Returns 0 when t_stop (or the end) was reached, 1 when a refill is needed. The first call
    starts the run from prepare.start_of's schedule (opening): the WIP lots enter, then its events
    are scheduled."""
    sc, upos = heap.counters, draws.pos
    li, lf, si, sf, ri = lots.ints, lots.floats, steps.ints, steps.floats, steps.routes
    fi, ti, tf, pk, pm, acc = fams.ints, tools.ints, tools.floats, tools.pending_kind, tools.pending_minutes, tally.time
    grp, sti, stf, pmc = fams.outages, sources.stream_ints, sources.stream_floats, sources.pms
    if sc[C_STARTED] == 0:
        sc[C_STARTED] = 1
        wipi, wipf = opening.wip_ints, opening.wip_floats
        for w in range(wipi.shape[0]):
            lot = sc[C_NLOTS]
            sc[C_NLOTS] = lot + 1
            li[lot * L_INTS + L_ROUTE] = wipi[w, 0]
            li[lot * L_INTS + L_PRIO] = wipi[w, 1]
            li[lot * L_INTS + L_STEP] = wipi[w, 2]
            li[lot * L_INTS + L_STREAM] = -1
            lf[lot * L_FLOATS + L_RELEASE] = wipf[w, 0]
            lf[lot * L_FLOATS + L_DUE] = wipf[w, 1]
            lf[lot * L_FLOATS + L_QUEUED] = 0.0
            sc[C_INFAB] += 1
            _enter_step(lot, 0.0, False, lots, steps, fams, draws, heap, tally, warmup)
        for e in range(opening.event_time.shape[0]):
            push(heap, opening.event_time[e], opening.event[e, 0], opening.event[e, 1], opening.event[e, 2])
    # the LOT_DONEs of a FREE_AND_DONE, handled after its TOOL_FREE part before any other event
    # (the refill margin covers them, and they are due before t_stop)
    finishing = scratch.finishing
    finished, done_by = 0, -1
    now = 0.0
    while sc[C_HSIZE] > 0 or finished > 0:
        # the family whose idle tools look for work once the event is handled: one call site,
        # as _dispatch is inlined (three sites made the kernel twice as long to compile)
        to_dispatch = -1
        if finished > 0:
            finished -= 1
            kind, a, b = LOT_DONE, finishing[finished], done_by
        else:
            # row length − read position, per stream; over the constant STREAMS the loop is
            # unrolled (over u.shape[0] it was a loop of its own, 2.6 % of the kernel's samples)
            for s in range(STREAMS):
                if upos[STREAMS + s] - upos[s] < LOW_WATER:
                    return 1
            first = earliest(heap)
            if first > t_stop or first > end:
                return 0
            now, kind, a, b = pop(heap)
            sc[C_EVENTS] += 1
        if kind == ARRIVE:
            lot = a
            family = si[
                (ri[li[lot * L_INTS + L_ROUTE] * R_WIDTH + R_FIRST] + li[lot * L_INTS + L_STEP]) * S_INTS + S_FAM
            ]
            lf[lot * L_FLOATS + L_QUEUED] = now
            if fi[family * F_INTS + F_RANKED] == 1:
                g = ri[li[lot * L_INTS + L_ROUTE] * R_WIDTH + R_FIRST] + li[lot * L_INTS + L_STEP]
                lf[lot * L_FLOATS + L_RANK] = rank(
                    criterion, now, lf[lot * L_FLOATS + L_DUE], now, sf, g, fi[family * F_INTS + F_BYCR] == 1
                )
                queue_insert_ranked(fams.head, fams.queued, li, lf, family, lot, fi[family * F_INTS + F_PEERCQT] == 1)
            else:
                queue_link(fams.head, fams.queued, li, family, lot, fams.head[family, 1])
            if fi[family * F_INTS + F_IDLE] == 0:  # the usual case: no idle tool to look for work
                continue
            to_dispatch = family
        elif kind == LOT_DONE:
            lot, tool = a, b
            late = tf[tool * T_FLOATS + TF_DELAY] - lf[lot * L_FLOATS + L_DSNAP]
            if late > 0.0:  # an outage struck its tool meanwhile (the peer's conventions)
                lf[lot * L_FLOATS + L_DSNAP] = tf[tool * T_FLOATS + TF_DELAY]
                push(heap, now + late, LOT_DONE, lot, tool)
                continue
            base = ri[li[lot * L_INTS + L_ROUTE] * R_WIDTH + R_FIRST]
            step = li[lot * L_INTS + L_STEP]
            g = base + step
            sc[C_STEPS] += 1
            if si[g * S_INTS + S_LTL] >= 0:
                slot = si[g * S_INTS + S_LTLSLOT]
                lots.dedicated[lot, slot, 0] = si[g * S_INTS + S_LTL]
                lots.dedicated[lot, slot, 1] = tool
            if si[g * S_INTS + S_CQT] >= 0:
                li[lot * L_INTS + L_CQTT] = si[g * S_INTS + S_CQT]
                li[lot * L_INTS + L_CQTS] = step
                lf[lot * L_FLOATS + L_CQTD] = now + sf[g * S_FLOATS + S_CQTMIN]
            if sf[g * S_FLOATS + S_RWKP] > 0 and draw(draws, U_ROUTE) < sf[g * S_FLOATS + S_RWKP]:
                slot = si[g * S_INTS + S_RWKSLOT]
                if lots.reworked[lot, slot] == 0:
                    lots.reworked[lot, slot] = 1
                    li[lot * L_INTS + L_STEP] = si[g * S_INTS + S_RWK]
                    _enter_step(lot, now, True, lots, steps, fams, draws, heap, tally, warmup)
                    continue
            li[lot * L_INTS + L_STEP] = step + 1
            _enter_step(lot, now, True, lots, steps, fams, draws, heap, tally, warmup)
        elif kind in (TOOL_FREE, FREE_AND_DONE):
            tool = a
            if kind == FREE_AND_DONE:
                sc[C_EVENTS] += ti[tool * T_INTS + T_NLOTS]
            late = tf[tool * T_FLOATS + TF_DELAY] - tf[tool * T_FLOATS + TF_SNAP]
            if late > 0.0:  # each LOT_DONE's own lateness is the same: the snapshots were taken together
                tf[tool * T_FLOATS + TF_SNAP] = tf[tool * T_FLOATS + TF_DELAY]
                if kind == FREE_AND_DONE:
                    for m in range(ti[tool * T_INTS + T_NLOTS]):
                        lf[ti[tool * T_INTS + T_LOTS + m] * L_FLOATS + L_DSNAP] = tf[tool * T_FLOATS + TF_DELAY]
                push(heap, now + late, kind, tool, 0)
                continue
            if kind == FREE_AND_DONE:  # stacked last first; the tool's next start overwrites its row
                finished, done_by = ti[tool * T_INTS + T_NLOTS], tool
                for m in range(finished):
                    finishing[finished - 1 - m] = ti[tool * T_INTS + T_LOTS + m]
                ti[tool * T_INTS + T_NLOTS] = 0
            for k in range(ti[tool * T_INTS + T_NPPM]):
                if tf[tool * T_FLOATS + TF_WAFERS] >= tools.piece_pms[tool, k, 0]:
                    tools.piece_pms[tool, k, 0] += tools.piece_pms[tool, k, 1]
                    n = ti[tool * T_INTS + T_PEND]
                    pk[tool, n] = PM_DUE
                    pm[tool, n] = tools.piece_pms[tool, k, 2] + tools.piece_pms[tool, k, 3] * (
                        draw(draws, U_DOWN) - 0.5
                    )
                    ti[tool * T_INTS + T_PEND] = n + 1
            if ti[tool * T_INTS + T_PEND] > 0:
                pkind, minutes = _pop_pending(tool, ti, pk, pm)
                _go_down(tool, pkind, minutes, now, ti, fi, tools.idle, heap, acc, warmup, end)
                continue
            set_state(tool, UP, ti, fi, tools.idle)
            to_dispatch = ti[tool * T_INTS + T_FAM]
        elif kind == RELEASE:
            s = a
            sc[C_RELEASED] += 1
            sti[s, 3] += 1
            lot = sc[C_NLOTS]
            sc[C_NLOTS] = lot + 1
            li[lot * L_INTS + L_ROUTE] = sti[s, 0]
            li[lot * L_INTS + L_STEP] = 0
            li[lot * L_INTS + L_PRIO] = sti[s, 1]
            li[lot * L_INTS + L_STREAM] = s
            li[lot * L_INTS + L_CQTT] = -1
            lf[lot * L_FLOATS + L_RELEASE] = now
            lf[lot * L_FLOATS + L_DUE] = now + stf[s, 2]
            lf[lot * L_FLOATS + L_QUEUED] = now
            sc[C_INFAB] += 1
            _enter_step(lot, now, False, lots, steps, fams, draws, heap, tally, warmup)
            if sti[s, 3] < sti[s, 2]:
                interval = stf[s, 1] / release_scale
                if stf[s, 3] > 0:
                    interval *= -math.log(1.0 - draw(draws, U_RELEASE))
                push(heap, now + interval, RELEASE, s, 0)
        elif kind == FAIL:
            tool = a
            repair = -math.log(1.0 - draw(draws, U_DOWN)) * grp[ti[tool * T_INTS + T_FAM], 1]
            if sc[C_PEER] == 1:
                _outage(tool, A_DOWN, repair, now, tf, ti, acc, warmup, end)
                push(
                    heap,
                    now + repair - math.log(1.0 - draw(draws, U_DOWN)) * grp[ti[tool * T_INTS + T_FAM], 0],
                    FAIL,
                    tool,
                    0,
                )
                continue
            _take_down(tool, FAIL, repair, now, tools, fi, heap, acc, warmup, end)
        elif kind == DOWN_END:
            tool, dkind = a, b
            if dkind == FAIL:
                push(heap, now - math.log(1.0 - draw(draws, U_DOWN)) * grp[ti[tool * T_INTS + T_FAM], 0], FAIL, tool, 0)
            if ti[tool * T_INTS + T_PEND] > 0:
                pkind, minutes = _pop_pending(tool, ti, pk, pm)
                _go_down(tool, pkind, minutes, now, ti, fi, tools.idle, heap, acc, warmup, end)
                continue
            set_state(tool, UP, ti, fi, tools.idle)
            to_dispatch = ti[tool * T_INTS + T_FAM]
        elif kind == PM_DUE:
            tool, p = a, b
            if sc[C_PEER] == 1:
                duration = pmc[p, 2] + pmc[p, 3] * (draw(draws, U_DOWN) - 0.5)
                _outage(tool, A_PM, duration, now, tf, ti, acc, warmup, end)
                push(heap, now + duration + pmc[p, 1], PM_DUE, tool, p)
                continue
            push(heap, now + pmc[p, 1], PM_DUE, tool, p)
            duration = pmc[p, 2] + pmc[p, 3] * (draw(draws, U_DOWN) - 0.5)
            _take_down(tool, PM_DUE, duration, now, tools, fi, heap, acc, warmup, end)
        else:
            n = sc[C_NSAMPLES]
            tally.wip[n, 0] = now / MIN_PER_DAY
            tally.wip[n, 1] = sc[C_INFAB]
            sc[C_NSAMPLES] = n + 1
            push(heap, now + sample_every * MIN_PER_DAY, SAMPLE, 0, 0)
        if to_dispatch >= 0:
            dispatch(to_dispatch, now, criterion, lots, steps, fams, tools, draws, heap, tally, scratch, warmup, end)
    return 0
