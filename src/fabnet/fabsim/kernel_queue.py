"""The compiled kernel's event queue: a calendar of short buckets for the near future, a binary
heap for the far future. Entries leave in exactly the reference's heapq order (by minute, then
by push order), so both engines see the same events one by one.

Why not one binary heap: it was 43 % of the kernel's samples on HVLM FIFO 365 days (pop 38 %),
each of 25 M pops walking about 12 levels of 3,200 entries on comparisons the processor guesses
wrong half the time. Event minutes are floats (drawn process, transport and repair times), but
99.7 % of pushes fall within a day of the present (half within 20 minutes: a lot's next
operation, its transport), so a ring of RING buckets of 1/SCALE minute covering the next
RING / SCALE minutes holds nearly every entry with one or two to a bucket, kept sorted by
(minute, push order) in a singly linked list; bit words mark the buckets that hold anything, so
the next one is found with LLVM's count of trailing zeros. An entry beyond the ring's span
(breakdowns, PMs, releases far ahead, times that are infinite) waits in the binary heap and moves
into its bucket when the ring's span reaches it (migrate).

Invariant: with `cur` the bucket earliest() last moved to (Heap.counters[C_CUR]; the bucket of
the entry taken last, or of the next one when a chunk ends), every ring entry lies in buckets
[cur, cur + RING) (so bucket & RING_MASK names it alone) and every heap entry at or beyond
cur + RING. The kernel pushes nothing below the present, but a minute before cur's bucket would
still be handled: it goes into bucket cur in its order there, ahead of every later bucket, which
is where the heap would have popped it too.
"""

from __future__ import annotations

import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros  # LLVM's cttz: numba's, not in its documentation

from fabnet.fabsim.kernel_base import jit
from fabnet.fabsim.kernel_state import C_CUR, C_FREE, C_HSIZE, C_OVER, C_SEQ, COUNTERS, FIELD, PACK, Heap

#: Buckets per minute. At 1/16 minute a bucket near the present holds one to three entries on
#: HVLM (HVLM's FIFO year: 50 events a simulated minute, 3,200 pending).
SCALE = 16.0
RING_BITS = 15
#: Buckets in the ring: 2,048 minutes ahead at SCALE, more than 99.7 % of pushes look.
RING = 1 << RING_BITS
RING_MASK = RING - 1
#: Buckets to a bit word (32 in an int64: no shift or mask ever touches the sign bit).
WORD_SHIFT = 5
WORD_MASK = (1 << WORD_SHIFT) - 1
WORDS = RING >> WORD_SHIFT
#: The bucket of every minute from FAR / SCALE on, infinity included (a group without breakdowns
#: draws its next at an infinite minute); within it the order is still by minute, then push.
FAR = float(1 << 61)
#: Columns of Heap.node's flat rows of N_WIDTH (kernel_state: why flat).
N_SEQ, N_EVENT, N_NEXT = range(3)
N_WIDTH = 3


def empty_queue(capacity: int) -> Heap:
    """An empty event queue for up to `capacity` entries, with the run's counters at zero."""
    node = np.zeros((capacity, N_WIDTH), np.int64)
    node[:, N_NEXT] = np.arange(1, capacity + 1)  # every node free, chained
    node[-1, N_NEXT] = -1
    return Heap(
        time=np.zeros(capacity),
        entry=np.zeros((capacity, 2), np.int64),
        counters=np.zeros(COUNTERS, np.int64),
        node_time=np.zeros(capacity),
        node=node.reshape(-1),
        bucket=np.full(RING, -1, np.int64),
        filled=np.zeros(WORDS, np.int64),
    )


@jit
def _bucket(time, cur):
    """The absolute bucket of a minute, never below the current one."""
    b = int(min(time * SCALE, FAR))
    return b if b > cur else cur


@jit
def _far_put(ht, hi, i, time, seq, packed):
    ht[i] = time
    hi[i, 0] = seq
    hi[i, 1] = packed


@jit
def _far_push(ht, hi, n, time, seq, packed):
    """Push onto the far heap of n entries (a binary heap by minute, then push order; it takes
    0.3 % of pushes, so its sifts are plain)."""
    while n > 0:
        parent = (n - 1) >> 1
        if ht[parent] < time or (ht[parent] == time and hi[parent, 0] < seq):
            break
        _far_put(ht, hi, n, ht[parent], hi[parent, 0], hi[parent, 1])
        n = parent
    _far_put(ht, hi, n, time, seq, packed)


