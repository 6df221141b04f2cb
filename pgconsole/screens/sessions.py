"""What the sessions of a server looked like at one moment: the server's figures, the sessions,
the lock tree; and a tape to move through moments with a playhead.

`ActivityScreen` shows it live (and rewinds through the last minutes it sampled);
`ReplayScreen` shows a recording. This base class draws a sample and moves the playhead;
each subclass says where samples come from and what Esc, the status line and the server
panel's pool figures are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events, getters, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Input, Static

from pgconsole.db.activity import stats
from pgconsole.db.activity.moments import index_at
from pgconsole.db.recording.playhead import (
    SEARCHES,
    Playhead,
    Tape,
    outside,
    parse_moment,
    time_of_day,
)
from pgconsole.failed_workers import ReportsFailedWorkers
from pgconsole.paths import STYLES
from pgconsole.screens.value import ValueScreen
from pgconsole.text import visible
from pgconsole.widgets import session_rows
from pgconsole.widgets.activity_status import ActivityStatusLine
from pgconsole.widgets.key_bar import KeyBar
from pgconsole.widgets.lock_tree import TREE_SHARE, LockChains, LockTree, root_blocker
from pgconsole.widgets.ordered_keys import OrderedInput
from pgconsole.widgets.pool_panel import PoolPanel
from pgconsole.widgets.server_panel import WIDE_PANELS, ServerHistory, ServerPanel
from pgconsole.widgets.session_table import SessionTable
from pgconsole.widgets.sparkline import duration
from pgconsole.widgets.timeline import Timeline

if TYPE_CHECKING:
    from pgconsole.db.console.connection import ConsoleConnection

SNAPSHOT_WINDOW = 10.0
"""Seconds of samples before the moment shown whose waits a snapshot counts."""


@dataclass(frozen=True)
class TapeOrigin:
    """What a tape was taken of, as a snapshot names it."""

    source: str
    """`rewind buffer`, `recording FILE`."""
    host: str
    port: int
    database: str
    version: str
    redact: bool


TAPE_BINDINGS: list[BindingType] = [
    Binding("comma", "step(-1)", "Rewind"),
    Binding("full_stop", "step(1)", "Forward a sample", show=False),
    Binding("left_square_bracket", "skip(-10)", "Back 10 s", show=False),
    Binding("right_square_bracket", "skip(10)", "Forward 10 s", show=False),
    Binding("left_curly_bracket", "skip(-60)", "Back 1 min", show=False),
    Binding("right_curly_bracket", "skip(60)", "Forward 1 min", show=False),
    Binding("t", "go_to", "Go to a time", show=False),
    Binding("n", "find('blocked')", "Next blocked session", show=False),
    Binding("N", "find('blocked', -1)", "Previous blocked session", show=False),
    Binding("W", "find('spike')", "Next wait spike", show=False),
    Binding("X", "find('longest')", "Next new longest transaction", show=False),
    Binding("S", "snapshot", "Snapshot of the moment shown", show=False),
]
"""Keys that move the playhead: a sample, 10 s, a minute, a typed time, the next moment."""


class SessionsScreen(ReportsFailedWorkers, Screen[None]):
    """The sessions of one moment, and a playhead on a tape of moments."""

    CSS_PATH = STYLES / "activity.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("I", "toggle_idle", "Idle sessions"),
        Binding("B", "toggle_background", "Background processes"),
        Binding("p", "toggle_panels", "Panels"),
        Binding("o", "sort", "Sort"),
        Binding("slash", "filter", "Filter"),
        Binding("enter", "query", "Full query"),
        Binding("b", "root_blocker", "Root blocker"),
        *TAPE_BINDINGS,
    ]

    pool_panel = getters.query_one("#pool-panel", PoolPanel)
    server_panel = getters.query_one("#server-panel", ServerPanel)
    filter_box = getters.query_one("#activity-filter", OrderedInput)
    table = getters.query_one("#sessions", SessionTable)
    lock_tree = getters.query_one("#lock-tree", LockTree)
    status_line = getters.query_one("#activity-status", ActivityStatusLine)
    timeline = getters.query_one(Timeline)

    def __init__(
        self,
        tape: Tape,
        *,
        relation: str = "",
        console: Callable[[], ConsoleConnection | None] | None = None,
    ) -> None:
        """Args:
        tape: The moments the playhead moves on.
        relation: Show only sessions on this relation (`schema.name`), if given.
        console: The app's SQL console session, if any, so that its backend shows the
            statement it runs rather than the cursor's FETCH. By default, none.
        """
        super().__init__()
        self.tape = tape
        self.playhead = Playhead(tape)
        """The moment shown: live (the newest, as it comes), or one of the tape's."""
        self.panels_full: bool | None = None
        """The pool and server panels in full (True) or in three lines; None: as wide as
        the screen allows (`WIDE_PANELS`)."""
        self.console = console or (lambda: None)
        self.view = session_rows.SessionView(text=relation)
        """Which sessions the table lists, and in what order."""
        self.backends: dict[int, stats.Backend] = {}
        self.lock_roots: tuple[stats.LockNode, ...] = ()
        self.samples = 0
        """Samples shown so far (tests wait on it)."""
        self.snapshot_files: tuple[Path, Path] | None = None
        """The files the last snapshot (`S`) wrote."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="panels"):
            yield PoolPanel(id="pool-panel")
            yield ServerPanel(id="server-panel")
        yield OrderedInput(
            placeholder="filter: text in any column (Enter applies)", id="activity-filter"
        )
        yield SessionTable(session_rows.HEADERS, id="sessions")
        yield LockTree(id="lock-tree")
        yield Static(id="activity-progress")
        yield OrderedInput(
            placeholder="go to: 03:12:05, -4m (before the newest), +4m (after the oldest)",
            id="activity-goto",
        )
        yield Timeline(id="timeline")
        yield ActivityStatusLine(id="activity-status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.filter_box.value = self.view.text
        self.filter_box.display = bool(self.view.text)
        self.query_one("#activity-goto").display = False
        self.timeline.display = False
        self.table.focus()
        self.start()

    def start(self) -> None:
        """What the screen does once mounted: sample, or show the first moment. (Textual
        calls every class's `on_mount`, the subclass's first: subclasses start here.)"""

    def on_resize(self, event: events.Resize) -> None:
        self._lay_out_panels()
        if self.backends:
            self._fill_table()
        if self.lock_roots:
            self._show_lock_tree()  # its share of the lines changed

    @property
    def compact(self) -> bool:
        """The pool and server panels are folded into three lines."""
        if self.panels_full is not None:
            return not self.panels_full
        return self.size.width < WIDE_PANELS

    def _lay_out_panels(self) -> None:
        self.set_class(self.compact, "-compact")
        self._show_server()

    # -- what subclasses say -------------------------------------------------------------------

    def _show_server(self) -> None:
        """The server's figures of the moment shown (a live screen: its own, with the pool's)."""

    def _show_status(self, queries: int | None = None) -> None:
        """The status line."""

    def go_live(self) -> None:
        """Leave the moment shown for the newest, as it comes (a recording has no live)."""

    def leave(self) -> None:
        """Esc when there is nothing to go back to on the tape."""

    def tape_origin(self) -> TapeOrigin:
        """What the tape is of, for a snapshot of it."""
        raise NotImplementedError

    # -- one sample ----------------------------------------------------------------------------

    def _show_sessions(self, sample: stats.Sample) -> None:
        """The sessions (in place) and the lock tree of `sample`."""
        self.backends = {s.pid: s for s in sample.backends}
        self._fill_table()
        self.lock_roots = stats.lock_tree(sample.backends)
        self._show_lock_tree()

    def _show_lock_tree(self) -> None:
        """The lock tree, in at most a `TREE_SHARE`th of the screen's lines."""
        self.lock_tree.chains = LockChains(self.lock_roots, max(3, self.size.height // TREE_SHARE))

    def _visible_sessions(self) -> list[stats.Backend]:
        return session_rows.listed(self.backends.values(), self.view, self.query_text)

    def query_text(self, session: stats.Backend) -> str | None:
        """What the session runs, in words (`stats.shown_query`): the app's console's backend
        shows the statement behind its cursor."""
        return session_rows.query_of(session, self.console())

    def _fill_table(self) -> None:
        """Redraw the sessions, in the columns that fit; the cursor stays on the same pid."""
        rows = [session_rows.session_row(s, self.query_text(s)) for s in self._visible_sessions()]
        self.table.show(*session_rows.fitted(rows, self.table.size.width or self.size.width))

    # -- the tape ------------------------------------------------------------------------------

    def show_moment(self) -> None:
        """The moment the playhead is on: its sessions and lock tree, its server's rates
        against the sample before it, and the timeline with the cursor on it."""
        index = self.playhead.shown()
        if index < 0:
            return
        sample = self.tape.sample(index)
        then = ServerHistory()
        if index > 0:
            then.add(self.tape.sample(index - 1).server)
        then.add(sample.server)
        self.server_panel.figures = then.figures(folded=self.compact)
        self._show_sessions(sample)
        self.query_one("#activity-progress", Static).display = False  # not recorded
        self.show_timeline()

    def show_timeline(self) -> None:
        """The timeline with the cursor on the moment shown, and the status line."""
        self.timeline.display = True
        self.timeline.show(self.tape.moments(), self.playhead.shown())
        self._show_status()

    def tape_text(self, last: str = "the newest") -> str:
        """Where the playhead is: the clock, how far before the `last` sample, which one."""
        moments = self.tape.moments()
        index = self.playhead.shown()
        if index < 0:
            return ""
        behind = moments[-1].taken_at - moments[index].taken_at
        return (
            f"{time_of_day(moments[index].taken_at)}, {duration(behind)} before {last} "
            f"({index + 1}/{len(moments)})"
        )

    def _move(self, move: Callable[[], object]) -> None:
        """Move the playhead (`move` does) and show where it landed."""
        if not self.tape.moments():
            self.notify("Nothing recorded yet.", severity="warning")
            return
        move()
        self.show_moment()

    def action_step(self, samples: int) -> None:
        """Back (or forward) one sample."""
        self._move(lambda: self.playhead.step(samples))

    def action_skip(self, seconds: float) -> None:
        """Back (or forward) by seconds of recorded time."""
        self._move(lambda: self.playhead.skip(seconds))

    def action_find(self, search: str, direction: int = 1) -> None:
        """To the next (or previous) moment with a blocked session, a wait spike, a new
        longest transaction."""
        if not self.tape.moments():
            self.notify("Nothing recorded yet.", severity="warning")
        elif self.playhead.find(search, direction):
            self.show_moment()
        else:
            where = "after" if direction > 0 else "before"
            self.notify(f"No {SEARCHES[search][0]} {where} this moment.", severity="warning")

    def action_go_to(self) -> None:
        """Type a time to go to: 03:12:05, -4m, +4m."""
        box = self.query_one("#activity-goto", OrderedInput)
        box.value = ""
        box.display = True
        box.focus()

    @on(Input.Submitted, "#activity-goto")
    def go_to_submitted(self, event: Input.Submitted) -> None:
        event.input.display = False
        self.table.focus()
        moments = self.tape.moments()
        if not event.value.strip() or not moments:
            return
        try:
            when = parse_moment(event.value, moments[0].taken_at, moments[-1].taken_at)
        except ValueError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        if (why := outside(when, moments[0].taken_at, moments[-1].taken_at)) is not None:
            self.notify(f"{why}: the nearest shown.", severity="warning", markup=False)
        self._move(lambda: self.playhead.go(when))

    @work(group="snapshot", exclusive=True, exit_on_error=False)
    async def action_snapshot(self) -> None:
        """An incident snapshot of the moment shown, its waits over the `SNAPSHOT_WINDOW`
        seconds before it, written as JSON and Markdown (0600) to the export folder."""
        from pgconsole.db.browse.export import default_folder
        from pgconsole.db.diagnostics import snapshot

        index = self.playhead.shown()
        if index < 0:
            self.notify("Nothing recorded yet.", severity="warning")
            return
        moments = self.tape.moments()
        start = index_at(moments, moments[index].taken_at - SNAPSHOT_WINDOW)
        samples = [self.tape.sample(i) for i in range(start, index + 1)]
        origin = self.tape_origin()
        bundle = snapshot.from_samples(
            samples,
            source=origin.source,
            host=origin.host,
            port=origin.port,
            database=origin.database,
            version=origin.version,
            redact=origin.redact,
        )
        try:
            files = await asyncio.to_thread(
                snapshot.write_bundle,
                bundle,
                default_folder() / snapshot.snapshot_name(bundle),
            )
        except OSError as error:
            self.notify(
                f"Snapshot not written: {error}", severity="error", timeout=30, markup=False
            )
            return
        self.snapshot_files = files
        self.notify(
            f"Snapshot of {time_of_day(moments[index].taken_at)} written: {visible(str(files[0]))} "
            f"and {files[1].name}",
            timeout=30,
            markup=False,
        )

    # -- keys ----------------------------------------------------------------------------------

    def selected_pid(self) -> int | None:
        """The pid of the session under the cursor."""
        return self.table.selected_pid

    def selected(self) -> stats.Backend | None:
        """The session under the cursor."""
        pid = self.selected_pid()
        return None if pid is None else self.backends.get(pid)

    def action_back(self) -> None:
        """Back to live when rewound; else what the screen does on Esc (`leave`)."""
        if self.playhead.live:
            self.leave()
        else:
            self.go_live()

    def action_toggle_idle(self) -> None:
        """Show or hide idle sessions."""
        self._change_view(replace(self.view, show_idle=not self.view.show_idle))

    def action_toggle_background(self) -> None:
        """Show or hide the server's own processes (checkpointer, walwriter, autovacuum...)."""
        self._change_view(replace(self.view, show_background=not self.view.show_background))

    def action_toggle_panels(self) -> None:
        """Draw the pool and server panels in full, or fold them into three lines."""
        self.panels_full = self.compact
        self._lay_out_panels()

    def action_sort(self) -> None:
        """Sort by the next column (ages longest first, the others in order)."""
        self._change_view(self.view.next_sort())

    def action_filter(self) -> None:
        """Type text to keep only the sessions that contain it (Enter applies, Esc clears)."""
        self.filter_box.display = True
        self.filter_box.focus()

    @on(Input.Submitted, "#activity-filter")
    def filter_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        event.input.display = bool(text)
        self.table.focus()
        self._change_view(replace(self.view, text=text))

    def _change_view(self, view: session_rows.SessionView) -> None:
        self.view = view
        self._fill_table()
        self._show_status()

    def action_query(self) -> None:
        """The selected session's whole query."""
        session = self.selected()
        if session is not None:
            shown = session_rows.whole_query(session, self.query_text(session))
            self.app.push_screen(ValueScreen(f"pid {session.pid}", "query", shown))

    def action_root_blocker(self) -> None:
        """Move the cursor to the session at the root of the selected one's blocking chain."""
        session = root_blocker(self.selected(), self.backends)
        if session is None:
            return
        if not self.table.select_pid(session.pid):
            self.notify(f"pid {session.pid} is filtered out", severity="warning")
