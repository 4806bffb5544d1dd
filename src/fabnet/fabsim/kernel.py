"""The event loop of engine.py compiled with numba: the same model over array state.

`engine.Simulation` is the readable reference; this module is its fast twin and must give the
same answer. Both draw their random numbers from the same numpy Generator blocks in the same
order, so for the same seed the two produce identical lots, times and counters (a test holds
them to it). The kernel runs in chunks: it returns to Python when a simulated day is done (for
the progress bar) or when a buffer of random numbers runs low (Python refills it from the
Generator), and all state lives in arrays that survive between chunks.

Codes come from model.py and the rule from the registry (rules.py): run_chunk takes the rule's
criterion, compiled by numba as a C callback of type CRITERION, as its first argument, so one
compiled (and cached) loop serves every rule and a rule registered once runs here too.
"""

from __future__ import annotations

import math

import numba as nb
from numba.cpython.unsafe.numbers import trailing_zeros  # LLVM's cttz: numba's, not in its documentation

from fabnet.core.units import MINUTES_PER_DAY as MIN_PER_DAY
from fabnet.fabsim import rules
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
    WAFERS,
)

#: Every function of the kernel is compiled without numba's reference counting (NRT). The
#: helpers take 20–30 arrays each, and a call that numba does not inline increments and
#: decrements each one's count, atomically: measured with perf on HVLM FIFO 90 days, 36 % of the
#: kernel's CPU went to NRT_incref/NRT_decref, and without them a run takes 38 % less CPU with
#: identical results. The kernel allocates nothing (all state and scratch come from fast.py), so
#: it has nothing to count; an allocation added later fails to compile instead of leaking.
#: `_nrt` is numba's own option (numba.core.options), not in its documentation: numba is pinned
#: by uv.lock, and if an upgrade dropped the option every decorator here would fail at import.
jit = nb.njit(cache=True, _nrt=False)  # type: ignore[call-overload]  # numba's stubs list documented options only
#: Without counting, a call still copies every array's fields (data, shape, strides: 7 to 9
#: words each) onto the stack: the calls run_chunk → _dispatch → _choose, _start pushed 230, 145
#: and 180 words, a third of the kernel's samples under perf (HVLM FIFO 365 days). Those, with
#: _enter_step and _key_row, are inlined by numba before typing (inline="always"; 30 % less CPU,
#: same results). numba inlines only calls that Python compiles without *args, which it does
#: above 30 arguments: hence _dispatch's scratch arrays travel as one tuple. Each call site is a
#: copy to compile: _dispatch has one (run_chunk's to_dispatch), and a first compile takes ~13 s.
jit_inline = nb.njit(cache=True, _nrt=False, inline="always")  # type: ignore[call-overload]
#: The one critical-ratio formula (rules.py), compiled for the kernel.
critical_ratio = jit(rules.critical_ratio)
#: A rule's criterion (rules.py) as the kernel calls it: (queued, due, remaining, ratio, mean,
#: now, family_by_cr) -> rank, smallest first.
CRITERION = nb.types.float64(*[nb.types.float64] * 6, nb.types.boolean)
#: A heap entry is its minute (ht), its push order and its event (kind, a, b) packed into one
#: int64 (hi): a sift moves three words instead of five (the heap is a third of the loop's time).
#: a and b (lot, tool, stream, PM calendar) must stay below 2**PACK; fast.py checks the sizes.
PACK = 28
FIELD = (1 << PACK) - 1
#: Which tools are up and idle: bit (tool & IDLE_MASK) of word (tool >> IDLE_SHIFT) of `idle`;
#: 32 bits to a word of int64, so that no shift or mask ever touches the sign bit.
IDLE_SHIFT = 5
IDLE_MASK = (1 << IDLE_SHIFT) - 1
#: The kernel's own event kind, not the model's: a tool whose lots finish when it frees (no
#: cascade), as one heap entry (tool, 0) for its TOOL_FREE and its lots' LOT_DONEs. The reference
#: pushes those at one minute one after the other, so nothing comes between them: handled in one
#: go they give the same run, with half of these pushes and pops saved. It counts as the events
#: it stands for.
FREE_AND_DONE = 8
#: The kernel stops for a refill when a stream has fewer draws left than this.
LOW_WATER = 4096

# Route-step columns (ints, floats).
#: S_LTLIN: the one slot of a lot's dedications (lltl) that can name this step, -1 when none can,
#: LTL_SLOTS when several can (then they are searched).
S_FAM, S_PER, S_BMIN, S_BMAX, S_SETUP, S_LTL, S_RWK, S_CQT, S_DESC, S_RWKSLOT, S_LTLSLOT, S_LTLIN = range(12)
LTL_SLOTS = 16
S_PTIME, S_SPREAD, S_STIME, S_BINT, S_PINT, S_RWKP, S_SAMPLE, S_CQTMIN, S_MEAN, S_REMAIN = range(10)
# Family columns.
#: F_IDLE: tools of the family up and idle now (a dispatch to a family without one returns at once).
#: F_PEERCQT: 1 when the rank's queue-time flag is the peer's (convention "cqt"; the same for all).
#: F_RANKED: 1 when the family's queue is kept in rank order (the rule is timeless there:
#: rules.Rule.timeless): a lot's key but for the setup parts never changes while it waits.
(F_FIRST, F_COUNT, F_CASC, F_DELAY, F_HASSETUP, F_HASLTL, F_BATCH, F_BYCR, F_SETUPFIRST, F_IDLE, F_PEERCQT,
 F_RANKED) = range(12)
