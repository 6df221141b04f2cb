"""Moments of a recorded timeline: one small summary per activity sample, and the searches
replay and rewind jump with ("the next blocked session", "the next wait spike", "the next new
longest transaction").

Headless and pure: a `Moment` is computed from a `stats.Sample` once, when the sample is
recorded, so that a day of samples can be drawn as a timeline and searched without decoding
the samples themselves.
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pgconsole.db.activity import stats

SPIKE_FLOOR = 3
"""A wait spike has at least this many waiting sessions..."""
SPIKE_FACTOR = 2.0
"""...and at least this many times the timeline's median of waiting sessions."""
LONGEST_FLOOR = 5.0
"""Seconds a transaction must have been open to count as the longest."""
SAME_START = 0.5
"""Seconds two readings of a transaction's start may differ by (their ages are rounded)."""


@dataclass(frozen=True, slots=True)
class Moment:
    """What one sample looked like, in a few numbers."""

    taken_at: float
    """The server's clock when the sample was taken (seconds since the epoch)."""
    active: int
    """Client sessions running a statement (`active`), this sampler's aside."""
    waiting: int
    """Of those, the ones waiting on something (a wait event), not on the CPU."""
    blocked: int
    """Sessions waiting for a lock another session holds (`blocked_by` not empty)."""
    idle_in_transaction: int
    longest_pid: int | None
    """The session with the oldest open transaction; None when none is open."""
    longest_start: float | None
    """When that transaction started (server clock): with the pid, which transaction it is."""

    @property
    def longest_age(self) -> float | None:
        """Seconds the longest open transaction had been open."""
        return None if self.longest_start is None else self.taken_at - self.longest_start


def to_row(summary: Moment) -> list[int | float | None]:
    """The moment without its instant, JSON-ready (the recording stores instants apart)."""
    return [
        summary.active,
        summary.waiting,
        summary.blocked,
        summary.idle_in_transaction,
        summary.longest_pid,
        summary.longest_start,
    ]


def from_row(taken_at: float, row: Sequence[Any]) -> Moment:
    """A moment back from `to_row` and its instant."""
    active, waiting, blocked, idle, pid, start = row
    return Moment(taken_at, active, waiting, blocked, idle, pid, start)


def moment(sample: stats.Sample) -> Moment:
    """The summary of one sample."""
    clients = [
        b
        for b in sample.backends
        if not b.is_self and not b.is_background and b.backend_type != "walsender"
    ]
    active = [b for b in clients if b.state == "active"]
    longest = max(
        (b for b in clients if b.xact_age is not None),
        key=lambda b: (b.xact_age or 0.0, -b.pid),
        default=None,
    )
    taken_at = sample.server.taken_at
    return Moment(
        taken_at=taken_at,
        active=len(active),
        waiting=sum(1 for b in active if b.wait_event_type is not None),
        blocked=sum(1 for b in sample.backends if b.blocked_by),
        idle_in_transaction=sum(1 for b in clients if (b.state or "").startswith("idle in")),
        longest_pid=None if longest is None else longest.pid,
        longest_start=(
            None
            if longest is None or longest.xact_age is None
            else round(taken_at - longest.xact_age, 3)
        ),
    )


# --- searches ------------------------------------------------------------------------------
# Each returns the index of the next (or previous) moment after `index` that starts what it
# looks for, or None when there is none: a period is found at its start, so pressing the key
# again goes to the next period, not the next second of the same one.


def next_blocked(moments: Sequence[Moment], index: int, step: int = 1) -> int | None:
    """The next moment (`step` -1: the previous) where a session starts to be blocked."""
    return _next(moments, index, step, lambda i: _blocked_starts(moments, i))


def next_wait_spike(moments: Sequence[Moment], index: int, step: int = 1) -> int | None:
    """The next moment where waiting sessions jump to a spike: at least `SPIKE_FLOOR` and
    `SPIKE_FACTOR` times the timeline's median, from below that the moment before."""
    threshold = spike_threshold(moments)
    return _next(
        moments,
        index,
        step,
        lambda i: (
            moments[i].waiting >= threshold and (i == 0 or moments[i - 1].waiting < threshold)
        ),
    )


def next_longest(moments: Sequence[Moment], index: int, step: int = 1) -> int | None:
    """The next moment where a different transaction becomes the longest open one, among
    those open `LONGEST_FLOOR` seconds at least (a busy server's sub-second transactions
    take turns at being the longest all the time)."""

    def long(m: Moment) -> bool:
        return m.longest_pid is not None and (m.longest_age or 0.0) >= LONGEST_FLOOR

    def changes(i: int) -> bool:
        here = (moments[i].longest_pid, moments[i].longest_start)
        if not long(moments[i]):
            return False
        if i == 0:
            return True
        before = moments[i - 1]
        if not long(before) or before.longest_pid != here[0] or before.longest_start is None:
            return True
        # A start a few milliseconds apart is the same transaction measured twice.
        return abs(before.longest_start - (here[1] or 0.0)) > SAME_START

    return _next(moments, index, step, changes)


def spike_threshold(moments: Sequence[Moment]) -> float:
    """Waiting sessions a spike reaches, for this timeline."""
    median = statistics.median(m.waiting for m in moments) if moments else 0.0
    return max(float(SPIKE_FLOOR), SPIKE_FACTOR * median)


def _blocked_starts(moments: Sequence[Moment], i: int) -> bool:
    return moments[i].blocked > 0 and (i == 0 or moments[i - 1].blocked == 0)


def _next(
    moments: Sequence[Moment], index: int, step: int, found: Callable[[int], bool]
) -> int | None:
    i = index + step
    while 0 <= i < len(moments):
        if found(i):
            return i
        i += step
    return None


def index_at(moments: Sequence[Moment], when: float) -> int:
    """The index of the last moment at or before `when` (0 when `when` is before them all)."""
    return max(0, bisect.bisect_right(moments, when, key=lambda m: m.taken_at) - 1)
