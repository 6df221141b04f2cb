"""libpq connection strings: `postgresql://` URIs and `key=value` keyword strings.

Both forms parse to the same flat mapping of libpq keywords (`host`, `dbname`, `sslmode`, ...),
exactly as libpq reads them, so a string pasted from a runbook means what it means to psql.
A key libpq does not know is an error here, never a server setting.
"""

from __future__ import annotations

from urllib.parse import unquote

from pgconsole.db.connection.params import ConnInfoError

LIBPQ_KEYWORDS: frozenset[str] = frozenset(
    {
        "host", "hostaddr", "port", "dbname", "user", "password", "passfile",
        "connect_timeout", "options", "application_name", "fallback_application_name",
        "client_encoding", "keepalives", "keepalives_idle", "keepalives_interval",
        "keepalives_count", "tcp_user_timeout", "sslmode", "requiressl", "sslcompression",
        "sslcert", "sslkey", "sslpassword", "sslcertmode", "sslrootcert", "sslcrl", "sslcrldir",
        "sslsni", "ssl_min_protocol_version", "ssl_max_protocol_version", "sslnegotiation",
        "channel_binding", "gssencmode", "krbsrvname", "gsslib", "gssdelegation",
        "requirepeer", "require_auth", "service", "target_session_attrs", "load_balance_hosts",
        "replication",
    }
)  # fmt: skip
"""Every keyword libpq (PostgreSQL 17) accepts in a connection string."""

_URI_PREFIXES = ("postgresql://", "postgres://")


def is_uri(conninfo: str) -> bool:
    """Whether `conninfo` is a URI rather than a keyword string."""
    return conninfo.startswith(_URI_PREFIXES)


def parse_conninfo(conninfo: str) -> dict[str, str]:
    """Parse either form into libpq keywords.

    Raises:
        ConnInfoError: Malformed text, or a keyword libpq does not know.
    """
    pairs = parse_uri_keywords(conninfo) if is_uri(conninfo) else parse_keywords(conninfo)
    unknown = sorted(set(pairs) - LIBPQ_KEYWORDS)
    if unknown:
        raise ConnInfoError(f'invalid connection option "{unknown[0]}"')
    return pairs


def parse_keywords(text: str) -> dict[str, str]:
    """Parse `host=db1 port=5432 dbname='my db'` the way libpq's conninfo_parse does.

    Values may be single-quoted; inside quotes, and in unquoted values, a backslash escapes the
    next character. Whitespace may surround `=`.

    Raises:
        ConnInfoError: A keyword without `=`, or an unterminated quote.
    """
    result: dict[str, str] = {}
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            return result
        start = i
        while i < n and not text[i].isspace() and text[i] != "=":
            i += 1
        key = text[start:i]
        while i < n and text[i].isspace():
            i += 1
        if i >= n or text[i] != "=":
            raise ConnInfoError(f'missing "=" after "{key}" in connection info string')
        i += 1
        while i < n and text[i].isspace():
            i += 1
        value: list[str] = []
        if i < n and text[i] == "'":
            i += 1
            while True:
                if i >= n:
                    raise ConnInfoError("unterminated quoted string in connection info string")
                if text[i] == "\\" and i + 1 < n:
                    value.append(text[i + 1])
                    i += 2
                elif text[i] == "'":
                    i += 1
                    break
                else:
                    value.append(text[i])
                    i += 1
        else:
            while i < n and not text[i].isspace():
                if text[i] == "\\" and i + 1 < n:
                    value.append(text[i + 1])
                    i += 2
                else:
                    value.append(text[i])
                    i += 1
        _store(result, key, "".join(value))


def _store(result: dict[str, str], key: str, value: str) -> None:
    # libpq's conninfo_storeval: the obsolete requiressl is sslmode as soon as it is read, so
    # it beats $PGSSLMODE, and the later of requiressl and sslmode in one string wins.
    if key == "requiressl":
        key, value = "sslmode", "require" if value.startswith("1") else "prefer"
    result[key] = value


def parse_uri_keywords(uri: str) -> dict[str, str]:
    """Parse `postgresql://user:pw@host1:5432,host2/db?sslmode=verify-full` into keywords.

    Follows libpq: several comma-separated hosts (each with an optional port), IPv6 addresses
    in brackets, percent-decoding everywhere, a percent-encoded socket directory as host, and
    query parameters named like keywords (plus `ssl=true`, which means `sslmode=require`).

    Raises:
        ConnInfoError: A malformed URI.
    """
    prefix = next(p for p in _URI_PREFIXES if uri.startswith(p))
    rest = uri[len(prefix) :]
    result: dict[str, str] = {}
    rest, _, query = rest.partition("?")
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        userinfo, _, authority = authority.rpartition("@")
        user, _, password = userinfo.partition(":")
        if user:
            result["user"] = unquote(user)
        if password:  # libpq ignores an empty password (`user:@host`), as an absent one
            result["password"] = unquote(password)
    hosts, ports = _split_hosts(authority)
    if any(hosts):
        result["host"] = ",".join(hosts)
    if any(ports):
        result["port"] = ",".join(ports)
    if slash and path:
        result["dbname"] = unquote(path)
    for item in filter(None, query.split("&")):
        key, eq, value = item.partition("=")
        if not eq:
            raise ConnInfoError(f'missing key/value separator "=" in URI query parameter: "{key}"')
        if "=" in value:  # an `=` inside a value must be percent-encoded, as libpq insists
            raise ConnInfoError(f'extra key/value separator "=" in URI query parameter: "{key}"')
        key, value = unquote(key), unquote(value)
        if key == "ssl" and value == "true":  # JDBC compatibility, as libpq accepts it
            key, value = "sslmode", "require"
        _store(result, key, value)
    return result


def _split_hosts(authority: str) -> tuple[list[str], list[str]]:
    hosts: list[str] = []
    ports: list[str] = []
    if not authority:
        return hosts, ports
    for spec in authority.split(","):
        if spec.startswith("["):
            end = spec.find("]")
            if end < 0:
                raise ConnInfoError(f'unterminated IPv6 host address in URI: "{spec}"')
            host, after = spec[1:end], spec[end + 1 :]
            if not host:
                raise ConnInfoError(f'IPv6 host address may not be empty in URI: "{spec}"')
            if after and not after.startswith(":"):
                raise ConnInfoError(f'unexpected character after IPv6 host address: "{spec}"')
            port = after[1:]
        else:
            host, _, port = spec.partition(":")
        if port and not port.isdigit():
            raise ConnInfoError(f'invalid port number: "{port}"')
        hosts.append(unquote(host))
        ports.append(port)
    return hosts, ports


def quote_keyword_value(value: str) -> str:
    """Quote a value for a keyword string, as libpq expects (`'it\\'s'`)."""
    if value and not any(c.isspace() or c in "'\\" for c in value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
