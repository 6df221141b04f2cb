"""The activity screen's data: samples from a real server, lock chains, roles, signals, math."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import asyncpg
import pytest

from pgconsole.db.activity.stats import (
    CONNECTION_STATES,
    Backend,
    Capabilities,
    LockNode,
    Sample,
    ServerCounters,
    cancel_backend,
    lock_tree,
    rates,
    read_capabilities,
    sample,
    shown_query,
    terminate_backend,
)
from pgconsole.db.connection.connect import Attempt, connect
from pgconsole.db.connection.params import ConnectParams
from pgconsole.db.console.connection import wrapped_query
from pgconsole.db.quoting import quote_ident
from pgconsole.db.sqlfiles import load_sql
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.conftest import params_for
from tests.helpers.queries import QueryCounter

WAIT = 10.0
"""Seconds any wait on the server (a lock, a state) may take before the test fails."""
COUNTERS = (
    "xact_commit",
    "xact_rollback",
    "blks_read",
    "blks_hit",
    "tup_returned",
    "tup_fetched",
    "tup_inserted",
    "tup_updated",
    "tup_deleted",
    "temp_bytes",
    "deadlocks",
)
"""The cumulative counters of `ServerCounters`."""


# --- helpers -------------------------------------------------------------------------------


class Sessions:
    """Connections a test opens, and the queries it leaves running on them, all ended after."""

    def __init__(self, cluster: ThrowawayCluster, dbname: str) -> None:
        self.cluster = cluster
        self.database = dbname
        self.conns: list[asyncpg.Connection] = []
        self.tasks: list[asyncio.Task[Any]] = []

    async def open(self, application: str, *, socket: bool = False) -> asyncpg.Connection:
        """A superuser connection labelled `application`: over TLS, or the Unix socket."""
        conn: asyncpg.Connection
        if socket:
            conn = await asyncpg.connect(
                host=str(self.cluster.socket_dir),
                port=self.cluster.port,
                database=self.database,
                user=self.cluster.superuser,
                password=self.cluster.password,
                server_settings={"application_name": application},
            )
        else:
            conn = await asyncpg.connect(
                self.cluster.dsn(self.database),
                server_settings={"application_name": application},
            )
        self.conns.append(conn)
        return conn

    def run(self, conn: asyncpg.Connection, query: str) -> asyncio.Task[Any]:
        """Start `query` on `conn` without waiting for it (it will block or sleep)."""
        task = asyncio.create_task(conn.execute(query))
        self.tasks.append(task)
        return task

    async def close(self) -> None:
        # terminate(): a connection stuck behind a lock would make close() wait for it.
        for conn in self.conns:
            conn.terminate()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


@pytest.fixture
async def sessions(cluster: ThrowawayCluster, dbname: str) -> AsyncIterator[Sessions]:
    """Opens connections to the test's database; terminates them all afterwards."""
    opened = Sessions(cluster, dbname)
    try:
        yield opened
    finally:
        await opened.close()


@contextlib.asynccontextmanager
async def unprivileged_role(
    admin: asyncpg.Connection, cluster: ThrowawayCluster, dbname: str
) -> AsyncIterator[tuple[str, asyncpg.Connection, ConnectParams]]:
    """A fresh LOGIN role with no predefined role, connected over verified TLS.

    Yields the role's name, a connection as it, and how to open more.
    """
    role = f"watcher_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    await admin.execute(f"CREATE ROLE {quote_ident(role)} LOGIN PASSWORD '{password}'")
    try:
        params = params_for(cluster, dbname, user=role, password=password)
        connection = await connect(params, Attempt(server_settings={}))
        try:
            yield role, connection, params
        finally:
            connection.terminate()
    finally:
        await admin.execute(f"DROP ROLE {quote_ident(role)}")


