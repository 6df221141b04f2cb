"""The activity screen's status line: how the poll is doing, what the table lists, and what
the role may not see (a line each)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from pgconsole.text import visible
from pgconsole.widgets.session_rows import SessionView
from pgconsole.words import counted


@dataclass(frozen=True)
class ActivityStatus:
    """What the status line says."""

    state: str
    """"connecting…", "reconnecting… (why)", or "" while sampling goes well."""
    refreshed: float | None
    """When the last sample was taken (`time.time()`); None before the first."""
    paused: bool
    interval: float
    """Seconds between samples."""
    queries: int | None
    """Statements the last sample sent; None: not said."""
    view: SessionView
    limits: tuple[str, ...] | None
    """What the role may not see or do (`Capabilities.limits`); None before they are read."""
    rewind: float | None = None
    """Seconds the rewind buffer reaches back; None when not said (rewound: `state` says)."""
    speed: float | None = None
    """A replay's playback speed (`paused` says whether it plays); None for a live screen."""
    source: str = ""
    """What is replayed (the file, the server it recorded), said last."""
    recording: str = ""
    """A recording to a file: where it goes, or why it stopped; said first."""


def status_text(status: ActivityStatus) -> Text:
    """One dim line of parts joined by ` · `, then each limit on a yellow line of its own."""
    view = status.view
    parts = []
    if status.recording:
        parts.append(status.recording)
    if status.state:
        parts.append(status.state)
    if status.refreshed is not None:
        parts.append("refreshed " + time.strftime("%H:%M:%S", time.localtime(status.refreshed)))
    if status.speed is not None:
        parts.append(f"{'paused' if status.paused else 'playing'} {status.speed:g}x")
    else:
        parts.append("paused" if status.paused else f"every {status.interval:g} s")
    if status.rewind is not None:
        minutes, seconds = divmod(int(status.rewind), 60)
        parts.append(f"rewind {minutes}:{seconds:02}")
    if status.queries is not None:
        parts.append(counted(status.queries, "query", "queries"))
    parts.append(f"sort {view.sort}")
    if not view.show_idle:
        parts.append("idle hidden")
    parts.append("B: background shown" if view.show_background else "background hidden")
    if view.text:
        parts.append(f"filter {view.text!r}")
    parts.append("* pgconsole")
    if status.source:
        parts.append(status.source)
    text = Text(" · ".join(visible(p) for p in parts), style="dim")
    for limit in status.limits or ():
        text.append("\n" + visible(limit), style="yellow")
    return text


class ActivityStatusLine(Static):
    """`status_text` of the status it is given, a line more for each limit."""

    status: reactive[ActivityStatus | None] = reactive(
        None, always_update=True, init=False, repaint=False
    )
    """The latest status; None until the screen first says one."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines = 1
        """The laid-out height: one line at first, as activity.tcss has it."""

    def watch_status(self, status: ActivityStatus | None) -> None:
        if status is None:
            return
        if status.limits is not None and self._lines != 1 + len(status.limits):
            self._lines = 1 + len(status.limits)
            self.styles.height = self._lines
        # Each line cut with an ellipsis by activity.tcss, never wrapped onto lines not there.
        self.update(status_text(status), layout=False)
