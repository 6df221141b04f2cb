"""The connection pool: opened once, described once, closed within a deadline."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

import asyncpg
from asyncpg.connection import LoggedQuery
from asyncpg.pool import PoolConnectionProxy

from pgconsole.db.connection.connect import Attempt, PgConsoleConnection, connect
from pgconsole.db.connection.params import ConnectParams, PoolSettings, SessionSettings, Timeouts
from pgconsole.db.connection.tls import TlsPlan, plan_tls
from pgconsole.db.sqlfiles import load_sql

Conn = asyncpg.Connection | PoolConnectionProxy
"""A connection, or the pool's proxy for one: both run queries the same way."""

FirstRead = Callable[[asyncpg.Connection, str], Awaitable[None]]
"""What `open_database` may read before the pool opens: given the connection and the server's
name (`target_text`)."""


WAIT_SAMPLES = 1000
"""Acquire waits kept for the percentiles."""
_POOL_RESET = "SELECT pg_advisory_unlock_all();"
"""How asyncpg's reset of a released connection starts (not a query of the app's)."""


class TlsState(StrEnum):
    """How far the session's TLS can be trusted, as the status bar's badge says it."""

    VERIFIED = "TLS verified"
    CA_ONLY = "TLS CA only"
    UNVERIFIED = "TLS unverified"
    NONE = "no TLS"
    LOCAL = "local socket"


@dataclass(frozen=True)
class TlsInfo:
    """The TLS facts of one session, as the server reports them in `pg_stat_ssl`."""

    state: TlsState
    protocol: str | None = None
    cipher: str | None = None

    @property
    def negotiated(self) -> str:
        """Protocol and cipher, e.g. `TLSv1.3 TLS_AES_256_GCM_SHA384`."""
        if self.state is TlsState.LOCAL:
            return "local"
        if self.state is TlsState.NONE:
            return "not encrypted"
        return f"{self.protocol} {self.cipher}"

    @property
    def checks(self) -> str:
        """What was verified about the server, in words."""
        return {
            TlsState.VERIFIED: "certificate verified, host name checked",
            TlsState.CA_ONLY: "certificate verified, host name NOT checked",
            TlsState.UNVERIFIED: "encrypted, but the server's certificate was NOT verified",
            TlsState.NONE: "traffic (and password exchange) in plain text",
            TlsState.LOCAL: "Unix-domain socket on this machine: TLS does not apply",
        }[self.state]


@dataclass(frozen=True)
class ServerInfo:
    """Who we are on which server, read once when the pool opens."""

    target: str
    server_version: str
    server_version_num: int
    current_user: str
    is_superuser: bool
    tls: TlsInfo
    read_only: bool
    statement_timeout: str
    lock_timeout: str
    idle_in_transaction_session_timeout: str
    """The three above, and the next, are in effect: the stricter of pgconsole's and the
    server's."""
    idle_session_timeout: str | None = "0"
    """None on a server without the setting (before PostgreSQL 14)."""
    pgconsole_timeouts: Timeouts = field(default_factory=Timeouts)
    """The limits pgconsole was configured with."""
    server_timeouts: Timeouts = field(default_factory=Timeouts)
    """The limits the server, database and role set, before pgconsole's."""

    @property
    def timeouts(self) -> Timeouts:
        """The limits in effect on pgconsole's sessions."""
        return Timeouts(
            self.statement_timeout,
            self.lock_timeout,
            self.idle_in_transaction_session_timeout,
            self.idle_session_timeout,
        )

    @property
    def idle_in_transaction_seconds(self) -> float | None:
        """Seconds an open transaction may sit idle before the server ends the session, as in
        effect (pgconsole's or the server's limit, the stricter); None when there is none."""
        return self.timeouts.idle_in_transaction_seconds

    @property
    def short_version(self) -> str:
        """`15.18` out of `15.18 (Debian 15.18-0+deb12u1)`."""
        return self.server_version.split(" ", 1)[0]


@dataclass(frozen=True)
class PoolStats:
    """A snapshot of the pool's connections."""

    size: int
    min_size: int
    max_size: int
    idle: int

    @property
    def in_use(self) -> int:
        """Connections currently lent out."""
        return self.size - self.idle