async def until(
    conn: asyncpg.Connection,
    check: Callable[[Sample], bool],
    what: str,
) -> Sample:
    """Sample until `check` holds, or fail after WAIT seconds."""

    async def poll() -> Sample:
        while True:
            taken = await sample(conn)
            if check(taken):
                return taken
            await asyncio.sleep(0.05)

    try:
        return await asyncio.wait_for(poll(), WAIT)
    except TimeoutError:
        pytest.fail(f"not seen within {WAIT} s: {what}")


def by_pid(taken: Sample) -> dict[int, Backend]:
    """The sample's sessions by pid."""
    return {s.pid: s for s in taken.backends}


def waits(pid: int) -> Callable[[Sample], bool]:
    """The session `pid` waits for a heavyweight lock, and its blockers are known."""

    def check(taken: Sample) -> bool:
        session = by_pid(taken).get(pid)
        return (
            session is not None and session.wait_event_type == "Lock" and session.blocked_by != ()
        )

    return check


def tree_shape(nodes: tuple[LockNode, ...]) -> list[tuple[int, Any]]:
    """A lock tree as nested (pid, children) lists, `repeated` nodes as (pid, "...")."""
    return [
        (node.backend.pid, "..." if node.repeated else tree_shape(node.children)) for node in nodes
    ]


def session(pid: int, *blockers: int, xact_age: float | None = 1.0) -> Backend:
    """A hand-made session for the pure lock-tree tests."""
    return Backend(
        pid=pid,
        user="app",
        database="db",
        application=None,
        client=None,
        backend_type="client backend",
        state="active",
        wait_event_type="Lock" if blockers else None,
        wait_event="relation" if blockers else None,
        xact_age=xact_age,
        query_age=xact_age,
        state_age=xact_age,
        query=f"query of {pid}",
        blocked_by=blockers,
    )


def counters(taken_at: float = 100.0, **values: int) -> ServerCounters:
    """Hand-made counters for the pure rate tests: every counter 0 unless given."""
    return ServerCounters(
        taken_at=taken_at,
        **{name: values.get(name, 0) for name in COUNTERS},  # type: ignore[arg-type]
        connections=dict.fromkeys(CONNECTION_STATES, 0),
        max_connections=100,
        oldest_xact_age=None,
        xmin_horizon_age=None,
    )


# --- sample() against the server -----------------------------------------------------------


async def test_sample_lists_the_tests_backends_in_one_query(
    conn: asyncpg.Connection, sessions: Sessions, cluster: ThrowawayCluster, dbname: str
) -> None:
    idle = await sessions.open("stats-idle")
    in_tx = await sessions.open("stats-in-tx")
    sleeper = await sessions.open("stats-sleeper")
    local = await sessions.open("stats-local", socket=True)
    await in_tx.execute("BEGIN; SELECT 1")
    sessions.run(sleeper, "SELECT pg_sleep(30)")
    await until(
        conn,
        lambda s: by_pid(s)[sleeper.get_server_pid()].state == "active",
        "the sleeper active",
    )

    async with QueryCounter(conn) as counter:
        taken = await sample(conn)
    assert len(counter.queries) == taken.queries == 1, counter.queries

    found = by_pid(taken)
    mine = {s.application: s for s in taken.backends if (s.application or "").startswith("stats-")}
    assert set(mine) == {"stats-idle", "stats-in-tx", "stats-sleeper", "stats-local"}
    assert mine["stats-idle"].pid == idle.get_server_pid()
    assert mine["stats-in-tx"].pid == in_tx.get_server_pid()
    assert mine["stats-local"].pid == local.get_server_pid()
    assert mine["stats-idle"].state == "idle"
    assert mine["stats-in-tx"].state == "idle in transaction"
    slept = mine["stats-sleeper"]
    assert slept.state == "active"
    assert (slept.wait_event_type, slept.wait_event) == ("Timeout", "PgSleep")
    assert slept.query == "SELECT pg_sleep(30)"
    assert slept.query_age is not None and slept.query_age >= 0
    for s in mine.values():
        assert (s.user, s.database, s.backend_type) == (
            cluster.superuser,
            dbname,
            "client backend",
        )
        assert not s.is_self and s.blocked_by == () and s.lock_mode is None
    assert mine["stats-idle"].client == "127.0.0.1"
    assert mine["stats-local"].client == "local"
    assert mine["stats-idle"].xact_age is None
    assert mine["stats-in-tx"].xact_age is not None
    assert mine["stats-in-tx"].query == "BEGIN; SELECT 1"

    (me,) = [s for s in taken.backends if s.is_self]
    assert me.pid == conn.get_server_pid() and me.state == "active"
    assert any(s.backend_type == "checkpointer" for s in found.values())  # background, too
    assert [s.pid for s in taken.backends] == sorted(found)


