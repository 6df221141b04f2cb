"""The one-line status bar: where we are connected, how safely, and how busy the pool is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from pgconsole.db.connection.pool import PoolStats, ServerInfo, TlsState
from pgconsole.text import visible

_TLS_CLASSES = {
    TlsState.VERIFIED: "tls-verified",
    TlsState.CA_ONLY: "tls-weak",
    TlsState.UNVERIFIED: "tls-weak",
    TlsState.NONE: "tls-none",
}
_SHORT_TLS = {
    TlsState.VERIFIED: "TLS ✓",
    TlsState.CA_ONLY: "TLS CA",
    TlsState.UNVERIFIED: "TLS ?",
    TlsState.NONE: "no TLS",
    TlsState.LOCAL: "local",
}
"""The TLS badge where the bar is narrow: its colour still tells verified from weak."""


_TUNNEL_LOST = "tunnel lost: "


@dataclass(frozen=True)
class StatusTexts:
    """What each part of the bar shows, padded as drawn; None for a hidden badge."""

    target: str
    version: str | None = None
    tls: str | None = None
    read_only: str | None = None
    tx: str | None = None
    pool: str | None = None

    @property
    def width(self) -> int:
        """Cells the bar needs (the target has one cell of padding before it)."""
        badges = (self.version, self.tls, self.read_only, self.tx, self.pool)
        return 1 + cell_len(self.target) + sum(cell_len(b) for b in badges if b is not None)


def _middle_cut(text: str, cells: int) -> str:
    """`text` in at most `cells` cells, its middle replaced by `…`; at least 3 cells."""
    if cell_len(text) <= cells:
        return text
    cells = max(cells, 3)
    head, tail = text[: len(text) // 2], text[len(text) // 2 :]
    while cell_len(head) + cell_len(tail) + 1 > cells:
        if cell_len(head) > cell_len(tail):
            head = head[:-1]
        else:
            tail = tail[1:]
    return head + "…" + tail


def shorten_target(target: str, cells: int) -> str:
    """`user@host:port/db` in `cells` cells: the host cut in its middle first, then the
    database, each kept to 5 cells at least; `user@` is never cut unless nothing else is left."""
    if cell_len(target) <= cells:
        return target
    user, at, rest = target.rpartition("@")
    host, slash, database = rest.partition("/")
    if not at or not slash:
        return _middle_cut(target, cells)
    fixed = cell_len(user) + 2  # user, @ and /
    host = _middle_cut(host, max(5, cells - fixed - cell_len(database)))
    database = _middle_cut(database, max(5, cells - fixed - cell_len(host)))
    return _middle_cut(f"{user}@{host}/{database}", cells)


def fit_status(texts: StatusTexts, width: int, *, short_tls: str, short_pool: str) -> StatusTexts:
    """The bar's texts in `width` cells: the other parts give way before the connection name.

    In order: the server version goes, the pool badge keeps only size/max, TLS its short form,
    READ-ONLY becomes RO, the pool badge goes; only then is the name cut, in the middle of the
    host or the database. The transaction badge is never shortened.
    """
    steps: tuple[Callable[[StatusTexts], StatusTexts], ...] = (
        lambda t: replace(t, version=None),
        lambda t: replace(t, pool=short_pool if t.pool is not None else None),
        lambda t: replace(t, tls=short_tls if t.tls is not None else None),
        lambda t: replace(t, read_only=" RO " if t.read_only is not None else None),
        lambda t: replace(t, pool=None),
    )
    for step in steps:
        if texts.width <= width:
            return texts
        texts = step(texts)
    if texts.width <= width:
        return texts
    room = width - (texts.width - cell_len(texts.target))
    return replace(texts, target=shorten_target(texts.target, room))


class StatusBar(Horizontal):
    """`user@host:port/db  PG 15.18  TLS verified  READ-ONLY  pool 1/4 0 used 1 idle`.

    The pool badge reads: size/max, connections in use, idle connections. Where the bar is
    too narrow the badges shorten before the connection name does (`fit_status`).
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
        self._full = StatusTexts("connecting…")
        self._label = ""
        self._connected = False
        self._short_tls = ""
        self._short_pool = ""
        self._shown: dict[str, str | None] = {}

    def on_resize(self, event: events.Resize) -> None:
        self._refit()

    def _refit(self) -> None:
        """Show the full texts, or the shortened ones when the bar is too narrow for them."""
        texts = self._full
        width = self.size.width
        if width and self._connected:
            texts = fit_status(texts, width, short_tls=self._short_tls, short_pool=self._short_pool)
        full = self._full
        for name, text, whole in (
            ("target", texts.target, full.target),
            ("version", texts.version, full.version),
            ("tls", texts.tls, full.tls),
            ("read-only", texts.read_only, full.read_only),
            ("tx", texts.tx, full.tx),
            ("pool", texts.pool, full.pool),
        ):
            if name in self._shown and self._shown[name] == text:
                continue  # the pool badge is set every second: only a change costs a repaint
            before = self._shown.get(name)
            self._shown[name] = text
            static = self.query_one(f"#status-{name}", Static)
            static.display = text is not None
            shown = text if text is not None else whole  # a hidden badge keeps its whole text
            if shown is not None:
                # A new layout only when the part's width changes.
                static.update(Text(shown), layout=before is None or len(before) != len(shown))

    def show_connecting(self, target: str, read_only: bool) -> None:
        """Show that a connection to `target` is being attempted."""
        self._connected = False
        self._full = replace(
            self._full,
            target=f"{self._label}connecting to {visible(target)}…",
            version=None,
            tls=None,
            pool=None,
            read_only=" READ-ONLY " if read_only else None,
        )
        self._refit()

    def show_failed(self, target: str) -> None:
        """Show that the last attempt failed."""
        self._connected = False
        self._full = replace(self._full, target=f"{self._label}not connected: {visible(target)}")
        self._refit()

    def show_server(self, info: ServerInfo) -> None:
        """Show the connected server's identity and the session's protections."""
        self._connected = True
        self._short_tls = f" {_SHORT_TLS[info.tls.state]} "
        self.query_one("#status-tls").set_classes(f"badge {_TLS_CLASSES[info.tls.state]}")
        self._full = replace(
            self._full,
            target=self._label + visible(info.target),
            version=f" PG {visible(info.short_version)} ",
            tls=f" {info.tls.state.value} ",
            read_only=" READ-ONLY " if info.read_only else None,
        )
        self._refit()

    def show_server_name(self, name: str | None, color: str | None) -> None:
        """Name the server before the connection (`prod · dba@db1:5432/app`), when it has a
        name of its own (a profile), and draw both in its colour (`color = "red"`)."""
        label = f"{visible(name)} · " if name else ""
        if label != self._label:
            before, self._label = self._label, label
            self._full = replace(self._full, target=label + self._full.target.removeprefix(before))
            self._refit()
        target = self.query_one("#status-target")
        target.styles.color = color
        target.styles.text_style = "bold" if color else None

    def show_tunnel_lost(self, lost: bool) -> None:
        """Mark the target while its SSH tunnel is down (`tunnel lost: …`), or unmark it."""
        if not self._connected:
            return
        target = self._full.target.removeprefix(self._label).removeprefix(_TUNNEL_LOST)
        target = self._label + (_TUNNEL_LOST + target if lost else target)
        if target != self._full.target:
            self._full = replace(self._full, target=target)
            self._refit()

    def show_pool(self, stats: PoolStats) -> None:
        """Show the pool's size and how many connections are in use and idle."""
        self._short_pool = f" pool {stats.size}/{stats.max_size} "
        text = f"{self._short_pool}{stats.in_use} used {stats.idle} idle "
        if text != self._full.pool:
            self._full = replace(self._full, pool=text)
            self._refit()

    def show_transaction(self, text: str | None) -> None:
        """Show the open edit transaction (`TX open 01:42 · 3 changes`), or hide the badge."""
        padded = None if text is None else f" {text} "
        if padded != self._full.tx:
            self._full = replace(self._full, tx=padded)
            self._refit()