# Tool columns.
#: T_NLOTS: lots of the tool's running operation that finish when the tool frees (FREE_AND_DONE),
#: or 0; those lots are in the columns from T_LOTS on.
T_FAM, T_STATE, T_SETUP, T_RUNS, T_PEND, T_NPPM, T_NLOTS, T_LOTS = range(8)
# Lot int columns.
#: L_STARTED: 1 once the lot has started a step (the peer's queue-time flag, convention "cqt").
L_ROUTE, L_STEP, L_PRIO, L_STREAM, L_NEXT, L_PREV, L_CQTT, L_CQTS, L_STARTED = range(9)
# Lot float columns. L_RANK: the rule's criterion when the lot joined a ranked queue (F_RANKED).
L_RELEASE, L_DUE, L_QUEUED, L_CQTD, L_DSNAP, L_RANK = range(6)
# Scalars.
C_NLOTS, C_INFAB, C_NREC, C_STEPS, C_EVENTS, C_SEQ, C_HSIZE, C_RELEASED, C_NSAMPLES, C_PEER, C_STARTED = range(11)
#: Per-tool floats: wafers processed; minutes of outages under the peer's conventions (they delay
#: a busy tool's pending events instead of taking the tool down); that figure when the tool's
#: running operation was last scheduled (its TOOL_FREE is delayed by the difference).
TF_WAFERS, TF_DELAY, TF_SNAP = range(3)
# Batch-forming scratch columns (groups): a group's step name, its size, then its lots.
G_DESC, G_SIZE, G_LOTS = range(3)
# Accounting columns.
A_BUSY, A_SETUP, A_DOWN, A_PM, A_WAIT, A_STARTS = range(6)


@jit
def _draw(u, upos, stream):
    value = u[stream, upos[stream]]
    upos[stream] += 1
    return value


@jit
def _push(ht, hi, sc, time, kind, a, b):
    sc[C_SEQ] += 1
    seq = sc[C_SEQ]
    packed = (kind << (2 * PACK)) | (a << PACK) | b
    n = sc[C_HSIZE]
    sc[C_HSIZE] = n + 1
    # sift up; the columns are copied one by one on purpose: a helper (even inlined) measured
    # 7 % slower over a simulated year (benchmarks/fabsim_speed.py)
    while n > 0:
        parent = (n - 1) >> 1
        if ht[parent] < time or (ht[parent] == time and hi[parent, 0] < seq):
            break
        ht[n] = ht[parent]
        hi[n, 0] = hi[parent, 0]
        hi[n, 1] = hi[parent, 1]
        n = parent
    ht[n] = time
    hi[n, 0] = seq
    hi[n, 1] = packed


@jit
def _pop(ht, hi, sc):
    """Remove the smallest entry (by time, then by push order); returns (time, kind, a, b)."""
    time, packed = ht[0], hi[0, 1]
    n = sc[C_HSIZE] - 1
    sc[C_HSIZE] = n
    if n > 0:
        lt, l0, l1 = ht[n], hi[n, 0], hi[n, 1]
        i = 0
        while True:
            child = 2 * i + 1
            if child >= n:
                break
            right = child + 1
            if right < n and (ht[right] < ht[child] or (ht[right] == ht[child] and hi[right, 0] < hi[child, 0])):
                child = right
            if lt < ht[child] or (lt == ht[child] and l0 < hi[child, 0]):
                break
            ht[i] = ht[child]
            hi[i, 0] = hi[child, 0]
            hi[i, 1] = hi[child, 1]
            i = child
        ht[i] = lt
        hi[i, 0] = l0
        hi[i, 1] = l1
    return time, packed >> (2 * PACK), (packed >> PACK) & FIELD, packed & FIELD


@jit
def _account(acc, column, family, start, minutes, warmup, end):
    lo = max(start, warmup)
    hi = min(start + minutes, end)
    if hi > lo:
        acc[family, column] += hi - lo


@jit
def _queue_link(qh, qn, li, family, lot, prev):
    """Put the lot into the family's queue right after `prev` (-1: at the head)."""
    nxt = li[prev, L_NEXT] if prev >= 0 else qh[family, 0]
    li[lot, L_PREV] = prev
    li[lot, L_NEXT] = nxt
    if prev >= 0:
        li[prev, L_NEXT] = lot
    else:
        qh[family, 0] = lot
    if nxt >= 0:
        li[nxt, L_PREV] = lot
    else:
        qh[family, 1] = lot
    qn[family] += 1