async def test_server_counters(
    conn: asyncpg.Connection, sessions: Sessions, cluster: ThrowawayCluster
) -> None:
    idle = await sessions.open("stats-idle")
    in_tx = await sessions.open("stats-in-tx")
    worker = await sessions.open("stats-worker")
    await in_tx.execute("BEGIN")
    await in_tx.fetchval("SELECT txid_current()")  # an xid that holds back the horizon
    for _ in range(3):
        await worker.fetchval("SELECT txid_current()")  # three xids after it
    await worker.execute("CREATE TABLE written (x int)")
    before = (await sample(conn)).server
    for i in range(5):
        await worker.execute("INSERT INTO written VALUES ($1)", i)
    # A backend reports its counters when it goes idle, at most once a second unless forced.
    await worker.execute("SELECT pg_stat_force_next_flush()")
    await worker.execute("SELECT 1")
    await asyncio.sleep(1.0)  # the open transaction is now at least a second old

    taken = await sample(conn)
    server = taken.server
    assert abs(server.taken_at - time.time()) < 5  # the server's clock, in epoch seconds
    assert server.taken_at > before.taken_at
    assert set(server.connections) == set(CONNECTION_STATES)
    states = [
        s.state or ""
        for s in taken.backends
        if s.pid in (idle.get_server_pid(), in_tx.get_server_pid())
    ]
    assert sorted(states) == ["idle", "idle in transaction"]
    assert server.connections["idle"] >= 2  # idle and worker
    assert server.connections["idle in transaction"] >= 1
    assert server.connections["active"] >= 1  # the sampling session itself
    assert server.connections["other"] >= 1  # checkpointer, background writer...
    assert server.max_connections == int(await conn.fetchval("SHOW max_connections"))
    assert server.oldest_xact_age is not None and server.oldest_xact_age >= 1.0
    assert server.xmin_horizon_age is not None and server.xmin_horizon_age >= 4
    assert server.replication == ()

    assert server.xact_commit - before.xact_commit >= 5
    assert server.tup_inserted - before.tup_inserted >= 5
    assert server.blks_hit > 0
    per_second = rates(before, server)
    assert per_second.commits > 0 and per_second.inserted > 0
    assert per_second.rollbacks >= 0 and per_second.deadlocks == 0

    await in_tx.execute("COMMIT")
    after = (await sample(conn)).server
    assert after.xmin_horizon_age is None or after.xmin_horizon_age < server.xmin_horizon_age


async def test_the_samplers_own_transaction_is_not_the_oldest(conn: asyncpg.Connection) -> None:
    # Background processes are not client backends, and the sampling statement's own
    # transaction must not count: with nothing else open, there is no oldest transaction.
    oldest_other = await conn.fetchval(
        "SELECT extract(epoch FROM now() - min(xact_start))::float8 FROM pg_stat_activity"
        " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
    )
    server = (await sample(conn)).server
    if oldest_other is None:  # as when this file runs alone
        assert server.oldest_xact_age is None
    else:
        assert server.oldest_xact_age is not None and server.oldest_xact_age >= oldest_other
    assert server.connections["active"] >= 1


# --- lock chains on the server -------------------------------------------------------------


