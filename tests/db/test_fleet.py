"""The fleet view's data on real servers: a primary, its streaming standby, a server under
pgbench load with a lock chain, a stopped one, and a port that accepts and never answers.
The score and the rates are pure: parametrized, without a database."""

from __future__ import annotations

import contextlib
import re
import secrets
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import asyncpg
import pytest

from pgconsole.db.connection.params import ConnectParams, SslMode
from pgconsole.db.fleet import (
    Counters,
    Fleet,
    FleetRow,
    Level,
    Member,
    Score,
    Signals,
    Thresholds,
    down_row,
    rates,
    score,
    worst_first,
)
from pgconsole.db.fleet.score import compact, duration, size
from pgconsole.throwaway.cluster import LOOPBACK, ThrowawayCluster
from tests.conftest import admin_connection
from tests.conftest_fleet import FLEET_APP, FLEET_ROLE, LOAD_CLIENTS, WAITERS, FleetServers
from tests.helpers.queries import backend_reaches
from tests.helpers.waiting import poll_until

VERSION = re.compile(r"\d+\.\d+")
"""What a row's version looks like: `15.10`, not `15.10 (Debian 15.10-1)`."""


def by_name(rows: list[FleetRow]) -> dict[str, FleetRow]:
    return {row.name: row for row in rows}


async def fleet_sessions(conn: asyncpg.Connection, app: str) -> list[int]:
    """The pids of the sessions whose application_name is `app`."""
    rows = await conn.fetch(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid", app
    )
    return [row["pid"] for row in rows]


async def sessions_gone(conn: asyncpg.Connection, app: str) -> None:
    async def gone() -> bool:
        return not await fleet_sessions(conn, app)

    await poll_until(gone, f"the sessions of {app} to end")


# -- on the real fleet ---------------------------------------------------------------------


async def test_the_fleet_sorts_worst_first_and_labels_each_server(
    fleet_servers: FleetServers,
) -> None:
    seen: list[str] = []
    async with Fleet(fleet_servers.members) as fleet:
        rows = await fleet.refresh(on_row=lambda row: seen.append(row.name))

    assert sorted(seen) == ["loaded", "primary", "standby", "stopped"]
    assert [row.name for row in rows][:2] == ["stopped", "loaded"]
    stopped, loaded = rows[0], rows[1]
    assert (stopped.reachable, stopped.worst, stopped.score.level) == (False, "down", Level.DOWN)
    assert stopped.reason is not None and "refused" in stopped.reason
    assert stopped.version is None and stopped.tps is None

    # The lock chain: the holder idle in its transaction, both waiters blocked behind it.
    assert loaded.reachable and loaded.reason is None
    assert loaded.score.level is Level.BLOCKED
    assert loaded.blocked is not None and loaded.blocked >= WAITERS
    assert loaded.worst == f"{loaded.blocked} blocked"
    assert loaded.waiting is not None and loaded.waiting >= loaded.blocked
    assert loaded.idle_in_transaction is not None and loaded.idle_in_transaction >= 1
    assert loaded.longest_transaction is not None and loaded.longest_transaction > 0
    assert loaded.idle_in_transaction_age is not None and loaded.idle_in_transaction_age > 0
    assert loaded.xmin_age is not None and loaded.xmin_age >= 1  # the holder's xid
    assert loaded.connections is not None
    assert loaded.connections >= LOAD_CLIENTS + 1 + WAITERS + 1  # pgbench, chain, the probe
    assert loaded.max_connections == 120
    assert loaded.sees_all  # pg_monitor, not a superuser: sees everyone's sessions
    assert (loaded.role, loaded.upstream, loaded.standbys) == ("primary", None, 0)

    named = by_name(rows)
    primary, standby = named["primary"], named["standby"]
    assert standby.reachable and standby.role == "standby" and standby.streaming
    assert standby.upstream == f"{LOOPBACK}:{fleet_servers.primary.port}"
    assert standby.lag_bytes is not None and standby.lag_seconds is not None
    assert primary.reachable and primary.role == "primary" and primary.upstream is None
    assert primary.standbys is not None and primary.standbys >= 1
    assert primary.lag_bytes is not None  # its standby's replay lag, 0 when caught up
    for row in (primary, standby, loaded):
        assert row.version is not None and VERSION.fullmatch(row.version)
        assert row.tls is not None and row.tls.startswith("TLSv1.")
        assert row.elapsed > 0 and row.tps is None and row.cache_hit is None


