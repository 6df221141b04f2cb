"""Resolve what to connect to, once, from every place settings can come from."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pgconsole.config import (
    ConfigError,
    ConfigFile,
    Settings,
    SettingsLayer,
    connection_layers,
    load_settings,
    setting_source,
    settings_layers,
)
from pgconsole.db.connection.conninfo import parse_conninfo
from pgconsole.db.connection.libpq import Keywords, layer, passfile_path, resolve, to_params
from pgconsole.db.connection.params import ConnectParams
from pgconsole.db.connection.passwords import PasswordQuery


@dataclass(frozen=True)
class Target:
    """Where to connect, with the settings, and where every value came from."""

    params: ConnectParams
    """Connection parameters without a password (found at connect time)."""
    keywords: Keywords
    """The resolved libpq keywords with their sources (for `doctor`)."""
    settings: Settings
    layers: list[SettingsLayer]
    profile: str | None
    password_query: PasswordQuery

    def source(self, setting: str) -> str:
        """Where a pgconsole setting came from."""
        return setting_source(self.layers, setting)


def check_color(color: str) -> None:
    """Raises ConfigError when the status bar could not draw `color`."""
    from textual.color import Color, ColorParseError

    try:
        Color.parse(color)
    except ColorParseError:
        raise ConfigError(
            f'color: unknown colour "{color}" (a name such as red, or #rrggbb)'
        ) from None


def with_tunnel(params: ConnectParams, settings: Settings) -> ConnectParams:
    """`params` going through the `ssh` setting's tunnel, if there is one.

    Raises:
        ConfigError: A bastion that does not parse, a Unix socket host, an empty ssh_command.
    """
    if not settings.ssh:
        return params
    from pgconsole.db.connection.tunnel import Bastion, Tunnel

    try:
        tunnel = Tunnel(
            Bastion.parse(settings.ssh),
            params.endpoints,
            command=settings.ssh_command,
            ready_timeout=params.connect_timeout,
        )
    except ValueError as error:
        raise ConfigError(f"ssh: {error}") from None
    return replace(params, tunnel=tunnel)


def resolve_target(
    config: ConfigFile,
    *,
    conninfo: str | None = None,
    profile: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] = os.environ,
    home: Path | None = None,
) -> Target:
    """Merge the command line, `PGCONSOLE_*`, the profile, the file, services and `PG*`.

    Raises:
        ConfigError: A bad file, profile or value.
        ConnInfoError: A connection string or keyword libpq (or pgconsole) would refuse.
    """
    home = home or Path.home()
    settings = load_settings(config, profile, overrides)
    if settings.color is not None:
        check_color(settings.color)
    profile = profile or environ.get("PGCONSOLE_PROFILE") or None
    layers = settings_layers(config, profile, overrides)
    keyword_layers: list[Keywords] = []
    if conninfo:
        keyword_layers.append(layer(parse_conninfo(conninfo), "command line"))
    keyword_layers.extend(connection_layers(layers))
    keywords = resolve(keyword_layers, environ, home)
    conninfo_password = keywords["password"].value if "password" in keywords else None
    params = with_tunnel(to_params(keywords), settings)
    query = PasswordQuery(
        host=params.host,
        port=params.port,
        database=params.database,
        user=params.user,
        keyring_key=profile or f"{params.user}@{params.host}:{params.port}",
        passfile=passfile_path(keywords, home),
        conninfo_password=conninfo_password,
        password_command=settings.password_command,
    )
    return Target(params, keywords, settings, layers, profile, query)
