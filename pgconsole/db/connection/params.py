"""What pgconsole connects with: where, as whom, over what TLS, and how the session behaves."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from pgconsole.db.connection.tunnel import Tunnel

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
    tunnel: Tunnel | None = field(default=None, compare=False, repr=False)
    """The SSH tunnel every connection goes through (`ssh` setting), opened on first use.
    The endpoints above stay the database's real ones: TLS, `.pgpass` and the keyring use them."""

    @property
    def endpoints(self) -> tuple[tuple[str, int], ...]:
        """Every (host, port) to try, in order."""
        return ((self.host, self.port), *self.fallbacks)

    @property
    def target(self) -> str:
        """`user@host:port/database`, as the status bar and error messages show it."""
        hosts = ",".join(f"{host}:{port}" for host, port in self.endpoints)
        via = f" via {self.tunnel.bastion.host}" if self.tunnel is not None else ""
        return f"{self.user}@{hosts}/{self.database}{via}"

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


def stricter(ours: str, theirs: str) -> str:
    """The duration that ends things sooner, `0` meaning no limit: ours only if it is strictly
    stricter than theirs (the server's, the role's, the database's), else theirs unchanged.

    `stricter("30s", "0")` is `30s`; `stricter("2min", "10s")` is `10s`; `stricter("0", "10s")`
    is `10s`. A value that is not a duration on either side leaves theirs in force.
    """
    try:
        mine, server = duration_seconds(ours), duration_seconds(theirs)
    except ValueError:
        return theirs
    if mine > 0 and (server == 0 or mine < server):
        return ours
    return theirs


TIMEOUT_LABELS = {
    "statement_timeout": "statement",
    "lock_timeout": "lock",
    "idle_in_transaction_session_timeout": "idle in transaction",
    "idle_session_timeout": "idle session",
}
"""Each field of `Timeouts`, in words, in the order reports show them."""


@dataclass(frozen=True)
class Timeouts:
    """A session's four time limits as PostgreSQL durations (`30s`, `2min`; `0` for none)."""

    statement_timeout: str = "0"
    lock_timeout: str = "0"
    idle_in_transaction_session_timeout: str = "0"
    idle_session_timeout: str | None = "0"
    """None on a server without the setting (before PostgreSQL 14)."""

    @property
    def idle_in_transaction_seconds(self) -> float | None:
        """idle_in_transaction_session_timeout in seconds; None when there is no limit."""
        try:
            return duration_seconds(self.idle_in_transaction_session_timeout) or None
        except ValueError:
            return None


@dataclass(frozen=True)
class SessionSettings:
    """Server settings every pgconsole session starts with (values in PostgreSQL units).

    The timeouts are upper bounds: `tightened()` keeps whatever the server, the database or
    the role already sets when it is stricter, so pgconsole never loosens a DBA's limit.
    """

    statement_timeout: str = "30s"
    lock_timeout: str = "5s"
    idle_in_transaction_session_timeout: str = "2min"
    read_only: bool = False

    @property
    def timeouts(self) -> Timeouts:
        """pgconsole's own limits (it sets no idle_session_timeout)."""
        return Timeouts(
            self.statement_timeout, self.lock_timeout, self.idle_in_transaction_session_timeout
        )

    def tightened(self, server: Timeouts) -> Self:
        """A copy whose each timeout is the stricter of ours and the server's (`stricter`).

        Args:
            server: What a session of this role on this database has before pgconsole sets
                anything (`postgresql.conf`, `ALTER DATABASE/ROLE … SET`, libpq options).
        """
        return replace(
            self,
            statement_timeout=stricter(self.statement_timeout, server.statement_timeout),
            lock_timeout=stricter(self.lock_timeout, server.lock_timeout),
            idle_in_transaction_session_timeout=stricter(
                self.idle_in_transaction_session_timeout,
                server.idle_in_transaction_session_timeout,
            ),
        )

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