async def test_rates_come_from_the_second_reading_on(
    fleet_servers: FleetServers,
) -> None:
    async with Fleet(fleet_servers.members) as fleet:
        first = by_name(await fleet.refresh())
        assert all(row.tps is None and row.cache_hit is None for row in first.values())
        latest: dict[str, FleetRow] = {}

        async def loaded_measured() -> bool:
            # pgbench's counters reach the statistics about once a second.
            latest.update(by_name(await fleet.refresh()))
            row = latest["loaded"]
            return bool(row.tps) and row.cache_hit is not None

        await poll_until(loaded_measured, "pgbench's transactions in the statistics", every=0.3)

    for name in ("primary", "standby", "loaded"):
        assert latest[name].tps is not None, name
    loaded = latest["loaded"]
    assert loaded.tps is not None and loaded.tps > 0
    assert loaded.cache_hit is not None and 0 < loaded.cache_hit <= 1
    assert latest["stopped"].tps is None


async def test_one_statement_per_refresh_per_reachable_server(
    fleet_servers: FleetServers,
) -> None:
    async with admin_connection(fleet_servers.loaded) as admin:
        await admin.execute("SELECT pg_stat_statements_reset()")
        async with Fleet(fleet_servers.members) as fleet:
            for refreshes in (1, 2, 3):
                await fleet.refresh()
                expected = {"primary": refreshes, "standby": refreshes, "loaded": refreshes}
                assert fleet.statements == {**expected, "stopped": 0}
        # What the loaded server itself counted of the reading role.
        calls = await admin.fetchval(
            "SELECT coalesce(sum(s.calls), 0) FROM pg_stat_statements AS s"
            " JOIN pg_roles AS r ON r.oid = s.userid WHERE r.rolname = $1",
            FLEET_ROLE,
        )
    assert calls == 3


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind((LOOPBACK, 0))
        listener.listen(16)
        yield listener.getsockname()[1]


async def test_a_server_that_never_answers_costs_its_connect_timeout_and_delays_no_one(
    fleet_servers: FleetServers,
    silent_port: int,
) -> None:
    silent = Member(
        "silent",
        ConnectParams(host=LOOPBACK, port=silent_port, password="x", sslmode=SslMode.PREFER),
    )
    order: list[str] = []
    # Two at a time, the silent one first: it holds one slot, the others take turns in the
    # other, and every one of them is shown before it.
    async with Fleet([silent, *fleet_servers.members], concurrency=2, connect_timeout=3) as fleet:
        rows = await fleet.refresh(on_row=lambda row: order.append(row.name))

    assert order[-1] == "silent" and len(order) == 5
    row = by_name(rows)["silent"]
    assert not row.reachable and row.worst == "down"
    assert row.reason == f"No answer from {LOOPBACK}:{silent_port} within 3 s (connect timeout)"
    assert 2.5 <= row.elapsed < 6  # about its connect timeout (the guard would say otherwise)
    assert [r.name for r in rows][:2] == ["silent", "stopped"]  # down, by name
    assert all(by_name(rows)[name].reachable for name in ("primary", "standby", "loaded"))