async def test_lock_chain_from_a_real_server(
    conn: asyncpg.Connection, sessions: Sessions, dbname: str
) -> None:
    await conn.execute("CREATE TABLE t (id int); CREATE TABLE u (id int)")
    t_oid = await conn.fetchval("SELECT 't'::regclass::oid")
    a = await sessions.open("stats-a")
    b = await sessions.open("stats-b")
    c = await sessions.open("stats-c")
    d = await sessions.open("stats-d")
    await a.execute("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
    await b.execute("BEGIN; LOCK TABLE u IN ACCESS EXCLUSIVE MODE")
    sessions.run(b, "SELECT * FROM t")  # B waits for A
    await until(conn, waits(b.get_server_pid()), "B waiting")
    sessions.run(c, "SELECT * FROM u")  # C waits for B
    await until(conn, waits(c.get_server_pid()), "C waiting")
    sessions.run(d, "INSERT INTO t VALUES (1)")  # D waits for A
    taken = await until(conn, waits(d.get_server_pid()), "D waiting")

    pa, pb, pc, pd = (x.get_server_pid() for x in (a, b, c, d))
    found = by_pid(taken)
    assert found[pa].blocked_by == () and found[pa].lock_mode is None
    assert found[pa].state == "idle in transaction"
    assert found[pb].blocked_by == (pa,)
    assert found[pc].blocked_by == (pb,)
    assert found[pd].blocked_by == (pa,)
    assert (found[pb].lock_mode, found[pb].lock_relation) == ("AccessShareLock", "public.t")
    assert found[pb].lock_relation_oid == t_oid
    assert (found[pc].lock_mode, found[pc].lock_relation) == ("AccessShareLock", "public.u")
    assert (found[pd].lock_mode, found[pd].lock_relation) == ("RowExclusiveLock", "public.t")
    assert found[pb].query == "SELECT * FROM t"

    tree = lock_tree(taken.backends)
    assert len(tree) == 1
    (root,) = tree
    assert root.backend.pid == pa
    shape = dict(tree_shape(root.children))
    assert shape == {pb: [(pc, [])], pd: []}
    assert [n.backend.pid for n in root.children] == [pb, pd]  # B's transaction is older


async def test_a_waiter_appears_under_each_of_its_blockers(
    conn: asyncpg.Connection, sessions: Sessions
) -> None:
    await conn.execute("CREATE TABLE v (id int)")
    s1 = await sessions.open("stats-share-1")
    s2 = await sessions.open("stats-share-2")
    x = await sessions.open("stats-exclusive")
    await s1.execute("BEGIN; LOCK TABLE v IN SHARE MODE")
    await s2.execute("BEGIN; LOCK TABLE v IN SHARE MODE")
    sessions.run(x, "BEGIN; LOCK TABLE v IN EXCLUSIVE MODE")
    taken = await until(conn, waits(x.get_server_pid()), "the exclusive lock waiting")

    p1, p2, px = s1.get_server_pid(), s2.get_server_pid(), x.get_server_pid()
    assert by_pid(taken)[px].blocked_by == tuple(sorted((p1, p2)))
    assert by_pid(taken)[px].lock_mode == "ExclusiveLock"
    assert sorted(tree_shape(lock_tree(taken.backends))) == [(p1, [(px, [])]), (p2, [(px, [])])]


async def test_a_row_lock_names_the_rows_table(
    conn: asyncpg.Connection, sessions: Sessions
) -> None:
    await conn.execute('CREATE SCHEMA "My Schema"; CREATE TABLE "My Schema".r (id int PRIMARY KEY)')
    await conn.execute('INSERT INTO "My Schema".r VALUES (1)')
    holder = await sessions.open("stats-row-holder")
    first = await sessions.open("stats-row-first")
    second = await sessions.open("stats-row-second")
    await holder.execute('BEGIN; UPDATE "My Schema".r SET id = 1 WHERE id = 1')
    sessions.run(first, 'UPDATE "My Schema".r SET id = 1 WHERE id = 1')
    await until(conn, waits(first.get_server_pid()), "the first row waiter")
    sessions.run(second, 'UPDATE "My Schema".r SET id = 1 WHERE id = 1')
    taken = await until(conn, waits(second.get_server_pid()), "the second row waiter")

    found = by_pid(taken)
    waiting = found[first.get_server_pid()]
    # Waiting for the holder's transaction id: no relation in that lock, the row's tuple lock
    # names it.
    assert waiting.lock_mode == "ShareLock"
    assert waiting.lock_relation == '"My Schema".r'
    assert waiting.lock_relation_oid == await conn.fetchval(
        """SELECT '"My Schema".r'::regclass::oid"""
    )
    queued = found[second.get_server_pid()]
    assert queued.lock_mode == "ExclusiveLock"  # the tuple lock the first waiter holds
    assert queued.lock_relation == '"My Schema".r'
    assert first.get_server_pid() in queued.blocked_by
    (root,) = lock_tree(taken.backends)
    assert root.backend.pid == holder.get_server_pid()
    assert first.get_server_pid() in [n.backend.pid for n in root.children]


# --- what a role without pg_monitor sees ---------------------------------------------------


async def test_a_role_without_pg_monitor(
    conn: asyncpg.Connection, sessions: Sessions, cluster: ThrowawayCluster, dbname: str
) -> None:
    admin_caps = await read_capabilities(conn)
    assert admin_caps == Capabilities(True, True, True, True)
    assert admin_caps.limits() == []

    other = await sessions.open("stats-someone-else")
    await other.execute("BEGIN; SELECT 42")
    async with unprivileged_role(conn, cluster, dbname) as (role, watcher, _params):
        caps = await read_capabilities(watcher)
        assert caps == Capabilities(
            superuser=False, monitor=False, read_all_stats=False, signal_backend=False
        )
        limits = " ".join(caps.limits())
        assert "queries of other roles' sessions are hidden" in limits
        assert "pg_read_all_stats (or pg_monitor)" in limits
        assert "pg_signal_backend" in limits

        taken = await sample(watcher)  # no exception, even though most columns are NULL
        assert taken.queries == 1
        hidden = by_pid(taken)[other.get_server_pid()]
        assert hidden.query is None and hidden.state is None and hidden.xact_age is None
        assert hidden.backend_type is None and hidden.client is None
        assert hidden.user == cluster.superuser  # the name is not hidden
        (me,) = [s for s in taken.backends if s.is_self]
        assert me.pid == watcher.get_server_pid() and me.user == role
        assert me.query is not None and me.state == "active"
        # Another role's open transaction is invisible: counted as 'other', no age.
        assert taken.server.connections["idle in transaction"] == 0
        assert taken.server.connections["other"] >= 1
        assert taken.server.max_connections > 0

        await conn.execute(f"GRANT pg_read_all_stats TO {quote_ident(role)}")
        granted = await read_capabilities(watcher)
        assert granted.read_all_stats and not granted.monitor and not granted.superuser
        assert not any("queries of other roles" in line for line in granted.limits())
        seen = by_pid(await sample(watcher))[other.get_server_pid()]
        assert (seen.query, seen.state) == ("BEGIN; SELECT 42", "idle in transaction")
        await conn.execute(f"REVOKE pg_read_all_stats FROM {quote_ident(role)}")


def test_limits_in_words() -> None:
    monitor = Capabilities(superuser=False, monitor=True, read_all_stats=True, signal_backend=True)
    assert monitor.limits() == [
        "superusers' sessions cannot be cancelled or terminated: only a superuser may signal them"
    ]
    nothing = Capabilities(False, False, False, False)
    assert len(nothing.limits()) == 4
    assert Capabilities(True, True, True, True).limits() == []


# --- signals -------------------------------------------------------------------------------


async def test_cancel_and_terminate(
    conn: asyncpg.Connection, sessions: Sessions, cluster: ThrowawayCluster, dbname: str
) -> None:
    sleeper = await sessions.open("stats-sleeper")
    pid = sleeper.get_server_pid()
    sleeping = sessions.run(sleeper, "SELECT pg_sleep(30)")
    await until(conn, lambda s: by_pid(s)[pid].wait_event == "PgSleep", "the sleeper sleeping")

    assert await cancel_backend(conn, pid) is True
    with pytest.raises(asyncpg.QueryCanceledError):
        await asyncio.wait_for(sleeping, WAIT)
    assert await sleeper.fetchval("SELECT 1") == 1  # the session itself goes on

    assert await terminate_backend(conn, pid) is True
    await until(conn, lambda s: pid not in by_pid(s), "the terminated session gone")
    # However asyncpg learns of it: the server's FATAL, the closed socket, or (seen once on
    # 3.13) its protocol still busy with the message that ended the session.
    dead = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)
    with pytest.raises(dead):
        await asyncio.wait_for(sleeper.fetchval("SELECT 1"), WAIT)

    unused = 2**31 - 1  # above any pid the kernel hands out
    assert await cancel_backend(conn, unused) is False
    assert await terminate_backend(conn, unused) is False

    victim = await sessions.open("stats-superuser-session")
    async with unprivileged_role(conn, cluster, dbname) as (_role, watcher, params):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await terminate_backend(watcher, victim.get_server_pid())
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await cancel_backend(watcher, victim.get_server_pid())
        # Its own sessions, every role may signal.
        own = await connect(params, Attempt(server_settings={}))
        try:
            assert await terminate_backend(watcher, own.get_server_pid()) is True
        finally:
            own.terminate()
    assert await victim.fetchval("SELECT 1") == 1


