"""libpq's places for connection settings: services, environment variables, defaults, .pgpass.

pgconsole resolves connection keywords the way libpq does, and remembers where each value came
from so that `pgconsole doctor` can say it. Layers, first wins:

1. the layers pgconsole adds on top (command line, `PGCONSOLE_*`, profile, config file);
2. the service named by any of them or by `$PGSERVICE` (user file first, then system file);
3. the `PG*` environment variables;
4. libpq's built-in defaults.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pgconsole.db.connection.conninfo import LIBPQ_KEYWORDS
from pgconsole.db.connection.params import APPLICATION_NAME, ConnectParams, ConnInfoError, SslMode

ENVIRONMENT: dict[str, str] = {
    "PGHOST": "host",
    "PGHOSTADDR": "hostaddr",
    "PGPORT": "port",
    "PGDATABASE": "dbname",
    "PGUSER": "user",
    "PGPASSFILE": "passfile",
    "PGSERVICE": "service",
    "PGOPTIONS": "options",
    "PGAPPNAME": "application_name",
    "PGSSLMODE": "sslmode",
    "PGREQUIRESSL": "requiressl",
    "PGSSLCERT": "sslcert",
    "PGSSLKEY": "sslkey",
    "PGSSLROOTCERT": "sslrootcert",
    "PGSSLCRL": "sslcrl",
    "PGSSLCRLDIR": "sslcrldir",
    "PGSSLSNI": "sslsni",
    "PGSSLMINPROTOCOLVERSION": "ssl_min_protocol_version",
    "PGSSLMAXPROTOCOLVERSION": "ssl_max_protocol_version",
    "PGCONNECT_TIMEOUT": "connect_timeout",
    "PGCLIENTENCODING": "client_encoding",
    "PGTARGETSESSIONATTRS": "target_session_attrs",
    "PGCHANNELBINDING": "channel_binding",
    "PGGSSENCMODE": "gssencmode",
}
"""libpq's environment variables and the keyword each one supplies. PGPASSWORD is handled with
the other password sources, and PGSERVICEFILE/PGSYSCONFDIR only locate service files."""

SOCKET_DIRECTORIES = ("/var/run/postgresql", "/tmp")
"""Where libpq builds look for the server's Unix socket (Debian's first, upstream's second)."""


@dataclass(frozen=True)
class Sourced:
    """A setting's value and where it came from, in words (`$PGHOST`, `default`, ...)."""

    value: str
    source: str


Keywords = dict[str, Sourced]
"""Resolved libpq keywords, each with its source."""


def layer(values: Mapping[str, str], source: str) -> Keywords:
    """Label every value of one layer with the same source."""
    return {key: Sourced(value, source) for key, value in values.items()}


def resolve(
    layers: Iterable[Keywords],
    environ: Mapping[str, str] = os.environ,
    home: Path | None = None,
) -> Keywords:
    """Merge layers, the service they name, `PG*` variables and defaults, as libpq does.

    Raises:
        ConnInfoError: A named service that no service file defines, or an unreadable file.
    """
    home = home or Path.home()
    merged: Keywords = {}
    for keywords in layers:
        for key, value in keywords.items():
            merged.setdefault(key, value)
    service = merged.get("service")
    if service is None and environ.get("PGSERVICE"):
        service = Sourced(environ["PGSERVICE"], "$PGSERVICE")
        merged["service"] = service
    if service is not None:
        for key, value in read_service(service.value, environ, home).items():
            merged.setdefault(key, value)
    for variable, key in ENVIRONMENT.items():
        if key not in merged and environ.get(variable):
            merged[key] = Sourced(environ[variable], f"${variable}")
    _add_defaults(merged, environ)
    return merged


