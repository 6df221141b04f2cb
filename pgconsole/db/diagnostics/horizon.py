"""The vacuum horizon: who keeps VACUUM from removing dead rows, what it costs, and the remedy.

VACUUM removes a dead row only once no snapshot can still see it. The oldest xmin that any
session, prepared transaction, replication slot or standby holds is that limit, and the server
shows each of them in a different view. `read_horizon` lists them all, oldest first, with
what they keep, and what the horizon costs the current database: the dead tuples waiting,
and the tables and databases nearest to wraparound; all in one statement (`horizon.sql`).

Each holder has a remedy, when there is one a client may apply (`Holder.remedy`); each
remedy acts only on the holder that was listed: a session by pid *and* start time, a slot
only while inactive, a prepared transaction only from its own database.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Literal

from pgconsole.db.connection.pool import Conn
from pgconsole.db.sqlfiles import load_sql

HolderKind = Literal["backend", "prepared", "slot", "catalog", "standby"]
Remedy = Literal["terminate", "rollback", "drop slot"]
LISTED = 8
"""Rows of each table list (most dead tuples, oldest relfrozenxid)."""


@dataclass(frozen=True)
class Holder:
    """One thing that holds back the xmin horizon."""

    kind: HolderKind
    name: str
    """The pid (a session), the gid (a prepared transaction), the slot's name, or the
    standby's application name (else its address, else its walsender's pid)."""
    xmin_age: int
    """Transactions since the xmin it holds (`age(xid)`)."""
    seconds: float | None
    """How long it has held it, where the server knows: the transaction's age for a
    session (its connection's when it has no transaction start), since PREPARE for a
    prepared transaction; None for slots and standbys."""
    database: str | None
    """A session's or prepared transaction's database, a logical slot's; None for a
    physical slot and a standby (they hold every database back)."""
    here: bool
    """`database` is the database pgconsole is connected to."""
    pid: int | None = None
    """The session's pid, the walsender's of a standby, the active pid of a slot."""
    backend_start: datetime.datetime | None = None
    """When the session (or the standby's walsender) connected: with the pid, which
    session it is (a pid is reused once a session ends)."""
    role: str | None = None
    detail: str | None = None
    """A session's application name, a slot's output plugin."""
    state: str | None = None
    """A session's state (`idle in transaction`...), a slot's type, a standby's state."""
    query: str | None = None
    """A session's last or current statement."""
    active: bool | None = None
    """A slot: a walsender or a decoding session uses it now."""

    @property
    def scope(self) -> str:
        """Whose tables it keeps dead rows in, in a few words."""
        if self.kind == "catalog":
            return "catalogs of every database"
        if self.kind in ("slot", "standby"):
            return "every database"
        return f"database {self.database}" if self.database else "?"

    @property
    def remedy(self) -> Remedy | None:
        """What pgconsole can do about it (behind a confirmation), if anything.

        A standby's feedback has none here: it ends with the standby's long query, or with
        hot_standby_feedback turned off on the standby. An active slot has none either: its
        consumer would recreate the need (stop the consumer first).
        """
        if self.kind == "backend":
            return "terminate"
        if self.kind == "prepared":
            return "rollback"
        if self.kind in ("slot", "catalog") and not self.active:
            return "drop slot"
        return None

    def keeps(self, totals: DeadTotals) -> int | None:
        """Dead tuples of the current database that wait on this holder's horizon (at most:
        a younger holder may hold the same rows); None for another database's holder,
        whose tables pgconsole cannot read from here."""
        if self.kind == "catalog":
            return totals.catalog
        if self.kind in ("slot", "standby") or self.here:
            return totals.user + totals.catalog
        return None


@dataclass(frozen=True)
class DeadTable:
    """A table of the current database with dead tuples waiting."""

    schema: str
    name: str
    dead: int
    live: int
    vacuumed: datetime.datetime | None
    """The last VACUUM, by hand or by autovacuum."""
    autovacuumed: datetime.datetime | None


@dataclass(frozen=True)
class FreezeAge:
    """A table (of the current database) or a database, by the age of its oldest unfrozen
    transaction id, against the age at which autovacuum must freeze it."""

    schema: str | None
    """None for a database."""
    name: str
    age: int
    max_age: int

    @property
    def share(self) -> float:
        """`age` as a part of `max_age` (1.0: an anti-wraparound VACUUM is due)."""
        return self.age / self.max_age if self.max_age else 0.0


@dataclass(frozen=True)
class DeadTotals:
    """Dead tuples of the current database: user tables and system catalogs."""

    user: int
    catalog: int


@dataclass(frozen=True)
class Horizon:
    """The holders of the horizon, and what it costs the current database."""

    holders: tuple[Holder, ...]
    """Oldest first."""
    dead_tables: tuple[DeadTable, ...]
    wraparound: tuple[FreezeAge, ...]
    """The current database's tables, oldest first."""
    databases: tuple[FreezeAge, ...]
    """Every database that accepts connections, oldest first."""
    totals: DeadTotals


async def read_horizon(conn: Conn, listed: int = LISTED) -> Horizon:
    """The holders and the costs: one statement on `conn`."""
    rows = await conn.fetch(load_sql(__name__, "horizon.sql"), listed)
    holders = [r for r in rows if r["list"] == "holder"]
    tables = [r for r in rows if r["list"] != "holder"]
    totals = next((r for r in tables if r["list"] == "totals"), None)
    return Horizon(
        holders=tuple(_holder(r) for r in holders),
        dead_tables=tuple(
            DeadTable(
                r["schema"], r["name"], r["dead"], r["live"], r["vacuumed"], r["autovacuumed"]
            )
            for r in tables
            if r["list"] == "dead"
        ),
        wraparound=tuple(_freeze(r) for r in tables if r["list"] == "wraparound"),
        databases=tuple(_freeze(r) for r in tables if r["list"] == "database"),
        totals=DeadTotals(
            user=totals["dead"] if totals else 0, catalog=totals["catalog_dead"] if totals else 0
        ),
    )


def _holder(row: Any) -> Holder:
    return Holder(
        kind=row["kind"],
        name=row["name"],
        xmin_age=row["age"],
        seconds=row["seconds"],
        database=row["database"],
        here=row["here"],
        pid=row["pid"],
        backend_start=row["backend_start"],
        role=row["role"],
        detail=row["application_name"],
        state=row["state"],
        query=row["query"],
        active=row["active"],
    )


def _freeze(row: Any) -> FreezeAge:
    return FreezeAge(row["schema"], row["name"], row["age"], row["max_age"])


# --- remedies ------------------------------------------------------------------------------


class RemedyRefused(Exception):
    """The remedy cannot apply to this holder from here; the message says why and what to do."""


async def apply_remedy(conn: Conn, holder: Holder) -> bool:
    """End what `holder` holds: terminate the session, roll back the prepared transaction,
    or drop the inactive slot.

    Args:
        conn: A pool connection outside any transaction (ROLLBACK PREPARED cannot run in
            one), never a sampler's: a sample may be running on that.
        holder: As listed; the remedy reaches only that session, transaction or slot.

    Returns:
        True if done; False if the holder was gone already (the session ended, the
        transaction was finished, the slot dropped or taken into use meanwhile).

    Raises:
        RemedyRefused: No remedy for this holder, or not from this database.
        One of `DB_ERRORS`: the server refused (privileges, mostly).
    """
    remedy = holder.remedy
    if remedy == "terminate":
        # A pid is reused once its session ends: terminate only the session listed.
        return bool(
            await conn.fetchval(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE pid = $1 AND backend_start = $2",
                holder.pid,
                holder.backend_start,
            )
        )
    if remedy == "rollback":
        if not holder.here:
            raise RemedyRefused(
                f"a prepared transaction is rolled back from its own database: connect to "
                f"{holder.database} and run ROLLBACK PREPARED"
            )
        exists = await conn.fetchval(
            "SELECT true FROM pg_prepared_xacts WHERE gid = $1 AND database = current_database()",
            holder.name,
        )
        if not exists:
            return False
        # ROLLBACK PREPARED takes a literal, not a parameter: the gid is quoted as one.
        literal = await conn.fetchval("SELECT quote_literal($1)", holder.name)
        await conn.execute(f"ROLLBACK PREPARED {literal}")
        return True
    if remedy == "drop slot":
        # Only while no one uses it: an active slot's consumer would miss what it drops.
        return bool(
            await conn.fetchval(
                "WITH dropped AS (SELECT pg_drop_replication_slot(slot_name)"
                " FROM pg_replication_slots WHERE slot_name = $1 AND NOT active)"
                " SELECT count(*) FROM dropped",
                holder.name,
            )
        )
    raise RemedyRefused(_no_remedy(holder))


def _no_remedy(holder: Holder) -> str:
    if holder.kind == "standby":
        return (
            "a standby's feedback ends with its long query: cancel it on the standby, or "
            "turn hot_standby_feedback off there"
        )
    return f"slot {holder.name} is in use (pid {holder.pid}): stop its consumer first"
