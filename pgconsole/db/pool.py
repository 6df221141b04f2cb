"""The connection pool: opened once, described once, closed within a deadline."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import asyncpg

from pgconsole.db.params import (
    APPLICATION_NAME,
    ConnectParams,
    PoolSettings,
    SessionSettings,
    SslMode,
)
from pgconsole.db.sqlfiles import load_sql


class TlsState(StrEnum):
    """How far the session's TLS can be trusted, as the status bar's badge says it."""

    VERIFIED = "TLS verified"
    CA_ONLY = "TLS CA only"
    UNVERIFIED = "TLS unverified"
    NONE = "no TLS"


@dataclass(frozen=True)
class TlsInfo:
    """The TLS facts of one session, as the server reports them in `pg_stat_ssl`."""

    state: TlsState
    protocol: str | None = None
    cipher: str | None = None

    @property
    def negotiated(self) -> str:
        """Protocol and cipher, e.g. `TLSv1.3 TLS_AES_256_GCM_SHA384`."""
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


def tls_state(sslmode: SslMode, encrypted: bool) -> TlsState:
    """What an encrypted (or not) session in `sslmode` has actually verified."""
    if not encrypted:
        return TlsState.NONE
    if sslmode is SslMode.VERIFY_FULL:
        return TlsState.VERIFIED
    if sslmode is SslMode.VERIFY_CA:
        return TlsState.CA_ONLY
    return TlsState.UNVERIFIED


class _Backends:
    """The server sessions the pool has opened, each as (pid, backend_start).

    backend_start tells a session of ours from a later one the server gave the same pid.
    """

    def __init__(self) -> None:
        self.seen: dict[int, datetime] = {}

    async def remember(self, conn: asyncpg.Connection) -> None:
        """Pool `init` hook: record each new connection's backend."""
        started = await conn.fetchval(
            "SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()"
        )
        self.seen[conn.get_server_pid()] = started


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
    ) -> None:
        self.pool = pool
        self.info = info
        self._settings = settings
        self._params = params
        self._backends = backends or _Backends()
        self._closed = False

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
        conn = await asyncpg.connect(
            **_connect_arguments(self._params),
            server_settings={"application_name": APPLICATION_NAME},
        )
        try:
            await conn.fetchval(load_sql("terminate_backends.sql"), pids, starts)
        finally:
            await conn.close()


def _connect_arguments(params: ConnectParams) -> dict[str, Any]:
    return {
        "host": params.host,
        "port": params.port,
        "user": params.user,
        "password": params.password,
        "database": params.database,
        "ssl": params.ssl_argument(),
        "timeout": params.connect_timeout,
    }


async def open_database(
    params: ConnectParams,
    session: SessionSettings,
    settings: PoolSettings,
) -> Database:
    """Open a pool to the server and read who and where we are.

    Raises:
        ConnInfoError: The TLS settings cannot be used (unreadable root certificate).
        OSError, TimeoutError, asyncpg.PostgresError, ssl.SSLError: The server could not be
            reached or refused us; `pgconsole.db.failures.classify` explains each.
    """
    backends = _Backends()
    pool = await asyncpg.create_pool(
        **_connect_arguments(params),
        init=backends.remember,
        command_timeout=settings.command_timeout,
        min_size=settings.min_size,
        max_size=settings.max_size,
        max_inactive_connection_lifetime=settings.max_inactive_connection_lifetime,
        server_settings=session.server_settings(),
    )
    try:
        async with pool.acquire() as conn:
            row = await conn.fetchrow(load_sql("describe_session.sql"))
    except BaseException:
        with contextlib.suppress(Exception):
            pool.terminate()
        raise
    assert row is not None
    info = ServerInfo(
        target=params.target,
        server_version=row["server_version"],
        server_version_num=row["server_version_num"],
        current_user=row["current_user"],
        is_superuser=row["is_superuser"],
        tls=TlsInfo(
            state=tls_state(params.sslmode, bool(row["ssl"])),
            protocol=row["ssl_version"],
            cipher=row["ssl_cipher"],
        ),
        read_only=row["read_only"],
        statement_timeout=row["statement_timeout"],
        lock_timeout=row["lock_timeout"],
        idle_in_transaction_session_timeout=row["idle_in_transaction_session_timeout"],
    )
    return Database(pool, info, settings, params=params, backends=backends)
