"""The browser's message line: a sticky alert, the last note, the position, slow work.

An alert (an error about data: lost, not applied, refused) stays until the user starts
another action or presses Esc (`ends_message`); later notes show under it, and the position
never replaces it. Slow work is said as a note with its time ticking, and goes with the work.
"""

from __future__ import annotations

import time

from textual.timer import Timer

from pgconsole.widgets.message_line import MessageLine
from pgconsole.widgets.progress import SlowWork

MOTION_ACTIONS = frozenset(
    {"move", "page", "column", "column_edge", "first", "g", "last", "focus_next", "focus_previous"}
)
"""Actions that only move (the grid's, the focus): a key bound to one leaves a message shown."""

TICK_SECONDS = 0.1
"""How often the time of slow work is said again."""


def is_motion(action: str) -> bool:
    """Whether a binding's action (`move(1)`, `cursor_down`, ...) only moves a cursor."""
    name = action.partition("(")[0].rpartition(".")[2]
    return name in MOTION_ACTIONS or name.startswith(("cursor_", "scroll_"))


def ends_message(key: str, action: str | None) -> bool:
    """Whether pressing `key` (bound to `action`, None when unbound) ends the message shown:
    Esc, or a key that starts something rather than moving a cursor."""
    return key == "escape" or (action is not None and not is_motion(action))


class BrowserMessage(MessageLine):
    """What the browser says under its grid, from three parts: alert, note and position."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.alert = ""
        """An error about data, shown until the user acts (`dismiss`)."""
        self.note = ""
        """The last thing said; the next one replaces it."""
        self.position = ""
        """Where the cursor is in the rows read (right-aligned)."""
        self._work = SlowWork()
        self._work_note = ""
        """The note that says the slow work: it goes when the work ends."""
        self._ticker: Timer | None = None

    @property
    def has_text(self) -> bool:
        """An alert or a note is shown (the position aside)."""
        return bool(self.alert or self.note)

    def say(self, text: str, *, error: bool = False) -> None:
        """Show `text` (database text shown literally); an `error` stays as the alert."""
        if error:
            self.alert, self.note = text, ""
        else:
            self.note = text
        self._redraw()

    def dismiss(self) -> None:
        """The user acted: the last note, and any alert, are done with."""
        if self.has_text:
            self.alert = self.note = ""
            self._redraw()

    def show_position(self, position: str) -> None:
        """Show where the cursor is (drawn again only when it changed)."""
        if position != self.position:
            self.position = position
            self._redraw()

    def _redraw(self) -> None:
        self.show(self.alert, self.note, self.position)

    def start_work(self, group: str, doing: str, stop: str, *, at_once: bool = False) -> float:
        """Say `doing… 2.1 s (stop)` while the `group` worker runs, the time ticking.

        Returns:
            The start, which `end_work` takes (see `SlowWork.start`).
        """
        started = self._work.start(group, doing, stop, at_once=at_once)
        self._tick()
        if self._ticker is None:
            self._ticker = self.set_interval(TICK_SECONDS, self._tick)
        return started

    def end_work(self, group: str, started: float) -> float | None:
        """The `group` work begun at `started` is over: its note goes. How long it ran, or
        None when newer work of the group has taken its place."""
        took = self._work.end(group, started)
        if took is None:
            return None
        if not self._work and self._ticker is not None:
            self._ticker.stop()
            self._ticker = None
        if self._work_note and self.note == self._work_note:
            self.note = self._work_note = ""
            self._redraw()
        self._tick()
        return took

    def _tick(self) -> None:
        text = self._work.text(time.monotonic())
        # Said only over nothing, or over its own last words: never over a newer note.
        if text and (not self.note or self.note == self._work_note):
            self._work_note = text
            self.say(text)
