"""The moment shown of a tape (the rewind buffer or a recording), and how keys move it.

A `Tape` is samples over time: a `Moment` per sample, and the sample itself on demand. A
`Playhead` is an index into one, moved by samples, by seconds, to a typed time, or to the
next moment a search finds; at the newest sample of the rewind buffer it is "live".
"""

from __future__ import annotations

import datetime
import re
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from pgconsole.db.activity import moments as found
from pgconsole.db.activity.moments import Moment, index_at
from pgconsole.db.activity.stats import Sample
from pgconsole.db.connection.params import duration_seconds

SEARCHES: dict[str, tuple[str, Callable[[Sequence[Moment], int, int], int | None]]] = {
    "blocked": ("blocked session", found.next_blocked),
    "spike": ("wait spike", found.next_wait_spike),
    "longest": ("new longest transaction", found.next_longest),
}
"""What each search looks for, in words, and how."""


class Tape(Protocol):
    """Samples over time, oldest first."""

    def moments(self) -> Sequence[Moment]:
        """A summary per sample."""
        ...

    def sample(self, index: int) -> Sample:
        """The sample at `index` of `moments()`."""
        ...


def parse_moment(text: str, first: float, last: float) -> float:
    """A typed time as an instant of a tape that spans `first`..`last` (server clock, seconds
    since the epoch):

    - `03:12:05` or `03:12`: that clock time (local), on the tape's last day, else the day
      before (a tape that crosses midnight);
    - `-4m`, `-90s`, `-1h`: that long before the last sample;
    - `+4m` or `4m`: that long after the first sample.

    Raises:
        ValueError: Not a time, with what is accepted.
    """
    text = text.strip()
    clock = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", text)
    if clock is not None:
        hour, minute, second = int(clock[1]), int(clock[2]), int(clock[3] or 0)
        if hour > 23 or minute > 59 or second > 59:
            raise ValueError(f"not a clock time: {text!r}")
        day = datetime.datetime.fromtimestamp(last).date()
        when = datetime.datetime.combine(day, datetime.time(hour, minute, second)).timestamp()
        if when > last + 1 and when - 86400 >= first - 1:
            when -= 86400  # the tape crossed midnight: that time on the day before
        return when
    offset = re.fullmatch(r"([+-]?)\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?", text)
    if offset is None:
        raise ValueError(
            f"not a time: {text!r} (a clock time such as 03:12:05, -4m for four minutes "
            "before the end, +4m after the start)"
        )
    unit = {"m": "min", None: "s"}.get(offset[3], offset[3])
    seconds = duration_seconds(offset[2] + unit)
    return last - seconds if offset[1] == "-" else first + seconds


def time_of_day(taken_at: float) -> str:
    """`HH:MM:SS`, local time: how a moment of a tape is named on screen and in messages."""
    return time.strftime("%H:%M:%S", time.localtime(taken_at))


def outside(when: float, first: float, last: float) -> str | None:
    """Why `when` is not a moment of a tape spanning `first`..`last` (a second's slack each
    side); None when it is."""
    if first - 1 <= when <= last + 1:
        return None
    side = "before the first sample" if when < first else "after the last sample"
    span = f"{time_of_day(first)} to {time_of_day(last)}"
    return f"{time_of_day(when)} is {side} (they span {span})"


class Playhead:
    """The moment of the tape the screen shows, by its instant (so that it stays on the same
    sample while the rewind buffer drops its oldest); None means live: the newest, as it
    comes."""

    def __init__(self, tape: Tape) -> None:
        self.tape = tape
        self.at: float | None = None

    @property
    def live(self) -> bool:
        return self.at is None

    def shown(self) -> int:
        """The index of the moment shown: the newest when live (-1: the tape is empty)."""
        moments = self.tape.moments()
        if self.at is None or not moments:
            return len(moments) - 1
        return index_at(moments, self.at)

    def to_index(self, index: int) -> None:
        """Show the moment at `index` (kept within the tape)."""
        moments = self.tape.moments()
        if moments:
            self.at = moments[max(0, min(len(moments) - 1, index))].taken_at

    def step(self, samples: int) -> None:
        """Move by `samples` (negative: back in time)."""
        self.to_index(self.shown() + samples)

    def skip(self, seconds: float) -> None:
        """Move by `seconds` of the tape's time, by one sample at least."""
        moments = self.tape.moments()
        if not moments:
            return
        here = self.shown()
        target = index_at(moments, moments[here].taken_at + seconds)
        if target == here:
            target += 1 if seconds > 0 else -1
        self.to_index(target)

    def go(self, when: float) -> None:
        """To the last moment at or before `when` (the first, when before them all)."""
        if self.tape.moments():
            self.to_index(index_at(self.tape.moments(), when))

    def find(self, search: str, direction: int = 1) -> bool:
        """To the next (or previous) moment `search` (a key of `SEARCHES`) finds; False when
        there is none."""
        moments = self.tape.moments()
        if not moments:
            return False
        target = SEARCHES[search][1](moments, self.shown(), direction)
        if target is None:
            return False
        self.to_index(target)
        return True
