"""The fleet view's data: one reading per server, one row per server, worst first.

`read_probe` reads everything a row shows in one statement (`sql/probe.sql`). `Fleet` reads
every member at once, at most `concurrency` at a time, each on a connection of its own
(short-lived, or kept between refreshes), each bounded by its own connect and statement
timeouts and by a last guard around the whole probe, so that one dead server costs its own
row that long and never delays the others' (while it is still connecting it makes way for the
next member, `SLOW_CONNECT`): rows come out as they are read (`stream`, or
`refresh(on_row=...)`), and `refresh` returns them worst first (`score`).

A member's first connection sets no statement_timeout, so that its reading shows the one the
server, database and role give it; every later connection sets pgconsole's when it is the
stricter (`stricter`), as the app's own sessions do. Until then (and for the whole life of a
first connection that is kept) the statement is bounded on the client, whose timeout cancels
it on the server. Needs PostgreSQL 11 or newer (pg_stat_wal_receiver's sender_host).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, Literal, Self

import asyncpg

from pgconsole.db.connection.connect import Attempt, WrongSessionType, connect
from pgconsole.db.connection.errors import DB_ERRORS
from pgconsole.db.connection.failures import classify, describe_error
from pgconsole.db.connection.params import ConnectParams, ConnInfoError, stricter
from pgconsole.db.connection.pool import Conn
from pgconsole.db.fleet.score import (
    DEFAULT_THRESHOLDS,
    DOWN,
    Score,
    Signals,
    Thresholds,
    score,
    sort_key,
)
from pgconsole.db.sqlfiles import load_sql

Role = Literal["primary", "standby"]

CLIENT_GRACE = 0.5
"""Seconds the client waits past the statement timeout before it cancels the probe itself:
the server's own cancel, with its clearer message, comes first."""
GUARD_GRACE = 1.0
"""Seconds past a probe's connect and statement timeouts at which the last guard ends it."""
CLOSE_TIMEOUT = 1.0
"""Seconds a connection has to close politely before it is dropped."""
SLOW_CONNECT = 0.25
"""Seconds after which a member still connecting gives its slot to the next one (a server
that never answers would hold it for its whole connect timeout); it takes a slot again once
connected, before its statement."""


class _Slot:
    """A member's place among the `concurrency` probes at a time, given back while its
    connection is slow to open (no session on a server yet) and taken again once it is."""

    def __init__(self, slots: asyncio.Semaphore) -> None:
        self.slots = slots
        self.held = False
        self._timer: asyncio.TimerHandle | None = None

    async def take(self) -> None:
        if not self.held:
            await self.slots.acquire()
            self.held = True

    def give_back(self) -> None:
        if self.held:
            self.held = False
            self.slots.release()

    def connecting(self) -> None:
        """A connection starts opening: give the slot back if it takes SLOW_CONNECT."""
        self._timer = asyncio.get_running_loop().call_later(SLOW_CONNECT, self.give_back)

    async def connected(self) -> None:
        """The connection is open: hold a slot for the statement."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        await self.take()

    def end(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.give_back()


@dataclass(frozen=True)
class Member:
    """One server of the fleet, as the user named it."""

    name: str
    """The profile's name, or the conninfo shown; unique in a fleet."""
    params: ConnectParams
    """Where and how, the password filled in already (or None)."""
    color: str | None = None
    """The profile's color, passed through to its row."""


@dataclass(frozen=True)
class Counters:
    """A server's cumulative counters at one instant, summed over its databases."""

    taken_at: float
    """Server clock (`clock_timestamp()`), seconds since the epoch."""
    started_at: float
    """When the server started: counters of another start are not comparable."""
    transactions: int
    """Commits and rollbacks."""
    blks_hit: int
    blks_read: int