async def test_servers_that_never_answer_make_way_for_the_others_while_connecting(
    fleet_servers: FleetServers,
    silent_port: int,
) -> None:
    """As many silent servers as slots, and one more, first in the list: each gives its slot
    back while it is still connecting, so every live row comes before any silent one."""
    params = ConnectParams(host=LOOPBACK, port=silent_port, password="x", sslmode=SslMode.PREFER)
    silent = [Member(f"silent-{n}", params) for n in range(3)]
    order: list[str] = []
    async with Fleet([*silent, *fleet_servers.members], concurrency=2, connect_timeout=3) as fleet:
        rows = await fleet.refresh(on_row=lambda row: order.append(row.name))

    assert len(order) == 7
    assert sorted(order[:4]) == ["loaded", "primary", "standby", "stopped"], order
    assert all(by_name(rows)[name].reachable for name in ("primary", "standby", "loaded"))
    for member in silent:
        row = by_name(rows)[member.name]
        assert row.reason == f"No answer from {LOOPBACK}:{silent_port} within 3 s (connect timeout)"


async def test_kept_connections_are_reused_and_reopened_once_terminated(
    fleet_servers: FleetServers,
) -> None:
    app = f"{FLEET_APP}-kept"
    member = fleet_servers.member("loaded", application_name=app)
    async with admin_connection(fleet_servers.loaded) as admin:
        async with Fleet([member], keep_connections=True) as fleet:
            await fleet.refresh()
            kept = await fleet_sessions(admin, app)
            assert len(kept) == 1
            (row,) = await fleet.refresh()
            assert row.reachable and await fleet_sessions(admin, app) == kept

            await admin.fetchval("SELECT pg_terminate_backend($1)", kept[0])
            await backend_reaches(admin, kept[0], None)
            (row,) = await fleet.refresh()
            assert row.reachable, row.reason
            reopened = await fleet_sessions(admin, app)
            assert len(reopened) == 1 and reopened != kept
            # A third probe, and a fourth if the loss was found by sending on the old one.
            assert fleet.statements["loaded"] in (3, 4)
        await sessions_gone(admin, app)  # closed with the fleet


async def test_short_lived_connections_leave_nothing_behind(
    fleet_servers: FleetServers,
) -> None:
    app = f"{FLEET_APP}-short"
    member = fleet_servers.member("loaded", application_name=app)
    async with admin_connection(fleet_servers.loaded) as admin:
        fleet = Fleet([member])
        (row,) = await fleet.refresh()
        assert row.reachable
        await sessions_gone(admin, app)


