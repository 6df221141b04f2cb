"""The servers a user can open besides the one open: the config's profiles and `[fleet]`.

The server list (F10) and the fleet view show them; each is resolved as `pgconsole --profile
NAME` (or `pgconsole CONNINFO`) would resolve it, with every layer below the profile, so a
server opened from the list connects exactly as it would from the command line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pgconsole.config import ConfigError, ConfigFile
from pgconsole.db.connection.params import ConnInfoError
from pgconsole.target import Target, resolve_target


@dataclass(frozen=True)
class ServerEntry:
    """One server to offer: resolved, or why it cannot be."""

    name: str
    """The profile's name, or the `[fleet]` conninfo as written."""
    target: Target | None
    problem: str | None = None
    """Why it could not be resolved (a bad value in its profile), in one line."""

    @property
    def color(self) -> str | None:
        """Its profile's colour, if any."""
        return self.target.settings.color if self.target is not None else None


@dataclass(frozen=True)
class WindowEntry:
    """An open server window, as the server list shows it."""

    name: str
    color: str | None
    state: str
    """`connecting…`, `connected` or `not connected`."""
    target: str = ""
    """Where it is connected (`user@host:port/db via bastion`)."""
    current: bool = False
    """It is the window on screen (or was, before the list opened)."""


@dataclass(frozen=True)
class FleetOptions:
    """How the fleet view reads its servers (`[fleet]` in the config file)."""

    concurrency: int = 8
    keep_connections: bool = False
    connect_timeout: float = 3.0
    statement_timeout: float = 2.0
    interval: float = 5.0

    @classmethod
    def of(cls, table: Mapping[str, Any]) -> FleetOptions:
        """The options `[fleet]` sets, the defaults for the rest."""
        names = ("concurrency", "keep_connections", "connect_timeout", "statement_timeout")
        given = {key: table[key] for key in (*names, "interval") if key in table}
        return cls(**given)


@dataclass(frozen=True)
class ServerList:
    """Every server the config names, in its order: profiles first, then `[fleet]`."""

    entries: tuple[ServerEntry, ...] = ()
    options: FleetOptions = field(default_factory=FleetOptions)

    def named(self, name: str) -> ServerEntry | None:
        """The entry called `name`, if any."""
        return next((entry for entry in self.entries if entry.name == name), None)


def server_list(
    config: ConfigFile,
    names: Sequence[str] | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] = os.environ,
    home: Path | None = None,
) -> ServerList:
    """The config's servers (or only the profiles `names`, in that order), each resolved.

    Raises:
        ConfigError: A name in `names` that is no profile.
    """
    if names is not None:
        unknown = [name for name in names if name not in config.profiles]
        if unknown:
            known = ", ".join(sorted(config.profiles)) or "none"
            where = config.path or "the config file"
            raise ConfigError(f'no profile "{unknown[0]}" in {where} (profiles: {known})')
        chosen: list[tuple[str, str | None]] = [(name, None) for name in names]
    else:
        chosen = [(name, None) for name in config.profiles]
        chosen += [(conninfo, conninfo) for conninfo in config.fleet.get("servers", [])]
    entries = tuple(
        _entry(config, name, conninfo, overrides, environ, home) for name, conninfo in chosen
    )
    return ServerList(entries, FleetOptions.of(config.fleet))


def _entry(
    config: ConfigFile,
    name: str,
    conninfo: str | None,
    overrides: Mapping[str, Any] | None,
    environ: Mapping[str, str],
    home: Path | None,
) -> ServerEntry:
    try:
        target = resolve_target(
            config,
            conninfo=conninfo,
            profile=None if conninfo is not None else name,
            overrides=overrides,
            environ={k: v for k, v in environ.items() if k != "PGCONSOLE_PROFILE"},
            home=home,
        )
    except (ConfigError, ConnInfoError) as error:
        return ServerEntry(name, None, str(error))
    return ServerEntry(name, target)