@dataclass(frozen=True)
class Reading:
    """What one probe statement read on a server."""

    version: str
    """`15.10`."""
    version_num: int
    standby: bool
    streaming: bool
    """A standby's walreceiver runs (False on a primary)."""
    upstream: str | None
    """A standby's upstream as `host:port` (None without pg_read_all_stats)."""
    sees_all: bool
    """The role sees every session in full (superuser, pg_read_all_stats or pg_monitor);
    else other roles' sessions count as neither active nor waiting, and lag is unknown."""
    tls: str
    """The session's TLS version (`TLSv1.3`), `off`, or `local` over a Unix socket."""
    statement_timeout: str
    """The statement_timeout in force on the session that read."""
    max_connections: int
    connections: int
    """Client sessions, this one included."""
    active: int
    """Client sessions running a statement, this one aside."""
    idle_in_transaction: int
    waiting: int
    """Sessions waiting on a heavyweight lock (wait_event_type `Lock`)."""
    blocked: int
    """Of which a session holds the lock they wait for (pg_blocking_pids not empty)."""
    longest_transaction: float | None
    """Seconds of the oldest open transaction of a client session (this one aside)."""
    idle_in_transaction_age: float | None
    """Seconds of the oldest transaction now idle in transaction."""
    xmin_age: int | None
    """Transactions since the oldest xmin that holds back VACUUM: sessions, replication
    slots, prepared transactions. None when nothing holds one."""
    standbys: int
    """Walsenders (standbys and logical subscribers) this server feeds."""
    lag_bytes: int | None
    """A primary: WAL its worst standby has not replayed. A standby: WAL it received and has
    not replayed. None when unknown (no standby, or hidden from the role)."""
    lag_seconds: float | None
    """A primary: its worst standby's replay_lag (None once caught up and idle). A standby:
    seconds since the last replayed commit while it is behind, 0 once caught up."""
    counters: Counters


@dataclass(frozen=True)
class FleetRow:
    """One server of the fleet as the fleet view shows it. Every reading is None when the
    server was not reachable (and `reason` says why)."""

    name: str
    reachable: bool
    score: Score
    worst: str
    """Why it ranks there, in a few words: `down`, `3 blocked`, `xmin age 52M`, `lag 40 MB`,
    `load 97/120 connections`, `ok` (see `pgconsole.db.fleet.score`)."""
    elapsed: float
    """Seconds the probe took, connecting included (its wait for a free slot aside)."""
    color: str | None = None
    reason: str | None = None
    """Why it is not reachable, in one line."""
    version: str | None = None
    role: Role | None = None
    upstream: str | None = None
    """A standby's primary (`host:port` from pg_stat_wal_receiver)."""
    streaming: bool | None = None
    """A standby's walreceiver runs."""
    standbys: int | None = None
    """Walsenders it feeds (standbys and logical subscribers)."""
    connections: int | None = None
    """Client sessions, the probe's included, against `max_connections`."""
    max_connections: int | None = None
    active: int | None = None
    """Client sessions running a statement, the probe aside."""
    idle_in_transaction: int | None = None
    waiting: int | None = None
    """Sessions waiting on a heavyweight lock (wait_event_type `Lock`)."""
    blocked: int | None = None
    """Of the waiting, those whose pg_blocking_pids() is not empty: a session (or a prepared
    transaction) holds what they wait for. Exact, and cheap: only waiters are asked."""
    longest_transaction: float | None = None
    """Seconds of the oldest open transaction of a client session, the probe aside."""
    idle_in_transaction_age: float | None = None
    """Seconds of the oldest transaction now idle in transaction."""
    xmin_age: int | None = None
    """Transactions since the oldest xmin holding back VACUUM (sessions, replication slots,
    prepared transactions); None when nothing holds one."""
    lag_bytes: int | None = None
    """A primary: WAL its worst standby has not replayed. A standby: WAL it received and has
    not replayed."""
    lag_seconds: float | None = None
    """A primary: its worst standby's replay_lag (None once caught up and idle). A standby:
    seconds since the last replayed commit while it is behind, 0 once caught up."""
    tps: float | None = None
    """Transactions per second since this member's previous reading; None on the first."""
    cache_hit: float | None = None
    """Share of block reads found in shared buffers since the previous reading (0 to 1);
    None on the first, or when nothing was read."""
    tls: str | None = None
    """The probe's TLS version (`TLSv1.3`), `off`, or `local` over a Unix socket."""
    sees_all: bool | None = None
    """The role sees every session in full (superuser, pg_read_all_stats, pg_monitor); when
    False, other roles' sessions count as neither active nor waiting, and lag is unknown."""

    @property
    def sort_key(self) -> tuple[int, float, str]:
        """Ascending order of this key is worst first."""
        return sort_key(self.score, self.name)


def worst_first(rows: Iterable[FleetRow]) -> list[FleetRow]:
    """The rows, the worst first, ties by name."""
    return sorted(rows, key=lambda row: row.sort_key)


async def read_probe(conn: Conn) -> Reading:
    """Read a server for the fleet view: one statement, on any connection of any role (one
    without pg_read_all_stats reads less: `sees_all`)."""
    row = await conn.fetchrow(load_sql(__name__, "probe.sql"))
    assert row is not None  # one row always: every part is an aggregate or a left join
    return _reading(row, _is_socket(conn))


def _is_socket(conn: Conn) -> bool:
    endpoint = getattr(conn, "endpoint", None)
    return endpoint is not None and str(endpoint[0]).startswith("/")