def _add_defaults(merged: Keywords, environ: Mapping[str, str]) -> None:
    if "host" not in merged and "hostaddr" not in merged:
        socket_dir = next(
            (d for d in SOCKET_DIRECTORIES if Path(d).is_dir()), SOCKET_DIRECTORIES[0]
        )
        merged["host"] = Sourced(socket_dir, "default (Unix socket)")
    merged.setdefault("port", Sourced("5432", "default"))
    if "user" not in merged:
        merged["user"] = Sourced(_os_user(environ), "default (your login name)")
    if "dbname" not in merged:
        merged["dbname"] = Sourced(merged["user"].value, "default (the user name)")
    if "sslmode" not in merged:
        if merged.get("requiressl") and merged["requiressl"].value == "1":
            merged["sslmode"] = Sourced("require", merged["requiressl"].source)
        elif merged.get("sslrootcert") and merged["sslrootcert"].value == "system":
            merged["sslmode"] = Sourced("verify-full", "default (sslrootcert=system)")
        else:
            merged["sslmode"] = Sourced("prefer", "default")


def _os_user(environ: Mapping[str, str]) -> str:
    # libpq asks the system for the effective user's name; $USER and $LOGNAME (which
    # getpass.getuser() prefers) can name someone else, after `sudo -E` for instance.
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError, OSError):  # no passwd entry (some containers)
        return environ.get("USER") or "postgres"


# -- service files ------------------------------------------------------------------------------


def service_files(environ: Mapping[str, str], home: Path) -> list[Path]:
    """The user's service file, then the system one, as libpq looks for them."""
    user_file = (
        Path(environ["PGSERVICEFILE"])
        if environ.get("PGSERVICEFILE")
        else home / ".pg_service.conf"
    )
    sysconfdir = Path(environ.get("PGSYSCONFDIR") or "/etc/postgresql-common")
    return [user_file, sysconfdir / "pg_service.conf"]


def read_service(name: str, environ: Mapping[str, str], home: Path) -> Keywords:
    """The keywords of service `name`, from the first file that defines it.

    Raises:
        ConnInfoError: No file defines the service, a file is malformed, or it sets a keyword
            libpq does not know (libpq refuses those too).
    """
    for path in service_files(environ, home):
        if not path.is_file():
            continue
        section = parse_service_file(path, name)
        if section is not None:
            source = f"service {name} in {path}"
            return {key: Sourced(value, source) for key, value in section.items()}
    looked = ", ".join(str(p) for p in service_files(environ, home))
    raise ConnInfoError(f'definition of service "{name}" not found (looked in {looked})')


