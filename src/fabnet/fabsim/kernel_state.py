"""The compiled kernel's state: the named records it is passed, their columns and its own codes.
kernel_base.py (how it is compiled, small changes of state), kernel_queue.py (the event queue),
kernel_dispatch.py (queues and starts) and kernel.py (the event loop) build on this.

The state is a handful of records (typing.NamedTuple of numpy arrays) instead of the 45
positional arrays the kernel once took: numba passes a tuple of arrays as its arrays (a call
copies the same words as for the fields one by one), and a field is read by name. Measured on
HVLM FIFO 365 days (docs/design.md): whole processes within the machine's noise of before, the
kernel alone 0–4 % slower in A/B rounds on a loaded machine. A jitclass or a structref would be one pointer to pass,
but both are objects numba counts references to, and the kernel runs without reference counting
(see kernel_base.jit). Helpers called in the hot loop that numba does not inline still take the few arrays
they read, not whole records: a call copies every field of its arguments onto the stack.

The lots', steps', families' and tools' columns (Lots.ints … Tools.floats), and the routes, the
random streams, the time accounts and the calendar's nodes, are flat: row r's column c is at
r * WIDTH + c (L_INTS, L_FLOATS, S_INTS, S_FLOATS, R_WIDTH, F_INTS, T_INTS, T_FLOATS, DRAW_ROW,
A_WIDTH, kernel_queue.N_WIDTH), the rows of fast.py's 2-D arrays. numba reads a 2-D array's row
length from the array at run time, and the kernel's loop keeps those of its ~100 arrays on its
stack: every [row, column] read one and multiplied by it. With the widths constants the
multiply is by a constant and the load goes: HVLM FIFO 365 days, the kernel alone 2.95 → 2.81 s
CPU for the first seven (medians, fresh processes, faster in every round), 2.74 → 2.70 for the
other four, the same results.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

#: An event queue entry is its minute, its push order and its event (kind, a, b) packed into one
#: int64 (Heap.entry, Heap.node): a heap's sift moves three words instead of five. a and b (lot,
#: tool, stream, PM calendar) must stay below 2**PACK; fast.py checks the sizes.
PACK = 28
FIELD = (1 << PACK) - 1
#: Which tools are up and idle: bit (tool & IDLE_MASK) of word (tool >> IDLE_SHIFT) of
#: Tools.idle; 32 bits to a word of int64, so that no shift or mask ever touches the sign bit.
IDLE_SHIFT = 5
IDLE_MASK = (1 << IDLE_SHIFT) - 1
#: The kernel's own event kind, not the model's: a tool whose lots finish when it frees (no
#: cascade), as one queue entry (tool, 0) for its TOOL_FREE and its lots' LOT_DONEs. The reference
#: pushes those at one minute one after the other, so nothing comes between them: handled in one
#: go they give the same run, with half of these pushes and pops saved. It counts as the events
#: it stands for.
FREE_AND_DONE = 8
#: The kernel stops for a refill when a stream has fewer draws left than this.
LOW_WATER = 4096
#: Draws a stream's row of Draws.u holds (fast._Buffers: four of the reference engine's blocks).
DRAW_ROW = 4 << 16

# Route-step columns of Steps.ints and Steps.floats.
#: S_LTLIN: the one slot of a lot's dedications (Lots.dedicated) that can name this step, -1
#: when none can, LTL_SLOTS when several can (then they are searched).
S_FAM, S_PER, S_BMIN, S_BMAX, S_SETUP, S_LTL, S_RWK, S_CQT, S_DESC, S_RWKSLOT, S_LTLSLOT, S_LTLIN = range(12)
LTL_SLOTS = 16
S_PTIME, S_SPREAD, S_STIME, S_BINT, S_PINT, S_RWKP, S_SAMPLE, S_CQTMIN, S_MEAN, S_REMAIN = range(10)
S_INTS, S_FLOATS = 12, 10
#: Columns of Steps.routes: a route's first row in the steps' arrays, its steps.
R_FIRST, R_STEPS = range(2)
R_WIDTH = 2
# Columns of Families.ints.
#: F_IDLE: tools of the family up and idle now (a dispatch to a family without one returns at once).
#: F_PEERCQT: 1 when the rank's queue-time flag is the peer's (convention "cqt"; the same for all).
#: F_RANKED: 1 when the family's queue is kept in rank order (the rule is timeless there:
#: rules.Rule.timeless): a lot's key but for the setup parts never changes while it waits.
(
    F_FIRST,
    F_COUNT,
    F_CASC,
    F_DELAY,
    F_HASSETUP,
    F_HASLTL,
    F_BATCH,
    F_BYCR,
    F_SETUPFIRST,
    F_IDLE,
    F_PEERCQT,
    F_RANKED,
) = range(12)
F_INTS = 12
# Columns of Tools.ints.
#: T_NLOTS: lots of the tool's running operation that finish when the tool frees (FREE_AND_DONE),
#: or 0; those lots are in the columns from T_LOTS on.
T_FAM, T_STATE, T_SETUP, T_RUNS, T_PEND, T_NPPM, T_NLOTS, T_LOTS = range(8)
#: Lots one start may take: a batch holds at most 150 wafers, 6 lots (the chosen lots, a tool's
#: running lots from T_LOTS on, and each batch group's members in the kernel's scratch).
MAX_BATCH_LOTS = 8
T_INTS = T_LOTS + MAX_BATCH_LOTS
# Columns of Lots.ints.
#: L_STARTED: 1 once the lot has started a step (the peer's queue-time flag, convention "cqt").
L_ROUTE, L_STEP, L_PRIO, L_STREAM, L_NEXT, L_PREV, L_CQTT, L_CQTS, L_STARTED = range(9)
L_INTS = 9
# Columns of Lots.floats. L_RANK: the rule's criterion when the lot joined a ranked queue (F_RANKED).
L_RELEASE, L_DUE, L_QUEUED, L_CQTD, L_DSNAP, L_RANK = range(6)
L_FLOATS = 6
# Counters (Heap.counters).
#: C_HSIZE: entries in the event queue; C_CUR: the calendar's current bucket, C_FREE: its first
#: free node, C_OVER: entries in its far heap (kernel_queue.py).
(
    C_NLOTS,
    C_INFAB,
    C_NREC,
    C_STEPS,
    C_EVENTS,
    C_SEQ,
    C_HSIZE,
    C_RELEASED,
    C_NSAMPLES,
    C_PEER,
    C_STARTED,
    C_CUR,
    C_FREE,
    C_OVER,
) = range(14)
COUNTERS = 14
#: Columns of Tools.floats: wafers processed; minutes of outages under the peer's conventions
#: (they delay a busy tool's pending events instead of taking the tool down); that figure when
#: the tool's running operation was last scheduled (its TOOL_FREE is delayed by the difference).
TF_WAFERS, TF_DELAY, TF_SNAP = range(3)
T_FLOATS = 3
# Columns of Scratch.groups (batch forming): a group's step name, its size, then its lots.
G_DESC, G_SIZE, G_LOTS = range(3)
# Columns of Tally.time (minutes per family after warm-up, and starts).
A_BUSY, A_SETUP, A_DOWN, A_PM, A_WAIT, A_STARTS = range(6)
A_WIDTH = 6
#: Columns of Tally.records: a finished lot, as model.LOT_RECORD names them.
RECORD_WIDTH = 7


class Heap(NamedTuple):
    """The event queue (kernel_queue.py: a calendar of buckets, a binary heap beyond its span)
    and the run's counters (C_*)."""

    time: np.ndarray  # the far heap: minute of each entry
    entry: np.ndarray  # the far heap: (push order, packed event) of each entry
    counters: np.ndarray
    node_time: np.ndarray  # the calendar's entries: minute
    node: np.ndarray  # the calendar's entries, flat rows: (push order, packed event, next in its bucket or free)
    bucket: np.ndarray  # each bucket's first entry, -1 when empty
    filled: np.ndarray  # bit words: the buckets that hold an entry


