"""The pool: verified TLS, session hygiene, read-only sessions, and a bounded close."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from pgconsole.db.connection.params import PoolSettings, SessionSettings, SslMode, Timeouts
from pgconsole.db.connection.pool import TlsState, open_database
from pgconsole.db.quoting import quote_ident
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.conftest import params_for, pgconsole_backends, settled_backends
from tests.helpers.pgbouncer import ThrowawayPgBouncer
from tests.helpers.waiting import poll_until


async def test_opens_over_verified_tls_and_describes_the_session(
    cluster: ThrowawayCluster, dbname: str, admin: asyncpg.Connection
) -> None:
    database = await open_database(params_for(cluster, dbname), SessionSettings(), PoolSettings())
    try:
        info = database.info
        assert info.tls.state is TlsState.VERIFIED
        assert info.tls.protocol is not None and info.tls.protocol.startswith("TLSv1.")
        assert info.current_user == cluster.superuser and info.is_superuser
        assert info.server_version_num >= 130000
        assert info.target == f"postgres@127.0.0.1:{cluster.port}/{dbname}"
        assert info.read_only is False
        backends = await pgconsole_backends(admin)
        assert [b["datname"] for b in backends] == [dbname]
        stats = database.stats()
        assert (stats.size, stats.idle, stats.in_use, stats.max_size) == (1, 1, 0, 4)
    finally:
        await database.close()


async def test_session_settings_apply_to_every_connection(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    session = SessionSettings(
        statement_timeout="1500ms", lock_timeout="750ms", idle_in_transaction_session_timeout="45s"
    )
    database = await open_database(params_for(cluster, dbname), session, PoolSettings(max_size=2))
    try:
        async with database.pool.acquire() as a, database.pool.acquire() as b:
            for conn in (a, b):
                assert await conn.fetchval("SHOW statement_timeout") == "1500ms"
                assert await conn.fetchval("SHOW lock_timeout") == "750ms"
                assert await conn.fetchval("SHOW idle_in_transaction_session_timeout") == "45s"
                assert await conn.fetchval("SHOW application_name") == "pgconsole"
            with pytest.raises(asyncpg.QueryCanceledError):
                await a.execute("SELECT pg_sleep(5)")
    finally:
        await database.close()


async def test_read_only_session_refuses_writes(cluster: ThrowawayCluster, dbname: str) -> None:
    database = await open_database(
        params_for(cluster, dbname), SessionSettings(read_only=True), PoolSettings()
    )
    try:
        assert database.info.read_only is True
        async with database.pool.acquire() as conn:
            with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
                await conn.execute("CREATE TABLE t (id int)")
    finally:
        await database.close()


async def test_close_terminates_a_busy_connection_within_the_deadline(
    cluster: ThrowawayCluster, dbname: str, admin: asyncpg.Connection
) -> None:
    database = await open_database(
        params_for(cluster, dbname),
        SessionSettings(statement_timeout="0"),
        PoolSettings(close_timeout=1.0),
    )

    async def hold_busy() -> None:
        async with database.pool.acquire() as conn:
            await conn.execute("SELECT pg_sleep(30)")

    busy = asyncio.create_task(hold_busy())

    async def sleeping() -> bool:
        return any(r["state"] == "active" for r in await pgconsole_backends(admin))

    await poll_until(sleeping, "pg_sleep on a pooled connection")  # else close() has no work
    started = time.monotonic()
    await database.close()
    assert time.monotonic() - started < 3.0
    busy.cancel()
    await asyncio.gather(busy, return_exceptions=True)
    assert await settled_backends(admin) == []


async def test_plaintext_session_is_reported_as_such(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    params = params_for(cluster, dbname, sslmode=SslMode.DISABLE, sslrootcert=None)
    database = await open_database(params, SessionSettings(), PoolSettings())
    try:
        assert database.info.tls.state is TlsState.NONE
    finally:
        await database.close()


async def test_require_encrypts_without_verifying(cluster: ThrowawayCluster, dbname: str) -> None:
    params = params_for(cluster, dbname, sslmode=SslMode.REQUIRE, sslrootcert=None)
    database = await open_database(params, SessionSettings(), PoolSettings())
    try:
        assert database.info.tls.state is TlsState.UNVERIFIED
        assert database.info.tls.protocol is not None
    finally:
        await database.close()


async def test_the_pool_counts_queries_errors_and_acquire_waits(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    database = await open_database(
        params_for(cluster, dbname), SessionSettings(), PoolSettings(min_size=1, max_size=1)
    )
    try:
        metrics = database.metrics
        queries, errors = metrics.queries, metrics.errors
        await database.pool.fetchval("SELECT 1")
        with pytest.raises(asyncpg.PostgresError):
            await database.pool.fetchval("SELECT 1/0")
        assert metrics.queries == queries + 2 and metrics.errors == errors + 1

        holder = await database.pool.acquire()  # the only connection: the next acquire must wait
        waiter = asyncio.ensure_future(database.pool.fetchval("SELECT 2"))

        async def waiting() -> bool:
            return metrics.waiting > 0

        await poll_until(waiting, "the acquire to wait", every=0.01)
        assert metrics.waiting == 1
        await asyncio.sleep(0.2)
        await database.pool.release(holder)
        assert await waiter == 2
        assert metrics.waiting == 0
        slowest = metrics.wait_percentile(1.0)
        assert slowest is not None and slowest >= 0.2
        assert (metrics.wait_percentile(0.5) or 0) < slowest
    finally:
        await database.close()


async def test_a_dedicated_connection_is_outside_the_pool_and_ended_with_it(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    database = await open_database(params_for(cluster, dbname), SessionSettings(), PoolSettings())
    conn = await database.dedicated()
    try:
        assert await conn.fetchval("SHOW statement_timeout") == "30s"  # the session settings
        assert database.stats().size == 1  # not one of the pool's
        assert conn.get_server_pid() in database._backends.seen
    finally:
        await conn.close()
        await database.close()


@contextlib.asynccontextmanager
async def role_with(
    admin: asyncpg.Connection, dbname: str, **settings: str
) -> AsyncIterator[tuple[str, str]]:
    """A throwaway login role (name, password) with `ALTER ROLE … SET` for each setting."""
    name, password = f"r_{uuid.uuid4().hex[:12]}", uuid.uuid4().hex
    await admin.execute(f"CREATE ROLE {quote_ident(name)} LOGIN PASSWORD '{password}'")
    try:
        await admin.execute(f"GRANT CONNECT ON DATABASE {quote_ident(dbname)} TO {name}")
        for setting, value in settings.items():
            await admin.execute(f"ALTER ROLE {quote_ident(name)} SET {setting} = '{value}'")
        yield name, password
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(dbname)} WITH (FORCE)")
        await admin.execute(f"DROP ROLE {quote_ident(name)}")


async def test_a_stricter_role_setting_is_kept_and_a_looser_one_tightened(
    cluster: ThrowawayCluster, dbname: str, admin: asyncpg.Connection
) -> None:
    async with role_with(
        admin,
        dbname,
        idle_in_transaction_session_timeout="10s",  # stricter than pgconsole's 2min: kept
        statement_timeout="1min",  # looser than pgconsole's 30s: ours
        lock_timeout="0",  # none: pgconsole's 5s
    ) as (user, password):
        database = await open_database(
            params_for(cluster, dbname, user=user, password=password),
            SessionSettings(),
            PoolSettings(min_size=2, max_size=2),
        )
        try:
            dedicated = await database.dedicated()
            try:
                async with database.pool.acquire() as a, database.pool.acquire() as b:
                    for conn in (a, b, dedicated):
                        assert await conn.fetchval("SHOW idle_in_transaction_session_timeout") == (
                            "10s"
                        )
                        assert await conn.fetchval("SHOW statement_timeout") == "30s"
                        assert await conn.fetchval("SHOW lock_timeout") == "5s"
            finally:
                await dedicated.close()
            info = database.info
            assert info.idle_in_transaction_session_timeout == "10s"
            assert info.idle_in_transaction_seconds == 10.0
            assert info.server_timeouts == Timeouts("1min", "0", "10s", "0")
            assert info.pgconsole_timeouts == Timeouts("30s", "5s", "2min", "0")
            assert info.timeouts == Timeouts("30s", "5s", "10s", "0")
        finally:
            await database.close()


async def test_the_server_ends_a_transaction_idle_past_the_roles_limit(
    cluster: ThrowawayCluster, dbname: str, admin: asyncpg.Connection
) -> None:
    async with role_with(admin, dbname, idle_in_transaction_session_timeout="300ms") as (
        user,
        password,
    ):
        database = await open_database(
            params_for(cluster, dbname, user=user, password=password),
            SessionSettings(idle_in_transaction_session_timeout="1min"),
            PoolSettings(max_size=1),
        )
        try:
            conn = await database.dedicated()
            ended = asyncio.Event()
            conn.add_termination_listener(lambda _conn: ended.set())
            await conn.execute("BEGIN")
            async with asyncio.timeout(10):  # the server ends the session: no sleep
                await ended.wait()
            assert database.info.idle_in_transaction_seconds == 0.3
        finally:
            await database.close()


@pytest.mark.parametrize("pooler", [False, True], ids=["direct", "pgbouncer"])
async def test_zero_means_no_limit_on_either_side(
    cluster: ThrowawayCluster,
    dbname: str,
    admin: asyncpg.Connection,
    pgbouncer: ThrowawayPgBouncer,
    pooler: bool,
) -> None:
    await admin.execute(
        f"ALTER DATABASE {quote_ident(dbname)} SET idle_in_transaction_session_timeout = '10s'"
    )
    await admin.execute(f"ALTER DATABASE {quote_ident(dbname)} SET lock_timeout = '2s'")
    where = {"host": pgbouncer.host, "port": pgbouncer.port} if pooler else {}
    database = await open_database(
        params_for(cluster, dbname, **where),
        # statement: ours against the server's none; lock: none of ours against its 2s
        SessionSettings(statement_timeout="45s", lock_timeout="0"),
        PoolSettings(max_size=2, pooler=pooler),
    )
    try:
        async with database.transaction() as conn:
            assert await conn.fetchval("SHOW statement_timeout") == "45s"
            assert await conn.fetchval("SHOW lock_timeout") == "2s"
            assert await conn.fetchval("SHOW idle_in_transaction_session_timeout") == "10s"
        assert (database.info.statement_timeout, database.info.lock_timeout) == ("45s", "2s")
        assert database.info.idle_in_transaction_session_timeout == "10s"
        assert database.info.server_timeouts.statement_timeout == "0"
    finally:
        await database.close()
