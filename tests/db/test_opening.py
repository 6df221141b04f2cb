"""Opening before the UI: the pool and the `--table` first page, each failure returned."""

from __future__ import annotations

import asyncpg

from pgconsole.config import Settings
from pgconsole.db.connection.passwords import PasswordSource
from pgconsole.db.opening import open_early
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.conftest import params_for

APP_SESSIONS = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()"
)


async def test_the_first_page_comes_with_the_pool(
    cluster: ThrowawayCluster, conn: asyncpg.Connection, dbname: str
) -> None:
    await conn.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
    await conn.execute("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 250) g")
    opening = await open_early(params_for(cluster, dbname), Settings(), None, "public.t")
    try:
        assert opening.error is None and opening.first_error is None
        assert opening.choice is not None and opening.choice.source is PasswordSource.CONNINFO
        assert opening.first is not None
        assert opening.first.detail.name == "t" and opening.first.spec.key == ("id",)
        assert [row.cells[0] for row in opening.first.page.rows] == [str(n) for n in range(1, 101)]
    finally:
        await opening.discard()
    assert opening.database is not None and opening.database.pool.is_closing()
    assert await conn.fetchval(APP_SESSIONS, dbname) == 0


async def test_failures_are_returned_not_raised(
    cluster: ThrowawayCluster, conn: asyncpg.Connection, dbname: str
) -> None:
    missing = await open_early(params_for(cluster, dbname), Settings(), None, "public.nope")
    try:
        assert missing.database is not None and missing.first is None
        assert missing.first_error == "no such table or view"
    finally:
        await missing.discard()
    wrong = params_for(cluster, dbname, password="not the password")
    refused = await open_early(wrong, Settings(), None, "public.nope")
    assert refused.database is None and refused.first is None
    assert isinstance(refused.error, asyncpg.InvalidPasswordError)


async def test_the_activity_screens_first_sample_comes_with_the_pool(
    cluster: ThrowawayCluster, conn: asyncpg.Connection, dbname: str
) -> None:
    params = params_for(cluster, dbname)
    opening = await open_early(params, Settings(), None, None, activity=True)
    try:
        first = opening.first_sample
        assert first is not None and opening.first is None
        sampler_conn = first.sampler.conn
        assert sampler_conn is not None and first.sampler.capabilities is not None
        # taken on the sampler's own connection
        own = [backend.pid for backend in first.sample.backends if backend.is_self]
        assert own == [sampler_conn.get_server_pid()]
        assert await conn.fetchval(APP_SESSIONS, dbname) == 2  # the pool's one and the sampler's
    finally:
        await opening.discard()
    assert sampler_conn.is_closed()
    assert await conn.fetchval(APP_SESSIONS, dbname) == 0


async def test_no_sample_is_taken_unless_asked(
    cluster: ThrowawayCluster, conn: asyncpg.Connection, dbname: str
) -> None:
    opening = await open_early(params_for(cluster, dbname), Settings(), None, None)
    try:
        assert opening.database is not None and opening.first_sample is None
        assert await conn.fetchval(APP_SESSIONS, dbname) == 1
    finally:
        await opening.discard()
