"""The vacuum horizon's holders, made for real on a server, listed and ended by their remedy."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator
from dataclasses import replace

import asyncpg
import pytest

from pgconsole.db.diagnostics.horizon import (
    Holder,
    Horizon,
    RemedyRefused,
    apply_remedy,
    read_horizon,
)
from pgconsole.throwaway.cluster import ThrowawayCluster, ThrowawayStandby
from tests.conftest import STANDBY_SLOT, admin_connect
from tests.helpers.waiting import poll_until

SLOTLESS = "pgconsole_slotless"
"""The application_name of the standby that streams without its slot."""

XIDS_AFTER = 5
"""Transaction ids spent after a holder took its xmin (its age is at least this)."""


async def spend_xids(conn: asyncpg.Connection, count: int = XIDS_AFTER) -> None:
    """Spend `count` transaction ids, one transaction each."""
    for _ in range(count):
        await conn.fetchval("SELECT txid_current()")


def holder(horizon: Horizon, kind: str, name: str) -> Holder:
    found = [h for h in horizon.holders if h.kind == kind and h.name == name]
    assert found, f"{kind} {name} not among {[(h.kind, h.name) for h in horizon.holders]}"
    return found[0]


async def test_an_idle_transaction_with_a_snapshot_is_listed_and_terminated(
    diagnostics_cluster: ThrowawayCluster, diag_db: str
) -> None:
    reader = await admin_connect(diagnostics_cluster, diag_db)
    idle = await admin_connect(diagnostics_cluster, diag_db)
    try:
        await reader.execute("CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 100) g")
        await idle.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        await idle.fetchval("SELECT count(*) FROM t")  # takes the snapshot
        await spend_xids(reader)
        await reader.execute("DELETE FROM t")
        await reader.execute("SELECT pg_stat_force_next_flush()")

        async def dead_counted() -> bool:
            return (await read_horizon(reader)).totals.user >= 100

        await poll_until(dead_counted, "the deleted rows in the statistics")
        horizon = await read_horizon(reader)
        held = holder(horizon, "backend", str(idle.get_server_pid()))
        assert held.state == "idle in transaction"
        assert held.xmin_age >= XIDS_AFTER
        assert held.seconds is not None and held.seconds >= 0
        assert held.here and held.database == diag_db
        assert held.scope == f"database {diag_db}"
        assert held.remedy == "terminate"
        keeps = held.keeps(horizon.totals)
        assert keeps is not None and keeps >= 100
        assert any(t.name == "t" and t.dead >= 100 for t in horizon.dead_tables)

        # Another session that reused the pid is not the one listed: nothing happens.
        assert held.backend_start is not None
        earlier = held.backend_start - datetime.timedelta(seconds=1)
        assert not await apply_remedy(reader, replace(held, backend_start=earlier))
        assert await idle.fetchval("SELECT 1") == 1

        assert await apply_remedy(reader, held)

        async def ended() -> bool:
            return not any(h.name == held.name for h in (await read_horizon(reader)).holders)

        await poll_until(ended, "the terminated session to leave the horizon")
    finally:
        await reader.close()
        idle.terminate()


async def test_a_prepared_transaction_is_rolled_back_from_its_own_database_only(
    diagnostics_cluster: ThrowawayCluster, diag_db: str
) -> None:
    gid = f"pgconsole's test {uuid.uuid4().hex[:6]}"  # a quote, rolled back as a literal
    conn = await admin_connect(diagnostics_cluster, diag_db)
    elsewhere = await admin_connect(diagnostics_cluster, "postgres")
    try:
        await conn.execute("CREATE TABLE t (id int)")
        await conn.execute("BEGIN")
        await conn.execute("INSERT INTO t VALUES (1)")
        await conn.execute(f"PREPARE TRANSACTION '{gid.replace(chr(39), chr(39) * 2)}'")
        await spend_xids(conn)

        seen_elsewhere = holder(await read_horizon(elsewhere), "prepared", gid)
        assert not seen_elsewhere.here and seen_elsewhere.database == diag_db
        assert seen_elsewhere.keeps((await read_horizon(elsewhere)).totals) is None
        with pytest.raises(RemedyRefused, match=f"connect to {diag_db}"):
            await apply_remedy(elsewhere, seen_elsewhere)

        held = holder(await read_horizon(conn), "prepared", gid)
        assert held.here and held.remedy == "rollback"
        assert held.xmin_age >= XIDS_AFTER
        assert held.seconds is not None and held.seconds >= 0
        assert await apply_remedy(conn, held)
        assert await conn.fetchval("SELECT count(*) FROM pg_prepared_xacts") == 0
        assert await conn.fetchval("SELECT count(*) FROM t") == 0  # rolled back, not committed
        assert not await apply_remedy(conn, held)  # gone already: nothing to do
    finally:
        for row in await conn.fetch("SELECT gid FROM pg_prepared_xacts WHERE gid = $1", gid):
            literal = await conn.fetchval("SELECT quote_literal($1)", row["gid"])
            await conn.execute(f"ROLLBACK PREPARED {literal}")
        await conn.close()
        await elsewhere.close()


async def test_an_inactive_logical_slot_holds_the_catalogs_and_is_dropped(
    diagnostics_cluster: ThrowawayCluster, diag_db: str
) -> None:
    slot = f"pgconsole_test_{uuid.uuid4().hex[:8]}"
    conn = await admin_connect(diagnostics_cluster, diag_db)
    try:
        await conn.execute("SELECT pg_create_logical_replication_slot($1, 'test_decoding')", slot)
        await spend_xids(conn)
        horizon = await read_horizon(conn)
        held = holder(horizon, "catalog", slot)
        assert held.active is False and held.detail == "test_decoding"
        assert held.scope == "catalogs of every database"
        assert held.xmin_age >= XIDS_AFTER
        assert held.keeps(horizon.totals) == horizon.totals.catalog
        assert held.remedy == "drop slot"
        assert await apply_remedy(conn, held)
        assert not await conn.fetchval(
            "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", slot
        )
        assert not await apply_remedy(conn, held)  # dropped already
    finally:
        await conn.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
            " WHERE slot_name = $1",
            slot,
        )
        await conn.close()


async def test_a_slot_in_use_has_no_remedy(
    diagnostics_cluster: ThrowawayCluster, diag_db: str
) -> None:
    active = Holder(
        kind="catalog", name="busy", xmin_age=1, seconds=None, database=diag_db, here=True,
        pid=123, active=True,
    )  # fmt: skip
    assert active.remedy is None
    conn = await admin_connect(diagnostics_cluster, diag_db)
    try:
        with pytest.raises(RemedyRefused, match="stop its consumer first"):
            await apply_remedy(conn, active)
    finally:
        await conn.close()


async def test_freeze_ages_name_the_databases_and_the_oldest_tables(
    diagnostics_cluster: ThrowawayCluster, diag_db: str
) -> None:
    conn = await admin_connect(diagnostics_cluster, diag_db)
    try:
        horizon = await read_horizon(conn, listed=3)
    finally:
        await conn.close()
    assert diag_db in {d.name for d in horizon.databases}
    assert len(horizon.wraparound) == 3
    ages = [t.age for t in horizon.wraparound]
    assert ages == sorted(ages, reverse=True)
    for entry in (*horizon.wraparound, *horizon.databases):
        assert entry.max_age == 200_000_000  # the server's autovacuum_freeze_max_age
        assert 0 <= entry.share < 1


async def feedback_held(
    primary: asyncpg.Connection, reader: asyncpg.Connection, kind: str, name: str
) -> int:
    """A long query on the standby `reader` is on: its snapshot goes upstream as
    hot_standby_feedback; once the primary lists it as the holder `kind` `name`, the xmin it
    took (a snapshot's, `txid_snapshot_xmin`)."""
    await reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
    await reader.fetchval("SELECT count(*) FROM pg_class")
    held_at: int = await reader.fetchval("SELECT txid_snapshot_xmin(txid_current_snapshot())")
    await spend_xids(primary)

    async def held() -> bool:
        return any(
            h.kind == kind and h.name == name and h.xmin_age >= XIDS_AFTER
            for h in (await read_horizon(primary)).holders
        )

    await poll_until(held, f"the standby's feedback held by {kind} {name}", within=60)
    return held_at


async def test_a_standby_query_holds_the_primary_through_its_slot(
    diagnostics_cluster: ThrowawayCluster, standby: ThrowawayStandby, diag_db: str
) -> None:
    primary = await admin_connect(diagnostics_cluster, diag_db)
    reader = await admin_connect(standby)
    try:
        held_at = await feedback_held(primary, reader, "slot", STANDBY_SLOT)
        slot = holder(await read_horizon(primary), "slot", STANDBY_SLOT)
        assert slot.scope == "every database" and slot.active
        assert slot.remedy is None  # its standby uses it: drop nothing
        current = await primary.fetchval("SELECT txid_current()")
        assert slot.xmin_age >= current - held_at - 1
        with pytest.raises(RemedyRefused, match="stop its consumer first"):
            await apply_remedy(primary, slot)
    finally:
        await reader.close()
        await primary.close()


@pytest.fixture(scope="module")
def slotless_standby(diagnostics_cluster: ThrowawayCluster) -> Iterator[ThrowawayStandby]:
    """A standby of the diagnostics server that streams without a slot, feedback on."""
    with ThrowawayStandby(diagnostics_cluster, slot=SLOTLESS, stream_through_slot=False) as server:
        yield server


async def test_a_standby_without_a_slot_holds_the_primary_through_its_feedback(
    diagnostics_cluster: ThrowawayCluster, slotless_standby: ThrowawayStandby, diag_db: str
) -> None:
    primary = await admin_connect(diagnostics_cluster, diag_db)
    reader = await admin_connect(slotless_standby)
    try:
        held_at = await feedback_held(primary, reader, "standby", SLOTLESS)
        horizon = await read_horizon(primary)
        standby = holder(horizon, "standby", SLOTLESS)
        walsender = await primary.fetchrow(
            "SELECT pid, state, backend_start FROM pg_stat_replication WHERE application_name = $1",
            SLOTLESS,
        )
        assert walsender is not None
        assert (standby.pid, standby.state, standby.backend_start) == tuple(walsender)
        assert standby.scope == "every database" and standby.remedy is None
        current = await primary.fetchval("SELECT txid_current()")
        assert standby.xmin_age >= current - held_at - 1
        # Its walsender is the standby, never a session of its own.
        assert not [h for h in horizon.holders if h.kind == "backend" and h.pid == standby.pid]
    finally:
        await reader.close()
        await primary.close()


async def test_the_tables_with_most_dead_tuples_say_when_they_were_vacuumed(
    diagnostics_cluster: ThrowawayCluster, diag_db: str
) -> None:
    conn = await admin_connect(diagnostics_cluster, diag_db)
    try:
        await conn.execute(
            "CREATE TABLE swept (id int) WITH (autovacuum_enabled = off);"
            "CREATE TABLE unswept (id int) WITH (autovacuum_enabled = off);"
            "INSERT INTO swept SELECT generate_series(1, 100);"
            "INSERT INTO unswept SELECT generate_series(1, 100);"
        )
        await conn.execute("VACUUM swept")
        await conn.execute("DELETE FROM swept WHERE id <= 40; DELETE FROM unswept WHERE id <= 30")

        async def counted() -> bool:
            await conn.execute("SELECT pg_stat_force_next_flush()")
            names = [t.name for t in (await read_horizon(conn, listed=2)).dead_tables]
            return names == ["swept", "unswept"]

        await poll_until(counted, "the deletes in the statistics")
        swept, unswept = (await read_horizon(conn, listed=2)).dead_tables
        assert (swept.schema, swept.dead, unswept.dead) == ("public", 40, 30)
        assert swept.vacuumed is not None and swept.autovacuumed is None
        assert unswept.vacuumed is None
        # The same figures as pg_stat_user_tables shows of them.
        stats = await conn.fetch(
            "SELECT relname, n_live_tup, last_vacuum FROM pg_stat_user_tables"
            " WHERE relname IN ('swept', 'unswept') ORDER BY relname"
        )
        assert [tuple(r) for r in stats] == [
            ("swept", swept.live, swept.vacuumed),
            ("unswept", unswept.live, None),
        ]
    finally:
        await conn.close()
