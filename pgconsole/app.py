"""The pgconsole application: owns the pool, the connection life cycle and global keys."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from pgconsole.config import Settings
from pgconsole.db.failures import classify
from pgconsole.db.params import ConnectParams
from pgconsole.db.pool import Database, open_database
from pgconsole.messages import Connected, ConnectFailed, RetryRequested
from pgconsole.paths import STYLES
from pgconsole.screens.connection_error import ConnectionErrorScreen
from pgconsole.screens.help import HelpScreen, KeySection
from pgconsole.screens.main import MainScreen

POOL_REFRESH_SECONDS = 1.0


class PgConsoleApp(App[None]):
    """A keyboard-driven console for one PostgreSQL server."""

    CSS_PATH = STYLES / "app.tcss"
    TITLE = "pgconsole"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark,f1", "help", "Help"),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]
    # A mode (not get_default_screen) so that Textual loads the home screen's CSS_PATH.
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {"main": MainScreen}
    DEFAULT_MODE = "main"

    def __init__(self, params: ConnectParams, settings: Settings) -> None:
        """Create the app; nothing connects until it is mounted.

        Args:
            params: Where to connect (the password, if any, stays in memory only).
            settings: Session, pool and timeout settings.
        """
        super().__init__()
        self.params = params
        self.settings = settings
        self.database: Database | None = None

    # -- screens ---------------------------------------------------------------------------

    @property
    def main_screen(self) -> MainScreen:
        """The home screen, always at the bottom of the stack."""
        screen = self.screen_stack[0]
        assert isinstance(screen, MainScreen)
        return screen

    def key_sections(self) -> list[KeySection]:
        """What the help screen lists: each screen's keys under its name."""
        return [
            ("Everywhere", [PgConsoleApp]),
            ("Connection error", [ConnectionErrorScreen]),
            ("Help", [HelpScreen]),
        ]

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Reconnect", "Close the pool and connect again", self.action_reconnect)
        yield SystemCommand("Help: keys", "List every key pgconsole knows", self.action_help)

    # -- connection life cycle -------------------------------------------------------------

    def on_mount(self) -> None:
        self.set_interval(POOL_REFRESH_SECONDS, self.refresh_pool_stats)
        # The home screen composes after the app mounts; connect once it can show progress.
        self.call_after_refresh(self.start_connecting)

    def start_connecting(self) -> None:
        """Show "connecting…" and open the pool in a worker, so the UI never freezes."""
        self.main_screen.show_connecting(self.params.target, self.settings.read_only)
        self.connect()

    @work(exclusive=True, group="connect", exit_on_error=False)
    async def connect(self) -> None:
        """Open the pool; post `Connected` or `ConnectFailed`."""
        await self.close_database()
        try:
            database = await self.open_database()
        except Exception as error:  # every failure becomes a screen, never a traceback
            self.post_message(ConnectFailed(classify(error, self.params)))
        else:
            self.post_message(Connected(database))

    async def open_database(self) -> Database:
        """Open the pool with the app's settings."""
        return await open_database(self.params, self.settings.session(), self.settings.pool())

    async def close_database(self) -> None:
        """Close the pool, if open, within the pool's close deadline."""
        database, self.database = self.database, None
        if database is not None:
            await database.close()

    @on(Connected)
    def show_connected(self, event: Connected) -> None:
        """Make the new pool current and show the session."""
        self.database = event.database
        while isinstance(self.screen, ConnectionErrorScreen):
            self.pop_screen()
        self.main_screen.show_connected(event.database.info, self.settings.pool())
        self.refresh_pool_stats()

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
        self.connect()

    def refresh_pool_stats(self) -> None:
        """Update the pool numbers in the status bar (no round trip to the server)."""
        if self.database is not None and not self.database.closed:
            self.main_screen.show_pool(self.database.stats())

    # -- actions ---------------------------------------------------------------------------

    def action_help(self) -> None:
        """Show every key."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.key_sections()))

    def action_reconnect(self) -> None:
        """Drop the pool and connect again."""
        while isinstance(self.screen, ConnectionErrorScreen):
            self.pop_screen()
        self.start_connecting()

    async def action_quit(self) -> None:
        """Close the pool (terminating what does not close in time), then exit."""
        self.workers.cancel_group(self, "connect")
        await self.close_database()
        self.exit()

    async def on_unmount(self) -> None:
        # Whatever way the app ends, no pgconsole backend may outlive it.
        await self.close_database()