@jit
def _queue_insert_ranked(qh, qn, li, lf, family, lot, peer_cqt):
    """Insert after the last lot that does not rank after it: the queue stays sorted by the
    timeless key (waits, −priority, criterion) and, among equal keys, in arrival order, which is
    the order the reference's stable ranking of the arrival-ordered queue gives."""
    waits, prio, rank = _waits(li, lot, peer_cqt), li[lot, L_PRIO], lf[lot, L_RANK]
    prev = qh[family, 1]
    while prev >= 0:
        other = _waits(li, prev, peer_cqt)
        if waits > other or (waits == other and (prio < li[prev, L_PRIO] or (
                prio == li[prev, L_PRIO] and rank >= lf[prev, L_RANK]))):
            break
        prev = li[prev, L_PREV]
    _queue_link(qh, qn, li, family, lot, prev)


@jit
def _waits(li, lot, peer_cqt):
    """1.0 unless a critical queue time runs to the step the lot waits at (the peer's flag: the
    lot has started a step); constant while the lot waits."""
    if peer_cqt:
        return 0.0 if li[lot, L_STARTED] == 1 else 1.0
    return 0.0 if (li[lot, L_CQTT] >= 0 and li[lot, L_CQTT] == li[lot, L_STEP]) else 1.0


@jit
def _may_use(lltl, li, si, ri, lot, tool):
    """Whether the lot may start on this tool: no lot-to-lens dedication of its step to another."""
    step = li[lot, L_STEP]
    slot = si[ri[li[lot, L_ROUTE], 0] + step, S_LTLIN]
    if slot < 0:
        return True
    if slot < LTL_SLOTS:  # the usual case: one earlier step dedicates this one
        return lltl[lot, slot, 0] != step or lltl[lot, slot, 1] == tool
    for s in range(lltl.shape[1]):
        if lltl[lot, s, 0] == step:
            return lltl[lot, s, 1] == tool
    return True


@jit
def _queue_remove(qh, qn, li, family, lot):
    prev, nxt = li[lot, L_PREV], li[lot, L_NEXT]
    if prev >= 0:
        li[prev, L_NEXT] = nxt
    else:
        qh[family, 0] = nxt
    if nxt >= 0:
        li[nxt, L_PREV] = prev
    else:
        qh[family, 1] = prev
    qn[family] -= 1


@jit
def _setup_minutes(si, sf, ti, setm, tool, g):
    wanted = si[g, S_SETUP]
    current = ti[tool, T_SETUP]
    if wanted < 0 or current == wanted:
        return 0.0
    if not math.isnan(sf[g, S_STIME]):
        return sf[g, S_STIME]
    value = setm[current + 1, wanted]
    if math.isnan(value):
        value = setm[0, wanted]
    return 0.0 if math.isnan(value) else value


@jit
def _less(keys, a, b, width):
    for c in range(width):
        if keys[a, c] < keys[b, c]:
            return True
        if keys[a, c] > keys[b, c]:
            return False
    return False


@jit_inline
def _enter_step(lot, now, moved, li, lf, ri, si, sf, fi, u, upos, ht, hi, sc, transport, recs, warmup, rec_raw):
    route = li[lot, L_ROUTE]
    base = ri[route, 0]
    steps = ri[route, 1]
    step = li[lot, L_STEP]
    while step < steps and sf[base + step, S_SAMPLE] < 1.0 and _draw(u, upos, U_ROUTE) >= sf[base + step, S_SAMPLE]:
        step += 1
    li[lot, L_STEP] = step
    if step >= steps:
        sc[C_INFAB] -= 1
        if now >= warmup:
            n = sc[C_NREC]
            recs[n, 0] = route
            recs[n, 1] = li[lot, L_PRIO]
            recs[n, 2] = li[lot, L_STREAM]
            recs[n, 3] = lf[lot, L_RELEASE]
            recs[n, 4] = now
            recs[n, 5] = lf[lot, L_DUE]
            recs[n, 6] = rec_raw[route]
            sc[C_NREC] = n + 1
        return
    delay = 0.0
    if moved:
        previous = si[base + step - 1, S_FAM] if step > 0 else -1
        if fi[si[base + step, S_FAM], F_DELAY] == 0 and (previous < 0 or fi[previous, F_DELAY] == 0):
            delay = transport[0] + (transport[1] - transport[0]) * _draw(u, upos, U_MOVE)
    _push(ht, hi, sc, now + delay, ARRIVE, lot, 0)


@jit
def _keys_for(tool, cands, n, now, criterion, li, lf, si, sf, ri, fi, ti, setm, minrun, keys):
    """Rank keys of n candidate lots, as engine.Simulation._keys builds them; returns the key width."""
    keep = _keep_setup(tool, ti, fi, minrun)
    for k in range(n):
        _key_row(keys, k, cands[k], tool, keep, now, criterion, li, lf, si, sf, ri, fi, ti, setm)
    return 5 if fi[ti[tool, T_FAM], F_HASSETUP] == 1 else 3


