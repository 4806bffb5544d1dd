"""The compiled kernel's dispatcher: family queues, rank keys, batch forming and the start of an
operation, as engine.Simulation's _dispatch, _choose, _keys, _form_batch and _start do them.
kernel.py's event loop calls `dispatch` once an event may have given a family's idle tools work.
"""

from __future__ import annotations

import math

from numba.cpython.unsafe.numbers import trailing_zeros  # LLVM's cttz: numba's, not in its documentation

from fabnet.fabsim.kernel_base import account, critical_ratio, draw, jit, jit_inline, set_state
from fabnet.fabsim.kernel_queue import push
from fabnet.fabsim.kernel_state import (
    A_BUSY,
    A_SETUP,
    A_STARTS,
    A_WAIT,
    A_WIDTH,
    F_BATCH,
    F_BYCR,
    F_CASC,
    F_COUNT,
    F_FIRST,
    F_HASLTL,
    F_HASSETUP,
    F_IDLE,
    F_INTS,
    F_PEERCQT,
    F_RANKED,
    F_SETUPFIRST,
    FREE_AND_DONE,
    G_DESC,
    G_LOTS,
    G_SIZE,
    IDLE_MASK,
    IDLE_SHIFT,
    L_CQTD,
    L_CQTS,
    L_CQTT,
    L_DSNAP,
    L_DUE,
    L_FLOATS,
    L_INTS,
    L_NEXT,
    L_PREV,
    L_PRIO,
    L_QUEUED,
    L_RANK,
    L_ROUTE,
    L_STARTED,
    L_STEP,
    LTL_SLOTS,
    R_FIRST,
    R_WIDTH,
    S_BINT,
    S_BMAX,
    S_BMIN,
    S_DESC,
    S_FLOATS,
    S_INTS,
    S_LTLIN,
    S_MEAN,
    S_PER,
    S_PINT,
    S_PTIME,
    S_REMAIN,
    S_SETUP,
    S_SPREAD,
    S_STIME,
    T_FAM,
    T_FLOATS,
    T_INTS,
    T_LOTS,
    T_NLOTS,
    T_RUNS,
    T_SETUP,
    TF_DELAY,
    TF_SNAP,
    TF_WAFERS,
)
from fabnet.fabsim.model import BUSY, LOT_DONE, PER_BATCH, PER_PIECE, TOOL_FREE, U_PROCESS, WAFERS


@jit_inline
def _join(qh, li, family, prev, nxt):
    """Make `nxt` follow `prev` in the family's queue; -1 for prev: nxt is the head, for nxt:
    prev is the tail."""
    if prev >= 0:
        li[prev * L_INTS + L_NEXT] = nxt
    else:
        qh[family, 0] = nxt
    if nxt >= 0:
        li[nxt * L_INTS + L_PREV] = prev
    else:
        qh[family, 1] = prev


@jit
def queue_link(qh, qn, li, family, lot, prev):
    """Put the lot into the family's queue right after `prev` (-1: at the head)."""
    nxt = li[prev * L_INTS + L_NEXT] if prev >= 0 else qh[family, 0]
    _join(qh, li, family, prev, lot)
    _join(qh, li, family, lot, nxt)
    qn[family] += 1


@jit
def queue_insert_ranked(qh, qn, li, lf, family, lot, peer_cqt):
    """Insert after the last lot that does not rank after it: the queue stays sorted by the
    timeless key (waits, −priority, criterion) and, among equal keys, in arrival order, which is
    the order the reference's stable ranking of the arrival-ordered queue gives."""
    waits, prio, rank = _waits(li, lot, peer_cqt), li[lot * L_INTS + L_PRIO], lf[lot * L_FLOATS + L_RANK]
    prev = qh[family, 1]
    while prev >= 0:
        other = _waits(li, prev, peer_cqt)
        if waits > other or (
            waits == other
            and (
                prio < li[prev * L_INTS + L_PRIO]
                or (prio == li[prev * L_INTS + L_PRIO] and rank >= lf[prev * L_FLOATS + L_RANK])
            )
        ):
            break
        prev = li[prev * L_INTS + L_PREV]
    queue_link(qh, qn, li, family, lot, prev)


@jit
def _waits(li, lot, peer_cqt):
    """1.0 unless a critical queue time runs to the step the lot waits at (the peer's flag: the
    lot has started a step); constant while the lot waits."""
    if peer_cqt:
        return 0.0 if li[lot * L_INTS + L_STARTED] == 1 else 1.0
    return 0.0 if (li[lot * L_INTS + L_CQTT] >= 0 and li[lot * L_INTS + L_CQTT] == li[lot * L_INTS + L_STEP]) else 1.0


