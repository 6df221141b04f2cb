"""What the session is connected to and how it is protected, at a glance."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from pgconsole.db.connection.params import TIMEOUT_LABELS, PoolSettings
from pgconsole.db.connection.pool import ServerInfo, TlsState
from pgconsole.text import visible

_TLS_STYLES = {
    TlsState.VERIFIED: "bold green",
    TlsState.CA_ONLY: "bold yellow",
    TlsState.UNVERIFIED: "bold yellow",
    TlsState.NONE: "bold red",
}


def _limit(value: str | None) -> str:
    if value is None:
        return "n/a"  # a setting this server does not have
    return "none" if value in ("0", "0ms") else value


_SHORT_LABELS = {"idle in transaction": "idle in tx"}
"""Shorter words where the panel is narrow (the doctor spells them out)."""


def timeout_lines(info: ServerInfo) -> list[str]:
    """Each time limit in effect, then pgconsole's and the server's in parentheses: the one
    in effect is the stricter (pgconsole never loosens the server's). Short enough for the
    panel beside the tree at 80 columns."""
    lines = ["in effect (pgconsole's · server's)"]
    for name, label in TIMEOUT_LABELS.items():
        effective, ours, servers = (
            _limit(getattr(timeouts, name))
            for timeouts in (info.timeouts, info.pgconsole_timeouts, info.server_timeouts)
        )
        lines.append(f"{_SHORT_LABELS.get(label, label):<13} {effective} ({ours} · {servers})")
    return lines


LABEL_WIDTH = 10
"""The label column; a value's continuation lines start under its first line."""


def _pieces(text: str, style: str = "") -> list[Text]:
    return [Text(word, style=style) for word in text.split()]


def _timeout_pieces(line: str, *, heading: bool) -> list[Text]:
    """Where a narrow panel may wrap a time limit's line: between words in the heading; a
    limit keeps its name and value together, and its sources in parentheses together."""
    if heading:
        return _pieces(line)
    limit, _, sources = line.partition(" (")
    return [Text(limit), Text(f"({sources}")]


def _rows(info: ServerInfo, pool: PoolSettings) -> list[tuple[str, list[Text]]]:
    """Each row's label and its value as pieces never split across lines (a number keeps its
    unit), joined by a space."""
    version, _, rest = visible(info.server_version).partition(" ")
    return [
        ("Server", [Text(f"PostgreSQL {version}"), *_pieces(rest)]),
        ("Session", [Text(visible(info.target))]),
        (
            "Role",
            [Text(visible(info.current_user))]
            + ([Text("(superuser)", style="bold")] if info.is_superuser else []),
        ),
        (
            "TLS",
            [
                Text(info.tls.state.value, style=_TLS_STYLES[info.tls.state]),
                *_pieces(visible(info.tls.negotiated)),
            ],
        ),
        ("", [Text(part) for part in info.tls.checks.replace(", ", ",\0").split("\0")]),
        ("Mode", [Text("READ ONLY", style="bold") if info.read_only else Text("read-write")]),
        *(
            ("Timeouts" if i == 0 else "", _timeout_pieces(visible(line), heading=i == 0))
            for i, line in enumerate(timeout_lines(info))
        ),
        (
            "Pool",
            [
                Text(f"min {pool.min_size} max {pool.max_size} ·"),
                Text(f"query limit {pool.command_timeout:g} s ·"),
                Text(f"close idle after {pool.max_inactive_connection_lifetime:g} s"),
            ],
        ),
    ]


def overview_text(info: ServerInfo, pool: PoolSettings, width: int) -> Text:
    """The panel's text in `width` cells: labels in a column, each value wrapped between its
    pieces with continuation lines indented under the value (a hanging indent)."""
    room = max(width - LABEL_WIDTH, 8)
    text = Text()
    for label, pieces in _rows(info, pool):
        text.append(f"{label:<{LABEL_WIDTH}}", style="dim")
        used = 0
        for piece in pieces:
            for part in _folded(piece, room):
                if used and used + 1 + part.cell_len > room:
                    text.append("\n" + " " * LABEL_WIDTH)
                    used = 0
                elif used:
                    text.append(" ")
                    used += 1
                text.append_text(part)
                used += part.cell_len
        text.append("\n")
    text.rstrip()
    return text


def _folded(piece: Text, room: int) -> list[Text]:
    """A piece wider than the value column in slices that fit it (a long host name)."""
    if piece.cell_len <= room:
        return [piece]
    return list(piece.divide(range(room, len(piece), room)))


class SessionOverview(Static):
    """A short panel of facts about the connected server and this session."""

    def show(self, info: ServerInfo, pool: PoolSettings) -> None:
        """Fill the panel for a freshly opened pool."""
        self._facts = (info, pool)
        self._draw()

    def on_resize(self) -> None:
        if getattr(self, "_facts", None) is not None:
            self._draw()

    def _draw(self) -> None:
        info, pool = self._facts
        # Before the first layout the width is unknown: draw wide, the resize draws again.
        self.update(overview_text(info, pool, self.size.width or 200))
