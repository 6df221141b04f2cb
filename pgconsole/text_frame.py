"""The activity screen's first sample, written to the terminal as plain text before Textual
has loaded.

`pgconsole --activity` takes its first sample while Textual is imported in a thread. The
imports and the screen's first layout are CPU work (about 0.3 s here), which a machine
saturated by the very load being diagnosed stretches to a second or more; the sample is one
round trip. When the sample comes first, its sessions are written at once in the activity
screen's columns and order, on the alternate screen, and wiped when Textual starts drawing
(it paints only what it has laid out, and its first screens would come up beside parts of the
frame). Every text from the server goes through `visible()`, as in the screen.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pgconsole.cells import fit
from pgconsole.db.activity.stats import Sample
from pgconsole.text import visible
from pgconsole.widgets.session_rows import (
    SessionView,
    column_widths,
    fitted,
    line_text,
    listed,
    session_row,
)
from pgconsole.words import counted

ENTER = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J"
"""The alternate screen (the one Textual draws on), the cursor hidden, the screen cleared."""
CLEAR = "\x1b[H\x1b[2J"
"""The frame wiped, just before Textual starts drawing."""
LEAVE = "\x1b[H\x1b[2J\x1b[?25h\x1b[?1049l"
"""Back to the shell's screen, the cursor shown: for when the app never took the terminal."""


@dataclass(frozen=True)
class FirstFrame:
    """What the frame shows: the server, its first sample and when it was taken."""

    target: str
    """`user@host:port/db`, as the status bar says it."""
    sample: Sample
    taken: float
    """`time.time()` of the sample."""


def frame_lines(frame: FirstFrame, width: int, height: int) -> list[str]:
    """The frame in `height` lines of at most `width` cells: a title line with the time of the
    sample, the sessions table's header, then its rows (the client sessions, longest
    transaction first, as the screen first lists them) and how many did not fit."""
    if width < 1 or height < 1:
        return []
    sessions = listed(frame.sample.backends, SessionView())
    rows, headers = fitted([session_row(s) for s in sessions], width)
    widths = column_widths(headers, rows)
    stamp = time.strftime("%H:%M:%S", time.localtime(frame.taken))
    title = " · ".join(
        (
            "pgconsole",
            f"refreshed {stamp}",
            counted(len(sessions), "session"),
            visible(frame.target),
            "starting the activity screen…",
        )
    )
    lines = [fit(title, width, right=False).rstrip(), line_text(headers, widths, width).rstrip()]
    room = height - len(lines)
    shown = len(rows) if len(rows) <= room else max(room - 1, 0)
    lines += [line_text(row.cells, widths, width).rstrip() for row in rows[:shown]]
    if shown < len(rows) and room > 0:
        more = f"… {counted(len(rows) - shown, 'more session')}"
        lines.append(fit(more, width, right=False).rstrip())
    return lines[:height]


def frame_text(frame: FirstFrame, width: int, height: int) -> str:
    """What to write: `ENTER`, then each line at its own row (no line feed, which a full screen
    would scroll by, and which the terminal's mode may or may not turn into a new line)."""
    lines = frame_lines(frame, width, height)
    return ENTER + "".join(f"\x1b[{row};1H{line}" for row, line in enumerate(lines, 1))