@jit_inline
def rank(criterion, queued, due, now, sf, g, by_cr):
    """The rule's criterion for a lot queued at `queued`, due at `due`, at route step row g."""
    remaining = sf[g * S_FLOATS + S_REMAIN]
    return criterion(queued, due, remaining, critical_ratio(due, now, remaining), sf[g * S_FLOATS + S_MEAN], now, by_cr)


@jit
def _may_use(lltl, li, si, ri, lot, tool):
    """Whether the lot may start on this tool: no lot-to-lens dedication of its step to another."""
    step = li[lot * L_INTS + L_STEP]
    slot = si[(ri[li[lot * L_INTS + L_ROUTE] * R_WIDTH + R_FIRST] + step) * S_INTS + S_LTLIN]
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
    _join(qh, li, family, li[lot * L_INTS + L_PREV], li[lot * L_INTS + L_NEXT])
    qn[family] -= 1


@jit
def _setup_minutes(si, sf, ti, setm, tool, g):
    wanted = si[g * S_INTS + S_SETUP]
    current = ti[tool * T_INTS + T_SETUP]
    if wanted < 0 or current == wanted:
        return 0.0
    if not math.isnan(sf[g * S_FLOATS + S_STIME]):
        return sf[g * S_FLOATS + S_STIME]
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


@jit
def _keep_setup(tool, ti, fi, minrun):
    """The tool's setup while it has not yet run that setup's minimum number of lots, else -1."""
    cur = ti[tool * T_INTS + T_SETUP]
    if (
        fi[ti[tool * T_INTS + T_FAM] * F_INTS + F_HASSETUP] == 1
        and cur >= 0
        and ti[tool * T_INTS + T_RUNS] < minrun[cur]
    ):
        return cur
    return -1


@jit_inline
def _key_row(keys, k, lot, tool, keep, now, criterion, lots, steps, fams, tools):
    """Row k of `keys`: the lot's rank key for this tool (engine.Simulation._keys)."""
    li, lf, si, sf, fi, ti = lots.ints, lots.floats, steps.ints, steps.floats, fams.ints, tools.ints
    family = ti[tool * T_INTS + T_FAM]
    g = steps.routes[li[lot * L_INTS + L_ROUTE] * R_WIDTH + R_FIRST] + li[lot * L_INTS + L_STEP]
    last = rank(
        criterion,
        lf[lot * L_FLOATS + L_QUEUED],
        lf[lot * L_FLOATS + L_DUE],
        now,
        sf,
        g,
        fi[family * F_INTS + F_BYCR] == 1,
    )
    waits = _waits(li, lot, fi[family * F_INTS + F_PEERCQT] == 1)
    if fi[family * F_INTS + F_HASSETUP] == 0:
        keys[k, 0] = waits
        keys[k, 1] = -li[lot * L_INTS + L_PRIO]
        keys[k, 2] = last
        return
    setup = _setup_minutes(si, sf, ti, fams.setup, tool, g)
    keys[k, 0] = 1.0 if (keep >= 0 and si[g * S_INTS + S_SETUP] != keep) else 0.0
    keys[k, 1] = waits
    if fi[family * F_INTS + F_SETUPFIRST] == 1:
        keys[k, 2] = setup
        keys[k, 3] = -li[lot * L_INTS + L_PRIO]
    else:
        keys[k, 2] = -li[lot * L_INTS + L_PRIO]
        keys[k, 3] = setup
    keys[k, 4] = last


@jit_inline
def _keys_for(tool, n, now, criterion, lots, steps, fams, tools, scratch):
    """Rank keys of the n candidate lots, as engine.Simulation._keys builds them; returns the key width."""
    keep = _keep_setup(tool, tools.ints, fams.ints, fams.min_run)
    for k in range(n):
        _key_row(scratch.keys, k, scratch.cands[k], tool, keep, now, criterion, lots, steps, fams, tools)
    return 5 if fams.ints[tools.ints[tool * T_INTS + T_FAM] * F_INTS + F_HASSETUP] == 1 else 3


