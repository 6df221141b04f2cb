"""The activity screen's sampler: a connection of its own, opened again after one is lost."""

from __future__ import annotations

import asyncpg
import pytest

from pgconsole.db.activity import stats
from pgconsole.db.activity.sampler import Sampler
from pgconsole.db.connection.params import PoolSettings, SessionSettings
from pgconsole.db.connection.pool import open_database
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.conftest import params_for
from tests.helpers.waiting import poll_until


async def test_samples_on_its_own_connection_and_opens_another_when_it_is_lost(
    cluster: ThrowawayCluster, dbname: str, admin: asyncpg.Connection
) -> None:
    database = await open_database(params_for(cluster, dbname), SessionSettings(), PoolSettings())
    sampler = Sampler(database)
    try:
        assert not sampler.lost() and sampler.conn is None
        sample = await sampler.sample()
        conn = sampler.conn
        assert conn is not None and sampler.capabilities is not None
        first = conn.get_server_pid()
        assert [s.pid for s in sample.backends if s.is_self] == [first]
        assert database.stats().size == 1  # not one of the pool's

        # Ended by the server between two samples: lost, and the next sample opens another.
        await admin.execute("SELECT pg_terminate_backend($1)", first)

        async def closed() -> bool:
            return conn.is_closed()

        await poll_until(closed, "the client to see its connection ended")
        assert sampler.lost() and sampler.conn is None
        assert not sampler.lost()
        await sampler.sample()
        assert sampler.conn is not None and sampler.conn.get_server_pid() != first
    finally:
        await sampler.close()
        await database.close()
    assert sampler.conn is None


async def test_a_failed_sample_drops_its_connection(
    cluster: ThrowawayCluster, dbname: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = await open_database(params_for(cluster, dbname), SessionSettings(), PoolSettings())
    sampler = Sampler(database)
    try:
        await sampler.sample()
        conn = sampler.conn
        assert conn is not None

        async def refused(conn: asyncpg.Connection) -> stats.Sample:
            raise asyncpg.QueryCanceledError("canceling statement due to statement timeout")

        with monkeypatch.context() as patched:
            patched.setattr(stats, "sample", refused)
            with pytest.raises(asyncpg.QueryCanceledError):
                await sampler.sample()
        assert sampler.conn is None and conn.is_closed()  # closed, not left open
        await sampler.sample()
        assert sampler.conn is not None and sampler.conn is not conn
    finally:
        await sampler.close()
        await database.close()