def tls_state(plan: TlsPlan, encrypted: bool, *, socket: bool = False) -> TlsState:
    """What a session actually verified: the plan's checks, if it ended up encrypted."""
    if socket:
        return TlsState.LOCAL
    if not encrypted:
        return TlsState.NONE
    if plan.verifies_chain and plan.checks_hostname:
        return TlsState.VERIFIED
    if plan.verifies_chain:
        return TlsState.CA_ONLY
    return TlsState.UNVERIFIED


@dataclass
class PoolMetrics:
    """What the app's own pool has been doing: acquire waits, queries and errors."""

    waiting: int = 0
    """Acquirers waiting for a connection right now."""
    waits: collections.deque[float] = field(
        default_factory=lambda: collections.deque(maxlen=WAIT_SAMPLES)
    )
    """The latest acquire waits, in seconds."""
    queries: int = 0
    """Statements the pool's connections have run (cumulative)."""
    errors: int = 0
    """Of which failed (cumulative)."""

    def wait_percentile(self, fraction: float) -> float | None:
        """The acquire wait below which `fraction` of the latest acquires fell (None: none)."""
        if not self.waits:
            return None
        ordered = sorted(self.waits)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def log_query(self, query: LoggedQuery) -> None:
        """asyncpg query logger: count every statement and every failure (not the pool's
        own reset on each release)."""
        if query.query.startswith(_POOL_RESET):
            return
        self.queries += 1
        if query.exception is not None:
            self.errors += 1


class MeasuredPool(asyncpg.Pool):
    """An asyncpg pool that times how long each acquire waits for a connection.

    Hooks `Pool._acquire`, which every `acquire()` (and `pool.fetch` & co.) goes through in
    asyncpg 0.32; `tests/db/test_pool.py` checks that it still does.
    """

    metrics: PoolMetrics

    async def _acquire(self, timeout: float | None) -> Any:  # noqa: ASYNC109 (asyncpg's signature)
        metrics = self.metrics
        started = time.perf_counter()
        metrics.waiting += 1
        try:
            return await super()._acquire(timeout)  # type: ignore[misc]
        finally:
            metrics.waiting -= 1
            metrics.waits.append(time.perf_counter() - started)


class _Backends:
    """The server sessions the pool has opened, each as (pid, backend_start).

    backend_start tells a session of ours from a later one the server gave the same pid.
    """

    def __init__(self, metrics: PoolMetrics | None = None) -> None:
        self.seen: dict[int, datetime] = {}
        self.metrics = metrics

    async def remember(self, conn: asyncpg.Connection) -> None:
        """Pool `init` hook: record each new connection's backend, and count its queries."""
        if self.metrics is not None:
            conn.add_query_logger(self.metrics.log_query)
        await self.record(conn)

    async def record(self, conn: asyncpg.Connection) -> None:
        """Remember `conn`'s backend, so that a close past its deadline can end it."""
        self.seen[conn.get_server_pid()] = await conn.fetchval(
            "SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()"
        )


