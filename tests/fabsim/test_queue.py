"""The compiled kernel's event queue (kernel_queue.py) gives its entries in the reference's heapq
order: by minute, then by push order."""

from __future__ import annotations

import heapq
import math

import numba as nb
import numpy as np

from fabnet.fabsim.kernel_queue import RING, SCALE, earliest, empty_queue, pop, push
from fabnet.fabsim.kernel_state import C_HSIZE


@nb.njit
def _replay(minutes, heap, out):
    """Push at each minute (the event's a is its index in `minutes`) or pop where it is NaN;
    writes each pop's (minute, a, the minute earliest() gave before it)."""
    n = 0
    for i in range(minutes.shape[0]):
        if np.isnan(minutes[i]):
            first = earliest(heap)
            now, _, a, _ = pop(heap)
            out[n, 0], out[n, 1], out[n, 2] = now, a, first
            n += 1
        else:
            push(heap, minutes[i], 1, i, 0)
    return n


def _scenario(seed: int, n: int = 30_000) -> tuple[np.ndarray, list[tuple[float, int]]]:
    """Pushes (a minute) and pops (NaN) mixing what the kernel meets and what it might: many at
    one minute, at the present, within and beyond the ring's span, infinite minutes, a minute
    behind the present, the ring left empty with only far entries waiting; and what heapq pops."""
    rng = np.random.default_rng(seed)
    span = RING / SCALE
    heap: list[tuple[float, int]] = []
    minutes, popped, now, earlier = [], [], 0.0, [0.0]
    for i in range(n):
        if heap and (rng.random() < 0.5 or i % 5000 > 4800):  # now and then drain it all
            now, a = heapq.heappop(heap)
            popped.append((now, a))
            minutes.append(math.nan)
            continue
        kind = rng.integers(8)
        if kind == 0:
            minute = earlier[rng.integers(len(earlier))]  # an earlier push's minute: a tie or behind
        elif kind == 1:
            minute = now
        elif kind in (2, 3):
            minute = now + float(rng.integers(0, 40)) / 4  # ties on round minutes
        elif kind == 4:
            minute = now + rng.uniform(0.5, 3) * span
        elif kind == 5:
            minute = now + rng.uniform(10, 500) * span
        elif kind == 6:
            minute = math.inf if rng.random() < 0.2 else now - rng.uniform(0, 5)
        else:
            minute = now + rng.exponential(30.0)
        earlier.append(minute)
        heapq.heappush(heap, (minute, i))
        minutes.append(minute)
    while heap:
        popped.append(heapq.heappop(heap))
        minutes.append(math.nan)
    return np.array(minutes), popped


def test_the_kernels_event_queue_pops_in_the_reference_heaps_order():
    for seed in range(3):
        minutes, expected = _scenario(seed)
        heap = empty_queue(len(minutes) + 1)
        out = np.zeros((len(minutes), 3))
        n = _replay(minutes, heap, out)
        assert n == len(expected) and heap.counters[C_HSIZE] == 0
        assert [(t, int(a)) for t, a in out[:n, :2].tolist()] == expected
        assert np.array_equal(out[:n, 0], out[:n, 2])  # earliest() named each pop's minute
