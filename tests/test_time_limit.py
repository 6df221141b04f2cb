"""The suite's time limit (`tests/helpers/time_limit.py`): a hang fails with its stack."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

HANGING = """
import asyncio
import time

import pytest


async def test_awaits_forever() -> None:
    await asyncio.Event().wait()


def test_sleeps_forever() -> None:
    time.sleep(3600)


@pytest.fixture(scope="module")
def slow_server() -> str:
    time.sleep(1.5)  # longer than the limit: a module fixture is outside it
    return "up"


def test_after_a_slow_server(slow_server: str) -> None:
    assert slow_server == "up"


@pytest.mark.time_limit(3)
def test_with_a_longer_limit() -> None:
    time.sleep(1.5)
"""


def run_with_limit(pytester: pytest.Pytester, seconds: float) -> pytest.RunResult:
    """Run HANGING in a new pytest process with the plugin and a limit of `seconds`."""
    pytester.makepyfile(test_hanging=HANGING)
    pytester.syspathinsert(ROOT)
    return pytester.runpytest_subprocess(
        "-p",
        "tests.helpers.time_limit",
        "-o",
        f"time_limit={seconds}",
        "-o",
        "asyncio_mode=auto",
        "-p",
        "no:cacheprovider",
        timeout=60,
    )


@pytest.mark.slow
def test_a_hang_fails_with_its_stack(pytester: pytest.Pytester) -> None:
    result = run_with_limit(pytester, 1)

    result.assert_outcomes(passed=2, failed=2)
    output = result.stdout.str()
    assert "TimeLimitExceeded: this test phase ran past its time limit of 1 s" in output
    # The stuck coroutine's own line, not only the event loop's select().
    assert "await asyncio.Event().wait()" in output
    assert "time.sleep(3600)" in output
