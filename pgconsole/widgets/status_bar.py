"""The one-line status bar: where we are connected, how safely, and how busy the pool is."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from pgconsole.db.pool import PoolStats, ServerInfo, TlsState
from pgconsole.text import visible

_TLS_CLASSES = {
    TlsState.VERIFIED: "tls-verified",
    TlsState.CA_ONLY: "tls-weak",
    TlsState.UNVERIFIED: "tls-weak",
    TlsState.NONE: "tls-none",
}


class StatusBar(Horizontal):
    """`user@host:port/db  PG 15.18  TLS verified  READ-ONLY  pool 1/4 0 used 1 idle`.

    The pool badge reads: size/max, connections in use, idle connections.
    """

    def compose(self) -> ComposeResult:
        yield Static(Text("connecting…"), id="status-target")
        yield Static(id="status-version", classes="badge")
        yield Static(id="status-tls", classes="badge")
        yield Static(Text(" READ-ONLY "), id="status-read-only", classes="badge")
        yield Static(id="status-tx", classes="badge")
        yield Static(id="status-pool", classes="badge")

    def on_mount(self) -> None:
        for name in ("version", "tls", "read-only", "pool", "tx"):
            self.query_one(f"#status-{name}").display = False
        self._tx_text: str | None = None
        self._pool_text = ""

    def show_connecting(self, target: str, read_only: bool) -> None:
        """Show that a connection to `target` is being attempted."""
        self.query_one("#status-target", Static).update(Text(f"connecting to {visible(target)}…"))
        self.query_one("#status-read-only").display = read_only
        for name in ("version", "tls", "pool"):
            self.query_one(f"#status-{name}").display = False

    def show_failed(self, target: str) -> None:
        """Show that the last attempt failed."""
        self.query_one("#status-target", Static).update(Text(f"not connected: {visible(target)}"))

    def show_server(self, info: ServerInfo) -> None:
        """Show the connected server's identity and the session's protections."""
        self.query_one("#status-target", Static).update(Text(visible(info.target)))
        version = self.query_one("#status-version", Static)
        version.update(Text(f" PG {visible(info.short_version)} "))
        version.display = True
        tls = self.query_one("#status-tls", Static)
        tls.update(Text(f" {info.tls.state.value} "))
        tls.set_classes(f"badge {_TLS_CLASSES[info.tls.state]}")
        tls.display = True
        self.query_one("#status-read-only").display = info.read_only

    def show_pool(self, stats: PoolStats) -> None:
        """Show the pool's size and how many connections are in use and idle."""
        text = f" pool {stats.size}/{stats.max_size} {stats.in_use} used {stats.idle} idle "
        pool = self.query_one("#status-pool", Static)
        pool.display = True
        if text != self._pool_text:  # every second: only a change costs a repaint
            # A new layout only when the badge's width changes.
            pool.update(Text(text), layout=len(text) != len(self._pool_text))
            self._pool_text = text

    def show_transaction(self, text: str | None) -> None:
        """Show the open edit transaction (`TX open 01:42 · 3 changes`), or hide the badge."""
        if text == self._tx_text:
            return
        self._tx_text = text
        badge = self.query_one("#status-tx", Static)
        badge.display = text is not None
        if text is not None:
            badge.update(Text(f" {text} "))
