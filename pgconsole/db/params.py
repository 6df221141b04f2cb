"""What pgconsole connects with: where, as whom, over what TLS, and how the session behaves."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Self

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
    """The first host: a name, an address, or a Unix socket directory (starts with /)."""
    port: int = 5432
    fallbacks: tuple[tuple[str, int], ...] = ()
    """Further (host, port) pairs tried in order when the first fails, as libpq does."""
    user: str = "postgres"
    database: str = "postgres"
    password: str | None = field(default=None, repr=False)
    sslmode: SslMode = SslMode.PREFER
    sslrootcert: Path | str | None = None
    """Root certificates: a file, `system`, or None for `~/.postgresql/root.crt`."""
    sslcert: Path | str | None = None
    sslkey: Path | str | None = None
    sslpassword: str | None = field(default=None, repr=False)
    sslcrl: Path | str | None = None
    sslcrldir: Path | str | None = None
    ssl_min_protocol_version: str | None = "TLSv1.2"
    ssl_max_protocol_version: str | None = None
    connect_timeout: float | None = 10.0
    """Seconds per host; None waits as long as it takes."""
    application_name: str = APPLICATION_NAME
    options: tuple[tuple[str, str], ...] = ()
    """Server settings from libpq's `options` (`-c name=value`)."""
    target_session_attrs: str = "any"
    ignored: tuple[str, ...] = ()
    """libpq keywords that were given but have no effect in pgconsole, with the reason."""

    @property
    def endpoints(self) -> tuple[tuple[str, int], ...]:
        """Every (host, port) to try, in order."""
        return ((self.host, self.port), *self.fallbacks)

    @property
    def target(self) -> str:
        """`user@host:port/database`, as the status bar and error messages show it."""
        hosts = ",".join(f"{host}:{port}" for host, port in self.endpoints)
        return f"{self.user}@{hosts}/{self.database}"

    def with_password(self, password: str | None) -> Self:
        """A copy with another password."""
        return replace(self, password=password)


_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def duration_seconds(text: str, default_unit: str = "ms") -> float:
    """A PostgreSQL duration setting (`500ms`, `30s`, `2min`, `0`) in seconds.

    Raises:
        ValueError: Not a duration.
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*", text)
    if match is None:
        raise ValueError(f"not a duration: {text!r}")
    return float(match[1]) * _UNITS[match[2] or default_unit]


@dataclass(frozen=True)
class SessionSettings:
    """Server settings every pgconsole session starts with (values in PostgreSQL units)."""

    statement_timeout: str = "30s"
    lock_timeout: str = "5s"
    idle_in_transaction_session_timeout: str = "2min"
    read_only: bool = False

    def server_settings(self) -> dict[str, str]:
        """The session settings: startup parameters, or `SET LOCAL`s behind a pooler."""
        settings = {
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
    pooler: bool = False
    """Behind a transaction-mode pooler (pgbouncer): no prepared-statement cache, and session
    settings applied with `SET LOCAL` inside each transaction instead of at startup."""
