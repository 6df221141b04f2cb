"""Replication read on a real primary and its streaming standby: the standby and its slot as
the primary sees them, the upstream as the standby sees it, a lag made by pausing replay, and
an inactive slot that retains WAL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from pgconsole.db.activity.stats import sample
from pgconsole.db.diagnostics.replication import (
    RETENTION_WARNING,
    Replication,
    Slot,
    Standby,
    read_replication,
)
from pgconsole.throwaway.cluster import ThrowawayCluster, ThrowawayStandby
from tests.conftest import STANDBY_SLOT, admin_connection
from tests.helpers.queries import QueryCounter
from tests.helpers.waiting import poll_until

FILLER = "SELECT g AS id, repeat('x', 100) AS pad FROM generate_series(1, 8000) g"
"""About 1 MB of rows: WAL enough to see a lag in bytes."""


def our_standby(reading: Replication) -> Standby:
    found = [s for s in reading.standbys if s.application_name == STANDBY_SLOT]
    assert found, f"{STANDBY_SLOT} not among {[s.name for s in reading.standbys]}"
    return found[0]


def slot_named(reading: Replication, name: str) -> Slot:
    found = [s for s in reading.slots if s.name == name]
    assert found, f"slot {name} not among {[s.name for s in reading.slots]}"
    return found[0]


@pytest.fixture
async def on_primary(diagnostics_cluster: ThrowawayCluster) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection to the primary's `postgres` database."""
    async with admin_connection(diagnostics_cluster) as conn:
        yield conn


@pytest.fixture
async def on_standby(standby: ThrowawayStandby) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection to the standby's `postgres` database."""
    async with admin_connection(standby) as conn:
        yield conn


async def caught_up(primary: asyncpg.Connection, standby: asyncpg.Connection) -> None:
    """Wait until the standby has replayed all the primary has written by now.

    The insert position, not `pg_current_wal_lsn()` (what is written out): the throwaway
    cluster commits asynchronously, so a commit just made may not be written out yet.
    """
    target = await primary.fetchval("SELECT pg_current_wal_insert_lsn()::text")

    async def replayed() -> bool:
        return bool(
            await standby.fetchval("SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn", target)
        )

    await poll_until(replayed, "the standby to catch up")


async def test_the_primary_lists_its_standby_streaming_through_its_slot(
    on_primary: asyncpg.Connection, standby: ThrowawayStandby
) -> None:
    async def reported() -> bool:
        # A walsender lists its standby (restarted by another test, or just started) before
        # the standby's first status message: until then its LSNs are null, and None here.
        found = [
            s
            for s in (await read_replication(on_primary)).standbys
            if s.application_name == STANDBY_SLOT
        ]
        return bool(found) and None not in (
            found[0].unsent_bytes,
            found[0].unwritten_bytes,
            found[0].unflushed_bytes,
            found[0].unreplayed_bytes,
        )

    await poll_until(reported, "the standby's first status message")
    async with QueryCounter(on_primary) as sent:
        reading = await read_replication(on_primary)
    assert len(sent.queries) == 1
    assert not reading.in_recovery and reading.upstream is None
    assert reading.read_all_stats

    fed = our_standby(reading)
    assert fed.state == "streaming" and fed.sync_state == "async"
    assert fed.client_addr == "127.0.0.1"
    assert fed.name == STANDBY_SLOT
    for behind in (fed.unsent_bytes, fed.unwritten_bytes, fed.unflushed_bytes):
        assert behind is not None and behind >= 0
    assert fed.unreplayed_bytes is not None and fed.unreplayed_bytes >= 0
    assert fed.xmin_age is None  # streaming through a slot: the slot holds its feedback

    slot = slot_named(reading, STANDBY_SLOT)
    assert slot.slot_type == "physical" and slot.database is None
    assert slot.active and slot.active_pid == fed.pid
    assert slot.wal_status == "reserved"
    assert slot.safe_wal_size is None  # max_slot_wal_keep_size is unlimited
    assert slot.retained_bytes is not None and slot.retained_bytes >= 0
    assert not slot.over(RETENTION_WARNING)
    assert slot.catalog_xmin_age is None

    async def feedback_held() -> bool:
        return slot_named(await read_replication(on_primary), STANDBY_SLOT).xmin_age is not None

    await poll_until(feedback_held, "the standby's feedback on its slot")