class Database:
    """An open asyncpg pool and the facts about the server it points at."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        info: ServerInfo,
        settings: PoolSettings,
        *,
        params: ConnectParams | None = None,
        backends: _Backends | None = None,
        session: SessionSettings | None = None,
    ) -> None:
        self.pool = pool
        self.info = info
        self._settings = settings
        self._session = session
        self._params = params
        self._backends = backends or _Backends()
        self._closed = False
        self.pooler_detected = False
        """Set when a pooler refused startup settings and pooler mode was switched on."""

    @property
    def params(self) -> ConnectParams | None:
        """What the pool connects with (None for a pool made without them, in tests)."""
        return self._params

    @contextlib.asynccontextmanager
    async def transaction(self, *, readonly: bool = False) -> AsyncIterator[Conn]:
        """A pooled connection inside a transaction that carries the session settings.

        Directly on a server the settings came with the connection; behind a transaction
        pooler they must be `SET LOCAL` in every transaction, since the next transaction may
        run on another server session.
        """
        async with self.pool.acquire() as conn, conn.transaction(readonly=readonly):
            if self._settings.pooler and self._session is not None:
                await apply_local_settings(conn, self._local_settings())
            yield conn

    @property
    def pooler(self) -> bool:
        """Whether sessions sit behind a transaction pooler (settings per transaction)."""
        return self._settings.pooler

    async def apply_session_settings(self, conn: Conn) -> None:
        """`SET LOCAL` the session settings in `conn`'s current transaction (pooler mode)."""
        if self._session is not None:
            await apply_local_settings(conn, self._local_settings())

    def _local_settings(self) -> dict[str, str]:
        # A pooler does not pass application_name on to the server session reliably either
        # (pgbouncer 1.18 leaves it empty), so it is set with the others.
        assert self._session is not None
        settings = self._session.server_settings()
        if self._params is not None:
            settings["application_name"] = self._params.application_name
        return settings

    @property
    def metrics(self) -> PoolMetrics:
        """The pool's acquire waits, queries and errors (empty for a pool not of ours)."""
        metrics = getattr(self.pool, "metrics", None)
        if isinstance(metrics, PoolMetrics):
            return metrics
        return PoolMetrics()

    async def dedicated(self) -> asyncpg.Connection:
        """A connection of its own, outside the pool, with the pool's session settings.

        For work that must never wait on the pool nor starve it (the activity screen).

        Raises:
            As `open_database`.
        """
        assert self._params is not None and self._session is not None
        conn = await connect(self._params, _attempt(self._session, self._settings))
        await self._backends.record(conn)  # not counted in the pool's metrics
        return conn

    def stats(self) -> PoolStats:
        """The pool's current size and idle count (no round trip)."""
        return PoolStats(
            size=self.pool.get_size(),
            min_size=self.pool.get_min_size(),
            max_size=self.pool.get_max_size(),
            idle=self.pool.get_idle_size(),
        )

    @property
    def closed(self) -> bool:
        """Whether `close()` has run."""
        return self._closed

    async def close(self) -> None:
        """Close the pool gracefully, terminating whatever has not closed by the deadline."""
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.wait_for(self.pool.close(), self._settings.close_timeout)
        except (TimeoutError, OSError, asyncpg.PostgresError):
            # A query that ignores cancellation must not keep the app from quitting. Dropping
            # the socket alone leaves its backend running until the query ends, so end those
            # sessions on the server too.
            self.pool.terminate()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._terminate_leftovers(), self._settings.close_timeout)

    async def _terminate_leftovers(self) -> None:
        if self._params is None or not self._backends.seen:
            return
        pids = list(self._backends.seen)
        starts = [self._backends.seen[pid] for pid in pids]
        conn = await connect(self._params, Attempt({}, statement_cache_size=0))
        try:
            await conn.fetchval(load_sql(__name__, "terminate_backends.sql"), pids, starts)
        finally:
            await conn.close()


async def apply_local_settings(conn: Conn, settings: dict[str, str]) -> None:
    """`SET LOCAL` each setting in the current transaction (names and values as parameters)."""
    await conn.execute(
        load_sql(__name__, "set_local_settings.sql"), list(settings), list(settings.values())
    )


def _attempt(session: SessionSettings, settings: PoolSettings) -> Attempt:
    """How each connection is made: the pool's and a dedicated one alike."""
    return Attempt(
        # Behind a transaction pooler startup parameters are refused (pgbouncer: "unsupported
        # startup parameter"), and prepared statements do not survive between transactions.
        server_settings={} if settings.pooler else session.server_settings(),
        command_timeout=settings.command_timeout,
        statement_cache_size=0 if settings.pooler else 100,
    )


async def open_database(
    params: ConnectParams,
    session: SessionSettings,
    settings: PoolSettings,
    first_read: FirstRead | None = None,
) -> Database:
    """Open a pool to the server and read who and where we are.

    A server that refuses session settings at startup is a connection pooler (pgbouncer says
    "unsupported startup parameter"): pgconsole then switches to pooler mode by itself.

    `first_read`, if given, runs before the pool opens, on the connection that reads the
    server's own limits (so under those limits and the command timeout), with the server's
    name as the status bar says it: `pgconsole --activity` takes its first sample there, to
    show it without waiting for the pool. It is not run in pooler mode (no such connection).

    Raises:
        ConnInfoError: TLS settings that cannot be used (missing root certificate, ...).
        OSError, TimeoutError, asyncpg.PostgresError, ssl.SSLError: The server could not be
            reached or refused us; `pgconsole.db.connection.failures.classify` explains each.
    """
    try:
        return await _open(params, session, settings, first_read)
    except asyncpg.PostgresError as error:
        if settings.pooler or "unsupported startup parameter" not in str(error):
            raise
    database = await _open(params, session, replace(settings, pooler=True))
    database.pooler_detected = True
    return database


