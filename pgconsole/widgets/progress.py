"""Slow work in progress, as the message line says it: `counting… 2.1 s (Esc stops)`."""

from __future__ import annotations

import time
from dataclasses import dataclass

PROGRESS_AFTER = 0.25
"""Seconds of work before it is said: a fast reload never makes the message line blink."""


@dataclass(frozen=True)
class Work:
    """One piece of slow work: what it does, how Esc stops it, when it started."""

    doing: str
    stop: str
    started: float
    """`time.monotonic()` at its start."""


class SlowWork:
    """Slow work by worker group, each said with its time ticking once it runs long enough."""

    def __init__(self) -> None:
        self._work: dict[str, Work] = {}

    def __bool__(self) -> bool:
        return bool(self._work)

    def start(self, group: str, doing: str, stop: str, *, at_once: bool = False) -> float:
        """The `group` worker started `doing` (replacing any earlier work of the group).

        Args:
            group: The worker group.
            doing: What it does (`counting`).
            stop: How the user stops it (`Esc stops`).
            at_once: Say it from the start, not only once it has run `PROGRESS_AFTER`.

        Returns:
            The start, which `end` takes: a worker replaced by a newer one of its group ends
            only its own work.
        """
        started = time.monotonic() - (PROGRESS_AFTER if at_once else 0.0)
        self._work[group] = Work(doing, stop, started)
        return started

    def end(self, group: str, started: float) -> float | None:
        """The `group` work begun at `started` is over: how long it ran, or None when newer
        work of the group has taken its place."""
        work = self._work.get(group)
        if work is None or work.started != started:
            return None
        del self._work[group]
        return time.monotonic() - started

    def text(self, now: float) -> str:
        """The work that has run long enough, each with its time, joined by ` · `."""
        return " · ".join(
            f"{work.doing}… {now - work.started:.1f} s ({work.stop})"
            for work in self._work.values()
            if now - work.started >= PROGRESS_AFTER
        )