@jit_inline
def _choose(family, tool, now, criterion, lots, steps, fams, tools, scratch):
    """Fill scratch.chosen with the lot(s) to start; returns how many (0: none)."""
    li, si, ri, fi = lots.ints, steps.ints, steps.routes, fams.ints
    cands, keys, order, chosen, groups = scratch.cands, scratch.keys, scratch.order, scratch.chosen, scratch.groups
    n = 0
    lot = fams.head[family, 0]
    check_ltl = fi[family * F_INTS + F_HASLTL] == 1
    # a ranked queue without setups is in the reference's order already: the first lot this tool
    # may use is the reference's choice, and the batch former reads the queue as it stands
    in_order = fi[family * F_INTS + F_RANKED] == 1 and fi[family * F_INTS + F_HASSETUP] == 0
    single = in_order and fi[family * F_INTS + F_BATCH] == 0
    # a ranked queue with setups, one lot a start: ranked as it is walked, and the walk ends at a
    # lot that keeps the minimum run and needs no setup, which no later lot can beat (it ranks
    # after it on every part but the setup ones, where it cannot do better than nothing)
    walk = (
        fi[family * F_INTS + F_RANKED] == 1
        and fi[family * F_INTS + F_HASSETUP] == 1
        and fi[family * F_INTS + F_BATCH] == 0
    )
    keep = _keep_setup(tool, tools.ints, fi, fams.min_run) if walk else -1
    setup_column = 2 if fi[family * F_INTS + F_SETUPFIRST] == 1 else 3
    best = 0
    while lot >= 0:
        if not check_ltl or _may_use(lots.dedicated, li, si, ri, lot, tool):
            if single:
                chosen[0] = lot
                return 1
            cands[n] = lot
            if walk:
                _key_row(keys, n, lot, tool, keep, now, criterion, lots, steps, fams, tools)
                if n > 0 and _less(keys, n, best, 5):
                    best = n
                if keys[best, 0] == 0.0 and keys[best, setup_column] == 0.0:
                    n += 1
                    break
            n += 1
        lot = li[lot * L_INTS + L_NEXT]
    if n == 0 or single:
        return 0
    if walk:
        chosen[0] = cands[best]
        return 1
    if in_order:
        for k in range(n):
            order[k] = k
        return _batch_or_first(cands, order, n, li, si, ri, chosen, groups)
    width = _keys_for(tool, n, now, criterion, lots, steps, fams, tools, scratch)
    if fi[family * F_INTS + F_BATCH] == 0:
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
    g0 = ri[li[first * L_INTS + L_ROUTE] * R_WIDTH + R_FIRST] + li[first * L_INTS + L_STEP]
    if si[g0 * S_INTS + S_PER] != PER_BATCH:
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
        g = ri[li[lot * L_INTS + L_ROUTE] * R_WIDTH + R_FIRST] + li[lot * L_INTS + L_STEP]
        if si[g * S_INTS + S_PER] != PER_BATCH:
            continue
        desc = si[g * S_INTS + S_DESC]
        idx = -1
        for j in range(groups):
            if group_desc[j] == desc:
                idx = j
                break
        if idx < 0:
            idx = groups
            group_desc[idx] = desc
            groups += 1
        if (group_size[idx] + 1) * WAFERS <= si[g * S_INTS + S_BMAX]:
            members[idx, group_size[idx]] = lot
            group_size[idx] += 1
        if group_size[idx] * WAFERS >= si[g * S_INTS + S_BMAX]:
            for m in range(group_size[idx]):
                chosen[m] = members[idx, m]
            return group_size[idx]
    for j in range(groups):
        if group_size[j] == 0:
            continue
        first = members[j, 0]
        g = ri[li[first * L_INTS + L_ROUTE] * R_WIDTH + R_FIRST] + li[first * L_INTS + L_STEP]
        if group_size[j] * WAFERS >= si[g * S_INTS + S_BMIN]:
            for m in range(group_size[j]):
                chosen[m] = members[j, m]
            return group_size[j]
    return 0


