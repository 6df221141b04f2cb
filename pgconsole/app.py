"""The pgconsole application: owns the server windows, the error boundary and the global keys.

Beside it: `pgconsole.window` holds one open server (pool, places, screens);
`pgconsole.connecting` opens a pool (password prompts and the offer to save one included) and
posts how that went; `pgconsole.places` shows the browser, the activity screen or
the console and goes back; `pgconsole.help_content` says what help and the palette list.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import App, ScreenStackError, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from pgconsole.config import Settings
from pgconsole.connecting import Connector
from pgconsole.db.connection.params import ConnectParams
from pgconsole.db.connection.passwords import PasswordQuery
from pgconsole.db.connection.pool import Database
from pgconsole.db.opening import Opening
from pgconsole.failed_workers import WorkerFailed, failure_line, log_traceback
from pgconsole.help_content import key_sections, system_commands
from pgconsole.messages import (
    Connected,
    ConnectFailed,
    FleetRequested,
    PasswordNeeded,
    PlaceRequested,
    QuitRequested,
    RelationRequested,
    RetryRequested,
    ServerRequested,
    WindowRequested,
)
from pgconsole.paths import STYLES
from pgconsole.places import Places
from pgconsole.screens.confirm import ConfirmScreen
from pgconsole.screens.help import HelpScreen, KeySection, help_here
from pgconsole.screens.main import MainScreen
from pgconsole.server_list import ServerList, WindowEntry
from pgconsole.text import visible
from pgconsole.window import ServerWindow

if TYPE_CHECKING:
    from pgconsole.fleet import FleetReading
    from pgconsole.screens.fleet import FleetScreen

POOL_REFRESH_SECONDS = 1.0
FLEET_MODE = "fleet"


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
    """A keyboard-driven console for PostgreSQL servers, one window per server."""

    CSS_PATH = STYLES / "app.tcss"
    TITLE = "pgconsole"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark,f1", "help", "Help"),
        Binding("f3", "activity", "Activity"),
        Binding("f4", "console", "SQL console"),
        Binding("f10", "servers", "Servers"),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]
    DEFAULT_MODE = "main"
    """The first window's mode, added in `__init__` with its settings. A mode (not
    get_default_screen) so that Textual loads the home screen's CSS_PATH."""
    CONNECTOR: ClassVar[type[Connector]] = Connector
    """What opens the pool (the snapshot tests put one with a fixed session in its place)."""
    FLEET_SCREEN: ClassVar[type[FleetScreen] | None] = None
    """The fleet view (the snapshot tests put one with fixed rows in its place); None: the
    real one, imported when first shown."""
    early_fleet: FleetReading | None = None
    """The fleet view's first reading, when it started before the app (`FleetApp`)."""

    def __init__(
        self,
        params: ConnectParams | None,
        settings: Settings,
        *,
        password_query: PasswordQuery | None = None,
        table: str | None = None,
        activity: bool = False,
        opening: asyncio.Task[Opening] | None = None,
        name: str | None = None,
        servers: ServerList | Callable[[], ServerList] | None = None,
    ) -> None:
        """Create the app; it connects as it loads, unless `opening` already does.

        Args:
            params: Where to connect (a password in it is used as given); None to start
                with the fleet view (`FleetApp`) and no server open.
            settings: Session, pool and timeout settings.
            password_query: Where to look for the password (see `Connector`).
            table: A relation to open once connected (`schema.name`, quoted parts allowed).
            activity: Show the activity screen once connected.
            opening: The first attempt, started before the app (see `Connector`).
            name: The first window's name (its profile), if it has one.
            servers: The servers F10 offers to open besides the ones open (the config's
                profiles), and the fleet view's; or what reads them when first needed (off
                the start path: every profile is resolved).
        """
        super().__init__()
        self.windows: list[ServerWindow] = []
        self._servers = servers
        self.started = False
        """The first session was shown (and what the start built was frozen)."""
        self._window: ServerWindow | None = None
        self._fleet_added = False
        if params is None:
            self._add_fleet_mode()
            return
        self._window = self.add_window(
            params,
            settings,
            name=name,
            password_query=password_query,
            table=table,
            activity=activity,
            opening=opening,
            mode=self.DEFAULT_MODE,
        )

    def add_window(
        self,
        params: ConnectParams,
        settings: Settings,
        *,
        mode: str | None = None,
        **options: Any,
    ) -> ServerWindow:
        """A new server window (its mode added, not shown yet, not connecting yet)."""
        mode = mode or f"server-{len(self.windows) + 1}-{id(params)}"
        window = ServerWindow(self, mode, params, settings, connector=self.CONNECTOR, **options)
        self.windows.append(window)
        self.add_mode(mode, window.make_main_screen)
        return window

    @property
    def servers(self) -> ServerList:
        """The servers of the config (read the first time they are needed)."""
        if self._servers is None:
            self._servers = ServerList()
        elif callable(self._servers):
            self._servers = self._servers()
        return self._servers

    # -- what the current window holds (the screens and tests read these) -----------------

    @property
    def window(self) -> ServerWindow:
        """The server window on screen (or shown last, while the fleet view is)."""
        assert self._window is not None, "no server is open"
        return self._window

    @property
    def has_window(self) -> bool:
        """Whether a server is open (not so in `pgconsole fleet` before Enter)."""
        return self._window is not None

    @property
    def params(self) -> ConnectParams:
        """Where the window on screen connects."""
        return self.window.params

    @property
    def settings(self) -> Settings:
        """The window on screen's settings."""
        return self.window.settings

    @property
    def database(self) -> Database | None:
        """The window on screen's pool, while open."""
        return self.window.database

    @property
    def places(self) -> Places:
        """The window on screen's places."""
        return self.window.places

    @property
    def connector(self) -> Connector:
        """The window on screen's connector."""
        return self.window.connector

    @property
    def main_screen(self) -> MainScreen:
        """The window on screen's browser, always at the bottom of its stack."""
        return self.window.main_screen

    def window_of(self, connector: object) -> ServerWindow:
        """The window a connection outcome belongs to (the one on screen if none claims it)."""
        return next((w for w in self.windows if w.owns(connector)), self.window)

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
        if self.has_window:
            self.window.connector.connect()

    def on_mount(self) -> None:
        self.set_interval(POOL_REFRESH_SECONDS, self.refresh_pool_stats)
        if self.has_window:
            self.window.start()

    async def close_database(self) -> None:
        """Close the window on screen's pool, if open (the console's first)."""
        await self.window.close_database()

    @on(Connected)
    def show_connected(self, event: Connected) -> None:
        """Make the new pool its window's and show the session."""
        self.window_of(event.origin).show_connected(event)
        if not self.started:
            self.started = True
            self.call_after_refresh(freeze_start_objects)

    @on(PasswordNeeded)
    def ask_password(self, event: PasswordNeeded) -> None:
        """Ask for the password in the UI; Esc shows the failure instead."""
        self.window_of(event.origin).ask_password(event)

    @on(ConnectFailed)
    def show_failure(self, event: ConnectFailed) -> None:
        """Show why connecting failed, on the error screen."""
        self.window_of(event.origin).show_failure(event)

    @on(RetryRequested)
    def retry(self) -> None:
        """Try again with the same settings."""
        self.window.connector.connect()

    def refresh_pool_stats(self) -> None:
        """Update each window's pool numbers and tunnel state (no round trip to the server)."""
        if self.screen_stack:
            for window in self.windows:
                window.refresh_pool_stats()

    # -- actions ---------------------------------------------------------------------------

    def action_help(self) -> None:
        """Show every key."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(help_here(self.key_sections(), self.screen))

    def action_reconnect(self) -> None:
        """Drop the pool and connect again, once an open transaction or kept changes are
        settled (as on quit): nothing of the old pool may be left in use."""
        if self.window.unsettled:
            self.reconnect_when_settled()
            return
        self.window.reconnect()

    @work(group="settle", exclusive=True, exit_on_error=False)
    async def reconnect_when_settled(self) -> None:
        """Reconnect after the user committed, rolled back or discarded (or stay)."""
        window = self.window
        if await window.main_screen.editor.settle():
            window.reconnect()

    # -- windows: one per open server ------------------------------------------------------

    def action_servers(self) -> None:
        """The open servers and the profiles to open (F10; digits switch directly)."""
        from pgconsole.screens.servers import ServersScreen

        if isinstance(self.screen, ServersScreen):
            return
        shown = self.window if self.has_window and self.current_mode != FLEET_MODE else None
        entries = [
            WindowEntry(w.name, w.settings.color, w.state, w.params.target, current=w is shown)
            for w in self.windows
        ]
        self.push_screen(ServersScreen(entries, self.servers))

    @on(WindowRequested)
    def show_window_number(self, event: WindowRequested) -> None:
        """A window from the server list, by number."""
        self.show_window(self.windows[event.number - 1])

    @on(FleetRequested)
    def fleet_requested(self) -> None:
        """The fleet view, from the server list."""
        self.show_fleet()

    @on(ServerRequested)
    def server_requested(self, event: ServerRequested) -> None:
        """A server from the server list or the fleet view: its window, on its browser or
        its activity (opened and connected first if need be)."""
        entry = self.servers.named(event.name)
        if entry is None or entry.target is None:
            problem = entry.problem if entry is not None else f"no server {event.name}"
            self.notify(visible(problem or "cannot be resolved"), severity="error", markup=False)
            return
        target = entry.target
        activity = event.place == "activity"
        window = self.open_server(
            entry.name,
            target.params,
            target.settings,
            password_query=target.password_query,
            activity=activity,
        )
        if activity and window.database is not None:
            window.places.activity(window.database)

    def show_window(self, window: ServerWindow) -> None:
        """Put `window` on screen as it was left (its screens, pool and console kept)."""
        self._window = window
        self.switch_mode(window.mode)
        self.call_after_refresh(window.start)

    def show_fleet(self) -> None:
        """The fleet view, as it was left (made, and reading, the first time)."""
        if not self._fleet_added:
            self._add_fleet_mode()
        self.switch_mode(FLEET_MODE)

    def _add_fleet_mode(self) -> None:
        from pgconsole.screens.fleet import FleetScreen as RealFleetScreen

        servers = self.servers
        screen = self.FLEET_SCREEN or RealFleetScreen
        early, self.early_fleet = self.early_fleet, None
        self.add_mode(FLEET_MODE, lambda: screen(servers, early))
        self._fleet_added = True

    def open_server(
        self, name: str, params: ConnectParams, settings: Settings, **options: Any
    ) -> ServerWindow:
        """Show the window of server `name`, opening (and connecting) it if it is not open."""
        window = next((w for w in self.windows if w.name == name), None)
        if window is None:
            window = self.add_window(params, settings, name=name, **options)
            window.connect_when_shown = True
        self.show_window(window)
        return window

    # -- places: the browser, the activity screen and the console (see pgconsole.places) ---

    @on(PlaceRequested)
    def go_to_place(self, event: PlaceRequested) -> None:
        """F3, F4, Esc back, asked for by a screen."""
        self.places.go(
            event.place, self.database, event.relation, text=event.text, panel=event.panel
        )

    def action_activity(self) -> None:
        """The live activity screen (F3 again: the browser; Esc: one step back)."""
        if self.on_server():
            self.places.activity(self.database)

    def action_console(self) -> None:
        """The SQL console (F4 again: the browser; its text and session are kept)."""
        if self.on_server():
            self.places.console(self.database)

    def server_tag(self, screen: Screen[object]) -> tuple[str, str | None] | None:
        """What the key bar of `screen` names: its server and the profile's colour, when
        there is a server to tell apart (several open, or one of a profile)."""
        if self.current_mode == FLEET_MODE or not self.has_window:
            return None
        window = self.window
        if len(self.windows) == 1 and window.name == window.params.target:
            return None
        return window.name, window.settings.color

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """F3 and F4 are a server's: not offered on the fleet view."""
        return not (action in ("activity", "console") and self.current_mode == FLEET_MODE)

    def on_server(self) -> bool:
        """Whether a server window is on screen (not the fleet view); says so if not."""
        if self.has_window and self.current_mode == self.window.mode:
            return True
        self.notify("Open a server first: Enter on its row, or F10.", severity="warning")
        return False

    @on(RelationRequested)
    def open_relation(self, event: RelationRequested) -> None:
        """Show a relation in the browser (from the activity screen)."""
        self.places.show(None)
        self.main_screen.open_relation(event.oid)

    # -- quitting --------------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Close every pool (terminating what does not close in time), then exit.

        An open edit transaction is settled first (commit, roll back, or stay), in its own
        window, and changes kept after a loss are discarded only when the user says so.
        """
        unsettled = next((w for w in self.windows if w.unsettled), None)
        if unsettled is not None:
            if unsettled is not self.window:
                self.show_window(unsettled)
            unsettled.main_screen.quit_when_settled()
            return
        in_transaction = [w.name for w in self.windows if w.places.console_in_transaction()]
        if in_transaction:
            where = (
                "The SQL console has"
                if len(self.windows) == 1
                else (f"The SQL console of {', '.join(in_transaction)} has")
            )
            self.push_screen(
                ConfirmScreen(f"{where} a transaction open. Quitting rolls it back. Quit?"),
                self._close_and_exit,
            )
            return
        await self._close_and_exit(True)

    @on(QuitRequested)
    async def quit_when_asked(self) -> None:
        """A screen settled what it had open and asks to quit (the checks run again)."""
        await self.action_quit()

    async def _close_and_exit(self, yes: bool | None) -> None:
        """Close the pools, then exit (unless asked first and the answer was no)."""
        if yes:
            self.workers.cancel_group(self, "connect")
            await self.close_windows()
            self.exit()

    async def close_windows(self) -> None:
        """Close every window's pool and tunnel."""
        for window in self.windows:
            await window.close()

    async def on_unmount(self) -> None:
        # Whatever way the app ends, no pgconsole backend (nor our ssh) may outlive it.
        await self.close_windows()


class FleetApp(PgConsoleApp):
    """`pgconsole fleet`: the app opening on the fleet view, no server open yet."""

    DEFAULT_MODE = FLEET_MODE

    def __init__(
        self, settings: Settings, servers: ServerList, early: FleetReading | None = None
    ) -> None:
        """Args:
        settings: The settings of the servers opened from the fleet view without a profile.
        servers: The fleet's servers.
        early: The fleet's first reading, started before the app (`pgconsole fleet`).
        """
        self.early_fleet = early
        super().__init__(None, settings, servers=servers)