def _positive(value: Any) -> Any:
    # now() is when the statement started, the counters are read a moment later: clamp.
    return None if value is None else max(value, 0)


def _reading(row: Any, socket: bool) -> Reading:
    host, port = row["sender_host"], row["sender_port"]
    upstream = None
    if host is not None:
        upstream = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return Reading(
        version=row["version"],
        version_num=row["version_num"],
        standby=row["standby"],
        streaming=row["streaming"],
        upstream=upstream,
        sees_all=row["sees_all"],
        tls="local" if socket else row["tls"] or "off",
        statement_timeout=row["statement_timeout"],
        max_connections=row["max_connections"],
        connections=row["connections"],
        active=row["active"],
        idle_in_transaction=row["idle_in_transaction"],
        waiting=row["waiting"],
        blocked=row["blocked"],
        longest_transaction=_positive(row["longest_transaction"]),
        idle_in_transaction_age=_positive(row["idle_in_transaction_age"]),
        xmin_age=row["xmin_age"],
        standbys=row["standbys"],
        lag_bytes=_positive(row["lag_bytes"]),
        lag_seconds=_positive(row["lag_seconds"]),
        counters=Counters(
            taken_at=row["taken_at"],
            started_at=row["started_at"],
            transactions=row["transactions"] or 0,
            blks_hit=row["blks_hit"] or 0,
            blks_read=row["blks_read"] or 0,
        ),
    )


def rates(previous: Counters | None, current: Counters) -> tuple[float | None, float | None]:
    """Transactions per second and cache hit ratio between two readings of one server.

    None for both without a previous reading, across a restart or a statistics reset, or
    when no time passed; None for the cache hit when no block was read at all.
    """
    if previous is None or previous.started_at != current.started_at:
        return None, None
    seconds = current.taken_at - previous.taken_at
    transactions = current.transactions - previous.transactions
    hit = current.blks_hit - previous.blks_hit
    read = current.blks_read - previous.blks_read
    if seconds <= 0 or min(transactions, hit, read) < 0:
        return None, None
    return transactions / seconds, (hit / (hit + read) if hit + read else None)


