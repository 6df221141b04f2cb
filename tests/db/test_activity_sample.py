"""The activity sample's blockers of row locks against `pg_blocking_pids()` asked on another
connection while the chain holds still."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from pgconsole.db.activity.stats import sample
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.db.test_stats import Sessions
from tests.helpers.waiting import poll_until

Blockers = dict[int, tuple[int, ...]]
"""Each waiting pid's blockers, sorted: as `Backend.blocked_by` holds them."""

TABLE = "CREATE TABLE r (id int PRIMARY KEY, n int); INSERT INTO r VALUES (1, 0)"
"""The row the sessions queue for."""

UPDATE = "UPDATE r SET n = n + 1 WHERE id = 1"
APP = "sample-chain"
"""application_name of the chain's sessions."""


class Chain(Sessions):
    """Sessions queued for one row of `r`, each left waiting; all ended after."""

    def __init__(self, cluster: ThrowawayCluster, dbname: str, watcher: asyncpg.Connection):
        super().__init__(cluster, dbname)
        self.watcher = watcher
        """Not in the chain: asks the server who waits."""

    async def hold(self, statement: str) -> int:
        """A session that runs `statement` in a transaction it leaves open; its pid."""
        conn = await self.open(APP)
        await conn.execute(f"BEGIN; {statement}")
        return conn.get_server_pid()

    async def queue(self, statement: str) -> int:
        """A session that runs `statement` and waits on a heavyweight lock; its pid."""
        conn = await self.open(APP)
        pid = conn.get_server_pid()
        self.run(conn, statement)

        async def waiting() -> bool:
            kind = await self.watcher.fetchval(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", pid
            )
            return bool(kind == "Lock")

        await poll_until(waiting, f"{statement!r} waiting on a lock")
        return pid


@pytest.fixture
async def chain(
    cluster: ThrowawayCluster, dbname: str, conn: asyncpg.Connection
) -> AsyncIterator[Chain]:
    """A table `r` with one row (id 1), and sessions to queue for it."""
    await conn.execute(TABLE)
    opened = Chain(cluster, dbname, conn)
    try:
        yield opened
    finally:
        await opened.close()


async def asked_directly(other: asyncpg.Connection, pids: list[int]) -> Blockers:
    """`pg_blocking_pids()` of each pid, asked in one statement."""
    rows = await other.fetch(
        "SELECT w.pid, pg_blocking_pids(w.pid) AS blockers FROM unnest($1::int[]) AS w(pid)",
        pids,
    )
    return {row["pid"]: tuple(sorted(set(row["blockers"]))) for row in rows}


async def sampled(
    sampler: asyncpg.Connection, other: asyncpg.Connection, pids: list[int]
) -> tuple[Blockers, Blockers, dict[int, str | None]]:
    """The sample's blockers of `pids`, `pg_blocking_pids()`'s, and the wait events of `pids`.

    `pg_blocking_pids()` is asked before and after the sample: the same answers both times
    show the chain held still while it was sampled.
    """
    before = await asked_directly(other, pids)
    taken = await sample(sampler)
    after = await asked_directly(other, pids)
    assert before == after, "the chain moved while it was sampled"
    found = {b.pid: b for b in taken.backends}
    return (
        {pid: found[pid].blocked_by for pid in pids},
        after,
        {pid: found[pid].wait_event for pid in pids},
    )


async def test_a_row_lock_chain_reports_what_pg_blocking_pids_reports(
    chain: Chain, conn: asyncpg.Connection
) -> None:
    holder = await chain.hold(UPDATE)
    first = await chain.queue(UPDATE)  # waits for the holder's transaction id
    second = await chain.queue(UPDATE)  # waits for the row's tuple lock, which first holds

    sampler = await chain.open(APP)
    reported, direct, events = await sampled(sampler, conn, [first, second])
    assert events == {first: "transactionid", second: "tuple"}
    assert reported == direct == {first: (holder,), second: (first,)}


async def test_a_queue_for_a_row_names_those_queued_ahead(
    chain: Chain, conn: asyncpg.Connection
) -> None:
    holder = await chain.hold(UPDATE)
    first = await chain.queue(UPDATE)
    second = await chain.queue(UPDATE)
    third = await chain.queue(UPDATE)  # queued for the tuple behind second: blocked by it too

    sampler = await chain.open(APP)
    reported, direct, events = await sampled(sampler, conn, [first, second, third])
    assert events == {first: "transactionid", second: "tuple", third: "tuple"}
    assert reported == direct
    assert direct == {first: (holder,), second: (first,), third: tuple(sorted((first, second)))}


async def test_a_tuple_held_in_two_shared_modes(chain: Chain, conn: asyncpg.Connection) -> None:
    holder = await chain.hold("SELECT * FROM r WHERE id = 1 FOR UPDATE")
    # Both wait for the holder's transaction id, holding the tuple in compatible modes.
    share = await chain.queue("SELECT * FROM r WHERE id = 1 FOR SHARE")
    key_share = await chain.queue("SELECT * FROM r WHERE id = 1 FOR KEY SHARE")
    # Its tuple lock conflicts with both.
    update = await chain.queue("SELECT * FROM r WHERE id = 1 FOR UPDATE")
    pids = [share, key_share, update]

    sampler = await chain.open(APP)
    reported, direct, events = await sampled(sampler, conn, pids)
    assert events == {share: "transactionid", key_share: "transactionid", update: "tuple"}
    assert reported == direct
    assert direct == {share: (holder,), key_share: (holder,), update: tuple(sorted(pids[:2]))}


async def test_a_row_held_by_a_prepared_transaction(
    diagnostics_cluster: ThrowawayCluster, diag_db: str
) -> None:
    # pg_locks shows no pid for a prepared transaction's lock: pg_blocking_pids() says 0.
    other = await asyncpg.connect(diagnostics_cluster.dsn(diag_db))
    chain = Chain(diagnostics_cluster, diag_db, other)
    gid = f"pgconsole_test_{diag_db}"
    try:
        await other.execute(TABLE)
        preparer = await chain.open(APP)
        await preparer.execute(f"BEGIN; {UPDATE}; PREPARE TRANSACTION '{gid}'")
        waiter = await chain.queue(UPDATE)

        sampler = await chain.open(APP)
        reported, direct, events = await sampled(sampler, other, [waiter])
        assert events == {waiter: "transactionid"}
        assert reported == direct == {waiter: (0,)}
    finally:
        await chain.close()
        # A prepared transaction outlives its session and holds back every database's horizon.
        if await other.fetchval("SELECT count(*) FROM pg_prepared_xacts WHERE gid = $1", gid):
            await other.execute(f"ROLLBACK PREPARED '{gid}'")
        await other.close()