class Draws(NamedTuple):
    """The random streams: row s holds stream s's next draws (fast._Buffers refills them)."""

    u: np.ndarray  # flat rows of DRAW_ROW
    pos: np.ndarray  # each row's read position, then each row's length


class Steps(NamedTuple):
    """Every route's steps, one row each (a route's rows start at routes[route, 0])."""

    ints: np.ndarray  # flat rows of S_INTS: S_FAM …
    floats: np.ndarray  # flat rows of S_FLOATS: S_PTIME …
    routes: np.ndarray  # flat rows of R_WIDTH: R_FIRST, R_STEPS
    raw: np.ndarray  # each route's mean raw minutes
    transport: np.ndarray  # (least, most) minutes between two Fab families


class Families(NamedTuple):
    """Tool families: traits, queues (doubly linked through Lots.ints) and setups."""

    ints: np.ndarray  # flat rows of F_INTS: F_FIRST …
    load: np.ndarray  # load + unload minutes
    outages: np.ndarray  # (mean minutes to failure, to repair) of the family's tool group
    head: np.ndarray  # (first, last) lot of the queue, -1 when empty
    queued: np.ndarray  # lots in the queue
    setup: np.ndarray  # minutes from setup row − 1 (row 0: any) to setup column
    min_run: np.ndarray  # per setup: lots a tool runs before it may change setup


class Tools(NamedTuple):
    ints: np.ndarray  # flat rows of T_INTS: T_FAM …
    floats: np.ndarray  # flat rows of T_FLOATS: TF_WAFERS …
    idle: np.ndarray  # bit words (IDLE_SHIFT)
    pending_kind: np.ndarray  # outages due while the tool ran, in order
    pending_minutes: np.ndarray
    piece_pms: np.ndarray  # wafer-count PMs: (next due, interval, mean minutes, spread)


class Lots(NamedTuple):
    ints: np.ndarray  # flat rows of L_INTS: L_ROUTE …
    floats: np.ndarray  # flat rows of L_FLOATS: L_RELEASE …
    dedicated: np.ndarray  # per slot: (step dedicated, tool), lot-to-lens
    reworked: np.ndarray  # per rework slot: 1 once reworked


class Sources(NamedTuple):
    """What schedules events of its own: release streams and calendar PMs."""

    stream_ints: np.ndarray  # (route, priority, lots to release, released)
    stream_floats: np.ndarray  # (first minute, interval, due allowance, exponential)
    pms: np.ndarray  # (family, interval, mean minutes, spread)


class Tally(NamedTuple):
    """What the run reports (fast._State.result reads it)."""

    records: np.ndarray  # finished lots (RECORD_WIDTH)
    time: np.ndarray  # flat rows of A_WIDTH per family: A_BUSY …
    cqt: np.ndarray  # per step: (queue-time checks, violations)
    batch_sizes: np.ndarray  # lots per batch → batches
    wip: np.ndarray  # (day, lots in the fab) samples


class Scratch(NamedTuple):
    """Work space of a dispatch, and the lots of a FREE_AND_DONE."""

    cands: np.ndarray
    keys: np.ndarray
    order: np.ndarray
    chosen: np.ndarray
    groups: np.ndarray
    finishing: np.ndarray


class Opening(NamedTuple):
    """prepare.start_of's schedule, entered by the first chunk."""

    wip_ints: np.ndarray  # (route, priority, step)
    wip_floats: np.ndarray  # (release, due)
    event_time: np.ndarray
    event: np.ndarray  # (kind, a, b)
