"""Ctrl-C and SIGTERM that are never lost.

Python raises KeyboardInterrupt from its signal handler in whatever the main thread runs next.
When that is a garbage-collection callback or a `__del__` (distributed installs a GC callback
for its diagnostics), the exception is printed as "ignored" and the command goes on: seen in CI,
a Dask sweep ran on for 30 s after Ctrl-C. The handler here also remembers the signal, and the
loops that wait for worker processes (risk.runner.finishing) raise it again at their next poll,
so a swallowed interrupt costs a poll (0.2 s), not the rest of the sweep.
"""

from __future__ import annotations

import signal
import threading

_received = threading.Event()


def install() -> None:
    """Ctrl-C and SIGTERM both stop the command through KeyboardInterrupt, remembered (a
    command's worker processes are stopped and its message says what was kept)."""
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: object) -> None:
    _received.set()
    raise KeyboardInterrupt


def raise_if_interrupted() -> None:
    """Raise the interrupt a signal brought, once, where it was swallowed before reaching here."""
    if _received.is_set():
        _received.clear()
        raise KeyboardInterrupt


def clear() -> None:
    """The interrupt has been answered (its message printed): a later poll does not raise it again."""
    _received.clear()