@pytest.fixture
async def paused_standby(fleet_servers: FleetServers) -> AsyncIterator[None]:
    """The standby's replay paused, with about 1 MB of WAL written on the primary since and
    received by the standby; resumed and caught up after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    async with (
        admin_connection(fleet_servers.primary) as primary,
        admin_connection(fleet_servers.standby) as standby,
    ):
        await standby.execute("SELECT pg_wal_replay_pause()")
        try:
            await primary.execute(f'CREATE DATABASE "{name}"')
            async with admin_connection(fleet_servers.primary, name) as filler:
                await filler.execute(
                    "CREATE TABLE filler AS"
                    " SELECT g AS id, repeat('x', 100) AS pad FROM generate_series(1, 8000) g"
                )
            written = await primary.fetchval("SELECT pg_current_wal_insert_lsn()::text")

            async def received() -> bool:
                return bool(
                    await standby.fetchval(
                        "SELECT pg_last_wal_receive_lsn() >= $1::text::pg_lsn", written
                    )
                )

            await poll_until(received, "the standby to receive the new WAL")
            yield
        finally:
            await standby.execute("SELECT pg_wal_replay_resume()")
            await primary.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            target = await primary.fetchval("SELECT pg_current_wal_insert_lsn()::text")

            async def caught_up() -> bool:
                return bool(
                    await standby.fetchval(
                        "SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn", target
                    )
                )

            await poll_until(caught_up, "the standby to catch up")


async def test_a_lagging_standby_ranks_both_ends_by_their_lag(
    fleet_servers: FleetServers,
    paused_standby: None,
) -> None:
    members = [fleet_servers.member("primary"), fleet_servers.member("standby")]
    async with Fleet(members, thresholds=Thresholds(lag_bytes=256 * 1024)) as fleet:
        named = by_name(await fleet.refresh())
    primary, standby = named["primary"], named["standby"]
    assert primary.lag_bytes is not None and primary.lag_bytes >= 256 * 1024
    assert primary.score.level is Level.LAG and primary.worst.startswith("lag ")
    assert standby.lag_bytes is not None and standby.lag_bytes > 0  # received, not replayed
    assert standby.streaming  # still receiving while its replay is paused
    assert standby.score.level is Level.LAG


@contextlib.asynccontextmanager
async def probes_stalled(cluster: ThrowawayCluster) -> AsyncIterator[None]:
    """Every probe of `cluster` waits, as long as the block lasts: a transaction holds the view
    pg_stat_ssl in ACCESS EXCLUSIVE mode (a view of a function alone: no one else waits, and
    new sessions still start)."""
    async with admin_connection(cluster) as admin, admin.transaction():
        await admin.execute("LOCK TABLE pg_catalog.pg_stat_ssl IN ACCESS EXCLUSIVE MODE")
        yield


@pytest.fixture
async def strict_role(fleet_servers: FleetServers) -> AsyncIterator[tuple[str, str]]:
    """A reading role on the loaded server whose own statement_timeout is 1500ms: (name,
    password)."""
    name, password = "fleet_strict", secrets.token_urlsafe(18)
    async with admin_connection(fleet_servers.loaded) as admin:
        await admin.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}' IN ROLE pg_monitor")
        await admin.execute(f"ALTER ROLE {name} SET statement_timeout = '1500ms'")
        try:
            yield name, password
        finally:
            await admin.execute(f"DROP ROLE {name}")


async def test_the_stricter_statement_timeout_of_the_fleet_and_the_role_is_in_force(
    fleet_servers: FleetServers,
    strict_role: tuple[str, str],
) -> None:
    user, password = strict_role
    strict = replace(fleet_servers.member("loaded", user=user, password=password), name="strict")
    async with Fleet([fleet_servers.member("loaded"), strict], statement_timeout=3.0) as fleet:
        assert fleet.statement_timeouts == {"loaded": None, "strict": None}
        await fleet.refresh()  # first connections set none: their readings show the role's
        assert fleet.statement_timeouts == {"loaded": "3000ms", "strict": "1500ms"}
        async with probes_stalled(fleet_servers.loaded):
            named = by_name(await fleet.refresh())

    # The server cancelled both (the client would have said "no answer"), the role's stricter
    # limit first: the fleet's looser one did not replace it.
    timed_out = "canceling statement due to statement timeout (SQLSTATE 57014)"
    assert named["loaded"].reason == named["strict"].reason == timed_out
    assert named["strict"].elapsed < named["loaded"].elapsed


async def test_a_first_probe_that_stalls_is_cancelled_by_the_client(
    fleet_servers: FleetServers,
) -> None:
    app = f"{FLEET_APP}-stalled"
    member = fleet_servers.member("loaded", application_name=app)
    async with admin_connection(fleet_servers.loaded) as admin:
        async with Fleet([member], statement_timeout=1.0) as fleet:
            async with probes_stalled(fleet_servers.loaded):
                (row,) = await fleet.refresh()
            assert not row.reachable and row.reason == "the probe got no answer within 1.5 s"
            assert fleet.statement_timeouts == {"loaded": None}  # nothing learned yet
        await sessions_gone(admin, app)


# -- pure: the score and the rates ----------------------------------------------------------


@pytest.mark.parametrize(
    ("signals", "level", "worst"),
    [
        (Signals(), Level.OK, "ok"),
        (Signals(blocked=3, xmin_age=900_000_000), Level.BLOCKED, "3 blocked"),
        (Signals(xmin_age=52_000_000, lag_bytes=1 << 30), Level.HORIZON, "xmin age 52M"),
        (Signals(idle_in_transaction_age=420.0), Level.HORIZON, "idle in tx 7 min"),
        (Signals(xmin_age=49_999_999), Level.OK, "ok"),
        (Signals(lag_bytes=40 << 20, connections=119, max_connections=120), Level.LAG, "lag 40 MB"),
        (Signals(lag_bytes=1 << 20, lag_seconds=45.0), Level.LAG, "lag 45 s"),
        (Signals(lag_bytes=(16 << 20) - 1, lag_seconds=29.9), Level.OK, "ok"),
        (Signals(standby=True, streaming=False), Level.LAG, "not streaming"),
        (Signals(connections=97, max_connections=120), Level.LOAD, "load 97/120 conn"),
        (Signals(connections=50, max_connections=120, active=40), Level.LOAD, "load 40 active"),
        (Signals(connections=95, max_connections=120), Level.OK, "ok"),
    ],
)
def test_the_score_names_the_worst_problem(signals: Signals, level: Level, worst: str) -> None:
    ranked, text = score(signals)
    assert (ranked.level, text) == (level, worst)


def test_rows_sort_by_level_then_weight_then_name() -> None:
    def row(name: str, signals: Signals) -> FleetRow:
        ranked, worst = score(signals)
        return FleetRow(name=name, reachable=True, score=ranked, worst=worst, elapsed=0.1)

    member = Member("b-down", ConnectParams())
    rows = [
        row("ok-busy", Signals(connections=90, max_connections=120)),
        row("ok-idle", Signals(connections=2, max_connections=120)),
        row("lag", Signals(lag_bytes=20 << 20)),
        row("two-blocked", Signals(blocked=2)),
        down_row(member, "connection refused", 3.0),
        row("five-blocked", Signals(blocked=5)),
        down_row(replace(member, name="a-down"), "timed out", 3.0),
        row("horizon", Signals(xmin_age=60_000_000)),
    ]
    assert [r.name for r in worst_first(rows)] == [
        "a-down",
        "b-down",
        "five-blocked",
        "two-blocked",
        "horizon",
        "lag",
        "ok-busy",
        "ok-idle",
    ]
    assert rows[4].score == Score(Level.DOWN, 0.0)


def counters(at: float, transactions: int, hit: int, read: int, start: float = 1.0) -> Counters:
    return Counters(taken_at=at, started_at=start, transactions=transactions, blks_hit=hit,
                    blks_read=read)  # fmt: skip


@pytest.mark.parametrize(
    ("previous", "current", "expected"),
    [
        (None, counters(10, 100, 90, 10), (None, None)),
        (counters(10, 100, 90, 10), counters(12, 300, 180, 20), (100.0, 0.9)),
        (counters(10, 100, 90, 10), counters(12, 100, 90, 10), (0.0, None)),  # nothing read
        (counters(10, 100, 90, 10), counters(12, 50, 180, 20), (None, None)),  # stats reset
        (counters(10, 100, 90, 10), counters(12, 300, 180, 20, start=2), (None, None)),  # restart
        (counters(10, 100, 90, 10), counters(10, 300, 180, 20), (None, None)),  # no time
    ],
)
def test_rates_between_two_readings(
    previous: Counters | None, current: Counters, expected: tuple[float | None, float | None]
) -> None:
    assert rates(previous, current) == expected


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (950, "950"),
        (12_345, "12k"),
        (1_234_567, "1.2M"),
        (52_000_000, "52M"),
        (2_100_000_000, "2.1G"),
    ],
)
def test_compact_counts(value: int, text: str) -> None:
    assert compact(value) == text


def test_sizes_and_durations() -> None:
    assert [size(n) for n in (512, 40 << 20, 3 << 30)] == ["512 bytes", "40 MB", "3 GB"]
    assert [duration(s) for s in (45.9, 420, 3 * 3600 + 5, 2 * 86400)] == [
        "45 s",
        "7 min",
        "3 h",
        "2 d",
    ]


def test_member_names_must_be_unique() -> None:
    with pytest.raises(ValueError, match="unique"):
        Fleet([Member("a", ConnectParams()), Member("a", ConnectParams(port=5433))])