# --- rates(): pure ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        pytest.param(
            counters(100.0, xact_commit=1000, tup_inserted=50, temp_bytes=0, blks_hit=90),
            counters(
                102.0,
                xact_commit=1200,
                tup_inserted=70,
                temp_bytes=4096,
                blks_hit=180,
                blks_read=10,
            ),
            {"commits": 100.0, "inserted": 10.0, "temp_bytes": 2048.0, "cache_hit_ratio": 0.9},
            id="normal deltas",
        ),
        pytest.param(
            counters(100.0, xact_commit=5000, xact_rollback=7, deadlocks=3),
            counters(101.0, xact_commit=12, xact_rollback=9, deadlocks=0),
            {"commits": 0.0, "rollbacks": 2.0, "deadlocks": 0.0},
            id="counter reset gives zero, others still count",
        ),
        pytest.param(
            counters(100.0, xact_commit=1),
            counters(100.0, xact_commit=10, blks_hit=5),
            {"commits": 0.0, "cache_hit_ratio": None},
            id="zero interval",
        ),
        pytest.param(
            counters(100.0, xact_commit=1),
            counters(99.0, xact_commit=10),
            {"commits": 0.0, "returned": 0.0},
            id="negative interval",
        ),
        pytest.param(
            counters(100.0, blks_hit=500, blks_read=20, tup_fetched=3),
            counters(110.0, blks_hit=500, blks_read=20, tup_fetched=33),
            {"cache_hit_ratio": None, "fetched": 3.0},
            id="no block access",
        ),
        pytest.param(
            counters(100.0, blks_hit=10),
            counters(101.0, blks_read=4),
            {"cache_hit_ratio": 0.0},
            id="only reads after a reset of hits",
        ),
        pytest.param(
            counters(0.0, tup_updated=1, tup_deleted=1, tup_returned=0),
            counters(0.5, tup_updated=3, tup_deleted=2, tup_returned=1),
            {"updated": 4.0, "deleted": 2.0, "returned": 2.0},
            id="sub-second interval",
        ),
    ],
)
def test_rates(before: ServerCounters, after: ServerCounters, expected: dict[str, Any]) -> None:
    got = rates(before, after)
    for name, value in expected.items():
        assert getattr(got, name) == (value if value is None else pytest.approx(value)), name
    for name in (
        "commits",
        "rollbacks",
        "returned",
        "fetched",
        "inserted",
        "updated",
        "deleted",
        "temp_bytes",
        "deadlocks",
    ):
        assert getattr(got, name) >= 0, name


