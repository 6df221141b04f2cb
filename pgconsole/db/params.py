"""What pgconsole connects with: where, as whom, over what TLS, and how the session behaves."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Self
from urllib.parse import parse_qsl, unquote, urlsplit

APPLICATION_NAME = "pgconsole"
"""The `application_name` of every pgconsole session, so a DBA can find (and kill) them."""


class ConnInfoError(ValueError):
    """A connection string that cannot be understood."""


class SslMode(StrEnum):
    """libpq's sslmode values, weakest first."""

    DISABLE = "disable"
    ALLOW = "allow"
    PREFER = "prefer"
    REQUIRE = "require"
    VERIFY_CA = "verify-ca"
    VERIFY_FULL = "verify-full"

    @property
    def verifies_certificate(self) -> bool:
        """Whether a session in this mode checks the server's certificate against a CA."""
        return self in (SslMode.VERIFY_CA, SslMode.VERIFY_FULL)


@dataclass(frozen=True)
class ConnectParams:
    """Where and how to connect. The password never appears in `repr()` or `target`."""

    host: str = "localhost"
    port: int = 5432
    user: str = "postgres"
    database: str = "postgres"
    password: str | None = field(default=None, repr=False)
    sslmode: SslMode = SslMode.PREFER
    sslrootcert: Path | None = None
    connect_timeout: float = 10.0

    @property
    def target(self) -> str:
        """`user@host:port/database`, as the status bar and error messages show it."""
        return f"{self.user}@{self.host}:{self.port}/{self.database}"

    def with_password(self, password: str | None) -> Self:
        """A copy with another password."""
        return replace(self, password=password)

    def ssl_argument(self) -> ssl.SSLContext | str | bool:
        """The value for asyncpg's `ssl=` argument that gives this sslmode's behaviour.

        A fresh context is built on every call, so a CA file fixed on disk is picked up by the
        next connection attempt.

        Raises:
            ConnInfoError: The root certificate file cannot be read.
        """
        if self.sslmode is SslMode.DISABLE:
            return False
        if self.sslmode in (SslMode.ALLOW, SslMode.PREFER):
            return self.sslmode.value  # asyncpg falls back to plaintext as libpq does
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.sslmode is SslMode.REQUIRE:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        context.check_hostname = self.sslmode is SslMode.VERIFY_FULL
        context.verify_mode = ssl.CERT_REQUIRED
        rootcert = self.sslrootcert or Path.home() / ".postgresql" / "root.crt"
        try:
            context.load_verify_locations(cafile=str(rootcert))
        except (OSError, ssl.SSLError) as error:
            raise ConnInfoError(
                f"sslmode={self.sslmode} needs a root certificate, and {rootcert} "
                f"could not be read: {getattr(error, 'strerror', None) or error}"
            ) from error
        return context


@dataclass(frozen=True)
class SessionSettings:
    """Server settings every pgconsole session starts with (values in PostgreSQL units)."""

    statement_timeout: str = "30s"
    lock_timeout: str = "5s"
    idle_in_transaction_session_timeout: str = "2min"
    read_only: bool = False

    def server_settings(self) -> dict[str, str]:
        """The startup parameters sent when each connection opens."""
        settings = {
            "application_name": APPLICATION_NAME,
            "statement_timeout": self.statement_timeout,
            "lock_timeout": self.lock_timeout,
            "idle_in_transaction_session_timeout": self.idle_in_transaction_session_timeout,
        }
        if self.read_only:
            settings["default_transaction_read_only"] = "on"
        return settings


@dataclass(frozen=True)
class PoolSettings:
    """Size and client-side timeouts of the connection pool."""

    min_size: int = 1
    max_size: int = 4
    command_timeout: float = 60.0
    max_inactive_connection_lifetime: float = 300.0
    close_timeout: float = 5.0


_URI_KEYS = {"sslmode", "sslrootcert", "connect_timeout"}


def parse_uri(uri: str, *, connect_timeout: float = 10.0) -> ConnectParams:
    """Parse a `postgresql://user:password@host:port/database?sslmode=...` URI.

    Args:
        uri: The URI.
        connect_timeout: Seconds to wait for the server, unless the URI says otherwise.

    Raises:
        ConnInfoError: The URI is malformed or has a key pgconsole does not know.
    """
    parts = urlsplit(uri)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ConnInfoError("a connection URI starts with postgresql:// or postgres://")
    try:
        port = parts.port or 5432
    except ValueError as error:
        raise ConnInfoError(f"invalid port in connection URI: {error}") from None
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(query) - _URI_KEYS)
    if unknown:
        raise ConnInfoError(f"unknown connection URI parameter: {', '.join(unknown)}")
    try:
        sslmode = SslMode(query.get("sslmode", SslMode.PREFER.value))
    except ValueError:
        modes = ", ".join(m.value for m in SslMode)
        raise ConnInfoError(f"invalid sslmode {query['sslmode']!r} (one of: {modes})") from None
    try:
        timeout = float(query.get("connect_timeout", connect_timeout))
    except ValueError:
        raise ConnInfoError("connect_timeout must be a number of seconds") from None
    rootcert = query.get("sslrootcert")
    return ConnectParams(
        host=unquote(parts.hostname or "localhost"),
        port=port,
        user=unquote(parts.username or "postgres"),
        database=unquote(parts.path.lstrip("/")) or unquote(parts.username or "postgres"),
        password=unquote(parts.password) if parts.password is not None else None,
        sslmode=sslmode,
        sslrootcert=Path(rootcert).expanduser() if rootcert else None,
        connect_timeout=timeout if timeout > 0 else connect_timeout,
    )
