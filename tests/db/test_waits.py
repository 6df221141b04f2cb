"""Wait sampling: real sessions waiting on a lock and sleeping, sampled and broken down."""

from __future__ import annotations

import asyncio

from pgconsole.db.diagnostics.waits import CPU, WaitHistory, Waiting, read_waits
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.conftest import admin_connect
from tests.helpers.waiting import poll_until


async def test_a_lock_wait_and_a_sleep_are_sampled_with_their_events(
    diagnostics_cluster: ThrowawayCluster, diag_db: str
) -> None:
    sampler = await admin_connect(diagnostics_cluster, diag_db)
    holder = await admin_connect(diagnostics_cluster, diag_db)
    waiter = await admin_connect(diagnostics_cluster, diag_db)
    sleeper = await admin_connect(diagnostics_cluster, diag_db)
    tasks: list[asyncio.Task[object]] = []
    try:
        await holder.execute(
            "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0)"
        )
        await holder.execute("BEGIN; UPDATE t SET v = 1 WHERE id = 1")
        tasks.append(asyncio.ensure_future(waiter.execute("UPDATE t SET v = 2 WHERE id = 1")))
        tasks.append(asyncio.ensure_future(sleeper.execute("SELECT pg_sleep(60)")))
        mine = {waiter.get_server_pid(), sleeper.get_server_pid()}

        async def both_seen() -> bool:
            sample = await read_waits(sampler)
            return mine <= {w.pid for w in sample}

        await poll_until(both_seen, "the waiter and the sleeper among the active sessions")
        history = WaitHistory()
        for second in (100.0, 100.5, 101.0):  # two samples in second 100, one to close it
            history.add(await read_waits(sampler), at=second)
        sample = {w.pid: w for w in await read_waits(sampler)}
        assert (
            sample[waiter.get_server_pid()].wait_type,
            sample[waiter.get_server_pid()].wait_event,
        ) == ("Lock", "transactionid")
        assert sample[sleeper.get_server_pid()].wait_event == "PgSleep"
        assert sample[waiter.get_server_pid()].query_id is not None  # compute_query_id is auto
        assert sampler.get_server_pid() not in sample  # never the sampler itself

        events = {s.label: s for s in history.breakdown("event")}
        assert events["Lock:transactionid"].sessions >= 1.0
        assert events["Timeout:PgSleep"].sessions >= 1.0
        sessions = {s.label: s for s in history.breakdown("session")}
        assert sessions[str(waiter.get_server_pid())].top_event == "Lock:transactionid"
        statements = history.breakdown("statement")
        assert any(s.query and "UPDATE t SET v = 2" in s.query for s in statements)
    finally:
        for conn in (waiter, sleeper):
            await sampler.execute("SELECT pg_cancel_backend($1)", conn.get_server_pid())
        await asyncio.gather(*tasks, return_exceptions=True)
        for conn in (holder, waiter, sleeper, sampler):
            await conn.close()


def sample(*waits: tuple[int, str, str]) -> list[Waiting]:
    return [Waiting(pid, kind, event, None) for pid, kind, event in waits]


def test_seconds_average_their_samples_by_wait_type() -> None:
    history = WaitHistory()
    # Second 10: ten samples, pid 1 always on CPU, pid 2 waiting on IO in half of them.
    for tenth in range(10):
        waits = [(1, CPU, CPU)] + ([(2, "IO", "DataFileRead")] if tenth % 2 else [])
        assert not history.add(sample(*waits), at=10 + tenth / 10)
    assert history.add(sample(), at=11.0)  # closes second 10
    [second] = history.history(1)
    assert second == {CPU: 1.0, "IO": 0.5}
    assert history.rate() == 10
    # A second with no sample is a gap, not a zero.
    history.add(sample(), at=13.0)
    history.add(sample(), at=14.0)
    assert history.history(4) == [second, {}, None, {}]
    shares = {s.label: s for s in history.breakdown("event")}
    assert shares[CPU].share > shares["IO:DataFileRead"].share > 0


def test_old_seconds_keep_only_their_totals() -> None:
    history = WaitHistory()
    for second in range(200):
        history.add(sample((second, "Lock", "tuple")), at=float(second))
    history.add(sample(), at=1000.0)
    oldest = history.seconds[0]
    assert {k[0] for k in oldest.counts} == {0}  # no pid kept
    assert oldest.by_type() == {"Lock": 1.0}
    assert len(history.breakdown("session", 10_000)) <= 61
