"""What the session is connected to and how it is protected, at a glance."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from pgconsole.db.params import TIMEOUT_LABELS, PoolSettings
from pgconsole.db.pool import ServerInfo, TlsState
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


class SessionOverview(Static):
    """A short panel of facts about the connected server and this session."""

    def show(self, info: ServerInfo, pool: PoolSettings) -> None:
        """Fill the panel for a freshly opened pool."""
        rows: list[tuple[str, Text]] = [
            ("Server", Text(f"PostgreSQL {visible(info.server_version)}")),
            ("Session", Text(visible(info.target))),
            (
                "Role",
                Text(visible(info.current_user))
                + Text(" (superuser)" if info.is_superuser else "", style="bold"),
            ),
            (
                "TLS",
                Text(info.tls.state.value, style=_TLS_STYLES[info.tls.state])
                + Text(f"  {visible(info.tls.negotiated)}"),
            ),
            ("", Text(info.tls.checks)),
            (
                "Mode",
                Text("READ ONLY", style="bold") if info.read_only else Text("read-write"),
            ),
            *(
                ("Timeouts" if i == 0 else "", Text(visible(line)))
                for i, line in enumerate(timeout_lines(info))
            ),
            (
                "Pool",
                Text(
                    f"min {pool.min_size} max {pool.max_size} · "
                    f"query limit {pool.command_timeout:g} s · "
                    f"close idle after {pool.max_inactive_connection_lifetime:g} s"
                ),
            ),
        ]
        text = Text()
        for label, value in rows:
            text.append(f"{label:<10}", style="dim")
            text.append_text(value)
            text.append("\n")
        text.rstrip()
        self.update(text)
