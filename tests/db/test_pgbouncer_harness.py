"""The pgbouncer harness really is a transaction pooler, so tests run through it mean something.

Each pooling test uses a fresh database: pgbouncer keeps one pool per (database, user), so the
test's pool starts empty and which server backend serves which client is deterministic.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import asyncpg
import pytest

from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.helpers.pgbouncer import ThrowawayPgBouncer, find_pgbouncer
from tests.helpers.processes import kill_owner, process_gone

REPO_ROOT = Path(__file__).resolve().parents[2]

needs_pgbouncer = pytest.mark.skipif(find_pgbouncer() is None, reason="pgbouncer not installed")


async def pooled(bouncer: ThrowawayPgBouncer, dbname: str = "postgres") -> asyncpg.Connection:
    """A client connection through pgbouncer that works in transaction mode (no named
    prepared statements), with TLS verified against the cluster's CA."""
    return await asyncpg.connect(bouncer.dsn(dbname), statement_cache_size=0)


async def test_connects_with_verified_tls_on_both_sides(
    pgbouncer: ThrowawayPgBouncer,
) -> None:
    # verify-full against the cluster's CA: pgbouncer's certificate is valid for 127.0.0.1.
    conn = await pooled(pgbouncer)
    try:
        # The backend's own view: pgbouncer reached it over TLS too.
        assert await conn.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        assert await conn.fetchval("SELECT current_user") == pgbouncer.cluster.superuser
    finally:
        await conn.close()


async def test_plain_text_clients_are_refused(pgbouncer: ThrowawayPgBouncer) -> None:
    with pytest.raises(asyncpg.ProtocolViolationError, match="SSL required"):
        await asyncpg.connect(pgbouncer.dsn(sslmode="disable"), statement_cache_size=0)


async def test_wrong_password_is_refused(pgbouncer: ThrowawayPgBouncer) -> None:
    dsn = pgbouncer.cluster.dsn(
        password="not-the-password", host=pgbouncer.host, port=pgbouncer.port
    )
    with pytest.raises(asyncpg.ProtocolViolationError, match="SASL authentication failed"):
        await asyncpg.connect(dsn, statement_cache_size=0)


def test_only_the_scram_secret_is_written(pgbouncer: ThrowawayPgBouncer) -> None:
    secret = pgbouncer.cluster.password.encode()
    for path in pgbouncer.root.rglob("*"):
        if path.is_file():
            assert secret not in path.read_bytes(), path
    userlist = (pgbouncer.root / "userlist.txt").read_text()
    assert '"SCRAM-SHA-256$4096:' in userlist
    assert (pgbouncer.root / "userlist.txt").stat().st_mode & 0o077 == 0


async def test_parameterized_queries_repeat(
    pgbouncer: ThrowawayPgBouncer,
) -> None:
    conn = await pooled(pgbouncer)
    try:
        for n in range(200):
            assert await conn.fetchval("SELECT $1::int * 2", n) == 2 * n
        rows = await conn.fetch("SELECT g FROM generate_series(1, $1::int) AS g", 50)
        assert [row["g"] for row in rows] == list(range(1, 51))
    finally:
        await conn.close()


async def test_clients_take_turns_on_one_backend(
    pgbouncer: ThrowawayPgBouncer,
    dbname: str,
) -> None:
    """Between transactions a client holds no backend: the next client gets the same one."""
    first, second = await pooled(pgbouncer, dbname), await pooled(pgbouncer, dbname)
    try:
        pid = await first.fetchval("SELECT pg_backend_pid()")
        # Session state set by one client is seen by the other: they share the backend.
        await first.execute("SELECT set_config('pgconsole.marker', 'first', false)")
        assert await second.fetchval("SELECT pg_backend_pid()") == pid
        assert await second.fetchval("SELECT current_setting('pgconsole.marker', true)") == "first"
    finally:
        await first.close()
        await second.close()


async def test_backend_changes_while_another_client_holds_it(
    pgbouncer: ThrowawayPgBouncer,
    dbname: str,
) -> None:
    """One client connection, two statements, two backends: not session pooling."""
    client, other = await pooled(pgbouncer, dbname), await pooled(pgbouncer, dbname)
    try:
        before = await client.fetchval("SELECT pg_backend_pid()")
        async with other.transaction():
            # The only idle backend is the one `client` just used: `other` now holds it.
            assert await other.fetchval("SELECT pg_backend_pid()") == before
            after = await client.fetchval("SELECT pg_backend_pid()")
        assert after != before
    finally:
        await client.close()
        await other.close()