@jit
def _keep_setup(tool, ti, fi, minrun):
    """The tool's setup while it has not yet run that setup's minimum number of lots, else -1."""
    cur = ti[tool, T_SETUP]
    if fi[ti[tool, T_FAM], F_HASSETUP] == 1 and cur >= 0 and ti[tool, T_RUNS] < minrun[cur]:
        return cur
    return -1


@jit_inline
def _key_row(keys, k, lot, tool, keep, now, criterion, li, lf, si, sf, ri, fi, ti, setm):
    """Row k of `keys`: the lot's rank key for this tool (engine.Simulation._keys)."""
    family = ti[tool, T_FAM]
    g = ri[li[lot, L_ROUTE], 0] + li[lot, L_STEP]
    due, remaining = lf[lot, L_DUE], sf[g, S_REMAIN]
    last = criterion(lf[lot, L_QUEUED], due, remaining, critical_ratio(due, now, remaining), sf[g, S_MEAN],
                     now, fi[family, F_BYCR] == 1)
    waits = _waits(li, lot, fi[family, F_PEERCQT] == 1)
    if fi[family, F_HASSETUP] == 0:
        keys[k, 0] = waits
        keys[k, 1] = -li[lot, L_PRIO]
        keys[k, 2] = last
        return
    setup = _setup_minutes(si, sf, ti, setm, tool, g)
    keys[k, 0] = 1.0 if (keep >= 0 and si[g, S_SETUP] != keep) else 0.0
    keys[k, 1] = waits
    if fi[family, F_SETUPFIRST] == 1:
        keys[k, 2] = setup
        keys[k, 3] = -li[lot, L_PRIO]
    else:
        keys[k, 2] = -li[lot, L_PRIO]
        keys[k, 3] = setup
    keys[k, 4] = last


@jit_inline
def _choose(family, tool, now, criterion, qh, li, lf, lltl, si, sf, ri, fi, ti, setm, minrun,
            cands, keys, order, chosen, groups):
    """Fill `chosen` with the lot(s) to start; returns how many (0: none)."""
    n = 0
    lot = qh[family, 0]
    check_ltl = fi[family, F_HASLTL] == 1
    # a ranked queue without setups is in the reference's order already: the first lot this tool
    # may use is the reference's choice, and the batch former reads the queue as it stands
    in_order = fi[family, F_RANKED] == 1 and fi[family, F_HASSETUP] == 0
    single = in_order and fi[family, F_BATCH] == 0
    # a ranked queue with setups, one lot a start: ranked as it is walked, and the walk ends at a
    # lot that keeps the minimum run and needs no setup, which no later lot can beat (it ranks
    # after it on every part but the setup ones, where it cannot do better than nothing)
    walk = fi[family, F_RANKED] == 1 and fi[family, F_HASSETUP] == 1 and fi[family, F_BATCH] == 0
    keep = _keep_setup(tool, ti, fi, minrun) if walk else -1
    setup_column = 2 if fi[family, F_SETUPFIRST] == 1 else 3
    best = 0
    while lot >= 0:
        if not check_ltl or _may_use(lltl, li, si, ri, lot, tool):
            if single:
                chosen[0] = lot
                return 1
            cands[n] = lot
            if walk:
                _key_row(keys, n, lot, tool, keep, now, criterion, li, lf, si, sf, ri, fi, ti, setm)
                if n > 0 and _less(keys, n, best, 5):
                    best = n
                if keys[best, 0] == 0.0 and keys[best, setup_column] == 0.0:
                    n += 1
                    break
            n += 1
        lot = li[lot, L_NEXT]
    if n == 0 or single:
        return 0
    if walk:
        chosen[0] = cands[best]
        return 1
    if in_order:
        for k in range(n):
            order[k] = k
        return _batch_or_first(cands, order, n, li, si, ri, chosen, groups)
    width = _keys_for(tool, cands, n, now, criterion, li, lf, si, sf, ri, fi, ti, setm, minrun, keys)
    if fi[family, F_BATCH] == 0:
        best = 0
        for k in range(1, n):
            if _less(keys, k, best, width):
                best = k
        chosen[0] = cands[best]
        return 1
    # stable insertion sort of indices by key
    for k in range(n):
        order[k] = k
    for k in range(1, n):
        v = order[k]
        j = k - 1
        while j >= 0 and _less(keys, v, order[j], width):
            order[j + 1] = order[j]
            j -= 1
        order[j + 1] = v
    return _batch_or_first(cands, order, n, li, si, ri, chosen, groups)


