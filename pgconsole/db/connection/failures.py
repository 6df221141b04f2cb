"""Turn a failed connection attempt into one readable line plus details, by cause."""

from __future__ import annotations

import errno
import re
import socket
import ssl
from dataclasses import dataclass
from enum import StrEnum

import asyncpg

from pgconsole.db.connection.params import ConnectParams, ConnInfoError
from pgconsole.db.connection.tunnel import TunnelError


class FailureKind(StrEnum):
    """Why a connection failed, in the terms a DBA acts on."""

    AUTH = "authentication"
    NO_DATABASE = "unknown database"
    REFUSED = "connection refused"
    TIMEOUT = "timeout"
    TLS = "tls"
    UNKNOWN_HOST = "unknown host"
    SERVER = "server error"
    TUNNEL = "ssh tunnel"
    OTHER = "error"


@dataclass(frozen=True)
class ConnectFailure:
    """One failed attempt: what happened in a line, and what helps to fix it."""

    kind: FailureKind
    summary: str
    details: tuple[tuple[str, str], ...] = ()

    def detail(self, label: str) -> str | None:
        """The value of one detail row, if present."""
        return next((value for name, value in self.details if name == label), None)


def _postgres_details(error: asyncpg.PostgresError) -> list[tuple[str, str]]:
    rows = [("SQLSTATE", str(error.sqlstate))]
    for label, attribute in (("Detail", "detail"), ("Hint", "hint")):
        value = getattr(error, attribute, None)
        if value:
            rows.append((label, str(value)))
    return rows


def _server_message(error: asyncpg.PostgresError) -> str:
    """The server's message alone. str() appends the DETAIL and HINT to it, on lines of their
    own: those are shown as rows of their own."""
    return str(getattr(error, "message", "") or "").strip() or str(error).strip()


def _is_refused(error: OSError) -> bool:
    # With several addresses (localhost is ::1 and 127.0.0.1) asyncio raises a plain OSError
    # whose errno is None and whose message lists each address's "[Errno 111]".
    return error.errno == errno.ECONNREFUSED or f"[Errno {errno.ECONNREFUSED}]" in str(error)


def password_failure(reason: str, params: ConnectParams) -> ConnectFailure:
    """No password to try: the command failed, or the user cancelled the prompt."""
    return ConnectFailure(
        FailureKind.AUTH,
        f'No password for user "{params.user}" at {params.host}:{params.port}: {reason}',
        (("Target", params.target),),
    )


