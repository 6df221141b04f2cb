"""The diagnostics' replication panel: the standbys this server feeds and how far behind
they are (bytes and time), the slots and the WAL they keep; on a standby, its own lag and the
server it follows."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from pgconsole.db.connection.pool import Conn
from pgconsole.db.diagnostics.replication import (
    RETENTION_WARNING,
    Replication,
    Slot,
    Standby,
    Upstream,
    read_replication,
)
from pgconsole.text import visible
from pgconsole.widgets.diagnostics_panel import Panel
from pgconsole.widgets.schema_tree import human_size
from pgconsole.widgets.session_rows import SessionRow
from pgconsole.widgets.session_table import SessionTable
from pgconsole.widgets.sparkline import duration
from pgconsole.words import counted

HEADERS = ("name", "kind", "state", "behind", "lag", "wal", "more")
LAG_WARNING = 60.0
"""Seconds of replay lag marked as a problem."""


def size(value: int | None) -> str:
    """Bytes as pg_size_pretty counts them (1 kB = 1024 B): `48 MB`."""
    return "-" if value is None else human_size(value)


def standby_row(number: int, standby: Standby, limit: int) -> SessionRow:
    """A standby: its replay lag in bytes and time; write and flush lag in the last column."""
    behind = standby.unreplayed_bytes
    late = (standby.replay_lag or 0) >= LAG_WARNING or (behind or 0) > limit
    more = (
        f"write {size(standby.unwritten_bytes)} {duration(standby.write_lag)} · "
        f"flush {size(standby.unflushed_bytes)} {duration(standby.flush_lag)}"
    )
    if standby.client_addr:
        more += f" · from {visible(standby.client_addr)}"
    return SessionRow(
        number,
        (
            visible(standby.name),
            "standby",
            f"{standby.state or '?'} {standby.sync_state or ''}".strip(),
            size(behind),
            duration(standby.replay_lag),
            "-",
            more,
        ),
        "long" if late else "",
    )


def slot_row(number: int, slot: Slot, limit: int) -> SessionRow:
    """A slot: the WAL it keeps, its status, and the horizon it holds."""
    at_risk = slot.over(limit) or slot.wal_status in ("unreserved", "lost")
    more = []
    if slot.safe_wal_size is not None:
        more.append(f"safe {size(slot.safe_wal_size)}")
    if slot.database:
        more.append(f"db {visible(slot.database)}")
    if slot.xmin_age is not None:
        more.append(f"xmin age {slot.xmin_age:,}")
    if slot.catalog_xmin_age is not None:
        more.append(f"catalog xmin age {slot.catalog_xmin_age:,}")
    state = "active" if slot.active else "inactive"
    if slot.active_pid:
        state += f" pid {slot.active_pid}"
    return SessionRow(
        number,
        (
            visible(slot.name),
            f"slot {slot.slot_type}",
            state,
            size(slot.retained_bytes),
            "-",
            slot.wal_status or "-",
            " · ".join(more),
        ),
        "long" if at_risk else ("idle-tx" if not slot.active else ""),
    )


def upstream_line(upstream: Upstream) -> Text:
    """On a standby: whom it follows and how far behind it replays."""
    source = "?"
    if upstream.sender_host:
        source = visible(f"{upstream.sender_host}:{upstream.sender_port}")
    feedback = "on" if upstream.hot_standby_feedback else "off"
    text = Text.assemble(
        ("Standby", "bold"),
        f" of {source} ({upstream.status or 'not streaming'}",
        f", slot {visible(upstream.slot_name)})" if upstream.slot_name else ")",
        f" · hot_standby_feedback {feedback}\n",
    )
    if upstream.paused:
        text.append("Replay paused", "bold red")
        text.append(" · ")
    last = upstream.replay_lag
    text.append(
        f"{size(upstream.unreplayed_bytes)} received, not replayed · "
        + ("no commit replayed yet" if last is None else f"last commit {duration(last)} ago")
    )
    return text


def summary(reading: Replication, limit: int) -> Text:
    if reading.upstream is not None:
        return upstream_line(reading.upstream)
    if not reading.standbys and not reading.slots:
        return Text("Primary with no standby and no replication slot.")
    over = sum(1 for s in reading.slots if s.over(limit))
    text = Text.assemble(
        ("Primary", "bold"),
        f" · {counted(len(reading.standbys), 'standby', 'standbys')}, "
        f"{counted(len(reading.slots), 'slot')}",
        f" · warning past {size(limit)} retained",
    )
    if over:
        text.append(f" · {counted(over, 'slot')} over it", "bold red")
    return text


class ReplicationPanel(Panel):
    """The standbys and slots of a primary, or a standby's own replication."""

    TITLE = "Replication"
    INTERVAL = 2.0

    def __init__(self, *, limit: int = RETENTION_WARNING, id: str | None = None) -> None:
        """Args:
        limit: WAL bytes a slot may retain (or a standby be behind) before it is marked.
        """
        super().__init__(id=id)
        self.limit = limit
        self.replication: Replication | None = None

    def compose(self) -> ComposeResult:
        yield Static("reading…", id="replication-summary")
        yield SessionTable(HEADERS, id="replication-rows")

    async def read(self, conn: Conn) -> Replication:
        return await read_replication(conn)

    def show(self, reading: Replication) -> None:
        self.readings += 1
        self.replication = reading
        rows = [standby_row(n, s, self.limit) for n, s in enumerate(reading.standbys)]
        rows += [slot_row(len(rows) + n, s, self.limit) for n, s in enumerate(reading.slots)]
        self.query_one("#replication-rows", SessionTable).show(rows)
        self.query_one("#replication-summary", Static).update(summary(reading, self.limit))

    def status(self) -> str:
        if self.replication is not None and not self.replication.read_all_stats:
            return "other roles' walsenders are hidden without pg_read_all_stats"
        return ""