def test_rates_of_a_reset_server_are_never_negative() -> None:
    before = counters(100.0, **dict.fromkeys(COUNTERS, 10**9))
    after = counters(105.0)
    got = rates(before, after)
    assert got == replace(
        got,
        commits=0.0,
        rollbacks=0.0,
        returned=0.0,
        fetched=0.0,
        inserted=0.0,
        updated=0.0,
        deleted=0.0,
        temp_bytes=0.0,
        deadlocks=0.0,
        cache_hit_ratio=None,
    )


# --- lock_tree(): pure ---------------------------------------------------------------------


def test_lock_tree_cycle_terminates_and_yields_both() -> None:
    tree = lock_tree([session(1, 2), session(2, 1, xact_age=5.0), session(3)])
    assert [n.backend.pid for n in tree] == [2, 1]  # the cycle's members, oldest first
    assert tree_shape(tree) == [(2, [(1, [(2, "...")])]), (1, "...")]


def test_lock_tree_cycle_with_a_tail_and_a_true_root() -> None:
    # 1 and 2 deadlock, 3 waits on 1; separately 5 waits on 4.
    tree = lock_tree([session(1, 2), session(2, 1), session(3, 1), session(4), session(5, 4)])
    assert tree_shape(tree) == [(4, [(5, [])]), (1, [(2, [(1, "...")]), (3, [])]), (2, "...")]


