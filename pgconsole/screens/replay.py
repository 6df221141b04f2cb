"""A recording replayed in the activity screen's layout: no server, the timeline always shown,
play and pause at 1x to 60x, and the playhead keys of `SessionsScreen`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.binding import Binding, BindingType

from pgconsole.db.recording.store import Recording
from pgconsole.screens.sessions import SessionsScreen, TapeOrigin
from pgconsole.widgets.activity_status import ActivityStatus

SPEEDS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
"""Playback speeds `+` and `-` step through."""
MAX_WAIT = 2.0
"""Seconds playback waits at most between two samples, whatever the gap recorded."""


class ReplayScreen(SessionsScreen):
    """A recording, one moment at a time."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "play", "Play/pause"),
        Binding("plus", "speed(1)", "Faster"),
        Binding("minus", "speed(-1)", "Slower"),
        # Over the sessions table's own Home and End.
        Binding("home", "ends(0)", "First sample", show=False, priority=True),
        Binding("end", "ends(-1)", "Last sample", show=False, priority=True),
    ]
    KEY_BAR_ORDER: ClassVar[tuple[str, ...]] = (
        "play", "step", "speed", "query", "root_blocker", "toggle_idle", "filter", "sort",
        "back",
    )  # fmt: skip

    def __init__(self, recording: Recording, *, at: float | None = None) -> None:
        """Args:
        recording: The file, open.
        at: The instant to show first (the first sample when None or before it).
        """
        super().__init__(recording)
        self.recording = recording
        self.start_at = at
        self.playing = False
        self.speed = 1.0

    def start(self) -> None:
        self.pool_panel.display = False  # pgconsole's pool is not recorded
        if not self.recording.count:
            self.timeline.display = True
            self._show_status()
            self.notify(f"{self.recording.path} holds no sample yet.", severity="warning")
            return
        first = self.recording.first
        assert first is not None
        self.playhead.go(self.start_at if self.start_at is not None else first)
        self.show_moment()

    def show_moment(self) -> None:
        super().show_moment()
        self.samples += 1

    # -- what the base asks --------------------------------------------------------------------

    def leave(self) -> None:
        self.app.exit()

    def tape_origin(self) -> TapeOrigin:
        meta = self.recording.meta
        return TapeOrigin(
            f"recording {self.recording.path.name}",
            meta.host,
            meta.port,
            meta.database,
            meta.server_version,
            meta.redacted,
        )

    def go_live(self) -> None:
        self.leave()  # a recording has no live: Esc ends the replay

    def _show_status(self, queries: int | None = None) -> None:
        meta = self.recording.meta
        redacted = ", redacted" if meta.redacted else ""
        self.status_line.status = ActivityStatus(
            state=f"replay {self.tape_text('the end')}",
            refreshed=None,
            paused=not self.playing,
            interval=meta.interval,
            queries=None,
            view=self.view,
            limits=None,
            speed=self.speed,
            source=f"{self.recording.path.name} ({meta.server}{redacted})",
        )

    # -- playback ------------------------------------------------------------------------------

    def action_play(self) -> None:
        """Play from the moment shown (at the end: from the start), or pause."""
        if not self.recording.count:
            return
        self.playing = not self.playing
        if self.playing:
            if self.playhead.shown() >= self.recording.count - 1:
                self.playhead.to_index(0)
                self.show_moment()
            self.play()
        else:
            self.workers.cancel_group(self, "play")
        self._show_status()

    def action_speed(self, step: int) -> None:
        """Play faster (+) or slower (-), 1x to 60x."""
        index = SPEEDS.index(self.speed) if self.speed in SPEEDS else 0
        self.speed = SPEEDS[max(0, min(len(SPEEDS) - 1, index + step))]
        self._show_status()

    def action_ends(self, index: int) -> None:
        """To the first (0) or the last (-1) sample."""
        if self.recording.count:
            self.playhead.to_index(index % self.recording.count)
            self.show_moment()

    @work(exclusive=True, group="play", exit_on_error=False)
    async def play(self) -> None:
        """Step a sample at a time, waiting the recorded gap divided by the speed."""
        moments = self.recording.moments()
        while self.playing:
            index = self.playhead.shown()
            if index >= len(moments) - 1:
                break
            gap = moments[index + 1].taken_at - moments[index].taken_at
            await asyncio.sleep(min(MAX_WAIT, max(0.0, gap) / self.speed))
            self.playhead.step(1)
            self.show_moment()
        self.playing = False
        self._show_status()


def replay_title(path: Path) -> str:
    """The terminal's title while a file is replayed."""
    return f"pgconsole replay {path.name}"
