"""`pgconsole replay FILE [--at TIME]`: a recording in the activity screen's layout, with no
server: the Textual app of the replay alone (no pool, no browser, no console)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from pgconsole.db.recording.playhead import outside, parse_moment
from pgconsole.db.recording.store import Recording, RecordingError
from pgconsole.paths import STYLES
from pgconsole.screens.help import HelpScreen, KeySection, help_here
from pgconsole.screens.replay import ReplayScreen, replay_title

PREFIX = "pgconsole replay: "


class ReplayApp(App[None]):
    """One recording, replayed."""

    CSS_PATH = STYLES / "app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark,f1", "help", "Help"),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(self, recording: Recording, *, at: float | None = None) -> None:
        super().__init__()
        self.recording = recording
        self.at = at
        self.title = replay_title(recording.path)

    def on_mount(self) -> None:
        self.push_screen(ReplayScreen(self.recording, at=self.at))

    def key_sections(self) -> list[KeySection]:
        """The replay's keys, then the app's."""
        from pgconsole.screens.sessions import SessionsScreen

        return [("Replay", [ReplayScreen, SessionsScreen]), ("Everywhere", [type(self)])]

    def action_help(self) -> None:
        """Show every key."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(help_here(self.key_sections(), self.screen))


def run_replay(path: Path, at: str | None) -> int:
    """Open the file and replay it; 1 with one line on stderr when it cannot be read."""
    try:
        recording = Recording.open(path)
    except RecordingError as error:
        print(PREFIX + str(error), file=sys.stderr)
        return 1
    with recording:
        when = None
        if at is not None:
            if recording.first is None or recording.last is None:
                print(
                    PREFIX + f"{path} holds no sample: --at has nothing to go to", file=sys.stderr
                )
                return 1
            try:
                when = parse_moment(at, recording.first, recording.last)
            except ValueError as error:
                print(PREFIX + f"--at: {error}", file=sys.stderr)
                return 1
            why = outside(when, recording.first, recording.last)
            if why is not None:
                print(PREFIX + f"--at: {why}", file=sys.stderr)
                return 1
        ReplayApp(recording, at=when).run()
    return 0
