"""The SQL console behind pgbouncer in transaction mode: the session's timeouts hold, and cancel
reaches the console's own statement (the protocol's cancel key), never another session's."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from pgconsole.db.connection.params import PoolSettings, SessionSettings
from pgconsole.db.connection.pool import open_database
from pgconsole.db.console.connection import ConsoleConnection, set_local_statements
from pgconsole.db.sqltext import Statement, split_statements
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.conftest import admin_connect, params_for
from tests.helpers.pgbouncer import ThrowawayPgBouncer

TIMEOUT = "700ms"


def one(sql: str) -> Statement:
    """The script's only statement."""
    (statement,) = split_statements(sql)
    return statement


@contextlib.asynccontextmanager
async def pooled_console(
    cluster: ThrowawayCluster,
    bouncer: ThrowawayPgBouncer,
    dbname: str,
    *,
    configured: bool = True,
    read_only: bool = False,
    statement_timeout: str = TIMEOUT,
) -> AsyncIterator[ConsoleConnection]:
    """A console session through pgbouncer, pooler mode configured or detected."""
    params = params_for(cluster, dbname, host=bouncer.host, port=bouncer.port)
    database = await open_database(
        params,
        SessionSettings(statement_timeout=statement_timeout),
        PoolSettings(max_size=2, pooler=configured),
    )
    assert database.pooler
    session = ConsoleConnection(database, read_only=read_only)
    try:
        yield session
    finally:
        await session.close()
        await database.close()


async def sleeping_pid(conn: asyncpg.Connection, *others: int) -> int:
    """A backend of `conn`'s database in pg_sleep, other than `others`, once there is one."""
    for _ in range(500):
        pid: int | None = await conn.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE wait_event = 'PgSleep'"
            " AND datname = current_database() AND pid <> ALL($1::int[])",
            list(others),
        )
        if pid is not None:
            return pid
        await asyncio.sleep(0.02)
    raise AssertionError("no backend sleeps")


def test_set_local_statements_quote_names_and_values() -> None:
    assert set_local_statements({}) == ""
    assert set_local_statements({"application_name": "it's a\\b"}) == (
        "SET LOCAL \"application_name\" = E'it''s a\\\\b';"
    )


@pytest.mark.parametrize("configured", [True, False], ids=["configured", "detected"])
async def test_the_statement_timeout_holds_behind_the_pooler(
    cluster: ThrowawayCluster, pgbouncer: ThrowawayPgBouncer, dbname: str, configured: bool
) -> None:
    async with pooled_console(cluster, pgbouncer, dbname, configured=configured) as session:
        await session.open()
        assert session.statement_timeout == TIMEOUT  # what the status line shows
        shown = await session.run(one("SHOW statement_timeout"))
        assert shown.page is not None and shown.page.rows[0].cells == (TIMEOUT,)
        for sql in ("SELECT pg_sleep(30)", "SELECT 1 FROM pg_sleep(30)"):
            with pytest.raises(asyncpg.QueryCanceledError, match="statement timeout"):
                await asyncio.wait_for(session.run(one(sql)), 20)
        with pytest.raises(asyncpg.QueryCanceledError, match="statement timeout"):
            await asyncio.wait_for(session.run(one("DO $$ BEGIN PERFORM pg_sleep(30); END $$")), 20)
        # Inside the user's transaction too; an isolation level may still be chosen after BEGIN.
        await session.run(one("BEGIN"))
        await session.run(one("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        with pytest.raises(asyncpg.QueryCanceledError, match="statement timeout"):
            await asyncio.wait_for(session.run(one("SELECT pg_sleep(30)")), 20)
        await session.run(one("ROLLBACK"))
        # A statement that refuses a transaction block still runs.
        vacuum = await session.run(one("VACUUM pg_class"))
        assert vacuum.tag == "VACUUM"


async def test_read_only_mode_keeps_the_timeout_behind_the_pooler(
    cluster: ThrowawayCluster, pgbouncer: ThrowawayPgBouncer, dbname: str
) -> None:
    async with pooled_console(cluster, pgbouncer, dbname, read_only=True) as session:
        with pytest.raises(asyncpg.QueryCanceledError, match="statement timeout"):
            await asyncio.wait_for(session.run(one("SELECT pg_sleep(30)")), 20)
        plan = await session.explain(one("SELECT 1"), analyze=False)
        assert plan is not None


@pytest.mark.slow
async def test_cancel_behind_the_pooler_stops_only_the_consoles_statement(
    cluster: ThrowawayCluster, pgbouncer: ThrowawayPgBouncer, dbname: str
) -> None:
    """The console's cancel reaches its statement through pgbouncer within a second, and a
    session whose pid the client might have been told is left alone."""
    watcher = await admin_connect(cluster, dbname)
    other = await admin_connect(cluster, dbname)
    try:
        async with pooled_console(cluster, pgbouncer, dbname, statement_timeout="60s") as session:
            other_sleep = asyncio.create_task(other.fetchval("SELECT pg_sleep(5)"))
            other_pid = await sleeping_pid(watcher)
            # As if the pid pgbouncer made up for the console were that real backend's.
            session.pid = other_pid
            running = asyncio.create_task(session.run(one("SELECT pg_sleep(60)")))
            await sleeping_pid(watcher, other_pid)
            asked = time.monotonic()
            assert await session.cancel()
            with pytest.raises(asyncpg.QueryCanceledError, match="user request"):
                await asyncio.wait_for(running, 20)
            latency = time.monotonic() - asked
            assert latency < 5, f"the cancel took {latency:.2f} s"
            # Not cancelled: its pg_sleep(5) ends by itself (a cancel would raise here). Not
            # `done()` right now: that holds only while the machine is quick.
            assert await asyncio.wait_for(other_sleep, 20) is None
            result = await session.run(one("SELECT 'still here'"))
            assert result.page is not None and result.page.rows[0].cells == ("still here",)
            assert not await session.cancel()  # nothing runs
    finally:
        await other.close()
        await watcher.close()


async def test_the_cancel_request_hook_is_still_there() -> None:
    """`send_cancel_request` relies on asyncpg's `Connection._cancel(waiter)`."""
    import inspect

    parameters = inspect.signature(asyncpg.Connection._cancel).parameters  # type: ignore[attr-defined]
    assert list(parameters)[:2] == ["self", "waiter"]
