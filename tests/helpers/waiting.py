"""Waiting for an event outside the app (a server's state, a task, a thread), never for time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def poll_until(
    check: Callable[[], Awaitable[bool]], what: str, within: float = 15.0, every: float = 0.05
) -> None:
    """Ask `check()` again every `every` seconds until it is true; fail after `within` seconds.

    The deadline only stops a hang: a loaded machine may take long, the test still passes.
    """
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(every)
