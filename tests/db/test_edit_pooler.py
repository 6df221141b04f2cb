"""Editing behind pgbouncer in transaction mode: a lock timeout names the real blocking pid."""

from __future__ import annotations

import asyncpg
import pytest

from pgconsole.db.browse.catalog import describe_relation
from pgconsole.db.browse.pages import Pager
from pgconsole.db.connection.params import PoolSettings, SessionSettings
from pgconsole.db.connection.pool import open_database
from pgconsole.db.edit.transaction import EditTransaction, blocking_pids
from pgconsole.db.first_page import browse_spec
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.conftest import admin_connect, params_for
from tests.helpers.pgbouncer import ThrowawayPgBouncer


async def test_a_lock_timeout_names_the_real_blocker_behind_the_pooler(
    cluster: ThrowawayCluster, pgbouncer: ThrowawayPgBouncer, dbname: str
) -> None:
    other = await admin_connect(cluster, dbname)
    await other.execute(
        "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a')"
    )
    params = params_for(cluster, dbname, host=pgbouncer.host, port=pgbouncer.port)
    database = await open_database(
        params, SessionSettings(lock_timeout="1s"), PoolSettings(max_size=3, pooler=True)
    )
    async with database.pool.acquire() as conn:
        oid = await conn.fetchval("SELECT 't'::regclass::oid")
        spec = browse_spec(await describe_relation(conn, oid))
    tx = EditTransaction(database, spec)
    try:
        pager = Pager(database, tx.spec)
        rows = list((await pager.first()).rows)
        await pager.close()
        async with other.transaction():
            await other.execute("SELECT * FROM t WHERE id = 1 FOR UPDATE")
            with pytest.raises(asyncpg.LockNotAvailableError) as caught:
                await tx.update(rows[0], {"v": "mine"})
        assert blocking_pids(caught.value) == [other.get_server_pid()]
        # The transaction goes on, on the server connection whose pid it knows.
        state = await other.fetchval(
            "SELECT state FROM pg_stat_activity WHERE pid = $1", tx.backend_pid
        )
        assert state == "idle in transaction"
    finally:
        await tx.rollback()
        await database.close()
        await other.close()
