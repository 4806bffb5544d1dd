"""The simulator's one set of codes, shared by the reference engine (engine.py), the compiled
kernel (kernel.py) and its set-up (fast.py): event kinds, tool states, units, random streams and
the record of a finished lot. numba reads these module constants as compile-time constants.

The SMT2020 units (PER_LOT, PER_PIECE, PER_BATCH, WAFERS_PER_LOT) belong to the reader, which
turns the files' words into them; they are re-exported here so that the engines take every code
from one module.
"""

from __future__ import annotations

from typing import NamedTuple

from fabnet.fabsim.smt2020 import PER_BATCH, PER_LOT, PER_PIECE, WAFERS_PER_LOT

__all__ = [
    "ARRIVE",
    "BUSY",
    "DOWN",
    "DOWN_END",
    "FAIL",
    "LOT_DONE",
    "LOT_RECORD",
    "PER_BATCH",
    "PER_LOT",
    "PER_PIECE",
    "PM_DUE",
    "RELEASE",
    "SAMPLE",
    "STREAMS",
    "TOOL_FREE",
    "UP",
    "U_DOWN",
    "U_MOVE",
    "U_PROCESS",
    "U_RELEASE",
    "U_ROUTE",
    "WAFERS",
    "WAFERS_PER_LOT",
    "LotRecord",
]

#: Event kinds, in the heap entry (time, sequence, kind, a, b); a and b are per kind:
#: RELEASE (stream, 0), ARRIVE (lot, 0), TOOL_FREE (tool, 0), LOT_DONE (lot, tool),
#: FAIL (tool, 0), DOWN_END (tool, FAIL or PM_DUE), PM_DUE (tool, calendar PM), SAMPLE (0, 0).
RELEASE, ARRIVE, TOOL_FREE, LOT_DONE, FAIL, DOWN_END, PM_DUE, SAMPLE = range(8)
#: Tool states.
UP, BUSY, DOWN = range(3)
WAFERS = float(WAFERS_PER_LOT)
#: The random streams, each its own numpy Generator spawned from the seed, in this order:
#: process times, route choices (sampling, rework), outages, transport, release intervals.
U_PROCESS, U_ROUTE, U_DOWN, U_MOVE, U_RELEASE = range(5)
STREAMS = 5


class LotRecord(NamedTuple):
    """A finished lot, as both engines record it (minutes; raw = the route's mean raw minutes).
    A tuple still (the records compare equal to plain 7-tuples and make one float array with
    np.array), so that a field is read by name without a step more in either engine's loop."""

    route: int
    priority: int
    stream: int  # -1 for a lot of the initial WIP
    release: float
    done: float
    due: float
    raw: float


#: The record's field names, in its order (the columns of kpi_tables' lot array).
LOT_RECORD = LotRecord._fields
