"""An interrupt Python swallowed (raised inside a GC callback or a __del__, where it is only
printed as "ignored") still stops a sweep at its next poll (fabnet.core.interrupts)."""

from __future__ import annotations

import contextlib
import signal
import threading
from concurrent.futures import Future

import pytest

from fabnet.core import interrupts
from fabnet.risk.runner import finishing


@pytest.fixture
def handlers():
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    interrupts.install()
    yield
    signal.signal(signal.SIGINT, before[0])
    signal.signal(signal.SIGTERM, before[1])
    interrupts.clear()


def swallowed(signum: int) -> None:
    """The handler runs where the exception it raises is lost, as in a GC callback."""
    handler = signal.getsignal(signum)
    assert callable(handler)
    with contextlib.suppress(KeyboardInterrupt):
        handler(signum, None)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_swallowed_interrupt_stops_the_wait_for_workers_at_its_next_poll(handlers, signum):
    swallowed(signum)
    late: Future[int] = Future()  # a sample that finishes 2 s on: without the poll, it would be waited for
    timer = threading.Timer(2.0, late.set_result, [0])
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        next(finishing([late]))
    timer.cancel()
    done: Future[int] = Future()
    done.set_result(1)
    assert list(finishing([done])) == [done]  # raised once, not at every poll after


def test_an_answered_interrupt_is_not_raised_again(handlers):
    swallowed(signal.SIGINT)
    interrupts.clear()  # the command printed its message (cli.options.user_errors)
    done: Future[int] = Future()
    done.set_result(1)
    assert list(finishing([done])) == [done]