def test_lock_tree_several_blockers() -> None:
    tree = lock_tree([session(1), session(2), session(3, 1, 2), session(4, 3)])
    assert tree_shape(tree) == [(1, [(3, [(4, [])])]), (2, [(3, "...")])]
    # A waiter with no waiters of its own is shown whole under each blocker.
    tree = lock_tree([session(1), session(2), session(3, 1, 2)])
    assert tree_shape(tree) == [(1, [(3, [])]), (2, [(3, [])])]
    assert tree[0].children[0].backend is tree[1].children[0].backend


def test_lock_tree_leaves_out_unrelated_sessions_and_orders_roots() -> None:
    sessions = [
        session(10, xact_age=None),  # blocks, but not in a transaction (visible to it)
        session(11, 10),
        session(20, xact_age=3.0),
        session(21, 20),
        session(30, xact_age=60.0),
        session(31, 30, xact_age=50.0),
        session(32, 30, xact_age=55.0),
        session(40, xact_age=999.0),  # neither blocks nor waits
        session(41, xact_age=None),
    ]
    tree = lock_tree(sessions)
    assert [n.backend.pid for n in tree] == [30, 20, 10]
    assert [n.backend.pid for n in tree[0].children] == [32, 31]
    pids = set()

    def walk(nodes: tuple[LockNode, ...]) -> None:
        for node in nodes:
            pids.add(node.backend.pid)
            walk(node.children)

    walk(tree)
    assert pids == {10, 11, 20, 21, 30, 31, 32}
    assert lock_tree([session(1), session(2)]) == ()
    assert lock_tree([]) == ()


def test_lock_tree_unknown_blocker_becomes_a_bare_root() -> None:
    # A prepared transaction holds the lock: pg_blocking_pids reports it as pid 0.
    (root,) = lock_tree([session(7, 0)])
    assert root.backend.pid == 0 and root.backend.backend_type == "prepared transaction"
    assert root.backend.query is None
    assert [n.backend.pid for n in root.children] == [7]


def test_lock_tree_of_a_long_queue_stays_small_and_shallow_enough() -> None:
    # 2000 sessions queued for one row: each waits for the holder and for everyone queued
    # ahead of it (soft blocks). Listing every path would never end; recursion would overflow.
    count = 2000
    queue = [session(1, xact_age=10_000.0)]
    queue += [session(pid, *range(1, pid), xact_age=10_000.0 - pid) for pid in range(2, count + 1)]
    started = time.perf_counter()
    (root,) = lock_tree(queue)
    assert time.perf_counter() - started < 5
    depth, node = 0, root
    while node.children:
        depth, node = depth + 1, node.children[0]
    assert depth == count - 1  # the chain 1 -> 2 -> ... -> 2000, first children first
    assert len(root.children) == count - 1  # everyone waits for the holder
    assert all(child.repeated for child in root.children[1:-1])
    assert not root.children[-1].repeated  # the last in line blocks no one


