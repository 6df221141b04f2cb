"""Through pgbouncer in transaction mode: no prepared-statement errors, settings per transaction."""

from __future__ import annotations

import asyncio

import asyncpg

from pgconsole.app import PgConsoleApp
from pgconsole.config import Settings
from pgconsole.db.connection.params import ConnectParams, PoolSettings, SessionSettings
from pgconsole.db.connection.pool import TlsState, open_database
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.conftest import params_for
from tests.helpers.pgbouncer import ThrowawayPgBouncer
from tests.helpers.ui import wait_until

SESSION = SessionSettings(statement_timeout="1234ms", lock_timeout="321ms")


def through(cluster: ThrowawayCluster, bouncer: ThrowawayPgBouncer) -> ConnectParams:
    return params_for(cluster, "postgres", host=bouncer.host, port=bouncer.port)


async def hammer(db: object, rounds: int = 50) -> None:
    """Many parameterized queries, several at once, on every pooled connection."""

    async def worker(n: int) -> None:
        for i in range(rounds):
            async with db.transaction() as conn:  # type: ignore[attr-defined]
                value = await conn.fetchval("SELECT $1::int + $2::int", n, i)
                assert value == n + i
                rows = await conn.fetch(
                    "SELECT relname FROM pg_class WHERE relnamespace = $1::regnamespace "
                    "ORDER BY relname LIMIT $2",
                    "pg_catalog",
                    3,
                )
                assert len(rows) == 3

    await asyncio.gather(*(worker(n) for n in range(4)))


async def test_configured_pooler_mode(
    cluster: ThrowawayCluster, pgbouncer: ThrowawayPgBouncer
) -> None:
    database = await open_database(
        through(cluster, pgbouncer), SESSION, PoolSettings(min_size=2, max_size=4, pooler=True)
    )
    try:
        assert not database.pooler_detected
        assert database.info.tls.state is TlsState.VERIFIED
        assert database.info.statement_timeout == "1234ms"  # read inside a SET LOCAL transaction
        async with database.transaction() as conn:
            assert await conn.fetchval("SHOW lock_timeout") == "321ms"
            assert await conn.fetchval("SHOW application_name") == "pgconsole"
        await hammer(database)
    finally:
        await database.close()


async def test_pooler_is_detected_when_not_configured(
    cluster: ThrowawayCluster, pgbouncer: ThrowawayPgBouncer
) -> None:
    database = await open_database(through(cluster, pgbouncer), SESSION, PoolSettings(max_size=4))
    try:
        assert database.pooler_detected
        async with database.transaction() as conn:
            assert await conn.fetchval("SHOW statement_timeout") == "1234ms"
        await hammer(database, rounds=20)
    finally:
        await database.close()


async def test_without_pooler_mode_the_cache_breaks(
    cluster: ThrowawayCluster, pgbouncer: ThrowawayPgBouncer
) -> None:
    """The failure pooler mode prevents, shown with a plain asyncpg pool (proves the harness)."""
    pool = await asyncpg.create_pool(pgbouncer.dsn(), min_size=2, max_size=2)
    assert pool is not None
    errors: list[BaseException] = []

    async def worker(n: int) -> None:
        for i in range(30):
            try:
                async with pool.acquire() as conn:
                    await conn.fetchval("SELECT $1::int * $2::int", n, i)
            except asyncpg.PostgresError as error:
                errors.append(error)

    try:
        await asyncio.gather(*(worker(n) for n in range(4)))
    finally:
        await pool.close()
    assert any(isinstance(e, asyncpg.InvalidSQLStatementNameError) for e in errors)


async def test_app_connects_through_pgbouncer(
    cluster: ThrowawayCluster, pgbouncer: ThrowawayPgBouncer
) -> None:
    app = PgConsoleApp(through(cluster, pgbouncer), Settings(pooler="transaction"))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.database is not None, "the pool")
        assert app.database is not None
        await hammer(app.database, rounds=10)


async def test_browsing_through_the_pooler(
    cluster: ThrowawayCluster, pgbouncer: ThrowawayPgBouncer, dbname: str
) -> None:
    """Keyset pages and an idle-closed cursor both work through transaction pooling."""
    from pgconsole.db.browse.pages import BrowseSpec, Column, Pager, Row
    from tests.conftest import admin_connect

    conn = await admin_connect(cluster, dbname)
    try:
        await conn.execute(
            "CREATE TABLE t (id int PRIMARY KEY, v text);"
            "INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 250) AS i;"
            "CREATE TABLE heap AS SELECT * FROM t;"
        )
    finally:
        await conn.close()
    params = params_for(cluster, dbname, host=pgbouncer.host, port=pgbouncer.port)
    database = await open_database(params, SESSION, PoolSettings(max_size=3, pooler=True))
    columns = (Column("id", "integer", True, True), Column("v", "text"))
    try:
        for spec in (
            BrowseSpec("public", "t", columns, key=("id",)),
            BrowseSpec("public", "heap", columns),
        ):
            pager = Pager(database, spec, page_size=40, idle_seconds=0)
            seen: list[Row] = []
            page = await pager.first()
            seen.extend(page.rows)
            while page.more_after:
                await pager.close_if_idle()  # cursor mode: reopened on the next page
                page = await pager.after(page.rows[-1])
                seen.extend(page.rows)
            assert [r.cells[0] for r in seen] == [str(i) for i in range(1, 251)]
            assert (await pager.last()).rows[-1].cells == ("250", "v250")
            await pager.close()
    finally:
        await database.close()
