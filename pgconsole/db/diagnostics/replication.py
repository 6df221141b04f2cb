"""Replication: the standbys a server feeds and how far behind they are, the slots that make
it keep WAL, and, on a standby, how far it is behind its own upstream.

A standby that falls behind costs its primary disk: a slot keeps every WAL segment its
consumer has not confirmed, an inactive slot for ever, until the disk fills or
`max_slot_wal_keep_size` invalidates it (`wal_status`). `read_replication` reads both sides
of a server in one statement (`replication.sql`), on a primary as on a standby (where
`pg_current_wal_lsn()` errors, so it is not called there):

- upstream: whether it is in recovery and, if so, what it has received and replayed,
  whether replay is paused, and whom it follows;
- downstream: its standbys (pg_stat_replication) with their lag in bytes and seconds, and
  its slots (pg_replication_slots) with the WAL each retains.

Needs PostgreSQL 13+ (`wal_status`, `safe_wal_size`). Without pg_read_all_stats another
role's walsender shows only its pid, and a standby's walreceiver only its pid: those rows are
kept with their other fields None (`Replication.read_all_stats` says so).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, TypeVar

from pgconsole.db.connection.pool import Conn
from pgconsole.db.sqlfiles import load_sql

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_Row = TypeVar("_Row", bound="DataclassInstance")

RETENTION_WARNING = 1 << 30
"""WAL a slot may retain (1 GiB) before `Slot.over` says it is too much, by default."""


@dataclass(frozen=True)
class Standby:
    """A standby this server sends WAL to: one walsender (pg_stat_replication)."""

    pid: int
    """The walsender's pid, here."""
    application_name: str | None
    client_addr: str | None
    """The standby's address; None over a Unix socket or without the privilege."""
    state: str | None
    """`streaming`, `catchup`, `startup`, `backup`, `stopping`."""
    sync_state: str | None
    """`async`, `sync`, `potential`, `quorum`."""
    unsent_bytes: int | None
    """WAL this server has that it has not sent the standby yet."""
    unwritten_bytes: int | None
    """... that the standby has not written yet."""
    unflushed_bytes: int | None
    """... that the standby has not flushed to disk yet."""
    unreplayed_bytes: int | None
    """... that the standby has not replayed yet: what its queries do not see."""
    write_lag: float | None
    """Seconds between a commit here and the standby writing it (None once it has caught up
    and nothing more happens)."""
    flush_lag: float | None
    replay_lag: float | None
    xmin_age: int | None
    """The age of the xmin its hot_standby_feedback holds, streaming without a slot (with
    one, the feedback is the slot's xmin)."""

    @property
    def name(self) -> str:
        """Its application name, else its address, else its walsender's pid."""
        return self.application_name or self.client_addr or str(self.pid)


@dataclass(frozen=True)
class Slot:
    """A replication slot: WAL (and maybe a horizon) kept for a consumer, connected or not."""

    name: str
    slot_type: str
    """`physical` or `logical`."""
    database: str | None
    """A logical slot's database; None for a physical one."""
    active: bool
    active_pid: int | None
    """The walsender or session using it now."""
    wal_status: str | None
    """`reserved`, `extended`, `unreserved` (about to be invalidated) or `lost`."""
    safe_wal_size: int | None
    """Bytes of WAL that can still be written before the slot is invalidated; None without
    `max_slot_wal_keep_size`."""
    retained_bytes: int | None
    """WAL kept for it, from its restart_lsn to this server's position; None while it
    reserves none."""
    xmin_age: int | None
    """The age of the xmin it holds (a standby's hot_standby_feedback)."""
    catalog_xmin_age: int | None
    """The age of the catalog xmin it holds (logical decoding)."""

    def over(self, limit_bytes: int = RETENTION_WARNING) -> bool:
        """Whether it retains more WAL than `limit_bytes`."""
        return self.retained_bytes is not None and self.retained_bytes > limit_bytes


@dataclass(frozen=True)
class Upstream:
    """A standby's view of its own replication: what it received, replayed, and from whom."""

    receive_lsn: str | None
    """The last WAL position received from upstream (None when restoring from archive)."""
    replay_lsn: str | None
    unreplayed_bytes: int | None
    """Received but not replayed yet."""
    replay_lag: float | None
    """Seconds since the last transaction replayed here committed upstream: the lag while
    the primary writes, but it grows on an idle primary too; None before any replay."""
    paused: bool
    """Replay is paused (`pg_wal_replay_pause()`), or will pause at the next record."""
    sender_host: str | None
    """The upstream it streams from (pg_stat_wal_receiver); None when not streaming or
    without pg_read_all_stats, as the next three."""
    sender_port: int | None
    status: str | None
    """The walreceiver's status: `streaming`, `waiting`, `catchup`, ..."""
    slot_name: str | None
    """The slot it streams through, upstream."""
    hot_standby_feedback: bool
    """It reports its oldest snapshot upstream, holding back the upstream's horizon."""


@dataclass(frozen=True)
class Replication:
    """Both sides of a server's replication."""

    in_recovery: bool
    """The server is a standby."""
    standbys: tuple[Standby, ...]
    """By application name (a standby can feed cascading standbys too)."""
    slots: tuple[Slot, ...]
    """By name."""
    upstream: Upstream | None
    """A standby's own view; None on a primary."""
    read_all_stats: bool
    """The role sees other roles' walsenders and the walreceiver in full (superuser or
    pg_read_all_stats); else their fields are None."""


async def read_replication(conn: Conn) -> Replication:
    """This server's replication: one statement on `conn`."""
    rows = await conn.fetch(load_sql(__name__, "replication.sql"))
    here = rows[0]  # the upstream's columns are on every row, and there is one at least
    return Replication(
        in_recovery=here["in_recovery"],
        standbys=tuple(
            _from_row(Standby, r, application_name="name") for r in rows if r["kind"] == "standby"
        ),
        slots=tuple(_from_row(Slot, r, active_pid="pid") for r in rows if r["kind"] == "slot"),
        upstream=(
            _from_row(
                Upstream,
                here,
                unreplayed_bytes="upstream_unreplayed_bytes",
                replay_lag="upstream_replay_lag",
            )
            if here["in_recovery"]
            else None
        ),
        read_all_stats=here["read_all_stats"],
    )


def _from_row(cls: type[_Row], row: Any, **columns: str) -> _Row:
    """A `cls` from the row's columns of its fields' names, or of the names `columns` gives:
    the SQL names its columns after the fields, but for the union's shared ones."""
    return cls(**{f.name: row[columns.get(f.name, f.name)] for f in fields(cls)})