@jit
def _batch_or_first(cands, order, n, li, si, ri, chosen, groups):
    """The best-ranked lot alone when its step does not batch, else the batch formed (as engine._choose)."""
    first = cands[order[0]]
    g0 = ri[li[first, L_ROUTE], 0] + li[first, L_STEP]
    if si[g0, S_PER] != PER_BATCH:
        chosen[0] = first
        return 1
    return _form_batch(cands, order, n, li, si, ri, chosen, groups)


@jit
def _form_batch(cands, order, n, li, si, ri, chosen, groups):
    """Groups by step name in first-appearance order (as engine._form_batch). `groups` is
    scratch, one row per group: step name, lots in it, then the lots (at most 150 wafers: 6)."""
    group_desc = groups[:, G_DESC]
    group_size = groups[:, G_SIZE]
    members = groups[:, G_LOTS:]
    group_size[:n] = 0
    groups = 0
    for k in range(n):
        lot = cands[order[k]]
        g = ri[li[lot, L_ROUTE], 0] + li[lot, L_STEP]
        if si[g, S_PER] != PER_BATCH:
            continue
        desc = si[g, S_DESC]
        idx = -1
        for j in range(groups):
            if group_desc[j] == desc:
                idx = j
                break
        if idx < 0:
            idx = groups
            group_desc[idx] = desc
            groups += 1
        if (group_size[idx] + 1) * WAFERS <= si[g, S_BMAX]:
            members[idx, group_size[idx]] = lot
            group_size[idx] += 1
        if group_size[idx] * WAFERS >= si[g, S_BMAX]:
            for m in range(group_size[idx]):
                chosen[m] = members[idx, m]
            return group_size[idx]
    for j in range(groups):
        if group_size[j] == 0:
            continue
        first = members[j, 0]
        g = ri[li[first, L_ROUTE], 0] + li[first, L_STEP]
        if group_size[j] * WAFERS >= si[g, S_BMIN]:
            for m in range(group_size[j]):
                chosen[m] = members[j, m]
            return group_size[j]
    return 0


@jit_inline
def _start(tool, chosen, count, now, li, lf, si, sf, ri, fi, famf, ti, tf, idle, setm, u, upos, ht, hi, sc, acc, qh,
           qn, cqtc, bsizes, warmup, end):
    family = ti[tool, T_FAM]
    first = chosen[0]
    g = ri[li[first, L_ROUTE], 0] + li[first, L_STEP]
    for m in range(count):
        lot = chosen[m]
        _queue_remove(qh, qn, li, family, lot)
        li[lot, L_STARTED] = 1
        if now >= warmup:
            acc[family, A_WAIT] += now - lf[lot, L_QUEUED]
            acc[family, A_STARTS] += 1
        if li[lot, L_CQTT] >= 0 and li[lot, L_CQTT] == li[lot, L_STEP]:
            src = ri[li[lot, L_ROUTE], 0] + li[lot, L_CQTS]
            cqtc[src, 0] += 1
            if now > lf[lot, L_CQTD]:
                cqtc[src, 1] += 1
            li[lot, L_CQTT] = -1
    setup = _setup_minutes(si, sf, ti, setm, tool, g)
    wanted = si[g, S_SETUP]
    if wanted >= 0:
        if ti[tool, T_SETUP] != wanted:
            ti[tool, T_SETUP] = wanted
            ti[tool, T_RUNS] = 0
        ti[tool, T_RUNS] += count
    process = sf[g, S_PTIME] + sf[g, S_SPREAD] * (_draw(u, upos, U_PROCESS) - 0.5)
    per = si[g, S_PER]
    if per == PER_BATCH:
        bsizes[min(count, bsizes.shape[0] - 1)] += 1
    load = famf[family]
    cascading = fi[family, F_CASC] == 1
    if per == PER_PIECE:
        interval = sf[g, S_PINT]
        together = not (cascading and not math.isnan(interval))  # the tool frees when its lots finish
        if not together:
            lot_time = process + (WAFERS - 1.0) * interval + load
            tool_time = WAFERS * interval
        else:
            lot_time = process * WAFERS + load
            tool_time = lot_time
    else:
        lot_time = process + load
        interval = sf[g, S_BINT]
        together = not (cascading and not math.isnan(interval))
        tool_time = lot_time if together else interval
    lot_time += setup
    tool_time += setup
    _set_state(tool, BUSY, ti, fi, idle)
    _account(acc, A_SETUP, family, now, setup, warmup, end)
    _account(acc, A_BUSY, family, now + setup, tool_time - setup, warmup, end)
    tf[tool, TF_WAFERS] += WAFERS * count
    tf[tool, TF_SNAP] = tf[tool, TF_DELAY]
    for m in range(count):
        lf[chosen[m], L_DSNAP] = tf[tool, TF_DELAY]
    if together:
        for m in range(count):
            ti[tool, T_LOTS + m] = chosen[m]
        ti[tool, T_NLOTS] = count
        _push(ht, hi, sc, now + tool_time, FREE_AND_DONE, tool, 0)
        return
    _push(ht, hi, sc, now + tool_time, TOOL_FREE, tool, 0)
    for m in range(count):
        _push(ht, hi, sc, now + lot_time, LOT_DONE, chosen[m], tool)