async def read_timeouts(conn: Conn) -> Timeouts:
    """The session's time limits as they stand on `conn`."""
    row = await conn.fetchrow(load_sql(__name__, "describe_timeouts.sql"))
    assert row is not None
    return Timeouts(*row)


def _reached(conn: Conn, params: ConnectParams) -> tuple[str, int]:
    """The (host, port) `conn` reached: one of `params.endpoints`, the first for a connection
    that does not say."""
    endpoint: tuple[str, int] = getattr(conn, "endpoint", (params.host, params.port))
    return endpoint


def target_text(params: ConnectParams, host: str, port: int) -> str:
    """`user@host:port/db`, and the bastion when tunnelled: the server as the status bar
    names it, at the endpoint reached."""
    via = f" via {params.tunnel.bastion.host}" if params.tunnel is not None else ""
    return f"{params.user}@{host}:{port}/{params.database}{via}"


async def _server_timeouts(
    params: ConnectParams, settings: PoolSettings, plan: TlsPlan, first_read: FirstRead | None
) -> Timeouts:
    """The limits a session gets from the server, database and role, read on a connection
    that sets none of pgconsole's: a startup parameter would hide them (it takes precedence
    over `ALTER ROLE … SET`), and the pool's connections must start with the stricter ones.
    `first_read` runs on it next (`open_database`)."""
    conn = await connect(
        params, Attempt({}, command_timeout=settings.command_timeout, statement_cache_size=0), plan
    )
    try:
        timeouts = await read_timeouts(conn)
        if first_read is not None:
            await first_read(conn, target_text(params, *_reached(conn, params)))
        return timeouts
    finally:
        await conn.close()


async def _open(
    params: ConnectParams,
    configured: SessionSettings,
    settings: PoolSettings,
    first_read: FirstRead | None = None,
) -> Database:
    plan = plan_tls(params)
    # Directly on a server the limits go out as startup parameters, so they are settled
    # before the pool opens; behind a transaction pooler they are SET LOCAL per transaction,
    # and the server's are read in the pool's first transaction instead (no startup
    # parameter can hide them there).
    server = None if settings.pooler else await _server_timeouts(params, settings, plan, first_read)
    session = configured if server is None else configured.tightened(server)
    attempt = _attempt(session, settings)
    metrics = PoolMetrics()
    backends = _Backends(metrics)
    pool = MeasuredPool(
        None,
        connect=functools.partial(connect, params, attempt, plan),
        connection_class=PgConsoleConnection,
        record_class=asyncpg.Record,
        init=backends.remember,
        min_size=settings.min_size,
        max_size=settings.max_size,
        max_queries=50000,
        max_inactive_connection_lifetime=settings.max_inactive_connection_lifetime,
        loop=None,
    )
    pool.metrics = metrics
    await pool
    try:
        async with pool.acquire() as conn, conn.transaction():
            if server is None:
                server = await read_timeouts(conn)
                session = configured.tightened(server)
            database = Database(
                pool, _UNKNOWN_INFO, settings, params=params, backends=backends, session=session
            )
            if settings.pooler:
                await database.apply_session_settings(conn)
            row = await conn.fetchrow(load_sql(__name__, "describe_session.sql"))
            host, port = _reached(conn, params)
    except BaseException:
        with contextlib.suppress(Exception):
            pool.terminate()
        raise
    assert row is not None
    socket = host.startswith("/")
    database.info = ServerInfo(
        target=target_text(params, host, port),
        server_version=row["server_version"],
        server_version_num=row["server_version_num"],
        current_user=row["current_user"],
        is_superuser=row["is_superuser"],
        tls=TlsInfo(
            state=tls_state(plan, bool(row["ssl"]), socket=socket),
            protocol=row["ssl_version"],
            cipher=row["ssl_cipher"],
        ),
        read_only=row["read_only"],
        statement_timeout=row["statement_timeout"],
        lock_timeout=row["lock_timeout"],
        idle_in_transaction_session_timeout=row["idle_in_transaction_session_timeout"],
        idle_session_timeout=row["idle_session_timeout"],
        pgconsole_timeouts=configured.timeouts,
        server_timeouts=server,
    )
    return database


_UNKNOWN_INFO = ServerInfo(
    target="",
    server_version="",
    server_version_num=0,
    current_user="",
    is_superuser=False,
    tls=TlsInfo(TlsState.NONE),
    read_only=False,
    statement_timeout="",
    lock_timeout="",
    idle_in_transaction_session_timeout="",
)
