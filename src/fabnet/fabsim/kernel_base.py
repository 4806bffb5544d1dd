"""How the compiled kernel is compiled and the small changes of state every part of it makes: a
random draw, a time account, a tool's state (kernel_state.py has the records and columns they
work on; kernel_queue.py the event queue)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fabnet.fabsim import rules
from fabnet.fabsim.kernel_state import (
    A_WIDTH,
    DRAW_ROW,
    F_IDLE,
    F_INTS,
    IDLE_MASK,
    IDLE_SHIFT,
    T_FAM,
    T_INTS,
    T_STATE,
)
from fabnet.fabsim.model import UP
from fabnet.fabsim.numba_import import kernel_cache, nb

#: Every function of the kernel is compiled without numba's reference counting (NRT). The
#: helpers take many arrays, and a call that numba does not inline increments and decrements each
#: one's count, atomically: measured with perf on HVLM FIFO 90 days, 36 % of the kernel's CPU
#: went to NRT_incref/NRT_decref, and without them a run takes 38 % less CPU with identical
#: results. The kernel allocates nothing (all state and scratch come from fast.py), so it has
#: nothing to count; an allocation added later fails to compile instead of leaking. `_nrt` is
#: numba's own option (numba.core.options), not in its documentation: numba is pinned by uv.lock,
#: and if an upgrade dropped the option every decorator here would fail at import.
_jit = nb.njit(cache=True, _nrt=False)  # type: ignore[call-overload]  # numba's stubs list documented options only
#: Without counting, a call still copies every array's fields (data, shape, strides: 7 to 9
#: words each) onto the stack: the calls run_chunk → _dispatch → _choose, _start pushed 230, 145
#: and 180 words, a third of the kernel's samples under perf (HVLM FIFO 365 days). Those, with
#: _enter_step and _key_row, are inlined by numba before typing (inline="always"; 30 % less CPU,
#: same results). Each call site is a copy to compile: _dispatch has one (run_chunk's
#: to_dispatch), and a first compile takes ~13 s.
_jit_inline = nb.njit(cache=True, _nrt=False, inline="always")  # type: ignore[call-overload]


def jit(function: Callable[..., Any]) -> Any:
    """A kernel function compiled (and cached under every kernel source: numba_import)."""
    with kernel_cache():
        return _jit(function)


def jit_inline(function: Callable[..., Any]) -> Any:
    """A kernel function inlined where it is called, before typing."""
    with kernel_cache():
        return _jit_inline(function)


#: The one critical-ratio formula (rules.py), compiled for the kernel.
critical_ratio = jit(rules.critical_ratio)
#: A rule's criterion (rules.py) as the kernel calls it: (queued, due, remaining, ratio, mean,
#: now, family_by_cr) -> rank, smallest first.
CRITERION = nb.types.float64(*[nb.types.float64] * 6, nb.types.boolean)


@jit
def draw(d, stream):
    value = d.u[stream * DRAW_ROW + d.pos[stream]]
    d.pos[stream] += 1
    return value


@jit
def account(acc, column, family, start, minutes, warmup, end):
    lo = max(start, warmup)
    hi = min(start + minutes, end)
    if hi > lo:
        acc[family * A_WIDTH + column] += hi - lo


@jit
def set_state(tool, state, ti, fi, idle):
    family = ti[tool * T_INTS + T_FAM]
    fi[family * F_INTS + F_IDLE] += (state == UP) - (ti[tool * T_INTS + T_STATE] == UP)
    ti[tool * T_INTS + T_STATE] = state
    if state == UP:
        idle[tool >> IDLE_SHIFT] |= 1 << (tool & IDLE_MASK)
    else:
        idle[tool >> IDLE_SHIFT] &= ~(1 << (tool & IDLE_MASK))
