"""Settings: built-in defaults, a TOML file with named profiles, `PGCONSOLE_*` variables, flags.

Precedence, highest first: command-line flags, `PGCONSOLE_*` environment variables, the chosen
profile's table in the file, the file's top-level keys, built-in defaults. The file is found at
`--config`, else `$PGCONSOLE_CONFIG`, else `$XDG_CONFIG_HOME/pgconsole/config.toml`.
Passwords never belong in the file.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_type_hints

from pgconsole.db.connection.conninfo import parse_conninfo
from pgconsole.db.connection.libpq import Keywords, Sourced
from pgconsole.db.connection.libpq import layer as libpq_layer
from pgconsole.db.connection.params import ConnInfoError, PoolSettings, SessionSettings

if TYPE_CHECKING:
    from pydantic import ValidationError
    from pydantic_settings import BaseSettings

ENV_PREFIX = "PGCONSOLE_"
_DURATION = re.compile(r"^\s*\d+(\.\d+)?\s*(us|ms|s|min|h|d)?\s*$")


def _check_duration(value: str) -> str:
    if not _DURATION.match(value):
        raise ValueError(
            "expected a PostgreSQL duration such as 500ms, 30s, 2min or 0 (meaning no limit)"
        )
    return value.strip()


DURATION = {"duration": True}
"""A field's metadata: a duration in PostgreSQL's own syntax (`250ms`, `30s`, `5min`); a
bare number is ms."""


class ConfigError(Exception):
    """A configuration file, variable or flag that cannot be used. The message names it."""


@dataclass(frozen=True)
class Settings:
    """Everything that shapes a pgconsole session. Each field can be set in every layer.

    A plain dataclass, so that starting with nothing configured imports no pydantic: the
    layers are validated by pydantic-settings (`load_settings`) when there is something to
    validate. A field's metadata holds its constraints in pydantic's `Field` words.
    """

    # -- connection: libpq keywords (see CONNECTION_FIELDS) ------------------------------------

    dsn: str | None = None
    """A connection URI or keyword string; the fields below override its parts."""

    host: str | None = None
    """Host name, address, Unix socket directory, or a comma-separated list of them."""

    port: int | str | None = None
    """Port, or a comma-separated list matching the hosts."""

    user: str | None = None
    """Role to connect as."""

    dbname: str | None = None
    """Database to connect to."""

    service: str | None = None
    """A service from pg_service.conf supplying defaults for the other fields."""

    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] | None = (
        None
    )
    """libpq's sslmode; without one anywhere pgconsole uses libpq's `prefer`."""

    sslrootcert: str | None = None
    """CA certificates to verify the server with (`system` for the system's roots)."""

    sslcert: str | None = None
    """Client certificate."""

    sslkey: str | None = None
    """Client certificate's private key (mode 0600 or less)."""

    sslcrl: str | None = None
    """Certificate revocation list."""

    connect_timeout: int | None = field(default=None, metadata={"ge": 0})
    """Seconds to wait for each host to answer (default 10; 0 waits forever)."""

    application_name: str | None = None
    """The name pgconsole's sessions show in pg_stat_activity (default `pgconsole`)."""

    options: str | None = None
    """Server settings at connection start, as libpq's options (`-c name=value`)."""

    target_session_attrs: str | None = None
    """With several hosts: any, read-write, read-only, primary, standby, prefer-standby."""

    password_command: str | None = None
    """A command whose first output line is the password (run without a shell)."""

    ssh: str | None = None
    """`[user@]bastion[:port]`: connect through an SSH tunnel there, with the system's `ssh`
    (so ~/.ssh/config, the agent, ProxyJump and known_hosts apply). Host names are as the
    bastion sees them; TLS, .pgpass and the keyring still use them."""

    ssh_command: str = "ssh"
    """The ssh program with options of your own, split as a shell would (`ssh -F ~/.ssh/work`).
    pgconsole adds -N, -L and BatchMode, ExitOnForwardFailure and ServerAliveInterval."""

    color: str | None = None
    """The colour of this profile's server name in the status bar (`red` for production): a
    colour name or `#rrggbb`."""

    pooler: Literal["none", "transaction"] = "none"
    """`transaction` behind pgbouncer in transaction mode: no prepared-statement cache and
    session settings applied with SET LOCAL in every transaction."""

    # -- session and pool -----------------------------------------------------------------

    read_only: bool = False
    """Start every transaction READ ONLY and refuse every writing action."""

    command_timeout: float = field(default=60.0, metadata={"gt": 0})
    """Client-side limit in seconds on any single query, a safety net above statement_timeout."""

    statement_timeout: str = field(default="30s", metadata=DURATION)
    """Server-side limit on any statement pgconsole runs. Like the next two, an upper bound:
    a stricter value the server, database or role sets is kept (0, no limit, never is)."""

    lock_timeout: str = field(default="5s", metadata=DURATION)
    """How long a statement may wait for a lock before giving up (or the server's, if shorter)."""

    idle_in_transaction_session_timeout: str = field(default="2min", metadata=DURATION)
    """The server ends a session left idle inside a transaction for this long (or for the
    server's, database's or role's limit, if shorter)."""

    pool_min_size: int = field(default=1, metadata={"ge": 0})
    """Connections the pool keeps open."""

    pool_max_size: int = field(default=4, metadata={"ge": 1})
    """Most connections the pool opens at once."""

    max_inactive_connection_lifetime: float = field(default=300.0, metadata={"ge": 0})
    """Seconds after which an idle pooled connection is closed (0: never)."""

    cursor_idle_seconds: float = field(default=5.0, metadata={"gt": 0})
    """A table without a key is read through a cursor in a READ ONLY transaction; after this
    many idle seconds it is closed (no snapshot held) and reopened at the same row on demand."""

    # -- incident diagnostics and snapshot ---------------------------------------------------

    redact_queries: bool = False
    """Incident snapshots (`pgconsole snapshot`, `s` in the diagnostics) replace every query
    text by its first keywords and its length (`SELECT … (redacted, 84 chars)`), so the files
    can leave the team; `--no-redact` overrides."""

    rewind_in_background: bool = False
    """Keep the rewind buffer filling while the activity screen is not shown: one sample a
    second on a connection of its own, so that `F3` then `,` can show a stall that happened
    while you browsed. Off by default: it holds one more connection for as long as the app
    runs."""

    slot_retention_warning_mb: int = field(default=1024, metadata={"ge": 1})
    """The diagnostics' replication panel marks a slot that retains more WAL than this (MB),
    and a standby this far behind."""

    def session(self) -> SessionSettings:
        """The server settings each pooled session starts with."""
        return SessionSettings(
            statement_timeout=self.statement_timeout,
            lock_timeout=self.lock_timeout,
            idle_in_transaction_session_timeout=self.idle_in_transaction_session_timeout,
            read_only=self.read_only,
        )

    def pool(self) -> PoolSettings:
        """Size and client-side timeouts of the pool."""
        return PoolSettings(
            min_size=min(self.pool_min_size, self.pool_max_size),
            max_size=self.pool_max_size,
            command_timeout=self.command_timeout,
            max_inactive_connection_lifetime=self.max_inactive_connection_lifetime,
            pooler=self.pooler == "transaction",
        )


FIELDS = tuple(f.name for f in dataclasses.fields(Settings))
"""Every setting's name."""

CONNECTION_FIELDS = (
    "host", "port", "user", "dbname", "service", "sslmode", "sslrootcert", "sslcert", "sslkey",
    "sslcrl", "connect_timeout", "application_name", "options", "target_session_attrs",
)  # fmt: skip
"""Settings that are libpq keywords: they join the connection resolution, layer by layer."""


@dataclass(frozen=True)
class ConfigFile:
    """A parsed config file: top-level defaults and named profiles."""

    path: Path | None
    defaults: Mapping[str, Any]
    profiles: Mapping[str, Mapping[str, Any]]
    fleet: Mapping[str, Any] = field(default_factory=dict)
    """The `[fleet]` table: `servers` (conninfo strings or `service=` names) and the fleet
    view's options (see `FLEET_KEYS`)."""


FLEET_KEYS = {
    "servers": "conninfo strings or service=NAME, shown beside the profiles",
    "concurrency": "servers read at a time (8)",
    "keep_connections": "keep one connection per server between refreshes (false)",
    "connect_timeout": "seconds to connect to each server, at most (3)",
    "statement_timeout": "seconds the reading may run on each server, at most (2)",
    "interval": "seconds between two refreshes (5)",
}
"""What `[fleet]` may hold."""


def default_config_path(environ: Mapping[str, str] = os.environ) -> Path:
    """`$XDG_CONFIG_HOME/pgconsole/config.toml` (XDG's default is `~/.config`)."""
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "pgconsole" / "config.toml"


def read_config_file(explicit: Path | None, environ: Mapping[str, str] = os.environ) -> ConfigFile:
    """Find and parse the config file; a missing default file is an empty one.

    Raises:
        ConfigError: An explicitly named file is missing, or any file is not valid TOML or has
            keys pgconsole does not know.
    """
    from_env = environ.get("PGCONSOLE_CONFIG")
    named = explicit or (Path(from_env) if from_env else None)
    path = (named or default_config_path(environ)).expanduser()
    if not path.is_file():
        if named is not None:
            raise ConfigError(f"config file {path} does not exist")
        return ConfigFile(None, {}, {})
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read config file {path}: {error}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from error
    profiles = data.pop("profiles", {})
    if not isinstance(profiles, dict) or not all(isinstance(p, dict) for p in profiles.values()):
        raise ConfigError(f"{path}: [profiles] must hold tables such as [profiles.prod]")
    fleet = data.pop("fleet", {})
    _check_fleet(path, fleet)
    known = set(FIELDS)
    for where, table in [("", data), *((f"[profiles.{n}] ", t) for n, t in profiles.items())]:
        if "password" in table:
            raise ConfigError(f"{path}: {where}passwords do not belong in the config file")
        unknown = sorted(set(table) - known)
        if unknown:
            raise ConfigError(f"{path}: {where}unknown key {unknown[0]!r}")
    return ConfigFile(path, data, profiles, fleet)


def _check_fleet(path: Path, fleet: object) -> None:
    if not isinstance(fleet, dict):
        raise ConfigError(f"{path}: fleet must be a table: [fleet]")
    unknown = sorted(set(fleet) - set(FLEET_KEYS))
    if unknown:
        raise ConfigError(f"{path}: [fleet] unknown key {unknown[0]!r}")
    servers = fleet.get("servers", [])
    if not isinstance(servers, list) or not all(isinstance(s, str) for s in servers):
        raise ConfigError(f'{path}: [fleet] servers must be a list of strings ("service=db1")')
    for server in servers:
        try:
            keywords = parse_conninfo(server)
        except ConnInfoError as error:
            raise ConfigError(f"{path}: [fleet] servers: {server!r}: {error}") from None
        if "password" in keywords:
            raise ConfigError(f"{path}: [fleet] passwords do not belong in the config file")
    for key in ("concurrency", "connect_timeout", "statement_timeout", "interval"):
        value = fleet.get(key, 1)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"{path}: [fleet] {key} must be a number above 0")
    if not isinstance(fleet.get("keep_connections", False), bool):
        raise ConfigError(f"{path}: [fleet] keep_connections must be true or false")