def parse_service_file(path: Path, name: str) -> dict[str, str] | None:
    """The settings of service `name` in a pg_service.conf, or None if the file lacks it.

    Read as libpq reads it: `[name]` sections of `key=value` lines and `#` comments; only the
    first `[name]` section counts, its first value for a key wins, and only its own lines are
    checked (other sections may hold anything, LDAP lines for instance).

    Raises:
        ConnInfoError: A line of the section that is not `key=value`, or an unknown keyword,
            naming file and line.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConnInfoError(f"cannot read service file {path}: {error}") from error
    section: dict[str, str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            if section is not None:
                break  # the end of the first section of that name
            if line[1:].startswith(name + "]"):  # libpq's test: `[name]`, then anything
                section = {}
            continue
        if section is None:
            continue
        key, eq, value = line.partition("=")
        key = key.strip()
        if not eq:
            raise ConnInfoError(f"syntax error in service file {path}, line {number}")
        if key not in LIBPQ_KEYWORDS or key == "service":
            raise ConnInfoError(
                f'service file {path}, line {number}: invalid connection option "{key}"'
            )
        section.setdefault(key, value.strip())
    return section


# -- .pgpass ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PassfileResult:
    """What the password file gave: a password, or why it gave none."""

    password: str | None
    path: Path
    notice: str | None = None


def passfile_path(keywords: Keywords, home: Path) -> Path:
    """`passfile` keyword, else `$PGPASSFILE` (already a keyword here), else `~/.pgpass`."""
    if "passfile" in keywords:
        return Path(keywords["passfile"].value).expanduser()
    return home / ".pgpass"


def read_passfile(path: Path, host: str, port: str, database: str, user: str) -> PassfileResult:
    """Look up a password as libpq does: first matching line wins, `*` matches anything.

    The default Unix socket directory matches the name `localhost`, as in libpq. A file
    readable by group or others is ignored with a notice (libpq's 0600 rule).
    """
    try:
        info = path.stat()
    except OSError:
        return PassfileResult(None, path)
    if not stat.S_ISREG(info.st_mode):
        return PassfileResult(None, path, f"{path} is not a regular file: ignored")
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        mode = stat.S_IMODE(info.st_mode)
        return PassfileResult(
            None,
            path,
            f"{path} ignored: its permissions {mode:04o} are wider than 0600 (chmod 0600 {path})",
        )
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        return PassfileResult(None, path, f"{path} could not be read: {error}")
    if not host or host in SOCKET_DIRECTORIES:
        # libpq: `localhost` stands for the default socket directory; any other socket
        # directory is matched by its path.
        host = "localhost"
    wanted = (host, port, database, user)
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = _split_passfile_line(line)
        if len(fields) < 5:
            continue
        if all(
            wildcard or text == value
            for (text, wildcard), value in zip(fields[:4], wanted, strict=True)
        ):
            return PassfileResult(fields[4][0], path)
    return PassfileResult(None, path)


def _split_passfile_line(line: str) -> list[tuple[str, bool]]:
    """Up to five fields, each de-escaped and with whether it is a bare `*` (a wildcard).

    As in libpq, an unescaped `:` ends every field, the password too, and `\\*` is a literal star.
    """
    fields: list[tuple[str, bool]] = []
    current: list[str] = []
    escaped = wildcard = False
    for char in line:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            fields.append(("".join(current), wildcard and current == ["*"]))
            if len(fields) == 5:
                return fields
            current, wildcard = [], False
        else:
            wildcard = wildcard or (char == "*" and not current)
            current.append(char)
    fields.append(("".join(current), wildcard and current == ["*"]))
    return fields


# -- keywords to ConnectParams ---------------------------------------------------------------------

_IGNORED = {
    "keepalives": "TCP keepalive settings are not adjustable in pgconsole's driver",
    "keepalives_idle": "TCP keepalive settings are not adjustable in pgconsole's driver",
    "keepalives_interval": "TCP keepalive settings are not adjustable in pgconsole's driver",
    "keepalives_count": "TCP keepalive settings are not adjustable in pgconsole's driver",
    "tcp_user_timeout": "not adjustable in pgconsole's driver",
    "sslcompression": "TLS compression is obsolete and never used",
    "sslsni": "pgconsole always sends the host name (SNI)",
    "fallback_application_name": "pgconsole's own name is the fallback",
    "requiressl": "folded into sslmode",
}
_UNSUPPORTED = {
    "hostaddr": "connect by host name or address with host=",
    "require_auth": "pgconsole cannot restrict authentication methods",
    "krbsrvname": "GSSAPI/Kerberos is not supported",
    "gsslib": "GSSAPI/Kerberos is not supported",
    "gssdelegation": "GSSAPI/Kerberos is not supported",
    "requirepeer": "peer checks on Unix sockets are not supported",
    "replication": "pgconsole does not open replication connections",
    "sslcertmode": "client certificates are sent whenever sslcert exists",
}
_ALLOWED_VALUES = {
    "channel_binding": ("disable", "prefer"),
    "gssencmode": ("disable", "prefer"),
    "sslnegotiation": ("postgres",),
    "load_balance_hosts": ("disable", "random"),
}
_TARGET_SESSION_ATTRS = ("any", "read-write", "read-only", "primary", "standby", "prefer-standby")


def _fail(keywords: Keywords, key: str, message: str) -> ConnInfoError:
    return ConnInfoError(f"{key}={keywords[key].value} ({keywords[key].source}): {message}")


def to_params(keywords: Keywords, password: str | None = None) -> ConnectParams:
    """Turn resolved keywords into connection parameters, refusing what pgconsole cannot honour.

    Raises:
        ConnInfoError: A value libpq would reject, or a keyword pgconsole cannot honour; the
            message names the keyword, its value and where it came from.
    """
    values = {key: sourced.value for key, sourced in keywords.items()}
    for key, reason in _UNSUPPORTED.items():
        if key in values:
            raise _fail(keywords, key, f"not supported: {reason}")
    for key, allowed in _ALLOWED_VALUES.items():
        if key in values and values[key] not in allowed:
            raise _fail(keywords, key, f"not supported (pgconsole accepts {', '.join(allowed)})")
    encoding = values.get("client_encoding", "UTF8").upper().replace("-", "")
    if encoding not in ("UTF8", "UNICODE", "AUTO"):
        raise _fail(keywords, "client_encoding", "pgconsole talks UTF8 only")

    endpoints = _endpoints(keywords)
    if values.get("load_balance_hosts") == "random":
        import random

        random.shuffle(endpoints)
    try:
        sslmode = SslMode(values["sslmode"])
    except ValueError:
        modes = ", ".join(m.value for m in SslMode)
        raise _fail(keywords, "sslmode", f"invalid sslmode (one of: {modes})") from None
    attrs = values.get("target_session_attrs", "any")
    if attrs not in _TARGET_SESSION_ATTRS:
        raise _fail(keywords, "target_session_attrs", "invalid value")
    ignored = tuple(f"{key}: {_IGNORED[key]}" for key in sorted(values) if key in _IGNORED)
    (host, port), *fallbacks = endpoints
    return ConnectParams(
        host=host,
        port=port,
        fallbacks=tuple(fallbacks),
        user=values["user"],
        database=values["dbname"],
        password=password,
        sslmode=sslmode,
        sslrootcert=values.get("sslrootcert") or None,
        sslcert=values.get("sslcert") or None,
        sslkey=values.get("sslkey") or None,
        sslpassword=values.get("sslpassword") or None,
        sslcrl=values.get("sslcrl") or None,
        sslcrldir=values.get("sslcrldir") or None,
        ssl_min_protocol_version=values.get("ssl_min_protocol_version") or "TLSv1.2",
        ssl_max_protocol_version=values.get("ssl_max_protocol_version") or None,
        connect_timeout=_connect_timeout(keywords),
        application_name=values.get("application_name") or APPLICATION_NAME,
        options=parse_options(values["options"]) if values.get("options") else (),
        target_session_attrs=attrs,
        ignored=ignored,
    )


def _endpoints(keywords: Keywords) -> list[tuple[str, int]]:
    hosts = keywords["host"].value.split(",")
    ports_text = keywords["port"].value.split(",")
    if len(ports_text) == 1:
        ports_text *= len(hosts)
    if len(ports_text) != len(hosts):
        raise ConnInfoError(f"could not match {len(ports_text)} port numbers to {len(hosts)} hosts")
    endpoints = []
    for host, port_text in zip(hosts, ports_text, strict=True):
        port_text = port_text.strip() or "5432"
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise _fail(keywords, "port", f'invalid port number: "{port_text}"')
        endpoints.append((host.strip() or SOCKET_DIRECTORIES[0], int(port_text)))
    return endpoints


def _connect_timeout(keywords: Keywords) -> float | None:
    if "connect_timeout" not in keywords:
        return 10.0  # libpq waits forever by default; on call, ten seconds is plenty
    text = keywords["connect_timeout"].value.strip()
    try:
        seconds = int(text)
    except ValueError:
        raise _fail(keywords, "connect_timeout", "must be a whole number of seconds") from None
    if seconds <= 0:
        return None
    return float(max(seconds, 2))  # libpq's minimum


def parse_options(text: str) -> tuple[tuple[str, str], ...]:
    """Server settings from libpq's `options`: `-c name=value` and `--name=value`.

    Backslash escapes a space inside a value, as libpq and the server expect.

    Raises:
        ConnInfoError: Any other server command-line switch.
    """
    words: list[str] = []
    current: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char.isspace():
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(char)
    if current:
        words.append("".join(current))
    settings: list[tuple[str, str]] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word == "-c" and i + 1 < len(words):
            assignment = words[i + 1]
            i += 2
        elif (word.startswith("-c") and len(word) > 2) or (word.startswith("--") and "=" in word):
            assignment = word[2:]
            i += 1
        else:
            raise ConnInfoError(
                f'options: "{word}" is not supported; use -c name=value or --name=value'
            )
        name, eq, value = assignment.partition("=")
        if not eq or not name:
            raise ConnInfoError(f'options: "{assignment}" is not of the form name=value')
        settings.append((name.replace("-", "_"), value))
    return tuple(settings)