@jit
def _far_pop(ht, hi, n):
    """Remove the far heap's first of n entries; returns (minute, push order, packed event)."""
    time, seq, packed = ht[0], hi[0, 0], hi[0, 1]
    n -= 1
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
            _far_put(ht, hi, i, ht[child], hi[child, 0], hi[child, 1])
            i = child
        _far_put(ht, hi, i, lt, l0, l1)
    return time, seq, packed


@jit
def _link(nt, nd, head, filled, node, time, seq, bucket):
    """Put a node into its bucket's list after every entry earlier by (minute, push order)."""
    slot = bucket & RING_MASK
    before = -1
    k = head[slot]
    while k >= 0 and (nt[k] < time or (nt[k] == time and nd[k * N_WIDTH + N_SEQ] < seq)):
        before = k
        k = nd[k * N_WIDTH + N_NEXT]
    nd[node * N_WIDTH + N_NEXT] = k
    if before < 0:
        head[slot] = node
        filled[slot >> WORD_SHIFT] |= 1 << (slot & WORD_MASK)
    else:
        nd[before * N_WIDTH + N_NEXT] = node


@jit
def _into_ring(heap, time, seq, packed, bucket):
    sc, nd = heap.counters, heap.node
    node = sc[C_FREE]
    sc[C_FREE] = nd[node * N_WIDTH + N_NEXT]
    heap.node_time[node] = time
    nd[node * N_WIDTH + N_SEQ] = seq
    nd[node * N_WIDTH + N_EVENT] = packed
    _link(heap.node_time, nd, heap.bucket, heap.filled, node, time, seq, bucket)


@jit
def push(heap, time, kind, a, b):
    sc = heap.counters
    sc[C_SEQ] += 1
    seq = sc[C_SEQ]
    packed = (kind << (2 * PACK)) | (a << PACK) | b
    sc[C_HSIZE] += 1
    cur = sc[C_CUR]
    bucket = _bucket(time, cur)
    if bucket < cur + RING:
        _into_ring(heap, time, seq, packed, bucket)
    else:
        n = sc[C_OVER]
        sc[C_OVER] = n + 1
        _far_push(heap.time, heap.entry, n, time, seq, packed)


@jit
def _next_filled(filled, cur):
    """The first bucket from cur on that holds an entry (the ring must hold one)."""
    slot = cur & RING_MASK
    word = slot >> WORD_SHIFT
    base = cur - (slot & WORD_MASK)  # the absolute bucket of the word's bit 0
    bits = filled[word] & (-1 << (slot & WORD_MASK))
    while bits == 0:
        word = (word + 1) & (WORDS - 1)
        base += 1 << WORD_SHIFT
        bits = filled[word]
    return base + trailing_zeros(bits)  # type: ignore[call-arg]  # an intrinsic: numba passes its context


@jit
def _migrate(heap, cur):
    """Move the far heap's entries that the ring's span now reaches into their buckets."""
    sc = heap.counters
    while sc[C_OVER] > 0:
        bucket = _bucket(heap.time[0], cur)
        if bucket >= cur + RING:
            return
        time, seq, packed = _far_pop(heap.time, heap.entry, sc[C_OVER])
        sc[C_OVER] -= 1
        _into_ring(heap, time, seq, packed, bucket)


@jit
def earliest(heap):
    """The minute of the first entry (the queue must not be empty). Moves the ring on to that
    entry's bucket, which pop then takes it from: call it before each pop."""
    sc = heap.counters
    cur = sc[C_CUR]
    ring_empty = sc[C_HSIZE] == sc[C_OVER]  # then on to the far heap's first
    cur = _bucket(heap.time[0], cur) if ring_empty else _next_filled(heap.filled, cur)
    if cur != sc[C_CUR]:
        sc[C_CUR] = cur
        _migrate(heap, cur)
    return heap.node_time[heap.bucket[cur & RING_MASK]]


@jit
def pop(heap):
    """Remove the first entry, found by earliest(); returns (time, kind, a, b)."""
    sc, nd, head = heap.counters, heap.node, heap.bucket
    slot = sc[C_CUR] & RING_MASK
    node = head[slot]
    after = nd[node * N_WIDTH + N_NEXT]
    head[slot] = after
    if after < 0:
        heap.filled[slot >> WORD_SHIFT] &= ~(1 << (slot & WORD_MASK))
    nd[node * N_WIDTH + N_NEXT] = sc[C_FREE]
    sc[C_FREE] = node
    sc[C_HSIZE] -= 1
    packed = nd[node * N_WIDTH + N_EVENT]
    return heap.node_time[node], packed >> (2 * PACK), (packed >> PACK) & FIELD, packed & FIELD