@jit_inline
def _dispatch(family, now, criterion, qh, qn, li, lf, lltl, si, sf, ri, fi, famf, ti, tf, idle, setm, minrun, u, upos,
              ht, hi, sc, acc, cqtc, bsizes, warmup, end, scratch):
    # One pass over the family's idle tools, in tool order (the reference's sorted(idle)): the
    # reference restarts after each start, but a tool that found nothing to start finds nothing
    # after lots have left the queue, so the answer is the same. The idle tools are read from the
    # bit words, not by testing every tool: the 400 tools of HVLM's delay family made this loop
    # an eighth of the kernel's time.
    cands, keys, order, chosen, groups = scratch
    first = fi[family, F_FIRST]
    last = first + fi[family, F_COUNT] - 1
    for word in range(first >> IDLE_SHIFT, (last >> IDLE_SHIFT) + 1):
        bits = idle[word]
        if word == first >> IDLE_SHIFT:
            bits &= ~((1 << (first & IDLE_MASK)) - 1)
        if word == last >> IDLE_SHIFT:
            bits &= (1 << ((last & IDLE_MASK) + 1)) - 1
        while bits != 0:
            if qn[family] == 0 or fi[family, F_IDLE] == 0:
                return
            tool = (word << IDLE_SHIFT) + trailing_zeros(bits)  # type: ignore[call-arg]  # an intrinsic: numba passes its context
            bits &= bits - 1
            count = _choose(family, tool, now, criterion, qh, li, lf, lltl, si, sf, ri, fi, ti, setm, minrun,
                            cands, keys, order, chosen, groups)
            if count > 0:
                _start(tool, chosen, count, now, li, lf, si, sf, ri, fi, famf, ti, tf, idle, setm, u, upos, ht, hi,
                       sc, acc, qh, qn, cqtc, bsizes, warmup, end)


@jit
def _set_state(tool, state, ti, fi, idle):
    family = ti[tool, T_FAM]
    fi[family, F_IDLE] += (state == UP) - (ti[tool, T_STATE] == UP)
    ti[tool, T_STATE] = state
    if state == UP:
        idle[tool >> IDLE_SHIFT] |= 1 << (tool & IDLE_MASK)
    else:
        idle[tool >> IDLE_SHIFT] &= ~(1 << (tool & IDLE_MASK))


@jit
def _go_down(tool, kind, minutes, now, ti, fi, idle, ht, hi, sc, acc, warmup, end):
    _set_state(tool, DOWN, ti, fi, idle)
    _account(acc, A_DOWN if kind == FAIL else A_PM, ti[tool, T_FAM], now, minutes, warmup, end)
    _push(ht, hi, sc, now + minutes, DOWN_END, tool, kind)


@jit
def _outage(tool, column, minutes, now, tf, ti, acc, warmup, end):
    """The peer's outage: counted, and it delays whatever the tool is running; an idle tool stays
    usable (PySCFabSim instance.handle_breakdown)."""
    tf[tool, TF_DELAY] += minutes
    _account(acc, column, ti[tool, T_FAM], now, minutes, warmup, end)


@jit
def _take_down(tool, kind, minutes, now, ti, fi, idle, pk, pm, ht, hi, sc, acc, warmup, end):
    if ti[tool, T_STATE] == UP:
        _go_down(tool, kind, minutes, now, ti, fi, idle, ht, hi, sc, acc, warmup, end)
    else:
        n = ti[tool, T_PEND]
        pk[tool, n] = kind
        pm[tool, n] = minutes
        ti[tool, T_PEND] = n + 1


@jit
def _pop_pending(tool, ti, pk, pm):
    kind, minutes = pk[tool, 0], pm[tool, 0]
    n = ti[tool, T_PEND]
    for k in range(1, n):
        pk[tool, k - 1] = pk[tool, k]
        pm[tool, k - 1] = pm[tool, k]
    ti[tool, T_PEND] = n - 1
    return kind, minutes