async def test_the_standby_reads_its_upstream(
    on_standby: asyncpg.Connection, diagnostics_cluster: ThrowawayCluster
) -> None:
    reading = await read_replication(on_standby)  # pg_current_wal_lsn() would fail here
    assert reading.in_recovery and reading.read_all_stats
    assert reading.standbys == () and reading.slots == ()
    upstream = reading.upstream
    assert upstream is not None
    assert upstream.sender_host == diagnostics_cluster.host
    assert upstream.sender_port == diagnostics_cluster.port
    assert upstream.status == "streaming" and upstream.slot_name == STANDBY_SLOT
    assert upstream.hot_standby_feedback and not upstream.paused
    assert upstream.receive_lsn is not None and upstream.replay_lsn is not None
    assert upstream.unreplayed_bytes is not None and upstream.unreplayed_bytes >= 0


async def test_a_paused_standby_lags_on_both_sides(
    diagnostics_cluster: ThrowawayCluster,
    on_standby: asyncpg.Connection,
    diag_db: str,
) -> None:
    async with admin_connection(diagnostics_cluster, diag_db) as primary:
        try:
            await on_standby.execute("SELECT pg_wal_replay_pause()")
            await primary.execute(f"CREATE TABLE filler AS {FILLER}")

            async def behind_as_the_primary_sees_it() -> bool:
                unreplayed = our_standby(await read_replication(primary)).unreplayed_bytes
                return unreplayed is not None and unreplayed > 0

            async def received_not_replayed() -> bool:
                upstream = (await read_replication(on_standby)).upstream
                assert upstream is not None and upstream.paused
                return upstream.unreplayed_bytes is not None and upstream.unreplayed_bytes > 0

            await poll_until(behind_as_the_primary_sees_it, "the primary to see the lag")
            await poll_until(received_not_replayed, "the standby to receive what it cannot replay")

            await on_standby.execute("SELECT pg_wal_replay_resume()")
            await caught_up(primary, on_standby)
            upstream = (await read_replication(on_standby)).upstream
            assert upstream is not None and not upstream.paused
            assert upstream.replay_lag is not None and upstream.replay_lag >= 0  # it replayed
        finally:
            await on_standby.execute("SELECT pg_wal_replay_resume()")  # a no-op unless paused
            await caught_up(primary, on_standby)


async def test_an_inactive_slot_retains_wal(on_primary: asyncpg.Connection, diag_db: str) -> None:
    name = f"pgconsole_test_{uuid.uuid4().hex[:8]}"
    try:
        await on_primary.execute("SELECT pg_create_physical_replication_slot($1, true)", name)
        await on_primary.execute(f"CREATE TEMP TABLE filler AS {FILLER}")

        async def retains() -> bool:
            return slot_named(await read_replication(on_primary), name).over(0)

        await poll_until(retains, "the slot to retain the WAL written since")
        slot = slot_named(await read_replication(on_primary), name)
        assert not slot.active and slot.active_pid is None
        assert slot.slot_type == "physical" and slot.wal_status == "reserved"
        assert slot.xmin_age is None and slot.catalog_xmin_age is None
        assert slot.retained_bytes is not None and slot.retained_bytes > 0
        assert not slot.over()  # far below RETENTION_WARNING
    finally:
        await on_primary.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
            " WHERE slot_name = $1",
            name,
        )


async def test_without_pg_read_all_stats_rows_are_kept_with_their_details_hidden(
    diagnostics_cluster: ThrowawayCluster,
    standby: ThrowawayStandby,
    on_primary: asyncpg.Connection,
    on_standby: asyncpg.Connection,
) -> None:
    role = f"watcher_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    await on_primary.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    try:
        await caught_up(on_primary, on_standby)  # the role exists on the standby too
        for server in (diagnostics_cluster, standby):
            conn = await asyncpg.connect(server.dsn(user=role, password=password))
            try:
                reading = await read_replication(conn)
            finally:
                await conn.close()
            assert not reading.read_all_stats
            if server is standby:
                upstream = reading.upstream
                assert upstream is not None and upstream.sender_host is None
                assert upstream.status is None and upstream.slot_name is None
                assert upstream.receive_lsn is not None  # no privilege needed for that
                continue
            hidden = our_standby(reading)  # application_name is visible to all
            assert hidden.state is None and hidden.client_addr is None
            assert hidden.unreplayed_bytes is None and hidden.replay_lag is None
            assert slot_named(reading, STANDBY_SLOT).active  # slots are no secret
    finally:
        await on_primary.execute(f"DROP ROLE {role}")


async def test_the_activity_sample_lists_the_standby_only_while_a_walsender_runs(
    on_primary: asyncpg.Connection, on_standby: asyncpg.Connection, standby: ThrowawayStandby
) -> None:
    # The activity sample reads pg_stat_replication only when a walsender shows.
    taken = await sample(on_primary)
    assert any(b.backend_type == "walsender" for b in taken.backends)
    assert STANDBY_SLOT in [r.name for r in taken.server.replication]
    on_the_standby = await sample(on_standby)  # no walsender there: nothing, and no error
    assert on_the_standby.server.replication == ()
