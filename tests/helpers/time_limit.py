"""A time limit on every test, so that a hang fails with its stack instead of eating CI's time.

A pytest plugin (registered by `tests/conftest.py`). Each phase of a test (setup, call, teardown)
gets `time_limit` seconds (the ini option, 120 by default; `-o time_limit=N` or the marker
`@pytest.mark.time_limit(N)` change it). When they run out, SIGALRM raises `TimeLimitExceeded`
in the stuck code, with the stack of every asyncio task of the running loop in its message: the
main thread's own stack only shows the event loop waiting in `select()`.

Fixtures wider than a function (the throwaway servers, the seeded demo database) are set up
outside the limit: starting a server on a loaded machine is slow, but it is not the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import signal
import sys
from collections.abc import Generator, Iterator
from types import FrameType

import pytest

DEFAULT_SECONDS = 120.0
"""Generous: the slowest test of the suite takes a few tens of seconds on a loaded machine."""

_ENABLED = hasattr(signal, "setitimer") and sys.platform != "win32"


class TimeLimitExceeded(Exception):
    """A test phase ran past its time limit."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "time_limit",
        "seconds each phase of a test (setup, call, teardown) may take; 0 turns the limit off",
        default=str(DEFAULT_SECONDS),
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "time_limit(seconds): this test's own limit instead of the ini's time_limit"
    )


def _limit_for(item: pytest.Item) -> float:
    marker = item.get_closest_marker("time_limit")
    if marker is not None:
        return float(marker.args[0])
    return float(item.config.getini("time_limit"))


def _task_stacks() -> str:
    """The stack of every task of the loop running in this thread, or '' outside a loop."""
    loop = asyncio.events._get_running_loop()
    if loop is None:
        return ""
    out = io.StringIO()
    for task in asyncio.all_tasks(loop):
        out.write(f"\n--- {task.get_name()} ---\n")
        task.print_stack(file=out)
    return out.getvalue()


@contextlib.contextmanager
def _limited(seconds: float) -> Iterator[None]:
    """Run the body with SIGALRM armed to raise `TimeLimitExceeded` after `seconds`."""
    if not _ENABLED or seconds <= 0:
        yield
        return

    def expired(signum: int, frame: FrameType | None) -> None:
        stacks = _task_stacks()
        where = f"; asyncio tasks at that moment:{stacks}" if stacks else ""
        raise TimeLimitExceeded(f"this test phase ran past its time limit of {seconds:g} s{where}")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Stop the clock of the running phase for the body, then give back what was left."""
    if not _ENABLED:
        yield
        return
    remaining, _ = signal.setitimer(signal.ITIMER_REAL, 0)
    try:
        yield
    finally:
        if remaining > 0:
            signal.setitimer(signal.ITIMER_REAL, remaining)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    with _limited(_limit_for(item)):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    with _limited(_limit_for(item)):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    with _limited(_limit_for(item)):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[object], request: pytest.FixtureRequest
) -> Generator[None, object, object]:
    if fixturedef.scope == "function":
        return (yield)
    with paused():
        return (yield)