def fleet_row(
    member: Member,
    reading: Reading,
    previous: Counters | None,
    elapsed: float,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> FleetRow:
    """The row of a member that was read, scored."""
    signals = Signals(
        blocked=reading.blocked,
        xmin_age=reading.xmin_age,
        idle_in_transaction_age=reading.idle_in_transaction_age,
        standby=reading.standby,
        streaming=reading.streaming or not reading.standby,
        lag_bytes=reading.lag_bytes,
        lag_seconds=reading.lag_seconds,
        connections=reading.connections,
        max_connections=reading.max_connections,
        active=reading.active,
    )
    ranked, worst = score(signals, thresholds)
    tps, cache_hit = rates(previous, reading.counters)
    return FleetRow(
        name=member.name,
        reachable=True,
        score=ranked,
        worst=worst,
        elapsed=elapsed,
        color=member.color,
        version=reading.version,
        role="standby" if reading.standby else "primary",
        upstream=reading.upstream,
        streaming=reading.streaming if reading.standby else None,
        standbys=reading.standbys,
        connections=reading.connections,
        max_connections=reading.max_connections,
        active=reading.active,
        idle_in_transaction=reading.idle_in_transaction,
        waiting=reading.waiting,
        blocked=reading.blocked,
        longest_transaction=reading.longest_transaction,
        idle_in_transaction_age=reading.idle_in_transaction_age,
        xmin_age=reading.xmin_age,
        lag_bytes=reading.lag_bytes,
        lag_seconds=reading.lag_seconds,
        tps=tps,
        cache_hit=cache_hit,
        tls=reading.tls,
        sees_all=reading.sees_all,
    )


def down_row(member: Member, reason: str, elapsed: float) -> FleetRow:
    """The row of a member that could not be read."""
    return FleetRow(
        name=member.name,
        reachable=False,
        score=DOWN,
        worst="down",
        elapsed=elapsed,
        color=member.color,
        reason=reason,
    )


# -- the fleet ------------------------------------------------------------------------------


class _Unreachable(Exception):
    """A member could not be read; the argument says why, in one line."""

    @property
    def reason(self) -> str:
        return str(self.args[0])


def _lost(error: BaseException) -> bool:
    """Whether a statement failed because its connection was gone (ended by the server, a
    restart, idle_session_timeout, the network), rather than refused or too slow."""
    if isinstance(error, TimeoutError):
        return False
    if isinstance(error, asyncpg.PostgresError):
        gone = asyncpg.PostgresConnectionError | asyncpg.AdminShutdownError
        return isinstance(error, gone | asyncpg.CrashShutdownError)
    return isinstance(error, DB_ERRORS)


def _probe_failure(error: BaseException, timeout: float) -> str:
    """Why a probe statement failed, in one line."""
    if isinstance(error, TimeoutError):
        return f"the probe got no answer within {timeout:g} s"
    lines = describe_error(error).splitlines()
    if isinstance(error, asyncpg.PostgresError):
        return f"{lines[0]} ({lines[1]})"  # the server's message, then its SQLSTATE
    return f"connection lost: {lines[0]}"


class _Prober:
    """One member's connection (when kept), previous reading and statements."""

    def __init__(
        self, member: Member, *, keep: bool, connect_timeout: float, statement_timeout: float
    ) -> None:
        self.member = member
        limit = member.params.connect_timeout
        self.params = replace(
            member.params,
            connect_timeout=connect_timeout if limit is None else min(limit, connect_timeout),
        )
        """The member's params, its connect timeout no longer than the fleet's."""
        self.keep = keep
        self.statement_timeout = statement_timeout
        self.conn: asyncpg.Connection | None = None
        """The kept connection, if any."""
        self.previous: Counters | None = None
        self.server_timeout: str | None = None
        """The statement_timeout the server gives this role here, once a reading showed it."""
        self.statements = 0
        """Statements sent (each probe statement, counted as it is sent)."""

    @property
    def deadline(self) -> float:
        """Seconds after which the last guard ends a probe: every host's connect timeout,
        the statement timeout and the graces."""
        assert self.params.connect_timeout is not None
        connecting = self.params.connect_timeout * len(self.params.endpoints)
        return connecting + self.statement_timeout + CLIENT_GRACE + GUARD_GRACE

    async def read(self, slot: _Slot) -> Reading:
        """A reading on the kept connection, else on a new one, which stays open until
        `release` (so that closing it costs the row nothing); `slot` is given back while a
        new connection is slow to open.

        Raises:
            _Unreachable: Connecting or the statement failed.
        """
        conn, self.conn = self.conn, None
        if conn is not None and not conn.is_closed():
            try:
                return await self._send_keeping(conn)
            except DB_ERRORS as error:
                if not _lost(error):
                    raise _Unreachable(_probe_failure(error, self._client_timeout)) from error
                # Gone under us (terminated, the server restarted): the server may be fine.
        slot.connecting()
        conn = await self._connect()
        try:
            await slot.connected()
        except BaseException:
            conn.terminate()
            raise
        try:
            return await self._send_keeping(conn)
        except DB_ERRORS as error:
            raise _Unreachable(_probe_failure(error, self._client_timeout)) from error

    async def _send_keeping(self, conn: asyncpg.Connection) -> Reading:
        """The reading on `conn`, which becomes the prober's; dropped if the statement fails."""
        try:
            reading = await self._send(conn)
        except BaseException:
            conn.terminate()
            raise
        self.conn = conn
        return reading

    async def release(self) -> None:
        """Close the connection of the last reading, unless the fleet keeps connections."""
        if not self.keep:
            await self.close()

    @property
    def _client_timeout(self) -> float:
        return self.statement_timeout + CLIENT_GRACE

    @property
    def session_timeout(self) -> str | None:
        """The statement_timeout a new connection sets: the fleet's or the server's, the
        stricter; None (set nothing) until a reading has shown the server's."""
        if self.server_timeout is None:
            return None
        return stricter(f"{round(self.statement_timeout * 1000)}ms", self.server_timeout)

    async def _connect(self) -> asyncpg.Connection:
        timeout = self.session_timeout
        settings = {} if timeout is None else {"statement_timeout": timeout}
        attempt = Attempt(settings, statement_cache_size=100 if self.keep else 0)
        try:
            return await connect(self.params, attempt)
        except (*DB_ERRORS, WrongSessionType, ConnInfoError) as error:
            raise _Unreachable(classify(error, self.params).summary) from error

    async def _send(self, conn: asyncpg.Connection) -> Reading:
        self.statements += 1
        # Cancelling the statement cancels it on the server too (asyncpg sends the cancel).
        async with asyncio.timeout(self._client_timeout):
            reading = await read_probe(conn)
        if self.server_timeout is None:
            # This connection set none: what it shows is the server's, database's and role's.
            self.server_timeout = reading.statement_timeout
        return reading

    def drop(self) -> None:
        """Forget the kept connection, closing it at once (the probe was cut short)."""
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.terminate()

    async def close(self) -> None:
        """Close the kept connection politely."""
        conn, self.conn = self.conn, None
        if conn is not None:
            await _close(conn)


async def _close(conn: asyncpg.Connection) -> None:
    try:
        await conn.close(timeout=CLOSE_TIMEOUT)
    except Exception:
        conn.terminate()


class Fleet:
    """Reads every member concurrently, each within its own time limits.

    ```python
    async with Fleet(members, concurrency=8) as fleet:
        rows = await fleet.refresh(on_row=show)  # `show` gets each row as soon as it is read
    ```

    Refreshes never overlap: one that starts while another runs waits for it.
    """

    def __init__(
        self,
        members: Iterable[Member],
        *,
        concurrency: int = 8,
        keep_connections: bool = False,
        connect_timeout: float = 3.0,
        statement_timeout: float = 2.0,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
    ) -> None:
        """Prepare a fleet: nothing connects before the first refresh.

        Args:
            members: The servers; their names must be unique.
            concurrency: Probes at a time, so sessions open at a time; a member whose
                connection is slow to open (SLOW_CONNECT) makes way for the next meanwhile.
            keep_connections: Keep one connection per member between refreshes (a dead one
                is dropped and another opened at once), rather than one per probe.
            connect_timeout: Seconds per host to connect, at most (a member's own
                connect_timeout applies when shorter).
            statement_timeout: Seconds the probe statement may run (the server's own limit
                applies when stricter).
            thresholds: Where each level of the score starts.

        Raises:
            ValueError: Two members of one name, or a concurrency below 1.
        """
        self.members = tuple(members)
        names = [member.name for member in self.members]
        if len(set(names)) != len(names):
            raise ValueError(f"member names are not unique: {names}")
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        self.concurrency = concurrency
        self.keep_connections = keep_connections
        self.thresholds = thresholds
        self._probers = [
            _Prober(
                member,
                keep=keep_connections,
                connect_timeout=connect_timeout,
                statement_timeout=statement_timeout,
            )
            for member in self.members
        ]
        self._slots = asyncio.Semaphore(concurrency)
        self._refreshing = asyncio.Lock()

    @property
    def statements(self) -> Mapping[str, int]:
        """Statements sent to each member so far, by name (one per probe, plus one more when
        a kept connection was found gone and the probe was sent again on a new one)."""
        return {prober.member.name: prober.statements for prober in self._probers}

    @property
    def statement_timeouts(self) -> Mapping[str, str | None]:
        """The statement_timeout each member's new connections set, by name: the stricter of
        the fleet's and the server's (a PostgreSQL duration); None until a reading of the
        member has shown the server's."""
        return {prober.member.name: prober.session_timeout for prober in self._probers}

    async def refresh(self, on_row: Callable[[FleetRow], object] | None = None) -> list[FleetRow]:
        """Read every member; the rows worst first.

        Args:
            on_row: Called with each row as soon as it is read, before slower members are.
        """
        rows: list[FleetRow] = []
        async with contextlib.aclosing(self.stream()) as stream:
            async for row in stream:
                rows.append(row)
                if on_row is not None:
                    on_row(row)
        return worst_first(rows)

    async def stream(self) -> AsyncGenerator[FleetRow, None]:
        """Read every member, yielding each row as it is read (not sorted).

        Close it when leaving early (`contextlib.aclosing`): the probes still running are
        cancelled then, and the next refresh may start.
        """
        async with self._refreshing:
            tasks = [asyncio.create_task(self._probe(prober)) for prober in self._probers]
            try:
                for finished in asyncio.as_completed(tasks):
                    yield await finished
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    async def _probe(self, prober: _Prober) -> FleetRow:
        slot = _Slot(self._slots)
        await slot.take()
        try:
            started = time.monotonic()
            guard = asyncio.timeout(prober.deadline)
            try:
                async with guard:
                    reading = await prober.read(slot)
            except _Unreachable as failure:
                reason = failure.reason
            except TimeoutError:
                if not guard.expired():
                    raise
                prober.drop()
                reason = f"no answer within {prober.deadline:g} s"
            else:
                elapsed = time.monotonic() - started
                await prober.release()  # in the slot: `concurrency` bounds open sessions
                row = fleet_row(prober.member, reading, prober.previous, elapsed, self.thresholds)
                prober.previous = reading.counters
                return row
            return down_row(prober.member, reason, time.monotonic() - started)
        finally:
            slot.end()

    async def close(self) -> None:
        """Close the kept connections (after a refresh that is running)."""
        async with self._refreshing:
            await asyncio.gather(*(prober.close() for prober in self._probers))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
