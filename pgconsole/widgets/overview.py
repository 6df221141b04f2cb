"""What the session is connected to and how it is protected, at a glance."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from pgconsole.db.params import PoolSettings
from pgconsole.db.pool import ServerInfo, TlsState
from pgconsole.text import visible

_TLS_STYLES = {
    TlsState.VERIFIED: "bold green",
    TlsState.CA_ONLY: "bold yellow",
    TlsState.UNVERIFIED: "bold yellow",
    TlsState.NONE: "bold red",
}


def _limit(value: str) -> str:
    return "no limit" if value in ("0", "0ms") else value


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
            (
                "Timeouts",
                Text(
                    f"statement {_limit(info.statement_timeout)} · "
                    f"lock {_limit(info.lock_timeout)} · "
                    f"idle in transaction {_limit(info.idle_in_transaction_session_timeout)}"
                ),
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
