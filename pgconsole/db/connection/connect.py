"""Opening one connection the way libpq would: hosts in order, sslmode fallbacks, session type.

asyncpg's own handling of these differs from libpq's (it reads PG* variables and .pgpass
itself, verifies with a root certificate in `prefer` differently, and sends unknown URI keys as
settings), so pgconsole hands asyncpg only explicit values and does the rest here.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

import asyncpg

from pgconsole.db.connection.params import ConnectParams, ConnInfoError
from pgconsole.db.connection.tls import TlsPlan, plan_tls, real_server_name
from pgconsole.db.connection.tunnel import TunnelError


@dataclass(frozen=True)
class Attempt:
    """How one connect call is made, beyond the ConnectParams."""

    server_settings: dict[str, str]
    command_timeout: float | None = None
    statement_cache_size: int = 100


class PgConsoleConnection(asyncpg.Connection):
    """An asyncpg connection that remembers which of the endpoints it reached."""

    __slots__ = ("endpoint",)

    endpoint: tuple[str, int]
    """(host, port) as given: a host name or address, or a Unix socket directory."""


class WrongSessionType(Exception):
    """A server did not match target_session_attrs (e.g. a standby when read-write was asked)."""


_WRONG_IF_READ_ONLY = {"read-write": True, "read-only": False}
_WANTS_STANDBY = {"primary": False, "standby": True}


def _is_socket(host: str) -> bool:
    return host.startswith("/")


async def connect(
    params: ConnectParams,
    attempt: Attempt,
    plan: TlsPlan | None = None,
    *_pool_dsn: object,
    **pool_arguments: Any,
) -> asyncpg.Connection:
    """Connect to the first host that accepts us and matches target_session_attrs.

    Args:
        params: Where and how.
        attempt: Server settings and client-side options of the connection.
        plan: The TLS plan, if already built (the pool builds it once).
        *_pool_dsn: The `dsn` asyncpg's pool passes along (always None here).
        **pool_arguments: What asyncpg's pool passes (connection_class, record_class, loop).

    Raises:
        ConnInfoError: TLS settings that cannot be used.
        The error of the last host tried: OSError, TimeoutError, ssl.SSLError,
            asyncpg.PostgresError, or WrongSessionType.
    """
    plan = plan or plan_tls(params)
    pool_arguments.pop("loop", None)
    pool_arguments.setdefault("connection_class", PgConsoleConnection)
    last_error: BaseException | None = None
    passes = [True, False] if params.target_session_attrs == "prefer-standby" else [False]
    for prefer_standby_pass in passes:
        for host, port in params.endpoints:
            try:
                conn = await _connect_host(params, attempt, plan, host, port, pool_arguments)
            except (OSError, TimeoutError, ssl.SSLError, asyncpg.PostgresError) as error:
                last_error = error
                continue
            try:
                await _check_session_type(conn, params.target_session_attrs, prefer_standby_pass)
            except WrongSessionType as error:
                await conn.close(timeout=2)
                last_error = error
                continue
            if isinstance(conn, PgConsoleConnection):
                conn.endpoint = (host, port)
            return conn
    assert last_error is not None
    raise last_error


async def _connect_host(
    params: ConnectParams,
    attempt: Attempt,
    plan: TlsPlan,
    host: str,
    port: int,
    pool_arguments: dict[str, Any],
) -> asyncpg.Connection:
    address = (host, port)
    if params.tunnel is not None:
        address = await params.tunnel.local(host, port)

    async def open_with(encrypted: bool) -> asyncpg.Connection:
        if encrypted and plan.unusable is not None:
            raise plan.unusable  # as libpq, which meets the bad file when it starts TLS
        tls = plan.context if encrypted else None
        assert tls is not None or not encrypted
        arguments: dict[str, Any] = dict(
            host=address[0],
            port=address[1],
            user=params.user,
            # Always a string: with None, asyncpg would read PGPASSWORD and .pgpass itself.
            password=params.password or "",
            database=params.database,
            ssl=tls if tls is not None else False,
            direct_tls=False,
            timeout=params.connect_timeout or 31_536_000.0,
            command_timeout=attempt.command_timeout,
            statement_cache_size=attempt.statement_cache_size,
            server_settings={
                "application_name": params.application_name,
                **dict(params.options),
                **attempt.server_settings,
            },
            target_session_attrs="any",  # checked here, per libpq, across all hosts
            **pool_arguments,
        )
        if params.tunnel is None:
            conn: asyncpg.Connection = await asyncpg.connect(**arguments)
            return conn
        try:
            with real_server_name(host):  # never the tunnel's 127.0.0.1
                conn = await asyncpg.connect(**arguments)
        except (OSError, asyncpg.ConnectionDoesNotExistError) as error:
            # The bastion accepted the local connection, then could not reach the database.
            refused = await params.tunnel.refusal()
            if refused is None:
                raise
            via = params.tunnel.bastion.host
            raise TunnelError(f"via {via}: {host}:{port} cannot be reached ({refused})") from error
        return conn

    if _is_socket(host) or not plan.uses_tls:
        return await open_with(False)  # libpq never uses TLS over a Unix socket
    first = not plan.plain_first
    try:
        return await open_with(first)
    except (OSError, ssl.SSLError, asyncpg.PostgresError, ConnInfoError) as error:
        if not plan.fallback or not _before_authentication(error):
            raise
    return await open_with(not first)


def _before_authentication(error: BaseException) -> bool:
    """Whether a failed attempt may be retried the other way (TLS or plain), as libpq does.

    libpq retries after a refused TLS upgrade, TLS that could not be set up (a client key
    others can read) or failed in the handshake, or a server that rejects the attempt before
    authentication (pg_hba.conf has no entry for this kind of connection). A wrong password is
    not retried.
    """
    if isinstance(error, ssl.SSLError | ConnInfoError):
        return True
    if isinstance(error, ConnectionError) and "rejected SSL upgrade" in str(error):
        return True
    if isinstance(error, asyncpg.InvalidAuthorizationSpecificationError) and not isinstance(
        error, asyncpg.InvalidPasswordError
    ):
        return "pg_hba.conf" in str(error)
    return False


async def _check_session_type(conn: asyncpg.Connection, attrs: str, want_standby: bool) -> None:
    if attrs == "any" or (attrs == "prefer-standby" and not want_standby):
        return
    if attrs in _WRONG_IF_READ_ONLY:
        read_only = await conn.fetchval("SELECT current_setting('transaction_read_only')::bool")
        if read_only == _WRONG_IF_READ_ONLY[attrs]:
            raise WrongSessionType(f"server is {'read-only' if read_only else 'read-write'}")
        return
    in_recovery = await conn.fetchval("SELECT pg_is_in_recovery()")
    wanted = True if attrs == "prefer-standby" else _WANTS_STANDBY[attrs]
    if in_recovery != wanted:
        raise WrongSessionType(f"server is {'a standby' if in_recovery else 'a primary'}")