def load_settings(
    config: ConfigFile,
    profile: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge every layer into one validated `Settings`.

    Args:
        config: The parsed config file.
        profile: The profile to use (`--profile`, else `$PGCONSOLE_PROFILE`), if any.
        overrides: Values given on the command line.

    Raises:
        ConfigError: Unknown profile, or a value that does not validate; the message names the
            file and key, the variable, or the flag it came from.
    """
    overrides = dict(overrides or {})
    profile = profile or os.environ.get("PGCONSOLE_PROFILE") or None
    file_values: dict[str, Any] = dict(config.defaults)
    if profile is not None:
        if profile not in config.profiles:
            where = config.path or default_config_path()
            known = ", ".join(sorted(config.profiles)) or "none"
            raise ConfigError(f'no profile "{profile}" in {where} (profiles: {known})')
        file_values.update(config.profiles[profile])
    if not file_values and not _from_environment() and all(map(_is_switch, overrides.items())):
        return Settings(**overrides)  # nothing to validate: pydantic is not even imported
    from pydantic import ValidationError

    try:
        loaded = _validating_model(file_values)(**overrides)
    except ValidationError as error:
        raise ConfigError(_explain(error, config, profile, overrides)) from None
    return Settings(**loaded.model_dump())


def _from_environment() -> bool:
    """Whether a `PGCONSOLE_*` variable sets a field (pydantic-settings ignores case)."""
    return any(
        name.upper().startswith(ENV_PREFIX) and name[len(ENV_PREFIX) :].lower() in FIELDS
        for name in os.environ
    )


def _is_switch(item: tuple[str, Any]) -> bool:
    """A flag such as `--read-only`: a bool given to a field whose default is a bool."""
    key, value = item
    return key in FIELDS and type(value) is bool and type(getattr(Settings, key)) is bool


def _validating_model(file_values: Mapping[str, Any]) -> type[BaseSettings]:
    """A pydantic-settings model of `Settings` whose layers are, highest first: its keyword
    arguments, the `PGCONSOLE_*` variables, then `file_values`."""
    from pydantic_settings import InitSettingsSource, PydanticBaseSettingsSource

    values = dict(file_values)

    class Layered(_settings_model()):  # type: ignore[misc]
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, InitSettingsSource(settings_cls, values))

    return Layered


@functools.cache
def _settings_model() -> type[BaseSettings]:
    """`Settings` as a pydantic-settings model: the same fields, types and defaults, each
    constraint of a field's metadata a `Field` argument, a duration checked."""
    from pydantic import AfterValidator, Field, create_model
    from pydantic_settings import BaseSettings, SettingsConfigDict

    class Base(BaseSettings):
        model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    hints = get_type_hints(Settings)
    fields: dict[str, Any] = {}
    for each in dataclasses.fields(Settings):
        constraints = dict(each.metadata)
        kind = hints[each.name]
        if constraints.pop("duration", False):
            kind = Annotated[kind, AfterValidator(_check_duration)]
        fields[each.name] = (kind, Field(default=each.default, **constraints))
    model: type[BaseSettings] = create_model("Settings", __base__=Base, **fields)
    return model


def _explain(
    error: ValidationError,
    config: ConfigFile,
    profile: str | None,
    overrides: Mapping[str, Any],
) -> str:
    first = error.errors()[0]
    key = str(first["loc"][0]) if first["loc"] else "?"
    message = first["msg"].removeprefix("Value error, ")
    if key in overrides:
        origin = f"--{key.replace('_', '-')}"
    elif (ENV_PREFIX + key.upper()) in os.environ:
        origin = f"${ENV_PREFIX}{key.upper()}"
    elif profile is not None and key in config.profiles.get(profile, {}):
        origin = f"{config.path}: [profiles.{profile}] {key}"
    else:
        origin = f"{config.path}: {key}"
    return f"invalid value for {origin}: {message}"


@dataclass(frozen=True)
class SettingsLayer:
    """One layer's raw values, and how to name where a value of it came from."""

    label: str
    values: Mapping[str, Any]
    per_key_label: str | None = None
    """For the environment: a format such as `$PGCONSOLE_{KEY}` naming each variable."""

    def source(self, key: str) -> str:
        """Where `key` came from, in words."""
        if self.per_key_label:
            return self.per_key_label.format(KEY=key.upper())
        return self.label


def settings_layers(
    config: ConfigFile, profile: str | None, overrides: Mapping[str, Any] | None = None
) -> list[SettingsLayer]:
    """pgconsole's own layers, highest precedence first (flags, variables, profile, file)."""
    environment = {
        key: os.environ[ENV_PREFIX + key.upper()]
        for key in FIELDS
        if ENV_PREFIX + key.upper() in os.environ
    }
    layers = [
        SettingsLayer("command line", dict(overrides or {})),
        SettingsLayer("environment", environment, per_key_label="$" + ENV_PREFIX + "{KEY}"),
    ]
    profile = profile or os.environ.get("PGCONSOLE_PROFILE") or None
    if profile is not None and profile in config.profiles:
        layers.append(
            SettingsLayer(f"profile {profile} in {config.path}", config.profiles[profile])
        )
    if config.path is not None:
        layers.append(SettingsLayer(str(config.path), config.defaults))
    return layers


def setting_source(layers: list[SettingsLayer], key: str) -> str:
    """Where the value of setting `key` came from: the first layer that sets it."""
    return next((layer.source(key) for layer in layers if key in layer.values), "default")


def connection_layers(layers: list[SettingsLayer]) -> list[Keywords]:
    """Each layer's libpq keywords: its `dsn` parsed, overridden by its explicit fields.

    Raises:
        ConnInfoError: A `dsn` that does not parse; the message names where it came from.
    """
    result: list[Keywords] = []
    for settings_layer in layers:
        keywords: Keywords = {}
        dsn = settings_layer.values.get("dsn")
        if dsn:
            source = settings_layer.source("dsn")
            try:
                keywords.update(libpq_layer(parse_conninfo(str(dsn)), source))
            except ConnInfoError as error:
                raise ConnInfoError(f"{source}: {error}") from None
        for key in CONNECTION_FIELDS:
            if settings_layer.values.get(key) is not None:
                value = settings_layer.values[key]
                keywords[key] = Sourced(str(value), settings_layer.source(key))
        result.append(keywords)
    return result
