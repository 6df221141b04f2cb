"""The pgconsole application: owns the pool, the error boundary and the global keys.

Beside it: `pgconsole.connecting` opens the pool (password prompts and the offer to save one
included) and posts how that went; `pgconsole.places` shows the browser, the activity screen or
the console and goes back; `pgconsole.help_content` says what help and the palette list.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Iterable
from typing import ClassVar

from textual import on, work
from textual.app import App, ScreenStackError, SystemCommand
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from pgconsole.config import Settings
from pgconsole.connecting import Connector
from pgconsole.db.connection.errors import DB_ERRORS
from pgconsole.db.connection.params import ConnectParams
from pgconsole.db.connection.passwords import PasswordQuery
from pgconsole.db.connection.pool import Database
from pgconsole.db.opening import Opening
from pgconsole.failed_workers import WorkerFailed, failure_line, log_traceback
from pgconsole.help_content import key_sections, system_commands
from pgconsole.messages import (
    Connected,
    ConnectFailed,
    PasswordNeeded,
    PlaceRequested,
    QuitRequested,
    RelationRequested,
    RetryRequested,
)
from pgconsole.paths import STYLES
from pgconsole.places import Places
from pgconsole.screens.confirm import ConfirmScreen
from pgconsole.screens.connection_error import ConnectionErrorScreen
from pgconsole.screens.help import HelpScreen, KeySection
from pgconsole.screens.main import MainScreen

POOL_REFRESH_SECONDS = 1.0


def freeze_start_objects() -> None:
    """Move every object alive now (modules, styles, the first screen) into the collector's
    permanent generation.

    A full collection otherwise walks all of them, and lands in the middle of a key's frame:
    at 200x50, the first frame after a PgDn that fetches had a p95 of 51-59 ms with the
    pause and 9-11 ms without it. Browsing's own garbage is still collected as before; no
    collection runs first (it would take 10-20 ms on the way to the first page), so the
    few cycles that were garbage at this moment are kept.
    """
    gc.freeze()


class PgConsoleApp(App[None]):
    """A keyboard-driven console for one PostgreSQL server."""

    CSS_PATH = STYLES / "app.tcss"
    TITLE = "pgconsole"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark,f1", "help", "Help"),
        Binding("f3", "activity", "Activity"),
        Binding("f4", "console", "SQL console"),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]
    DEFAULT_MODE = "main"
    """The browser's mode, added in `__init__` with its settings. A mode (not
    get_default_screen) so that Textual loads the home screen's CSS_PATH."""
    CONNECTOR: ClassVar[type[Connector]] = Connector
    """What opens the pool (the snapshot tests put one with a fixed session in its place)."""

    def __init__(
        self,
        params: ConnectParams,
        settings: Settings,
        *,
        password_query: PasswordQuery | None = None,
        table: str | None = None,
        activity: bool = False,
        opening: asyncio.Task[Opening] | None = None,
    ) -> None:
        """Create the app; it connects as it loads, unless `opening` already does.

        Args:
            params: Where to connect (a password in it is used as given).
            settings: Session, pool and timeout settings.
            password_query: Where to look for the password (see `Connector`).
            table: A relation to open once connected (`schema.name`, quoted parts allowed).
            activity: Show the activity screen once connected.
            opening: The first attempt, started before the app (see `Connector`).
        """
        super().__init__()
        self.params = params
        self.settings = settings
        self.database: Database | None = None
        self.initial_activity = activity
        self.started = False
        """The first session was shown (and what the start built was frozen)."""
        idle_seconds = settings.cursor_idle_seconds
        self.places = Places(
            self,
            target=params.target,
            idle_seconds=idle_seconds,
            redact=settings.redact_queries,
            retention_warning=settings.slot_retention_warning_mb * 1024 * 1024,
        )
        self.connector = self.CONNECTOR(
            self,
            params,
            settings,
            password_query=password_query,
            opening=opening,
            close_first=self.close_database,
        )
        console_transaction = self.places.console_transaction
        self.add_mode(
            "main",
            lambda: MainScreen(
                table=table, idle_seconds=idle_seconds, console_transaction=console_transaction
            ),
        )

    # -- the error boundary ----------------------------------------------------------------

    @on(WorkerFailed)
    def report_failed_worker(self, event: WorkerFailed) -> None:
        """One readable line, the app keeps running, the traceback goes to errors.log."""
        log = log_traceback(event.error, event.worker_name)
        self.notify(failure_line(event.error, log), severity="error", timeout=60, markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The app's own workers (connect, settle) meet the same boundary."""
        worker = event.worker
        if event.state is WorkerState.ERROR and worker.error is not None:
            self.post_message(WorkerFailed(worker.name or worker.group, worker.error))

    # -- screens ---------------------------------------------------------------------------

    def clear_selection(self) -> None:
        """Textual's, tolerating the moment before the first screen is on its stack.

        An Input composed in the default mode's screen clears the selection while the stack is
        still empty; Textual catches only NoScreen there, so the ScreenStackError ended the app
        (Textual #6444; seen on Python 3.13, where the mount order makes it happen every time).
        """
        with contextlib.suppress(ScreenStackError):
            super().clear_selection()

    @property
    def main_screen(self) -> MainScreen:
        """The home screen, always at the bottom of the stack."""
        screen = self.screen_stack[0]
        assert isinstance(screen, MainScreen)
        return screen

    def key_sections(self) -> list[KeySection]:
        """What the help screen lists: each screen's keys under its name."""
        return key_sections(PgConsoleApp)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        textual = super().get_system_commands(screen)
        return system_commands(
            textual, screen, reconnect=self.action_reconnect, show_help=self.action_help
        )

    # -- connection life cycle -------------------------------------------------------------

    def on_load(self) -> None:
        # Before the screens are built: the server handshakes while Textual parses CSS and
        # lays out the first frame. The outcome waits in the queue until the app is mounted.
        self.connector.connect()

    def on_mount(self) -> None:
        self.set_interval(POOL_REFRESH_SECONDS, self.refresh_pool_stats)
        if self.database is None:  # still connecting (a failure's screen replaces this)
            self.main_screen.show_connecting(self.params.target, self.settings.read_only)

    async def close_database(self) -> None:
        """Close the pool, if open, within the pool's close deadline (the console's first)."""
        database, self.database = self.database, None
        await self.places.drop_console()
        if database is not None:
            await database.close()

    @on(Connected)
    def show_connected(self, event: Connected) -> None:
        """Make the new pool current and show the session."""
        self.database = event.database
        while isinstance(self.screen, ConnectionErrorScreen):
            self.pop_screen()
        self.main_screen.show_connected(event.database, self.settings.pool(), event.opening)
        self.refresh_pool_stats()
        self.connector.connected(event)
        if not self.started:
            self.started = True
            self.call_after_refresh(freeze_start_objects)
        if self.settings.rewind_in_background:
            self.rewind_in_background(event.database)
        if self.initial_activity:  # `--activity`: its first sample may be taken already
            self.initial_activity = False
            first = event.opening.first_sample if event.opening is not None else None
            self.places.activity(self.database, first=first)

    @on(PasswordNeeded)
    def ask_password(self, event: PasswordNeeded) -> None:
        """Ask for the password in the UI; Esc shows the failure instead."""
        self.main_screen.show_failed(self.params.target)
        self.connector.ask_password(event.choice)

    @on(ConnectFailed)
    def show_failure(self, event: ConnectFailed) -> None:
        """Show why connecting failed, on the error screen."""
        self.main_screen.show_failed(self.params.target)
        if isinstance(self.screen, ConnectionErrorScreen):
            self.screen.show_failure(event.failure)
        else:
            self.push_screen(ConnectionErrorScreen(event.failure))

    @on(RetryRequested)
    def retry(self) -> None:
        """Try again with the same settings."""
        self.connector.connect()

    def refresh_pool_stats(self) -> None:
        """Update the pool numbers in the status bar (no round trip to the server)."""
        if self.database is not None and not self.database.closed and self.screen_stack:
            # An app timer: it can fire while the app exits and the screens' widgets (or the
            # screens themselves) are gone.
            with contextlib.suppress(NoMatches):
                self.main_screen.show_pool(self.database.stats())

    # -- actions ---------------------------------------------------------------------------

    def action_help(self) -> None:
        """Show every key."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.key_sections()))

    def action_reconnect(self) -> None:
        """Drop the pool and connect again, once an open transaction or kept changes are
        settled (as on quit): nothing of the old pool may be left in use."""
        if self.main_screen.editor.unsettled:
            self.reconnect_when_settled()
            return
        self._reconnect()

    @work(group="rewind", exclusive=True, exit_on_error=False)
    async def rewind_in_background(self, database: Database) -> None:
        """Sample for the rewind buffer once a second while the activity screen is not shown
        (it samples itself when it is), on a connection of its own; ends with the pool."""
        from pgconsole.db.activity.sampler import Sampler
        from pgconsole.screens.activity import ActivityScreen

        sampler = Sampler(database)
        try:
            while self.database is database and not database.closed:
                if not any(isinstance(s, ActivityScreen) for s in self.screen_stack):
                    with contextlib.suppress(*DB_ERRORS):  # the next second tries again
                        self.places.rewind.add(await sampler.sample())
                await asyncio.sleep(1.0)
        finally:
            await sampler.close()

    @work(group="settle", exclusive=True, exit_on_error=False)
    async def reconnect_when_settled(self) -> None:
        """Reconnect after the user committed, rolled back or discarded (or stay)."""
        if await self.main_screen.editor.settle():
            self._reconnect()

    def _reconnect(self) -> None:
        # The screens above the browser hold the old pool (activity samples on it): they close,
        # and F3 or F4 open them again on the new one.
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.main_screen.show_connecting(self.params.target, self.settings.read_only)
        self.connector.connect()

    # -- places: the browser, the activity screen and the console (see pgconsole.places) ---

    @on(PlaceRequested)
    def go_to_place(self, event: PlaceRequested) -> None:
        """F3, F4, Esc back, asked for by a screen."""
        self.places.go(
            event.place, self.database, event.relation, text=event.text, panel=event.panel
        )

    def action_activity(self) -> None:
        """The live activity screen (F3 again: the browser; Esc: one step back)."""
        self.places.activity(self.database)

    def action_console(self) -> None:
        """The SQL console (F4 again: the browser; its text and session are kept)."""
        self.places.console(self.database)

    @on(RelationRequested)
    def open_relation(self, event: RelationRequested) -> None:
        """Show a relation in the browser (from the activity screen)."""
        self.places.show(None)
        self.main_screen.open_relation(event.oid)

    # -- quitting --------------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Close the pool (terminating what does not close in time), then exit.

        An open edit transaction is settled first (commit, roll back, or stay), and changes
        kept after a loss are discarded only when the user says so.
        """
        if self.main_screen.editor.unsettled:
            self.main_screen.quit_when_settled()
            return
        if self.places.console_in_transaction():
            self.push_screen(
                ConfirmScreen(
                    "The SQL console has a transaction open. Quitting rolls it back. Quit?"
                ),
                self._close_and_exit,
            )
            return
        await self._close_and_exit(True)

    @on(QuitRequested)
    async def quit_when_asked(self) -> None:
        """A screen settled what it had open and asks to quit (the checks run again)."""
        await self.action_quit()

    async def _close_and_exit(self, yes: bool | None) -> None:
        """Close the pool, then exit (unless asked first and the answer was no)."""
        if yes:
            self.workers.cancel_group(self, "connect")
            await self.close_database()
            self.exit()

    async def on_unmount(self) -> None:
        # Whatever way the app ends, no pgconsole backend may outlive it.
        await self.close_database()
