"""The main screen: the session overview now, the schema browser's home later."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from pgconsole.db.params import PoolSettings
from pgconsole.db.pool import PoolStats, ServerInfo
from pgconsole.paths import STYLES
from pgconsole.text import visible
from pgconsole.widgets.overview import SessionOverview
from pgconsole.widgets.status_bar import StatusBar


class MainScreen(Screen[None]):
    """Home: a body that shows the session, a status bar and the key footer."""

    CSS_PATH = STYLES / "main.tcss"
    BINDINGS: ClassVar[list[BindingType]] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="body"):
            yield Static(Text("pgconsole", style="bold"), id="title")
            yield Static(Text("connecting…"), id="connecting")
            yield SessionOverview(id="overview")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(SessionOverview).display = False

    def show_connecting(self, target: str, read_only: bool) -> None:
        """Show an attempt in progress."""
        note = self.query_one("#connecting", Static)
        note.update(Text(f"connecting to {visible(target)}…"))
        note.display = True
        self.query_one(SessionOverview).display = False
        self.query_one(StatusBar).show_connecting(target, read_only)

    def show_failed(self, target: str) -> None:
        """Show that the last attempt failed (the error screen says why)."""
        note = self.query_one("#connecting", Static)
        note.update(Text(f"not connected to {visible(target)}"))
        self.query_one(StatusBar).show_failed(target)

    def show_connected(self, info: ServerInfo, pool: PoolSettings) -> None:
        """Show the connected session."""
        self.query_one("#connecting").display = False
        overview = self.query_one(SessionOverview)
        overview.show(info, pool)
        overview.display = True
        self.query_one(StatusBar).show_server(info)

    def show_pool(self, stats: PoolStats) -> None:
        """Refresh the pool numbers in the status bar."""
        self.query_one(StatusBar).show_pool(stats)