@jit
def run_chunk(criterion, t_stop, end, warmup, sample_every, release_scale,
              ht, hi, sc, u, upos,
              li, lf, lltl, lrwk, recs, rec_raw,
              si, sf, ri, fi, famf, ti, tf, idle, pk, pm, ppm, setm, minrun,
              sti, stf, pmc, grp, qh, qn, acc, cqtc, bsizes, wip, transport,
              cands, keys, order, chosen, groups, finishing, wipi, wipf, evt, evi):
    """Process events until the next one is after t_stop or a random stream runs low.
    Returns 0 when t_stop (or the end) was reached, 1 when a refill is needed. The first call
    starts the run from engine.start_of's schedule: the WIP lots (wipi: route, priority, step;
    wipf: release, due) enter, then the events (evt: minute; evi: kind, a, b) are scheduled."""
    scratch = (cands, keys, order, chosen, groups)  # one argument: see jit_inline
    if sc[C_STARTED] == 0:
        sc[C_STARTED] = 1
        for w in range(wipi.shape[0]):
            lot = sc[C_NLOTS]
            sc[C_NLOTS] = lot + 1
            li[lot, L_ROUTE] = wipi[w, 0]
            li[lot, L_PRIO] = wipi[w, 1]
            li[lot, L_STEP] = wipi[w, 2]
            li[lot, L_STREAM] = -1
            lf[lot, L_RELEASE] = wipf[w, 0]
            lf[lot, L_DUE] = wipf[w, 1]
            lf[lot, L_QUEUED] = 0.0
            sc[C_INFAB] += 1
            _enter_step(lot, 0.0, False, li, lf, ri, si, sf, fi, u, upos, ht, hi, sc, transport, recs, warmup,
                        rec_raw)
        for e in range(evt.shape[0]):
            _push(ht, hi, sc, evt[e], evi[e, 0], evi[e, 1], evi[e, 2])
    # the LOT_DONEs of a FREE_AND_DONE, handled after its TOOL_FREE part before any other event
    # (the refill margin covers them, and they are due before t_stop)
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
            for s in range(u.shape[0]):
                if upos[u.shape[0] + s] - upos[s] < LOW_WATER:  # row length − read position
                    return 1
            if ht[0] > t_stop or ht[0] > end:
                return 0
            now, kind, a, b = _pop(ht, hi, sc)
            sc[C_EVENTS] += 1
        if kind == ARRIVE:
            lot = a
            family = si[ri[li[lot, L_ROUTE], 0] + li[lot, L_STEP], S_FAM]
            lf[lot, L_QUEUED] = now
            if fi[family, F_RANKED] == 1:
                g = ri[li[lot, L_ROUTE], 0] + li[lot, L_STEP]
                due, remaining = lf[lot, L_DUE], sf[g, S_REMAIN]
                lf[lot, L_RANK] = criterion(now, due, remaining, critical_ratio(due, now, remaining), sf[g, S_MEAN],
                                            now, fi[family, F_BYCR] == 1)
                _queue_insert_ranked(qh, qn, li, lf, family, lot, fi[family, F_PEERCQT] == 1)
            else:
                _queue_link(qh, qn, li, family, lot, qh[family, 1])
            if fi[family, F_IDLE] == 0:  # the usual case: no idle tool to look for work
                continue
            to_dispatch = family
        elif kind == LOT_DONE:
            lot, tool = a, b
            late = tf[tool, TF_DELAY] - lf[lot, L_DSNAP]
            if late > 0.0:  # an outage struck its tool meanwhile (the peer's conventions)
                lf[lot, L_DSNAP] = tf[tool, TF_DELAY]
                _push(ht, hi, sc, now + late, LOT_DONE, lot, tool)
                continue
            base = ri[li[lot, L_ROUTE], 0]
            step = li[lot, L_STEP]
            g = base + step
            sc[C_STEPS] += 1
            if si[g, S_LTL] >= 0:
                slot = si[g, S_LTLSLOT]
                lltl[lot, slot, 0] = si[g, S_LTL]
                lltl[lot, slot, 1] = tool
            if si[g, S_CQT] >= 0:
                li[lot, L_CQTT] = si[g, S_CQT]
                li[lot, L_CQTS] = step
                lf[lot, L_CQTD] = now + sf[g, S_CQTMIN]
            if sf[g, S_RWKP] > 0 and _draw(u, upos, U_ROUTE) < sf[g, S_RWKP]:
                slot = si[g, S_RWKSLOT]
                if lrwk[lot, slot] == 0:
                    lrwk[lot, slot] = 1
                    li[lot, L_STEP] = si[g, S_RWK]
                    _enter_step(lot, now, True, li, lf, ri, si, sf, fi, u, upos, ht, hi, sc, transport, recs,
                                warmup, rec_raw)
                    continue
            li[lot, L_STEP] = step + 1
            _enter_step(lot, now, True, li, lf, ri, si, sf, fi, u, upos, ht, hi, sc, transport, recs, warmup,
                        rec_raw)
        elif kind in (TOOL_FREE, FREE_AND_DONE):
            tool = a
            if kind == FREE_AND_DONE:
                sc[C_EVENTS] += ti[tool, T_NLOTS]
            late = tf[tool, TF_DELAY] - tf[tool, TF_SNAP]
            if late > 0.0:  # each LOT_DONE's own lateness is the same: the snapshots were taken together
                tf[tool, TF_SNAP] = tf[tool, TF_DELAY]
                if kind == FREE_AND_DONE:
                    for m in range(ti[tool, T_NLOTS]):
                        lf[ti[tool, T_LOTS + m], L_DSNAP] = tf[tool, TF_DELAY]
                _push(ht, hi, sc, now + late, kind, tool, 0)
                continue
            if kind == FREE_AND_DONE:  # stacked last first; the tool's next start overwrites its row
                finished, done_by = ti[tool, T_NLOTS], tool
                for m in range(finished):
                    finishing[finished - 1 - m] = ti[tool, T_LOTS + m]
                ti[tool, T_NLOTS] = 0
            for k in range(ti[tool, T_NPPM]):
                if tf[tool, TF_WAFERS] >= ppm[tool, k, 0]:
                    ppm[tool, k, 0] += ppm[tool, k, 1]
                    n = ti[tool, T_PEND]
                    pk[tool, n] = PM_DUE
                    pm[tool, n] = ppm[tool, k, 2] + ppm[tool, k, 3] * (_draw(u, upos, U_DOWN) - 0.5)
                    ti[tool, T_PEND] = n + 1
            if ti[tool, T_PEND] > 0:
                pkind, minutes = _pop_pending(tool, ti, pk, pm)
                _go_down(tool, pkind, minutes, now, ti, fi, idle, ht, hi, sc, acc, warmup, end)
                continue
            _set_state(tool, UP, ti, fi, idle)
            to_dispatch = ti[tool, T_FAM]
        elif kind == RELEASE:
            s = a
            sc[C_RELEASED] += 1
            sti[s, 3] += 1
            lot = sc[C_NLOTS]
            sc[C_NLOTS] = lot + 1
            li[lot, L_ROUTE] = sti[s, 0]
            li[lot, L_STEP] = 0
            li[lot, L_PRIO] = sti[s, 1]
            li[lot, L_STREAM] = s
            li[lot, L_CQTT] = -1
            lf[lot, L_RELEASE] = now
            lf[lot, L_DUE] = now + stf[s, 2]
            lf[lot, L_QUEUED] = now
            sc[C_INFAB] += 1
            _enter_step(lot, now, False, li, lf, ri, si, sf, fi, u, upos, ht, hi, sc, transport, recs, warmup,
                        rec_raw)
            if sti[s, 3] < sti[s, 2]:
                interval = stf[s, 1] / release_scale
                if stf[s, 3] > 0:
                    interval *= -math.log(1.0 - _draw(u, upos, U_RELEASE))
                _push(ht, hi, sc, now + interval, RELEASE, s, 0)
        elif kind == FAIL:
            tool = a
            repair = -math.log(1.0 - _draw(u, upos, U_DOWN)) * grp[ti[tool, T_FAM], 1]
            if sc[C_PEER] == 1:
                _outage(tool, A_DOWN, repair, now, tf, ti, acc, warmup, end)
                _push(ht, hi, sc, now + repair - math.log(1.0 - _draw(u, upos, U_DOWN)) * grp[ti[tool, T_FAM], 0],
                      FAIL, tool, 0)
                continue
            _take_down(tool, FAIL, repair, now, ti, fi, idle, pk, pm, ht, hi, sc, acc, warmup, end)
        elif kind == DOWN_END:
            tool, dkind = a, b
            if dkind == FAIL:
                _push(ht, hi, sc, now - math.log(1.0 - _draw(u, upos, U_DOWN)) * grp[ti[tool, T_FAM], 0],
                      FAIL, tool, 0)
            if ti[tool, T_PEND] > 0:
                pkind, minutes = _pop_pending(tool, ti, pk, pm)
                _go_down(tool, pkind, minutes, now, ti, fi, idle, ht, hi, sc, acc, warmup, end)
                continue
            _set_state(tool, UP, ti, fi, idle)
            to_dispatch = ti[tool, T_FAM]
        elif kind == PM_DUE:
            tool, p = a, b
            if sc[C_PEER] == 1:
                duration = pmc[p, 2] + pmc[p, 3] * (_draw(u, upos, U_DOWN) - 0.5)
                _outage(tool, A_PM, duration, now, tf, ti, acc, warmup, end)
                _push(ht, hi, sc, now + duration + pmc[p, 1], PM_DUE, tool, p)
                continue
            _push(ht, hi, sc, now + pmc[p, 1], PM_DUE, tool, p)
            duration = pmc[p, 2] + pmc[p, 3] * (_draw(u, upos, U_DOWN) - 0.5)
            _take_down(tool, PM_DUE, duration, now, ti, fi, idle, pk, pm, ht, hi, sc, acc, warmup, end)
        else:
            n = sc[C_NSAMPLES]
            wip[n, 0] = now / MIN_PER_DAY
            wip[n, 1] = sc[C_INFAB]
            sc[C_NSAMPLES] = n + 1
            _push(ht, hi, sc, now + sample_every * MIN_PER_DAY, SAMPLE, 0, 0)
        if to_dispatch >= 0:
            _dispatch(to_dispatch, now, criterion, qh, qn, li, lf, lltl, si, sf, ri, fi, famf, ti, tf, idle, setm,
                      minrun, u, upos, ht, hi, sc, acc, cqtc, bsizes, warmup, end, scratch)
    return 0
