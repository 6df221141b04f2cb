"""A server window: one open server with its own pool, places and screen stack.

The app holds one window per server it has open (like tmux's windows): each has its own
connection settings, pool, edit transaction, SQL console session and rewind buffer, and shows
them in a Textual mode of its own, so switching windows keeps every screen as it was. The app
routes a connection's outcome to the window whose connector posted it, and the keys to the
window on screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.css.query import NoMatches
from textual.notifications import Notification, Notify

from pgconsole.config import Settings
from pgconsole.connecting import Connector
from pgconsole.db.connection.errors import DB_ERRORS
from pgconsole.db.connection.params import ConnectParams
from pgconsole.db.connection.passwords import PasswordQuery
from pgconsole.db.connection.pool import Database
from pgconsole.db.connection.tunnel import TunnelState
from pgconsole.db.opening import Opening
from pgconsole.messages import Connected, ConnectFailed, PasswordNeeded
from pgconsole.places import Places
from pgconsole.screens.connection_error import ConnectionErrorScreen
from pgconsole.screens.main import MainScreen


class ServerWindow:
    """One server's pool, places and screens, shown in the app's mode `self.mode`."""

    def __init__(
        self,
        app: App[Any],
        mode: str,
        params: ConnectParams,
        settings: Settings,
        *,
        name: str | None = None,
        password_query: PasswordQuery | None = None,
        table: str | None = None,
        activity: bool = False,
        opening: asyncio.Task[Opening] | None = None,
        connector: type[Connector] = Connector,
    ) -> None:
        """Prepare a window; `app.add_mode` makes its browser when it is first shown.

        Args:
            app: The app whose mode it is.
            mode: The mode's name (`main` for the first window).
            params: Where to connect (a password in it is used as given).
            settings: Session, pool and timeout settings, the profile's colour.
            name: What the window is called in the status bar and the server list: the
                profile's name, else the connection's target.
            password_query: Where to look for the password (see `Connector`).
            table: A relation to open once connected.
            activity: Show the activity screen once connected.
            opening: The first attempt, started before the app (see `Connector`).
            connector: What opens the pool (the snapshot tests give one of their own).
        """
        self.app = app
        self.mode = mode
        self.params = params
        self.settings = settings
        self.name = name or params.target
        self.database: Database | None = None
        self.state = "connecting…"
        """`connecting…`, `connected` or `not connected`, for the server list."""
        self.initial_activity = activity
        self.places = Places(
            app,
            target=params.target,
            idle_seconds=settings.cursor_idle_seconds,
            redact=settings.redact_queries,
            retention_warning=settings.slot_retention_warning_mb * 1024 * 1024,
        )
        self.connector = connector(
            app,
            params,
            settings,
            password_query=password_query,
            opening=opening,
            close_first=self.close_database,
        )
        self._main: MainScreen | None = None
        self._table = table
        self.waiting: Callable[[], None] | None = None
        """What to show once the window is on screen (a password prompt, the activity)."""
        self.connect_when_shown = False
        """Connect the first time the window is shown (opened from the fleet or F10; the
        first window connects as the app loads)."""
        self._tunnel_notice: Notification | None = None
        """The one notice about the tunnel: lost (until it is up again), then reopened."""
        self._tunnel_lost_at = ""
        if params.tunnel is not None:
            params.tunnel.on_lost = self.tunnel_lost

    def make_main_screen(self) -> MainScreen:
        """The window's browser, at the bottom of its mode's stack (made once, when the mode
        is first shown)."""
        self._main = MainScreen(
            table=self._table,
            idle_seconds=self.settings.cursor_idle_seconds,
            console_transaction=self.places.console_transaction,
        )
        return self._main

    @property
    def main_screen(self) -> MainScreen:
        """The window's browser, always at the bottom of its stack."""
        assert self._main is not None, "the window's mode was never shown"
        return self._main

    @property
    def shown(self) -> bool:
        """Whether this window is the one on screen."""
        return self.app.current_mode == self.mode

    def owns(self, connector: object) -> bool:
        """Whether `connector` is this window's (a connection outcome is this window's)."""
        return connector is self.connector

    # -- connection life cycle -------------------------------------------------------------

    def start(self) -> None:
        """Once its browser is on screen: show the profile's colour, and that it is
        connecting, and connect if it was opened so."""
        if self._main is None:
            return
        profile = self.name if self.name != self.params.target else None
        self.main_screen.status_bar.show_server_name(profile, self.settings.color)
        if self.database is None and self.state == "connecting…":
            self.main_screen.show_connecting(self.params.target, self.settings.read_only)
        if self.connect_when_shown:
            self.connect_when_shown = False
            self.connector.connect()
        if self.waiting is not None:  # came while another window was shown
            waiting, self.waiting = self.waiting, None
            waiting()

    def when_shown(self, step: Callable[[], None]) -> None:
        """Run `step` (which shows a screen) now if this window is on screen, else once it
        is: a screen pushed now would land on another window's stack."""
        if self.shown:
            step()
        else:
            self.waiting = step

    async def close_database(self) -> None:
        """Close the pool, if open, within the pool's close deadline (the console's first)."""
        database, self.database = self.database, None
        await self.places.drop_console()
        if database is not None:
            await database.close()

    async def close(self) -> None:
        """Close the pool and end the tunnel: the window is going away."""
        await self.close_database()
        if self.params.tunnel is not None:
            await self.params.tunnel.close()

    def show_connected(self, event: Connected) -> None:
        """Make the new pool current and show the session."""
        self.database = event.database
        self.state = "connected"
        if self.shown:
            while isinstance(self.app.screen, ConnectionErrorScreen):
                self.app.pop_screen()
        self.main_screen.show_connected(event.database, self.settings.pool(), event.opening)
        self.refresh_pool_stats()
        self.connector.connected(event)
        if self.settings.rewind_in_background:
            self.app.run_worker(
                self.rewind_in_background(event.database),
                group=f"rewind-{self.mode}",
                exclusive=True,
                exit_on_error=False,
            )
        if self.initial_activity:  # `--activity`: its first sample may be taken already
            self.initial_activity = False
            first = event.opening.first_sample if event.opening is not None else None
            database = event.database
            self.when_shown(lambda: self.places.activity(database, first=first))

    def ask_password(self, event: PasswordNeeded) -> None:
        """Ask for the password in the UI; Esc shows the failure instead."""
        self.main_screen.show_failed(self.params.target)
        self.when_shown(lambda: self.connector.ask_password(event.choice))

    def show_failure(self, event: ConnectFailed) -> None:
        """Show why connecting failed, on the error screen."""
        self.state = "not connected"
        self.main_screen.show_failed(self.params.target)
        self.when_shown(lambda: self._show_failure(event))

    def _show_failure(self, event: ConnectFailed) -> None:
        if isinstance(self.app.screen, ConnectionErrorScreen):
            self.app.screen.show_failure(event.failure)
        else:
            self.app.push_screen(ConnectionErrorScreen(event.failure))

    def refresh_pool_stats(self) -> None:
        """Update the pool numbers in the status bar (no round trip to the server), and the
        tunnel's state: lost, or up again since a connection reopened it."""
        if self.database is None or self.database.closed or self._main is None:
            return
        # An app timer: it can fire while the app exits and the screens' widgets are gone.
        with contextlib.suppress(NoMatches):
            self.main_screen.show_pool(self.database.stats())
            tunnel = self.params.tunnel
            if tunnel is not None:
                self.main_screen.status_bar.show_tunnel_lost(tunnel.state is TunnelState.LOST)
                if tunnel.state is TunnelState.OPEN and self._tunnel_lost_at:
                    self._tunnel_reopened()

    def tunnel_lost(self, reason: str) -> None:
        """ssh ended by itself: say so (until the tunnel is up again, in place of an earlier
        notice about it) and show it in the status bar; the next connection the pool opens
        starts it again."""
        self._tunnel_lost_at = time.strftime("%H:%M:%S")
        self._say_about_tunnel(
            Notification(
                f"{self.name}: {reason} (at {self._tunnel_lost_at}). The next query reopens "
                "it (Ctrl+P Reconnect: at once).",
                "SSH tunnel lost",
                "error",
                timeout=600,
                markup=False,
            )
        )
        self.refresh_pool_stats()

    def _tunnel_reopened(self) -> None:
        lost_at, self._tunnel_lost_at = self._tunnel_lost_at, ""
        self._say_about_tunnel(
            Notification(
                f"{self.name}: lost at {lost_at}, up again at {time.strftime('%H:%M:%S')}. "
                "The connections it carried ended with it.",
                "SSH tunnel reopened",
                "warning",
                timeout=30,
                markup=False,
            )
        )

    def _say_about_tunnel(self, notice: Notification) -> None:
        """Show `notice` in place of the last one about this window's tunnel, if still shown
        (Textual has no public call to take one notice away)."""
        earlier, self._tunnel_notice = self._tunnel_notice, notice
        if earlier is not None:
            with contextlib.suppress(KeyError, AttributeError):
                self.app._unnotify(earlier)
        self.app.post_message(Notify(notice))

    async def rewind_in_background(self, database: Database) -> None:
        """Sample for the rewind buffer once a second while the activity screen is not shown
        (it samples itself when it is), on a connection of its own; ends with the pool."""
        from pgconsole.db.activity.sampler import Sampler
        from pgconsole.screens.activity import ActivityScreen

        sampler = Sampler(database)
        try:
            while self.database is database and not database.closed:
                stack = self.app.screen_stack if self.shown else []
                if not any(isinstance(s, ActivityScreen) for s in stack):
                    with contextlib.suppress(*DB_ERRORS):  # the next second tries again
                        self.places.rewind.add(await sampler.sample())
                await asyncio.sleep(1.0)
        finally:
            await sampler.close()

    def reconnect(self) -> None:
        """Close the places above the browser (they hold the old pool) and connect again."""
        while len(self.app.screen_stack) > 1:
            self.app.pop_screen()
        self.state = "connecting…"
        self.main_screen.show_connecting(self.params.target, self.settings.read_only)
        self.connector.connect()

    # -- quitting --------------------------------------------------------------------------

    @property
    def unsettled(self) -> bool:
        """An edit transaction is open or changes are kept: they are settled before the pool
        closes."""
        return self._main is not None and self.main_screen.editor.unsettled