def test_lock_tree_is_deterministic() -> None:
    sessions = [session(3, 1), session(2, 1), session(1), session(4, 1)]
    first = lock_tree(sessions)
    assert first == lock_tree(list(reversed(sessions)))
    assert [n.backend.pid for n in first[0].children] == [2, 3, 4]  # same age: by pid


# --- what a session runs, in words (no database) -------------------------------------------


def declared(statement: str) -> str:
    """The DECLARE the console sends for `statement` (one column)."""
    return "DECLARE pgconsole_q3 SCROLL CURSOR FOR " + wrapped_query(statement, 1)


@pytest.mark.parametrize(
    ("query", "known", "expected"),
    [
        (
            load_sql("pgconsole.db.activity.stats", "activity_sample.sql"),
            None,
            "pgconsole: activity poll",
        ),
        (
            load_sql("pgconsole.db.connection.pool", "describe_session.sql"),
            None,
            "pgconsole: describe session",
        ),
        ("-- not_ours: a comment\nSELECT 1", None, "-- not_ours: a comment\nSELECT 1"),
        ("FETCH FORWARD 101 FROM pgconsole_q3", None, "FETCH … (pgconsole console cursor)"),
        ("MOVE ABSOLUTE 200 IN pgconsole_q3", None, "MOVE … (pgconsole console cursor)"),
        ("FETCH FORWARD 101 FROM pgconsole_q3", "select pg_sleep(30)", "select pg_sleep(30)"),
        (
            "FETCH FORWARD 101 FROM pgconsole_q9",
            "select pg_sleep(30)",
            "FETCH … (pgconsole console cursor)",
        ),
        (declared("select pg_sleep(30)"), None, "select pg_sleep(30)"),
        # A statement that itself holds the wrapper's closing text, in a comment.
        (declared("select 1 -- ) AS q(x)"), None, "select 1 -- ) AS q(x)"),
        ("FETCH 10 FROM my_cursor", None, "FETCH 10 FROM my_cursor"),
        (None, None, None),
    ],
)
def test_shown_query(query: str | None, known: str | None, expected: str | None) -> None:
    def cursor_statement(name: str) -> str | None:
        return known if name == "pgconsole_q3" else None

    assert shown_query(replace(session(1), query=query), cursor_statement) == expected


RESET = "SELECT pg_advisory_unlock_all();\nCLOSE ALL;\nUNLISTEN *;\nRESET ALL;"


@pytest.mark.parametrize(
    ("application", "expected"),
    [
        ("pgconsole", "pgconsole: pool connection, reset for its next use"),
        ("shop-api", RESET),  # another application's asyncpg pool: shown as it is
    ],
)
def test_an_idle_pool_connection_of_pgconsole_is_named(application: str, expected: str) -> None:
    backend = replace(session(1), application=application, state="idle", query=RESET)
    assert shown_query(backend) == expected


@pytest.mark.parametrize(
    ("application", "backend_type", "is_self", "pgconsole", "background"),
    [
        ("pgconsole", "client backend", False, True, False),
        ("pgconsole-demo", "client backend", False, True, False),
        ("psql", "client backend", True, True, False),
        ("psql", "client backend", False, False, False),
        (None, "checkpointer", False, False, True),
        (None, None, False, False, False),  # hidden from the role: counted as a client
    ],
)
def test_pgconsole_and_background_sessions(
    application: str | None,
    backend_type: str | None,
    is_self: bool,
    pgconsole: bool,
    background: bool,
) -> None:
    one = replace(session(1), application=application, backend_type=backend_type, is_self=is_self)
    assert (one.is_pgconsole, one.is_background) == (pgconsole, background)
