"""The pool: verified TLS, session hygiene, read-only sessions, and a bounded close."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from pgconsole.db.cluster import ThrowawayCluster
from pgconsole.db.params import PoolSettings, SessionSettings, SslMode
from pgconsole.db.pool import TlsState, open_database
from tests.conftest import params_for, pgconsole_backends, settled_backends


async def test_opens_over_verified_tls_and_describes_the_session(
    cluster: ThrowawayCluster, database: str, admin: asyncpg.Connection
) -> None:
    db = await open_database(params_for(cluster, database), SessionSettings(), PoolSettings())
    try:
        info = db.info
        assert info.tls.state is TlsState.VERIFIED
        assert info.tls.protocol is not None and info.tls.protocol.startswith("TLSv1.")
        assert info.current_user == cluster.superuser and info.is_superuser
        assert info.server_version_num >= 130000
        assert info.target == f"postgres@127.0.0.1:{cluster.port}/{database}"
        assert info.read_only is False
        backends = await pgconsole_backends(admin)
        assert [b["datname"] for b in backends] == [database]
        stats = db.stats()
        assert (stats.size, stats.idle, stats.in_use, stats.max_size) == (1, 1, 0, 4)
    finally:
        await db.close()


async def test_session_settings_apply_to_every_connection(
    cluster: ThrowawayCluster, database: str
) -> None:
    session = SessionSettings(
        statement_timeout="1500ms", lock_timeout="750ms", idle_in_transaction_session_timeout="45s"
    )
    db = await open_database(params_for(cluster, database), session, PoolSettings(max_size=2))
    try:
        async with db.pool.acquire() as a, db.pool.acquire() as b:
            for conn in (a, b):
                assert await conn.fetchval("SHOW statement_timeout") == "1500ms"
                assert await conn.fetchval("SHOW lock_timeout") == "750ms"
                assert await conn.fetchval("SHOW idle_in_transaction_session_timeout") == "45s"
                assert await conn.fetchval("SHOW application_name") == "pgconsole"
            with pytest.raises(asyncpg.QueryCanceledError):
                await a.execute("SELECT pg_sleep(5)")
    finally:
        await db.close()


async def test_read_only_session_refuses_writes(cluster: ThrowawayCluster, database: str) -> None:
    db = await open_database(
        params_for(cluster, database), SessionSettings(read_only=True), PoolSettings()
    )
    try:
        assert db.info.read_only is True
        async with db.pool.acquire() as conn:
            with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
                await conn.execute("CREATE TABLE t (id int)")
    finally:
        await db.close()


async def test_close_terminates_a_busy_connection_within_the_deadline(
    cluster: ThrowawayCluster, database: str, admin: asyncpg.Connection
) -> None:
    db = await open_database(
        params_for(cluster, database),
        SessionSettings(statement_timeout="0"),
        PoolSettings(close_timeout=1.0),
    )

    async def hold_busy() -> None:
        async with db.pool.acquire() as conn:
            await conn.execute("SELECT pg_sleep(30)")

    busy = asyncio.create_task(hold_busy())
    for _ in range(200):
        if [r for r in await pgconsole_backends(admin) if r["state"] == "active"]:
            break
        await asyncio.sleep(0.05)
    started = time.monotonic()
    await db.close()
    assert time.monotonic() - started < 3.0
    busy.cancel()
    await asyncio.gather(busy, return_exceptions=True)
    assert await settled_backends(admin) == []


async def test_plaintext_session_is_reported_as_such(
    cluster: ThrowawayCluster, database: str
) -> None:
    params = params_for(cluster, database, sslmode=SslMode.DISABLE, sslrootcert=None)
    db = await open_database(params, SessionSettings(), PoolSettings())
    try:
        assert db.info.tls.state is TlsState.NONE
    finally:
        await db.close()


async def test_require_encrypts_without_verifying(cluster: ThrowawayCluster, database: str) -> None:
    params = params_for(cluster, database, sslmode=SslMode.REQUIRE, sslrootcert=None)
    db = await open_database(params, SessionSettings(), PoolSettings())
    try:
        assert db.info.tls.state is TlsState.UNVERIFIED
        assert db.info.tls.protocol is not None
    finally:
        await db.close()


async def test_the_pool_counts_queries_errors_and_acquire_waits(
    cluster: ThrowawayCluster, database: str
) -> None:
    db = await open_database(
        params_for(cluster, database), SessionSettings(), PoolSettings(min_size=1, max_size=1)
    )
    try:
        metrics = db.metrics
        queries, errors = metrics.queries, metrics.errors
        await db.pool.fetchval("SELECT 1")
        with pytest.raises(asyncpg.PostgresError):
            await db.pool.fetchval("SELECT 1/0")
        assert metrics.queries == queries + 2 and metrics.errors == errors + 1

        holder = await db.pool.acquire()  # the only connection: the next acquire must wait
        waiter = asyncio.ensure_future(db.pool.fetchval("SELECT 2"))
        for _ in range(100):
            if metrics.waiting:
                break
            await asyncio.sleep(0.01)
        assert metrics.waiting == 1
        await asyncio.sleep(0.2)
        await db.pool.release(holder)
        assert await waiter == 2
        assert metrics.waiting == 0
        slowest = metrics.wait_percentile(1.0)
        assert slowest is not None and slowest >= 0.2
        assert (metrics.wait_percentile(0.5) or 0) < slowest
    finally:
        await db.close()


async def test_a_dedicated_connection_is_outside_the_pool_and_ended_with_it(
    cluster: ThrowawayCluster, database: str
) -> None:
    db = await open_database(params_for(cluster, database), SessionSettings(), PoolSettings())
    conn = await db.dedicated()
    try:
        assert await conn.fetchval("SHOW statement_timeout") == "30s"  # the session settings
        assert db.stats().size == 1  # not one of the pool's
        assert conn.get_server_pid() in db._backends.seen
    finally:
        await conn.close()
        await db.close()
