"""The throwaway standby: it streams from its primary, replays its writes, and leaves nothing
behind (its slot on the primary included)."""

from __future__ import annotations

import stat
import uuid

import asyncpg
import pytest

from pgconsole.throwaway.cluster import ClusterError, ThrowawayCluster, ThrowawayStandby
from tests.conftest import admin_connect, admin_connection
from tests.helpers.waiting import poll_until


async def test_a_standby_streams_and_replays_a_write(
    diagnostics_cluster: ThrowawayCluster, standby: ThrowawayStandby, diag_db: str
) -> None:
    async with admin_connection(diagnostics_cluster, diag_db) as primary:
        await primary.execute("CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 10) g")

    async def replayed() -> bool:
        try:
            conn = await admin_connect(standby, diag_db)  # the database is replayed too
        except asyncpg.InvalidCatalogNameError:
            return False
        try:
            return bool(await conn.fetchval("SELECT count(*) FROM t") == 10)
        except asyncpg.UndefinedTableError:
            return False
        finally:
            await conn.close()

    await poll_until(replayed, "the table on the standby")
    async with admin_connection(standby, diag_db) as conn:
        assert await conn.fetchval("SELECT pg_is_in_recovery()")
        # verify-full against the primary's CA: the standby's certificate comes from it.
        assert await conn.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await conn.execute("INSERT INTO t VALUES (11)")


async def test_a_stopped_standby_leaves_no_slot_and_no_files(
    diagnostics_cluster: ThrowawayCluster,
) -> None:
    slot = f"pgconsole_test_{uuid.uuid4().hex[:8]}"
    async with admin_connection(diagnostics_cluster) as admin:
        with ThrowawayStandby(diagnostics_cluster, slot=slot, hot_standby_feedback=False) as other:
            root = other.root
            state = await admin.fetchval(
                "SELECT state FROM pg_stat_replication WHERE application_name = $1", slot
            )
            assert state == "streaming"  # started means streaming
            assert stat.S_IMODE(other.passfile.stat().st_mode) == 0o600
            secret = other.password.encode()
            holding = [p for p in root.rglob("*") if p.is_file() and secret in p.read_bytes()]
            assert holding == [other.passfile]  # the password is in the passfile only
        assert not root.exists()
        remaining = await admin.fetchval(
            "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", slot
        )
        assert remaining == 0


def test_a_slot_name_the_server_would_refuse_is_refused_before_starting() -> None:
    with pytest.raises(ClusterError, match="not a slot name"):
        ThrowawayStandby(ThrowawayCluster(), slot="Bad-Name")  # neither is started


def test_a_standby_of_a_cluster_not_started_is_refused() -> None:
    with pytest.raises(ClusterError, match="start the primary first"):
        ThrowawayStandby(ThrowawayCluster()).start()