async def test_default_statement_cache_breaks_through_the_pooler(
    pgbouncer: ThrowawayPgBouncer,
    dbname: str,
) -> None:
    """asyncpg's named prepared statements live on one backend: a regression must show up.

    Proves that a test run through this pgbouncer catches code that forgets
    `statement_cache_size=0`.
    """
    cached = await asyncpg.connect(pgbouncer.dsn(dbname))  # default statement cache
    other = await pooled(pgbouncer, dbname)
    try:
        assert await cached.fetchval("SELECT $1::int + 1", 1) == 2  # prepared on backend A
        async with other.transaction():
            await other.execute("SELECT 1")  # `other` holds backend A
            with pytest.raises(asyncpg.InvalidSQLStatementNameError) as caught:
                await cached.fetchval("SELECT $1::int + 1", 1)  # runs on backend B
        assert caught.value.sqlstate == "26000"
        assert "prepared statement" in caught.value.args[0]
        assert "does not exist" in caught.value.args[0]
    finally:
        await cached.close()
        await other.close()


async def test_startup_parameters_are_refused(
    pgbouncer: ThrowawayPgBouncer,
) -> None:
    """pgbouncer refuses startup parameters it does not track, such as statement_timeout."""
    with pytest.raises(asyncpg.ProtocolViolationError) as caught:
        await asyncpg.connect(
            pgbouncer.dsn(),
            statement_cache_size=0,
            server_settings={"statement_timeout": "1000"},
        )
    assert isinstance(caught.value, asyncpg.PostgresConnectionError)
    assert caught.value.sqlstate == "08P01"
    assert caught.value.args[0] == "unsupported startup parameter: statement_timeout"


async def test_application_name_is_passed_on(
    pgbouncer: ThrowawayPgBouncer,
) -> None:
    """application_name is one pgbouncer tracks itself, so it is accepted (and applied)."""
    conn = await asyncpg.connect(
        pgbouncer.dsn(),
        statement_cache_size=0,
        server_settings={"application_name": "pgconsole-tests-bouncer"},
    )
    try:
        assert await conn.fetchval("SHOW application_name") == "pgconsole-tests-bouncer"
    finally:
        await conn.close()


@needs_pgbouncer
async def test_session_mode_keeps_a_backend_per_client(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    """The contrast: in session mode the two clients of the test above never share."""
    with ThrowawayPgBouncer(cluster, pool_mode="session") as bouncer:
        first, second = await pooled(bouncer, dbname), await pooled(bouncer, dbname)
        try:
            pid = await first.fetchval("SELECT pg_backend_pid()")
            assert await second.fetchval("SELECT pg_backend_pid()") != pid
            assert await first.fetchval("SELECT pg_backend_pid()") == pid
        finally:
            await first.close()
            await second.close()


@needs_pgbouncer
def test_stop_removes_everything(cluster: ThrowawayCluster) -> None:
    bouncer = ThrowawayPgBouncer(cluster, tls=False)
    bouncer.start()
    root = bouncer.root
    pid = int((root / "pgbouncer.pid").read_text().split()[0])
    bouncer.stop()
    assert not root.exists()
    assert process_gone(pid)
    bouncer.stop()  # a second stop is harmless


@needs_pgbouncer
def test_killed_owner_leaves_no_pgbouncer() -> None:
    """A test run killed with SIGKILL: the reaper stops its pgbouncer and removes the files."""
    script = textwrap.dedent(
        """
        import time
        from pgconsole.throwaway.cluster import ThrowawayCluster
        from tests.helpers.pgbouncer import ThrowawayPgBouncer
        cluster = ThrowawayCluster(ssl=False)
        cluster.start()
        bouncer = ThrowawayPgBouncer(cluster, tls=False)
        bouncer.start()
        pid = (bouncer.root / "pgbouncer.pid").read_text().split()[0]
        print(bouncer.root, pid, flush=True)
        time.sleep(600)
        """
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT
    )
    _root, bouncer_pid, removed = kill_owner(owner)
    assert removed
    assert process_gone(bouncer_pid)
