"""The pgconsole application: owns the pool, the connection life cycle and global keys."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import App, ScreenStackError, SystemCommand
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from pgconsole.config import Settings
from pgconsole.connecting import Connector
from pgconsole.db.connection.params import ConnectParams
from pgconsole.db.connection.passwords import (
    PasswordQuery,
)
from pgconsole.db.connection.pool import Database
from pgconsole.db.opening import Opening
from pgconsole.failed_workers import WorkerFailed, failure_line, log_traceback
from pgconsole.help_content import key_sections, system_commands
from pgconsole.messages import (
    Connected,
    ConnectFailed,
    PasswordNeeded,
    Place,
    PlaceRequested,
    RelationRequested,
    RetryRequested,
)
from pgconsole.paths import STYLES
from pgconsole.screens.confirm import ConfirmScreen
from pgconsole.screens.connection_error import ConnectionErrorScreen
from pgconsole.screens.help import HelpScreen, KeySection
from pgconsole.screens.main import MainScreen

if TYPE_CHECKING:
    from pgconsole.screens.console import ConsoleScreen

POOL_REFRESH_SECONDS = 1.0


TRAIL_KEPT = 20
"""Places remembered for Esc (one step back each)."""


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
    # A mode (not get_default_screen) so that Textual loads the home screen's CSS_PATH.
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {"main": MainScreen}
    DEFAULT_MODE = "main"
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
        self.initial_table = table
        self.initial_activity = activity
        self.connector = self.CONNECTOR(
            self,
            params,
            settings,
            password_query=password_query,
            opening=opening,
            close_first=self.close_database,
        )
        self.sql_console: ConsoleScreen | None = None
        """The SQL console, kept (text, results, session) while the pool it uses lives."""
        self._trail: list[Place] = []
        """The places shown before this one, for Esc (one step back)."""

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
        self.main_screen.initial_table = self.initial_table
        self.main_screen.idle_seconds = self.settings.cursor_idle_seconds
        if self.database is None:  # still connecting (a failure's screen replaces this)
            self.main_screen.show_connecting(self.params.target, self.settings.read_only)

    def start_connecting(self) -> None:
        """Show "connecting…" and open the pool in a worker, so the UI never freezes."""
        self.main_screen.show_connecting(self.params.target, self.settings.read_only)
        self.connector.connect()

    async def close_database(self) -> None:
        """Close the pool, if open, within the pool's close deadline."""
        database, self.database = self.database, None
        await self._drop_console()
        if database is not None:
            await database.close()

    async def _drop_console(self) -> None:
        """Close the console's connection and forget it (its pool is going away)."""
        console, self.sql_console = self.sql_console, None
        if console is None:
            return
        await console.session.close()
        if console in self.screen_stack:
            return  # the app is exiting with the console on screen
        with contextlib.suppress(KeyError):
            self.uninstall_screen(console)

    @on(Connected)
    def show_connected(self, event: Connected) -> None:
        """Make the new pool current and show the session."""
        self.database = event.database
        while isinstance(self.screen, ConnectionErrorScreen):
            self.pop_screen()
        self.main_screen.show_connected(event.database, self.settings.pool(), event.opening)
        self.refresh_pool_stats()
        self.connector.connected(event)
        if self.initial_activity:
            self.initial_activity = False
            self.action_activity()

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
        self.start_connecting()

    # -- places: the browser, the activity screen and the console -------------------------
    #
    # Each is shown directly above the browser, never stacked on another: F3 always means the
    # activity screen, F4 the console, and each pressed again on its own screen the browser.
    # Esc on the activity screen goes back one step, to the place shown before it.

    def _place(self) -> Place:
        """The place on screen now (a modal above it does not count)."""
        from pgconsole.screens.activity import ActivityScreen
        from pgconsole.screens.console import ConsoleScreen

        for screen in reversed(self.screen_stack):
            if isinstance(screen, ActivityScreen):
                return "activity"
            if isinstance(screen, ConsoleScreen):
                return "console"
        return "browser"

    def _show_place(self, place: Screen[Any] | None, *, remember: bool = True) -> None:
        """Show `place` (None: the browser) right above the browser."""
        if remember:
            self._trail.append(self._place())
            del self._trail[:-TRAIL_KEPT]
        while len(self.screen_stack) > 1:
            self.pop_screen()
        if place is not None:
            self.push_screen(place)

    @on(PlaceRequested)
    def go_to_place(self, event: PlaceRequested) -> None:
        """F3, F4, Esc back, asked for by a screen."""
        if event.place == "back":
            self.action_step_back()
        elif event.place == "browser":
            self.action_browser()
        elif event.place == "activity":
            self.action_activity(event.relation)
        else:
            self.action_console()

    def action_browser(self) -> None:
        """The browser (the tree and the grid)."""
        if self._place() != "browser":
            self._show_place(None)

    def action_step_back(self) -> None:
        """One step back: the place shown before this one (the browser when none is left)."""
        place = self._trail.pop() if self._trail else "browser"
        if place == "activity":
            self.action_activity(remember=False)
        elif place == "console":
            self.action_console(remember=False)
        else:
            self._show_place(None, remember=False)

    def action_activity(self, relation: str = "", *, remember: bool = True) -> None:
        """The live activity screen (F3 again: the browser; Esc: one step back)."""
        from pgconsole.screens.activity import ActivityScreen  # loaded when first used

        if self._place() == "activity":
            return
        if self.database is None:
            self.notify("Not connected yet.", severity="warning")
            return
        screen = ActivityScreen(
            self.database, read_only=self.database.info.read_only, relation=relation
        )
        self._show_place(screen, remember=remember)

    def action_console(self, *, remember: bool = True) -> None:
        """The SQL console (F4 again: the browser; its text and session are kept)."""
        from pgconsole.screens.console import ConsoleScreen  # loaded when first used

        if self._place() == "console":
            return
        if self.database is None:
            self.notify("Not connected yet.", severity="warning")
            return
        if self.sql_console is None:
            self.sql_console = ConsoleScreen(
                self.database, read_only=self.database.info.read_only, target=self.params.target
            )
            # One name per console: a console left on screen by a reconnect stays installed.
            self.install_screen(self.sql_console, f"console-{id(self.sql_console)}")
        self._show_place(self.sql_console, remember=remember)

    @on(RelationRequested)
    def open_relation(self, event: RelationRequested) -> None:
        """Show a relation in the browser (from the activity screen)."""
        self._show_place(None)
        self.main_screen.open_relation(event.oid)

    async def action_quit(self) -> None:
        """Close the pool (terminating what does not close in time), then exit.

        An open edit transaction is settled first (commit, roll back, or stay), and changes
        kept after a loss are discarded only when the user says so.
        """
        if self.main_screen.editor.unsettled:
            self.main_screen.quit_when_settled()
            return
        if self.sql_console is not None and self.sql_console.session.in_transaction:
            self.push_screen(
                ConfirmScreen(
                    "The SQL console has a transaction open. Quitting rolls it back. Quit?"
                ),
                self._quit_if_confirmed,
            )
            return
        self.workers.cancel_group(self, "connect")
        await self.close_database()
        self.exit()

    async def _quit_if_confirmed(self, yes: bool | None) -> None:
        if yes:
            self.workers.cancel_group(self, "connect")
            await self.close_database()
            self.exit()

    async def on_unmount(self) -> None:
        # Whatever way the app ends, no pgconsole backend may outlive it.
        await self.close_database()