def classify(
    error: BaseException, params: ConnectParams, *, password_from: str | None = None
) -> ConnectFailure:
    """Explain why connecting with `params` raised `error`. Never includes the password."""
    where = f"{params.host}:{params.port}"
    target = ("Target", params.target)
    tls_rows = [("sslmode", params.sslmode.value)]
    if params.sslrootcert is not None:
        tls_rows.append(("sslrootcert", str(params.sslrootcert)))

    if isinstance(error, TunnelError) and params.tunnel is not None:
        bastion = str(params.tunnel.bastion)
        return ConnectFailure(
            FailureKind.TUNNEL,
            f"SSH tunnel: {error}",
            (
                target,
                ("Bastion", bastion),
                ("Command", " ".join(params.tunnel.argv())),
                ("Hint", f"`ssh {bastion}` must work without a prompt: load the key with ssh-add"),
            ),
        )
    if isinstance(error, asyncpg.InvalidPasswordError):
        source = (("Password from", password_from),) if password_from else ()
        return ConnectFailure(
            FailureKind.AUTH,
            f'Password authentication failed for user "{params.user}" at {where}',
            (target, *_postgres_details(error), ("Server said", _server_message(error)), *source),
        )
    if isinstance(error, asyncpg.InvalidAuthorizationSpecificationError):
        return ConnectFailure(
            FailureKind.AUTH,
            f'The server at {where} refused user "{params.user}"',
            (target, *_postgres_details(error), ("Server said", _server_message(error))),
        )
    if isinstance(error, asyncpg.InvalidCatalogNameError):
        return ConnectFailure(
            FailureKind.NO_DATABASE,
            f'Database "{params.database}" does not exist on {where}',
            (target, *_postgres_details(error), ("Hint", "check the name, or list databases")),
        )
    if isinstance(error, ssl.SSLCertVerificationError):
        reason = error.verify_message or str(error)
        if "hostname mismatch" in reason.lower() or "ip address mismatch" in reason.lower():
            summary = f'TLS: the server\'s certificate is not valid for host "{params.host}"'
        else:
            summary = f"TLS: the server's certificate could not be verified ({reason})"
        return ConnectFailure(
            FailureKind.TLS,
            summary,
            (target, *tls_rows, ("Reason", reason), ("Result", "not connected: no fallback")),
        )
    if isinstance(error, ConnInfoError):
        return ConnectFailure(FailureKind.TLS, f"TLS: {error}", (target, *tls_rows))
    if isinstance(error, ssl.SSLError):
        return ConnectFailure(
            FailureKind.TLS,
            f"TLS handshake with {where} failed ({error.reason or error})",
            (target, *tls_rows, ("Reason", str(error))),
        )
    if isinstance(error, ConnectionError) and "rejected SSL upgrade" in str(error):
        return ConnectFailure(
            FailureKind.TLS,
            f"TLS: the server at {where} does not accept TLS (sslmode={params.sslmode})",
            (target, *tls_rows, ("Hint", "enable ssl on the server, or lower sslmode")),
        )
    if isinstance(error, TimeoutError):
        return ConnectFailure(
            FailureKind.TIMEOUT,
            f"No answer from {where} within {params.connect_timeout:g} s (connect timeout)",
            (target, ("Hint", "is the host up, and is a firewall dropping the port?")),
        )
    if isinstance(error, socket.gaierror):
        return ConnectFailure(
            FailureKind.UNKNOWN_HOST,
            f'Unknown host "{params.host}": the name does not resolve',
            (target, ("Reason", str(error.strerror or error))),
        )
    if isinstance(error, OSError) and _is_refused(error):
        return ConnectFailure(
            FailureKind.REFUSED,
            f"Connection refused by {where}: no server is listening there",
            (target, ("Hint", "is the server running, and on this port and address?")),
        )
    if isinstance(error, asyncpg.PostgresError):
        return ConnectFailure(
            FailureKind.SERVER,
            f"The server at {where} refused the connection: {_server_message(error)}",
            (target, *_postgres_details(error)),
        )
    if isinstance(error, OSError):
        return ConnectFailure(
            FailureKind.OTHER,
            f"Could not connect to {where}: {error.strerror or error}",
            (target, ("Cause", type(error).__name__)),
        )
    return ConnectFailure(
        FailureKind.OTHER,
        f"Could not connect to {where}: {error}",
        (target, ("Cause", type(error).__name__), *tls_rows),
    )


def _refused_address(error: OSError) -> str | None:
    """`host:port` of a refused connection (the last address asyncio tried), if it says."""
    found = re.findall(r"Connect call failed \('([^']*)', (\d+)", str(error))
    if not found:
        return None
    host, port = found[-1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def describe_error(error: BaseException) -> str:
    """One readable line, then SQLSTATE, DETAIL and HINT when the server gave them."""
    if isinstance(error, OSError) and _is_refused(error):
        address = _refused_address(error)
        where = f"The server at {address}" if address else "The server"
        return f"{where} is not accepting connections (connection refused)"
    lines = [str(error).strip() or type(error).__name__]
    if isinstance(error, asyncpg.PostgresError):
        lines = [_server_message(error) or lines[0]]
        lines.append(f"SQLSTATE {error.sqlstate}")
        for label in ("detail", "hint"):
            value = getattr(error, label, None)
            if value:
                lines.append(f"{label.upper()}: {value}")
    return "\n".join(lines)
