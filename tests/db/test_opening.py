"""Opening before the UI: the pool and the `--table` first page, each failure returned."""

from __future__ import annotations

import asyncpg

from pgconsole.config import Settings
from pgconsole.db.activity.sampler import EarlySample
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


async def test_the_activity_screens_first_sample_is_read_before_the_pool_opens(
    cluster: ThrowawayCluster, conn: asyncpg.Connection, dbname: str
) -> None:
    # On the connection that read the server's limits: `pgconsole --activity` draws it while
    # the pool opens.
    handed: list[EarlySample] = []
    params = params_for(cluster, dbname)
    opening = await open_early(params, Settings(), None, None, True, on_sample=handed.append)
    try:
        first = opening.first_sample
        assert first is not None and opening.first is None and opening.database is not None
        [early] = handed
        assert first.sample is early.sample and first.taken == early.taken
        assert early.target == opening.database.info.target
        admin = conn.get_server_pid()
        ours = [b for b in early.sample.backends if b.database == dbname and b.pid != admin]
        assert [b.is_self for b in ours] == [True]  # no pool yet, no sampler's connection
        # The sampler has what the role may see, and opens its connection at its next sample.
        assert first.sampler.capabilities == early.capabilities and first.sampler.conn is None
        assert await conn.fetchval(APP_SESSIONS, dbname) == 1  # the pool's one
        await first.sampler.sample()
        assert await conn.fetchval(APP_SESSIONS, dbname) == 2  # and the sampler's
    finally:
        await opening.discard()
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
