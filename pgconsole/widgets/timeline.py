"""A recorded timeline in two lines: active sessions over the whole of it (a column per slice,
red where a session was blocked, yellow at a wait spike), and a cursor at the moment shown."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from pgconsole.db.activity.moments import Moment, spike_threshold
from pgconsole.db.recording.playhead import time_of_day

LEVELS = " ▁▂▃▄▅▆▇█"
"""A column's height: eighths of a cell."""


def columns(moments: Sequence[Moment], width: int) -> Text:
    """One line of `width` columns, each the busiest moment of its slice of `moments`."""
    text = Text()
    if not moments or width <= 0:
        return text
    top = max(1, max(m.active for m in moments))
    spike = spike_threshold(moments)
    count, shown = len(moments), min(width, len(moments))
    for column in range(shown):
        chunk = moments[column * count // shown : (column + 1) * count // shown]
        active = max(m.active for m in chunk)
        level = LEVELS[min(len(LEVELS) - 1, -(-active * (len(LEVELS) - 1) // top))]
        if any(m.blocked for m in chunk):
            style = "red"
        elif any(m.waiting >= spike for m in chunk):
            style = "yellow"
        else:
            style = "green"
        text.append(level if active else "·", style if active else "dim")
    return text


def column_of(index: int, count: int, width: int) -> int:
    """The column the moment at `index` (of `count`) falls in."""
    shown = min(width, count)
    return min(shown - 1, index * shown // count) if count else 0


def cursor_line(moments: Sequence[Moment], index: int, width: int) -> Text:
    """The first and last moments' clock at the ends, a `▲` under the moment shown."""
    text = Text(style="dim")
    if not moments or width <= 0:
        return text
    # As long as the columns drawn: fewer than the width while the tape is short.
    first, last = time_of_day(moments[0].taken_at), time_of_day(moments[-1].taken_at)
    shown = max(min(width, len(moments)), min(width, len(first) + len(last) + 2))
    line = [" "] * shown
    if shown >= len(first):
        line[: len(first)] = first
    if shown >= len(first) + len(last) + 2:
        line[shown - len(last) :] = last
    at = column_of(index, len(moments), width)
    text.append("".join(line[:at]))
    text.append("▲", "bold reverse")
    text.append("".join(line[at + 1 :]))
    return text


class Timeline(Static):
    """The timeline of a recording or of the rewind buffer, with the moment shown."""

    DEFAULT_CSS = """
    Timeline { height: 2; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._drawn: tuple[int, float, int] | None = None
        """What `_columns` was drawn for: count, last moment, width."""
        self._columns = Text()

    def show(self, moments: Sequence[Moment], index: int) -> None:
        """Draw `moments` with the cursor at `index`; the columns only when they changed."""
        width = max(1, self.size.width or 80)
        key = (len(moments), moments[-1].taken_at if moments else 0.0, width)
        if key != self._drawn:
            self._columns = columns(moments, width)
            self._drawn = key
        self.update(Text.assemble(self._columns, "\n", cursor_line(moments, index, width)))
