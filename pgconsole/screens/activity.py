"""Live activity: pgconsole's own pool, the server's counters, the sessions and the lock tree.

The screen samples on a connection of its own (never one of the pool's, so a busy browse or
edit never delays it and it never starves them), one statement per refresh (two while
something may report progress). A cancel or terminate goes through the pool: it never waits
for (or collides with) a sample. Polls never overlap: sample, render, sleep. If the connection
dies the screen says it is reconnecting and opens a new one at the next refresh. The screen
owns the poll and the signals; each panel is a widget that draws the figures the screen gives
it. Every sample also goes into the app's rewind buffer: the keys of `SessionsScreen` step
back through the last minutes while sampling goes on, and Esc comes back to live.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

import asyncpg
from textual import work
from textual.binding import Binding, BindingType
from textual.widgets import Static
from textual.worker import Worker

from pgconsole.db.activity import stats
from pgconsole.db.activity.sampler import FirstSample, Sampler
from pgconsole.db.connection.errors import DB_ERRORS
from pgconsole.db.connection.failures import describe_error
from pgconsole.db.connection.pool import Database
from pgconsole.db.diagnostics import progress
from pgconsole.db.diagnostics.waits import WaitHistory, from_backends
from pgconsole.db.recording.background import BackgroundWriter, recording_name
from pgconsole.db.recording.rewind import RewindBuffer
from pgconsole.db.recording.store import Meta, RecordingError
from pgconsole.messages import Place, PlaceRequested, RelationRequested
from pgconsole.screens.confirm import ConfirmScreen
from pgconsole.screens.sessions import SessionsScreen, TapeOrigin
from pgconsole.text import visible
from pgconsole.widgets import progress_view, session_rows
from pgconsole.widgets.activity_status import ActivityStatus
from pgconsole.widgets.pool_panel import read_pool
from pgconsole.widgets.server_panel import ServerHistory

if TYPE_CHECKING:
    from pgconsole.db.console.connection import ConsoleConnection

INTERVALS = (0.5, 1.0, 2.0, 5.0, 10.0)
"""The refresh intervals `+` and `-` step through, in seconds."""
NEEDS_PRIVILEGE = (
    "Signalling another role's session needs pg_signal_backend"
    " (and only a superuser may signal a superuser's)."
)

PROGRESS_LINES = 3
"""Operations in progress shown at most (the diagnostics' progress panel lists all)."""

RECONNECTED_SHOWN = 60.0
"""Seconds the status line says the screen reconnected, once a sample came on a new
connection after the last one was lost (its backend terminated, the server restarted)."""


class ActivityScreen(SessionsScreen):
    """What the database is doing right now, refreshed on its own connection; rewinds through
    the last minutes it sampled."""

    PLACE: ClassVar[Place] = "activity"
    """Which place this screen is (`pgconsole.places.place_of`)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f3", "browser", "Browser"),
        Binding("space", "pause", "Pause"),
        Binding("plus", "interval(1)", "Slower"),
        Binding("minus", "interval(-1)", "Faster"),
        Binding("c", "cancel", "Cancel query"),
        Binding("T", "terminate", "Terminate"),
        Binding("r", "waited_relation", "Open waited relation"),
        Binding("d", "diagnostics", "Diagnostics"),
        Binding("h", "diagnostics('horizon')", "Horizon", show=False),
        Binding("R", "record", "Record to a file", show=False),
    ]
    KEY_BAR_ORDER: ClassVar[tuple[str, ...]] = (
        "query", "cancel", "terminate", "root_blocker", "diagnostics", "toggle_idle",
        "toggle_background",
        "toggle_panels", "filter", "sort", "step", "back", "browser",
    )  # fmt: skip
    """The key bar's order at 80 columns: what acts on a session first."""

    def __init__(
        self,
        database: Database,
        *,
        read_only: bool,
        relation: str = "",
        console: Callable[[], ConsoleConnection | None] | None = None,
        first: FirstSample | None = None,
        waits: WaitHistory | None = None,
        rewind: RewindBuffer | None = None,
        redact: bool = False,
    ) -> None:
        """Args:
        database: The app's pool (its numbers are shown; its connection settings reused).
        read_only: Cancel and terminate are refused.
        relation: Show only sessions on this relation (`schema.name`), if given.
        console: The app's SQL console session, if any, so that its backend shows the
            statement it runs rather than the cursor's FETCH. By default, none.
        first: A sampler already connected and its first sample (`--activity` takes it while
            the app starts): shown at once, and the screen samples on with that sampler.
        waits: The app's wait history, which each sample feeds (the diagnostics show it).
        rewind: The app's rewind buffer for this server, which each sample feeds.
        redact: A recording (`R`) keeps query texts redacted.
        """
        self.rewind = rewind if rewind is not None else RewindBuffer()
        super().__init__(self.rewind, relation=relation, console=console)
        self.database = database
        self.read_only = read_only
        self.redact = redact
        self.interval = 1.0
        self.paused = False
        self.history = ServerHistory()
        self.waits = waits if waits is not None else WaitHistory()
        self.progress_rates = progress.ProgressRates()
        self.sampler = first.sampler if first is not None else Sampler(database)
        self.first = first
        """Shown by the first refresh instead of sampling."""
        self.last_refresh: float | None = None
        self.state_text = "connecting…"
        self.reconnects = 0
        """Times the connection was lost and "reconnecting…" shown."""
        self.lost = False
        """The connection was lost and no sample has come on a new one yet."""
        self.reconnected_at: float | None = None
        """When a sample last came on a new connection after one was lost (`time.time()`)."""
        self.recorder: BackgroundWriter | None = None
        """The recording `R` started, while it runs."""
        self.recording_text = ""
        """What the status line says of the recording: `● REC m:ss` while it runs, or why it
        stopped (kept until `R` again)."""

    def start(self) -> None:
        self.poll()

    async def on_unmount(self) -> None:
        await self.sampler.close()
        if self.recorder is not None:
            await self.recorder.close()

    @property
    def conn(self) -> asyncpg.Connection | None:
        """The connection samples are taken on (`Sampler.conn`)."""
        return self.sampler.conn

    # -- polling -------------------------------------------------------------------------------
    @work(exclusive=True, group="activity", exit_on_error=False)
    async def poll(self) -> None:
        """Sample, render, sleep; reconnect when the connection is lost. Ends with the screen."""
        while True:
            if self.paused:
                await asyncio.sleep(0.2)
                continue
            started = time.monotonic()
            if self.sampler.lost():
                self._lost("the connection was closed")
            first, self.first = self.first, None
            try:
                sample = first.sample if first is not None else await self.sampler.sample()
            except DB_ERRORS as error:
                self._lost(str(error).splitlines()[0] if str(error) else type(error).__name__)
            else:
                self.last_refresh = first.taken if first is not None else time.time()
                if self.lost:  # said for a while: the samples had a gap, and someone or
                    self.lost = False  # something ended the screen's session
                    self.reconnected_at = self.last_refresh
                self.state_text = ""
                if self.playhead.live:
                    self.show_sample(sample)
                    await self._show_progress(sample)
                else:
                    self._record(sample)
                    self.show_timeline()  # the moment shown stays; the tape grew
                self.samples += 1
                await self._write(sample)
            elapsed = time.monotonic() - started
            await asyncio.sleep(max(0.05, self.interval - elapsed))

    def worker_failed(self, worker: Worker[object]) -> None:
        """Sampling stopped on a bug: the header says so instead of a stale refresh time."""
        if worker.group == "activity":
            self.state_text = "sampling stopped on an unexpected error (see the notice)"
            self._show_status()

    def _lost(self, reason: str) -> None:
        self.reconnects += 1
        self.lost = True
        self.state_text = f"reconnecting… ({reason})"
        self._show_status()

    # -- rendering -----------------------------------------------------------------------------

    def show_sample(self, sample: stats.Sample) -> None:
        """Record one live sample and render it: panels, sessions (in place), lock tree,
        status."""
        self._record(sample)
        self._draw_sample(sample)

    def _draw_sample(self, sample: stats.Sample) -> None:
        # Every panel has a fixed height: an update repaints it, never lays the screen out
        # (the lock tree grows only when a session starts to wait on another).
        self._show_server()
        self._show_pool()
        self._show_sessions(sample)
        self._show_status(sample.queries)

    def _record(self, sample: stats.Sample) -> None:
        """Count a live sample into the server's and the waits' histories, and the rewind."""
        self.history.add(sample.server)
        self.waits.add(from_backends(sample.backends))
        self.rewind.add(sample)

    async def _show_progress(self, sample: stats.Sample) -> None:
        """The operations in progress, a line each, when the sample shows something that may
        report progress (`may_be_running`): read then only, one statement more."""
        operations: tuple[progress.Operation, ...] = ()
        if progress.may_be_running(sample.backends):
            with contextlib.suppress(*DB_ERRORS):  # the next sample says what went wrong
                operations = await self.sampler.read(progress.read_progress)
            self._show_status(sample.queries + 1)
        paces = self.progress_rates.update(operations, time.monotonic())
        box = self.query_one("#activity-progress", Static)
        if not operations and not box.display:
            return  # hidden and staying so: an update would lay the whole screen out again
        box.display = bool(operations)
        box.update(progress_view.lines(operations[:PROGRESS_LINES], paces))

    def _show_server(self) -> None:
        """The server's figures; folded, with the pool's in their last line."""
        if not self.playhead.live:
            return  # the moment's, drawn with it
        self.server_panel.figures = self.history.figures(
            read_pool(self.database) if self.compact else None
        )

    def _show_pool(self) -> None:
        """The pool panel, when it shows (its queries per second since it last did)."""
        if not self.compact:
            self.pool_panel.figures = read_pool(self.database, self.pool_panel.figures)

    def _show_status(self, queries: int | None = None) -> None:
        capabilities = self.sampler.capabilities
        limits = None if capabilities is None else tuple(capabilities.limits())
        self.status_line.status = ActivityStatus(
            state=(
                (self.state_text or self._reconnected_text())
                if self.playhead.live
                else f"rewind: {self.tape_text()} · Esc: live"
            ),
            refreshed=self.last_refresh,
            paused=self.paused,
            interval=self.interval,
            queries=queries,
            view=self.view,
            limits=limits,
            rewind=self.rewind.span() if self.playhead.live else None,
            recording=self.recording_text,
        )

    def _reconnected_text(self) -> str:
        """`reconnected 03:12:05` for `RECONNECTED_SHOWN` seconds after a reconnection."""
        at = self.reconnected_at
        if at is None or time.time() - at > RECONNECTED_SHOWN:
            return ""
        return "reconnected " + time.strftime("%H:%M:%S", time.localtime(at))

    # -- recording to a file -------------------------------------------------------------------

    async def _write(self, sample: stats.Sample) -> None:
        """The sample into the recording `R` started, if one runs (no statement more)."""
        recorder = self.recorder
        if recorder is None:
            return
        try:
            await recorder.add(sample)
        except RecordingError as error:
            # Said before the file is closed: the closing waits on the writer's thread, and the
            # screen must not show a stopped recording as running meanwhile.
            self.recorder = None
            kept = f"{recorder.added} sample{'s' if recorder.added != 1 else ''}"
            self.recording_text = f"recording stopped: {error} ({kept} kept; R: again)"
            self._show_status()
            self.notify(
                f"Recording stopped: {error}. {kept} kept in {recorder.path}.",
                severity="error",
                timeout=30,
                markup=False,
            )
            await recorder.close()
        else:
            minutes, seconds = divmod(int(time.monotonic() - recorder.started), 60)
            self.recording_text = f"● REC {minutes}:{seconds:02}"  # the file was said at R
        self._show_status()

    @work(group="record", exclusive=True, exit_on_error=False)
    async def action_record(self) -> None:
        """Start recording this screen's samples to a file in the export folder (replay it
        with `pgconsole replay FILE`), or stop."""
        from pgconsole.db.browse.export import default_folder

        if self.recorder is not None:
            recorder, self.recorder = self.recorder, None
            self.recording_text = ""
            self._show_status()
            await recorder.close()
            self.notify(
                f"Recorded {recorder.added} samples to {recorder.path}", timeout=30, markup=False
            )
            return
        meta = self._meta()
        path = default_folder() / recording_name(meta)
        try:
            self.recorder = await BackgroundWriter.open(path, meta)
        except RecordingError as error:
            self.notify(f"Not recording: {error}", severity="error", timeout=30, markup=False)
            return
        self.recording_text = "● REC 0:00"
        self._show_status()
        self.notify(f"Recording to {path} (R stops)", markup=False)

    # -- keys ----------------------------------------------------------------------------------

    def leave(self) -> None:
        """One step back: the place shown before this one."""
        self.post_message(PlaceRequested("back"))

    def tape_origin(self) -> TapeOrigin:
        meta = self._meta()
        return TapeOrigin(
            "rewind buffer", meta.host, meta.port, meta.database, meta.server_version, self.redact
        )

    def _meta(self) -> Meta:
        """This server, as a recording names it."""
        return Meta.of(self.database, interval=self.interval, redacted=self.redact)

    def go_live(self) -> None:
        """Back to the newest sample, refreshed as it comes."""
        self.playhead.at = None
        self.timeline.display = False
        if self.rewind.moments():
            self._draw_sample(self.rewind.sample(len(self.rewind) - 1))

    def action_toggle_panels(self) -> None:
        super().action_toggle_panels()
        self._show_pool()

    def action_browser(self) -> None:
        """F3 again: the browser."""
        self.post_message(PlaceRequested("browser"))

    def action_diagnostics(self, panel: str = "") -> None:
        """The diagnostics: top statements, waits, the vacuum horizon (on `panel`, else the
        one shown last)."""
        self.post_message(PlaceRequested("diagnostics", panel=panel))

    def action_pause(self) -> None:
        """Stop (or resume) refreshing."""
        self.paused = not self.paused
        self._show_status()

    def action_interval(self, step: int) -> None:
        """A longer (+) or shorter (-) refresh interval, between 0.5 and 10 s."""
        index = min(range(len(INTERVALS)), key=lambda i: abs(INTERVALS[i] - self.interval))
        self.interval = INTERVALS[max(0, min(len(INTERVALS) - 1, index + step))]
        self._show_status()

    def action_cancel(self) -> None:
        """Cancel the selected session's query, after a confirmation."""
        self._signal("cancel")

    def action_terminate(self) -> None:
        """Terminate the selected session, after a confirmation."""
        self._signal("terminate")

    def action_waited_relation(self) -> None:
        """Open in the browser the relation the selected session waits on."""
        session = self.selected()
        if session is None or session.lock_relation_oid is None:
            self.notify("The selected session does not wait on a relation.")
            return
        self.post_message(RelationRequested(session.lock_relation_oid))

    @work(group="signal", exit_on_error=False)
    async def _signal(self, how: str) -> None:
        session = self.selected()
        if session is None:
            return
        if not self.playhead.live:
            # The pid may be another session's by now.
            self.notify(
                f"This is the past: {how} acts on live sessions only (Esc: live).",
                severity="warning",
            )
            return
        if self.read_only:
            self.notify(f"Read-only mode: {how} is refused.", severity="warning")
            return
        if session.is_self:
            self.notify("That is this screen's own connection.", severity="warning")
            return
        verb = "Cancel the query of" if how == "cancel" else "Terminate"
        question = f"{verb} pid {session.pid} ({session.user or '?'})?"
        if not await self.app.push_screen_wait(
            ConfirmScreen(
                question,
                session_rows.one_line(self.query_text(session), 600) or "(no query visible)",
            )
        ):
            return
        action = stats.cancel_backend if how == "cancel" else stats.terminate_backend
        try:
            # Through the pool, never the poll's connection: a sample may be running on it.
            async with self.database.transaction() as conn:
                done = await action(conn, session.pid)
        except DB_ERRORS as error:
            reason = visible(describe_error(error), keep_newlines=True)
            text, timeout = f"{how} failed: {reason}", None
            if isinstance(error, asyncpg.InsufficientPrivilegeError):
                text, timeout = f"Not allowed: {reason}\n{NEEDS_PRIVILEGE}", 10.0
            # The server's message is data, not markup.
            self.notify(text, severity="error", timeout=timeout, markup=False)
            return
        self.notify(
            f"pid {session.pid}: {'signalled' if done else 'no such session any more'}",
            severity="information" if done else "warning",
        )