@jit_inline
def _start(tool, count, now, lots, steps, fams, tools, draws, heap, tally, scratch, warmup, end):
    li, lf, si, sf, ri, fi = lots.ints, lots.floats, steps.ints, steps.floats, steps.routes, fams.ints
    ti, tf, chosen, acc = tools.ints, tools.floats, scratch.chosen, tally.time
    family = ti[tool * T_INTS + T_FAM]
    first = chosen[0]
    g = ri[li[first * L_INTS + L_ROUTE] * R_WIDTH + R_FIRST] + li[first * L_INTS + L_STEP]
    for m in range(count):
        lot = chosen[m]
        _queue_remove(fams.head, fams.queued, li, family, lot)
        li[lot * L_INTS + L_STARTED] = 1
        if now >= warmup:
            acc[family * A_WIDTH + A_WAIT] += now - lf[lot * L_FLOATS + L_QUEUED]
            acc[family * A_WIDTH + A_STARTS] += 1
        if li[lot * L_INTS + L_CQTT] >= 0 and li[lot * L_INTS + L_CQTT] == li[lot * L_INTS + L_STEP]:
            src = ri[li[lot * L_INTS + L_ROUTE] * R_WIDTH + R_FIRST] + li[lot * L_INTS + L_CQTS]
            tally.cqt[src, 0] += 1
            if now > lf[lot * L_FLOATS + L_CQTD]:
                tally.cqt[src, 1] += 1
            li[lot * L_INTS + L_CQTT] = -1
    setup = _setup_minutes(si, sf, ti, fams.setup, tool, g)
    wanted = si[g * S_INTS + S_SETUP]
    if wanted >= 0:
        if ti[tool * T_INTS + T_SETUP] != wanted:
            ti[tool * T_INTS + T_SETUP] = wanted
            ti[tool * T_INTS + T_RUNS] = 0
        ti[tool * T_INTS + T_RUNS] += count
    process = sf[g * S_FLOATS + S_PTIME] + sf[g * S_FLOATS + S_SPREAD] * (draw(draws, U_PROCESS) - 0.5)
    per = si[g * S_INTS + S_PER]
    if per == PER_BATCH:
        bsizes = tally.batch_sizes
        bsizes[min(count, bsizes.shape[0] - 1)] += 1
    load = fams.load[family]
    cascading = fi[family * F_INTS + F_CASC] == 1
    if per == PER_PIECE:
        interval = sf[g * S_FLOATS + S_PINT]
        together = not (cascading and not math.isnan(interval))  # the tool frees when its lots finish
        if not together:
            lot_time = process + (WAFERS - 1.0) * interval + load
            tool_time = WAFERS * interval
        else:
            lot_time = process * WAFERS + load
            tool_time = lot_time
    else:
        lot_time = process + load
        interval = sf[g * S_FLOATS + S_BINT]
        together = not (cascading and not math.isnan(interval))
        tool_time = lot_time if together else interval
    lot_time += setup
    tool_time += setup
    set_state(tool, BUSY, ti, fi, tools.idle)
    account(acc, A_SETUP, family, now, setup, warmup, end)
    account(acc, A_BUSY, family, now + setup, tool_time - setup, warmup, end)
    tf[tool * T_FLOATS + TF_WAFERS] += WAFERS * count
    tf[tool * T_FLOATS + TF_SNAP] = tf[tool * T_FLOATS + TF_DELAY]
    for m in range(count):
        lf[chosen[m] * L_FLOATS + L_DSNAP] = tf[tool * T_FLOATS + TF_DELAY]
    if together:
        for m in range(count):
            ti[tool * T_INTS + T_LOTS + m] = chosen[m]
        ti[tool * T_INTS + T_NLOTS] = count
        push(heap, now + tool_time, FREE_AND_DONE, tool, 0)
        return
    push(heap, now + tool_time, TOOL_FREE, tool, 0)
    for m in range(count):
        push(heap, now + lot_time, LOT_DONE, chosen[m], tool)


@jit_inline
def dispatch(family, now, criterion, lots, steps, fams, tools, draws, heap, tally, scratch, warmup, end):
    # One pass over the family's idle tools, in tool order (the reference's sorted(idle)): the
    # reference restarts after each start, but a tool that found nothing to start finds nothing
    # after lots have left the queue, so the answer is the same. The idle tools are read from the
    # bit words, not by testing every tool: the 400 tools of HVLM's delay family made this loop
    # an eighth of the kernel's time.
    fi, idle, qn = fams.ints, tools.idle, fams.queued
    first = fi[family * F_INTS + F_FIRST]
    last = first + fi[family * F_INTS + F_COUNT] - 1
    for word in range(first >> IDLE_SHIFT, (last >> IDLE_SHIFT) + 1):
        bits = idle[word]
        if word == first >> IDLE_SHIFT:
            bits &= ~((1 << (first & IDLE_MASK)) - 1)
        if word == last >> IDLE_SHIFT:
            bits &= (1 << ((last & IDLE_MASK) + 1)) - 1
        while bits != 0:
            if qn[family] == 0 or fi[family * F_INTS + F_IDLE] == 0:
                return
            tool = (word << IDLE_SHIFT) + trailing_zeros(bits)  # type: ignore[call-arg]  # an intrinsic: numba passes its context
            bits &= bits - 1
            count = _choose(family, tool, now, criterion, lots, steps, fams, tools, scratch)
            if count > 0:
                _start(tool, count, now, lots, steps, fams, tools, draws, heap, tally, scratch, warmup, end)
