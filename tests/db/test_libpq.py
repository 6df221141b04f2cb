"""libpq's places for settings: PG* variables, service files, defaults, .pgpass, and the
translation of the resolved keywords into what pgconsole's driver needs."""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping
from pathlib import Path

import pytest

from pgconsole.db.connection.conninfo import parse_conninfo
from pgconsole.db.connection.libpq import (
    ENVIRONMENT,
    SOCKET_DIRECTORIES,
    Keywords,
    PassfileResult,
    Sourced,
    layer,
    parse_options,
    passfile_path,
    read_passfile,
    resolve,
    to_params,
)
from pgconsole.db.connection.params import APPLICATION_NAME, ConnectParams, ConnInfoError, SslMode

LOGIN_NAME = pwd.getpwuid(os.geteuid()).pw_name
"""What libpq takes as the default user: the effective user's name, not $USER."""


@pytest.fixture
def home(hermetic_environment: Path) -> Path:
    """The test's own, empty HOME."""
    return hermetic_environment


def command_line(text: str) -> Keywords:
    """A CONNINFO given on the command line, as one layer."""
    return layer(parse_conninfo(text), "command line")


def params(
    text: str, home: Path, environ: Mapping[str, str] | None = None
) -> tuple[ConnectParams, Keywords]:
    keywords = resolve([command_line(text)], environ or {}, home)
    return to_params(keywords), keywords


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


# -- PG* environment variables -------------------------------------------------------------------

REQUIRED_VARIABLES = (
    "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSFILE", "PGSERVICE", "PGSSLMODE",
    "PGSSLROOTCERT", "PGSSLCERT", "PGSSLKEY", "PGAPPNAME", "PGCONNECT_TIMEOUT", "PGOPTIONS",
)  # fmt: skip
"""The variables issue 3 names that supply a keyword (PGPASSWORD is a password source;
PGSERVICEFILE and PGSYSCONFDIR locate service files)."""


def test_every_variable_the_requirement_names_is_read() -> None:
    assert set(REQUIRED_VARIABLES) <= set(ENVIRONMENT)
    assert {"PGPASSWORD", "PGSERVICEFILE", "PGSYSCONFDIR"}.isdisjoint(ENVIRONMENT)


@pytest.mark.parametrize(("variable", "keyword"), sorted(ENVIRONMENT.items()))
def test_each_variable_supplies_its_keyword_and_a_layer_beats_it(
    variable: str, keyword: str, home: Path
) -> None:
    # Values that are services must exist: PGSERVICE's and the layer's.
    write(home / ".pg_service.conf", "[from-env]\n[from-layer]\n")
    environ = {variable: "from-env"}
    assert resolve([], environ, home)[keyword] == Sourced("from-env", f"${variable}")
    keywords = resolve([layer({keyword: "from-layer"}, "command line")], environ, home)
    assert keywords[keyword] == Sourced("from-layer", "command line")


def test_an_empty_variable_is_no_value(home: Path) -> None:
    keywords = resolve([], {"PGPORT": "", "PGUSER": ""}, home)
    assert keywords["port"] == Sourced("5432", "default")
    assert keywords["user"].source == "default (your login name)"


def test_pgpassword_is_not_a_keyword(home: Path) -> None:
    keywords = resolve([command_line("host=db1")], {"PGPASSWORD": "secret"}, home)
    assert "password" not in keywords
    assert "secret" not in repr(to_params(keywords))


# -- service files -------------------------------------------------------------------------------


def test_service_from_the_user_file_in_home(home: Path) -> None:
    user_file = write(home / ".pg_service.conf", "[prod]\nhost=db1\nport=6432\ndbname=app\n")
    keywords = resolve([], {"PGSERVICE": "prod"}, home)
    source = f"service prod in {user_file}"
    assert keywords["host"] == Sourced("db1", source)
    assert keywords["port"] == Sourced("6432", source)
    assert keywords["dbname"] == Sourced("app", source)
    assert keywords["service"] == Sourced("prod", "$PGSERVICE")


def test_pgservicefile_replaces_the_file_in_home(home: Path, tmp_path: Path) -> None:
    write(home / ".pg_service.conf", "[prod]\nhost=from-home\n")
    elsewhere = write(tmp_path / "services.conf", "[prod]\nhost=from-variable\n")
    keywords = resolve([command_line("service=prod")], {"PGSERVICEFILE": str(elsewhere)}, home)
    assert keywords["host"] == Sourced("from-variable", f"service prod in {elsewhere}")


def test_system_file_in_pgsysconfdir(home: Path, tmp_path: Path) -> None:
    system = write(tmp_path / "etc" / "pg_service.conf", "[prod]\nhost=from-system\n")
    environ = {"PGSERVICE": "prod", "PGSYSCONFDIR": str(tmp_path / "etc")}
    assert resolve([], environ, home)["host"] == Sourced("from-system", f"service prod in {system}")


def test_the_user_file_wins_and_the_system_file_is_not_merged(home: Path, tmp_path: Path) -> None:
    user_file = write(home / ".pg_service.conf", "[prod]\nhost=from-user\n")
    write(tmp_path / "etc" / "pg_service.conf", "[prod]\nhost=from-system\nport=6543\n")
    environ = {"PGSERVICE": "prod", "PGSYSCONFDIR": str(tmp_path / "etc")}
    keywords = resolve([], environ, home)
    assert keywords["host"] == Sourced("from-user", f"service prod in {user_file}")
    assert keywords["port"] == Sourced("5432", "default")  # as libpq: one file per service


def test_a_service_only_in_the_system_file_is_found_past_the_user_file(
    home: Path, tmp_path: Path
) -> None:
    write(home / ".pg_service.conf", "[other]\nhost=other\n")
    system = write(tmp_path / "etc" / "pg_service.conf", "[prod]\nhost=from-system\n")
    environ = {"PGSERVICE": "prod", "PGSYSCONFDIR": str(tmp_path / "etc")}
    assert resolve([], environ, home)["host"].source == f"service prod in {system}"


def test_a_layer_names_the_service_before_pgservice(home: Path) -> None:
    write(home / ".pg_service.conf", "[a]\nhost=host-a\n[b]\nhost=host-b\n")
    keywords = resolve([command_line("service=b")], {"PGSERVICE": "a"}, home)
    assert keywords["host"].value == "host-b"
    assert keywords["service"] == Sourced("b", "command line")


def test_service_beats_variables_and_loses_to_layers(home: Path) -> None:
    user_file = write(home / ".pg_service.conf", "[prod]\nhost=svc-host\nport=6000\n")
    environ = {"PGSERVICE": "prod", "PGHOST": "env-host", "PGPORT": "7000", "PGUSER": "env-u"}
    keywords = resolve([command_line("port=8000")], environ, home)
    assert keywords["host"] == Sourced("svc-host", f"service prod in {user_file}")
    assert keywords["port"] == Sourced("8000", "command line")
    assert keywords["user"] == Sourced("env-u", "$PGUSER")


def test_an_unknown_service_names_where_it_looked(home: Path, tmp_path: Path) -> None:
    write(home / ".pg_service.conf", "[other]\nhost=db1\n")
    environ = {"PGSERVICE": "nope", "PGSYSCONFDIR": str(tmp_path / "etc")}
    with pytest.raises(ConnInfoError) as caught:
        resolve([], environ, home)
    message = str(caught.value)
    assert message.startswith('definition of service "nope" not found')
    assert str(home / ".pg_service.conf") in message
    assert str(tmp_path / "etc" / "pg_service.conf") in message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[prod]\nhost=db1\nwork_mem=64MB\n", 'line 3: invalid connection option "work_mem"'),
        ("# c\n[prod]\nhost=db1\n\nnot a setting\n", "line 5"),
        ("[prod]\nservice=other\n", 'line 2: invalid connection option "service"'),
    ],
    ids=["unknown-keyword", "no-equals", "nested-service"],
)
def test_a_bad_line_in_the_service_names_file_and_line(text: str, message: str, home: Path) -> None:
    path = write(home / ".pg_service.conf", text)
    with pytest.raises(ConnInfoError) as caught:
        resolve([], {"PGSERVICE": "prod"}, home)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_only_the_services_own_lines_are_checked(home: Path) -> None:
    # psql 15 connects with this file: it never reads the other sections' lines.
    write(
        home / ".pg_service.conf",
        "stray line\n[ldap]\nldap://ldap.example.com/dc=x?y\nwork_mem=1\n[prod]\nhost=db1\n",
    )
    assert resolve([], {"PGSERVICE": "prod"}, home)["host"].value == "db1"


@pytest.mark.parametrize(
    ("text", "host", "dbname"),
    [
        ("[prod]\nhost=first\nhost=second\n", "first", None),
        ("[prod]\nhost=db1\n[prod]\ndbname=app\n", "db1", None),
        ("[prod] # the primary\nhost=db1\n", "db1", None),
        ("[production]\nhost=wrong\n[prod]\nhost=db1\ndbname = app \n", "db1", "app"),
    ],
    ids=["first-value-wins", "first-section-only", "comment-after-header", "prefix-name"],
)
def test_service_sections_read_as_libpq_reads_them(
    text: str, host: str, dbname: str | None, home: Path
) -> None:
    write(home / ".pg_service.conf", text)
    keywords = resolve([command_line("user=u")], {"PGSERVICE": "prod"}, home)
    assert keywords["host"].value == host
    assert keywords["dbname"].value == (dbname or "u")


# -- defaults ------------------------------------------------------------------------------------


def test_defaults(home: Path) -> None:
    keywords = resolve([], {}, home)
    assert keywords["host"].value in SOCKET_DIRECTORIES
    assert keywords["host"].source == "default (Unix socket)"
    assert keywords["port"] == Sourced("5432", "default")
    assert keywords["user"] == Sourced(LOGIN_NAME, "default (your login name)")
    assert keywords["dbname"] == Sourced(LOGIN_NAME, "default (the user name)")
    assert keywords["sslmode"] == Sourced("prefer", "default")
    assert "application_name" not in keywords
    assert to_params(keywords).application_name == APPLICATION_NAME


def test_default_user_is_the_login_name_whatever_user_says(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # libpq asks the system (geteuid), as psql 15 shows: USER=alice still connects as root.
    monkeypatch.setenv("USER", "someone-else")
    monkeypatch.setenv("LOGNAME", "someone-else")
    keywords = resolve([], os.environ, home)
    assert keywords["user"].value == LOGIN_NAME != "someone-else"


def test_dbname_defaults_to_the_user_from_any_place(home: Path) -> None:
    keywords = resolve([], {"PGUSER": "dba"}, home)
    assert keywords["dbname"] == Sourced("dba", "default (the user name)")


@pytest.mark.parametrize(
    ("conninfo", "environ", "expected"),
    [
        ("", {"PGREQUIRESSL": "1"}, Sourced("require", "$PGREQUIRESSL")),
        ("", {"PGREQUIRESSL": "0"}, Sourced("prefer", "default")),
        ("", {"PGREQUIRESSL": "1", "PGSSLMODE": "disable"}, Sourced("disable", "$PGSSLMODE")),
        ("requiressl=1", {}, Sourced("require", "command line")),
        ("requiressl=1", {"PGSSLMODE": "disable"}, Sourced("require", "command line")),
        ("requiressl=0", {"PGREQUIRESSL": "1"}, Sourced("prefer", "command line")),
        ("sslrootcert=system", {}, Sourced("verify-full", "default (sslrootcert=system)")),
        ("sslrootcert=system sslmode=verify-ca", {}, Sourced("verify-ca", "command line")),
        ("", {"PGSSLROOTCERT": "system"}, Sourced("verify-full", "default (sslrootcert=system)")),
    ],
)
def test_default_sslmode(
    conninfo: str, environ: dict[str, str], expected: Sourced, home: Path
) -> None:
    assert resolve([command_line(conninfo)], environ, home)["sslmode"] == expected


# -- .pgpass -------------------------------------------------------------------------------------

WANTED = ("db1.example.com", "5432", "app", "dba")


def lookup(path: Path, host: str = WANTED[0], port: str = WANTED[1]) -> str | None:
    return read_passfile(path, host, port, WANTED[2], WANTED[3]).password


def test_passfile_exact_match(tmp_path: Path) -> None:
    path = write(tmp_path / "pgpass", "db1.example.com:5432:app:dba:secret\n")
    assert read_passfile(path, *WANTED) == PassfileResult("secret", path)


@pytest.mark.parametrize("field", range(4))
def test_passfile_wildcard_in_each_field(field: int, tmp_path: Path) -> None:
    pattern = list(WANTED)
    pattern[field] = "*"
    other = list(WANTED)
    other[field] = "something-else"
    path = write(tmp_path / "pgpass", ":".join(pattern) + ":secret\n")
    assert read_passfile(path, *WANTED).password == "secret"
    assert read_passfile(path, *other).password == "secret"
    exact = write(tmp_path / "exact", ":".join(WANTED) + ":secret\n")
    assert read_passfile(exact, *other).password is None


def test_passfile_first_match_wins(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pgpass",
        "db2.example.com:*:*:*:wrong-host\ndb1.example.com:5432:app:dba:first\n*:*:*:*:second\n",
    )
    assert lookup(path) == "first"
    assert lookup(path, host="db9") == "second"


@pytest.mark.parametrize(
    ("line", "host", "password"),
    [
        (r"db1.example.com:5432:app:dba:pa\:ss", WANTED[0], "pa:ss"),
        (r"db1.example.com:5432:app:dba:pa\\ss", WANTED[0], "pa\\ss"),
        (r"db\:1:5432:app:dba:secret", "db:1", "secret"),
        (r"fe80\:\:1:5432:app:dba:secret", "fe80::1", "secret"),
        # An unescaped colon ends the password, as in libpq (psql 15 connects with this).
        ("db1.example.com:5432:app:dba:secret:junk", WANTED[0], "secret"),
        ("db1.example.com:5432:app:dba:", WANTED[0], ""),
    ],
)
def test_passfile_escapes(line: str, host: str, password: str, tmp_path: Path) -> None:
    path = write(tmp_path / "pgpass", line + "\n")
    assert lookup(path, host=host) == password


def test_passfile_escaped_star_is_a_star_not_a_wildcard(tmp_path: Path) -> None:
    path = write(tmp_path / "pgpass", r"\*:5432:app:dba:secret" + "\n")
    assert lookup(path) is None
    assert lookup(path, host="*") == "secret"


def test_passfile_skips_comments_blank_and_short_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pgpass",
        "# *:*:*:*:commented\n\ndb1.example.com:5432:app:dba\r\n*:5432:app:dba:secret\r\n",
    )
    assert lookup(path) == "secret"


@pytest.mark.parametrize("socket_dir", SOCKET_DIRECTORIES)
def test_passfile_default_socket_directory_matches_localhost(
    socket_dir: str, tmp_path: Path
) -> None:
    path = write(tmp_path / "pgpass", "localhost:5432:app:dba:local\n")
    assert lookup(path, host=socket_dir) == "local"
    assert lookup(path, host="") == "local"


def test_passfile_other_socket_directory_matches_its_path(tmp_path: Path) -> None:
    # As libpq: only the default socket directory stands for `localhost` (checked with psql).
    socket_dir = str(tmp_path / "sock")
    path = write(tmp_path / "pgpass", f"localhost:5432:app:dba:local\n{socket_dir}:*:*:*:path\n")
    assert lookup(path, host=socket_dir) == "path"
    only_localhost = write(tmp_path / "only", "localhost:5432:app:dba:local\n")
    assert lookup(only_localhost, host=socket_dir) is None


def test_passfile_port_is_compared_as_text(tmp_path: Path) -> None:
    path = write(tmp_path / "pgpass", "db1.example.com:6432:app:dba:secret\n")
    assert lookup(path) is None
    assert lookup(path, port="6432") == "secret"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_passfile_readable_by_others_is_ignored_with_a_notice(mode: int, tmp_path: Path) -> None:
    path = write(tmp_path / "pgpass", "*:*:*:*:secret\n", mode=mode)
    result = read_passfile(path, *WANTED)
    assert result.password is None
    assert result.notice is not None
    assert str(path) in result.notice
    assert f"{mode:04o}" in result.notice


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_passfile_private_modes_are_read(mode: int, tmp_path: Path) -> None:
    path = write(tmp_path / "pgpass", "*:*:*:*:secret\n", mode=mode)
    assert read_passfile(path, *WANTED) == PassfileResult("secret", path)


def test_missing_passfile_gives_no_password_and_no_notice(tmp_path: Path) -> None:
    path = tmp_path / "absent"
    assert read_passfile(path, *WANTED) == PassfileResult(None, path, None)


def test_passfile_that_is_a_directory_is_ignored_with_a_notice(tmp_path: Path) -> None:
    result = read_passfile(tmp_path, *WANTED)
    assert result.password is None
    assert result.notice is not None and "not a regular file" in result.notice


def test_passfile_path(home: Path, tmp_path: Path) -> None:
    assert passfile_path(resolve([], {}, home), home) == home / ".pgpass"
    elsewhere = str(tmp_path / "pw")
    assert passfile_path(resolve([], {"PGPASSFILE": elsewhere}, home), home) == Path(elsewhere)
    given = resolve([command_line(f"passfile={elsewhere}x")], {"PGPASSFILE": elsewhere}, home)
    assert passfile_path(given, home) == Path(elsewhere + "x")


# -- to_params -----------------------------------------------------------------------------------


def test_keywords_become_params(home: Path) -> None:
    built, _ = params(
        "host=db1,db2 port=5433,5434 user=dba dbname=app sslmode=verify-full "
        "sslrootcert=/ca.crt sslcert=/c.crt sslkey=/c.key",
        home,
    )
    assert (built.host, built.port, built.fallbacks) == ("db1", 5433, (("db2", 5434),))
    assert (built.user, built.database, built.password) == ("dba", "app", None)
    assert built.sslmode is SslMode.VERIFY_FULL
    assert (built.sslrootcert, built.sslcert, built.sslkey) == ("/ca.crt", "/c.crt", "/c.key")
    assert built.ignored == ()


@pytest.mark.parametrize(
    ("conninfo", "environ", "prefix"),
    [
        ("hostaddr=10.0.0.1", {}, "hostaddr=10.0.0.1 (command line): not supported"),
        ("", {"PGHOSTADDR": "10.0.0.2"}, "hostaddr=10.0.0.2 ($PGHOSTADDR): not supported"),
        ("require_auth=scram-sha-256", {}, "require_auth=scram-sha-256 (command line): not supp"),
        ("replication=database", {}, "replication=database (command line): not supported"),
        ("sslmode=verify", {}, "sslmode=verify (command line): invalid sslmode"),
        ("channel_binding=require", {}, "channel_binding=require (command line): not supported"),
        ("client_encoding=LATIN1", {}, "client_encoding=LATIN1 (command line): pgconsole talks"),
        ("", {"PGCLIENTENCODING": "SQL_ASCII"}, "client_encoding=SQL_ASCII ($PGCLIENTENCODING)"),
    ],
)
def test_refused_keywords_name_key_value_and_source(
    conninfo: str, environ: dict[str, str], prefix: str, home: Path
) -> None:
    with pytest.raises(ConnInfoError) as caught:
        params(conninfo, home, environ)
    assert str(caught.value).startswith(prefix)


@pytest.mark.parametrize("encoding", ["UTF8", "utf-8", "unicode", "auto"])
def test_utf8_client_encodings_are_accepted(encoding: str, home: Path) -> None:
    assert params(f"client_encoding={encoding}", home)[0].database == LOGIN_NAME


def test_keywords_without_effect_are_listed_as_ignored(home: Path) -> None:
    built, _ = params("keepalives=1 keepalives_idle=30 sslcompression=1 host=db1", home)
    assert [entry.split(":")[0] for entry in built.ignored] == [
        "keepalives",
        "keepalives_idle",
        "sslcompression",
    ]
    assert all("not adjustable" in entry for entry in built.ignored[:2])


def test_passfile_and_service_are_used_so_never_listed_as_ignored(home: Path) -> None:
    """Both do their work before the driver (the password, the service's settings): doctor
    must not call them ignored."""
    write(home / ".pg_service.conf", "[ops]\nhost=db1\n")
    built, keywords = params(f"service=ops passfile={home / 'pgpass'}", home)
    assert keywords["host"].value == "db1" and keywords["passfile"].value == str(home / "pgpass")
    assert built.ignored == ()


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(None, 10.0), ("1", 2.0), ("2", 2.0), ("5", 5.0), (" 7 ", 7.0), ("0", None), ("-1", None)],
)
def test_connect_timeout(value: str | None, seconds: float | None, home: Path) -> None:
    text = "" if value is None else f"connect_timeout='{value}'"
    assert params(text, home)[0].connect_timeout == seconds


def test_connect_timeout_from_the_variable(home: Path) -> None:
    assert params("", home, {"PGCONNECT_TIMEOUT": "1"})[0].connect_timeout == 2.0


@pytest.mark.parametrize("value", ["abc", "1.5", "5s"])
def test_connect_timeout_must_be_whole_seconds(value: str, home: Path) -> None:
    with pytest.raises(ConnInfoError) as caught:
        params(f"connect_timeout={value}", home)
    assert str(caught.value) == (
        f"connect_timeout={value} (command line): must be a whole number of seconds"
    )


@pytest.mark.parametrize(
    ("host", "port", "endpoints"),
    [
        ("db1,db2", "6432", (("db1", 6432), ("db2", 6432))),
        ("db1,db2", "6432,", (("db1", 6432), ("db2", 5432))),
        ("db1,/tmp", "1,2", (("db1", 1), ("/tmp", 2))),
    ],
)
def test_hosts_and_ports_pair_up(
    host: str, port: str, endpoints: tuple[tuple[str, int], ...], home: Path
) -> None:
    assert params(f"host={host} port={port}", home)[0].endpoints == endpoints


def test_ports_must_match_hosts(home: Path) -> None:
    with pytest.raises(ConnInfoError) as caught:
        params("host=a,b,c port=1,2", home)
    assert str(caught.value) == "could not match 2 port numbers to 3 hosts"


@pytest.mark.parametrize("port", ["0", "65536", "abc"])
def test_a_bad_port_names_its_source(port: str, home: Path) -> None:
    with pytest.raises(ConnInfoError) as caught:
        params("host=db1", home, {"PGPORT": port})
    assert str(caught.value) == f'port={port} ($PGPORT): invalid port number: "{port}"'


@pytest.mark.parametrize(
    ("options", "settings"),
    [
        (r"-c geqo=off -c search_path=a\ b", (("geqo", "off"), ("search_path", "a b"))),
        ("--work-mem=64MB", (("work_mem", "64MB"),)),
        (
            "-cwork_mem=1MB  --statement_timeout=5s",
            (("work_mem", "1MB"), ("statement_timeout", "5s")),
        ),
        ("-c application_name=", (("application_name", ""),)),
        ("", ()),
    ],
)
def test_parse_options(options: str, settings: tuple[tuple[str, str], ...]) -> None:
    assert parse_options(options) == settings


@pytest.mark.parametrize(
    ("options", "word"),
    [("-d 5", '"-d"'), ("-c geqo", '"geqo"'), ("-c", '"-c"'), ("--geqo", '"--geqo"')],
)
def test_options_other_than_settings_are_refused(options: str, word: str) -> None:
    with pytest.raises(ConnInfoError) as caught:
        parse_options(options)
    assert str(caught.value).startswith(f"options: {word}")


def test_options_reach_the_params_from_pgoptions(home: Path) -> None:
    built, _ = params("", home, {"PGOPTIONS": "-c geqo=off"})
    assert built.options == (("geqo", "off"),)
    built, _ = params(r"options='-c search_path=a\\ b'", home, {"PGOPTIONS": "-c geqo=off"})
    assert built.options == (("search_path", "a b"),)


@pytest.mark.parametrize(
    "attrs", ["any", "read-write", "read-only", "primary", "standby", "prefer-standby"]
)
def test_target_session_attrs(attrs: str, home: Path) -> None:
    assert params(f"target_session_attrs={attrs}", home)[0].target_session_attrs == attrs


def test_target_session_attrs_default_and_bad_value(home: Path) -> None:
    assert params("", home)[0].target_session_attrs == "any"
    with pytest.raises(ConnInfoError) as caught:
        params("", home, {"PGTARGETSESSIONATTRS": "master"})
    assert str(caught.value) == (
        "target_session_attrs=master ($PGTARGETSESSIONATTRS): invalid value"
    )


@pytest.mark.parametrize(
    ("conninfo", "environ", "name"),
    [
        ("", {}, "pgconsole"),
        ("", {"PGAPPNAME": "oncall"}, "oncall"),
        ("application_name=mine", {"PGAPPNAME": "oncall"}, "mine"),
        ("fallback_application_name=other", {}, "pgconsole"),
    ],
)
def test_application_name(conninfo: str, environ: dict[str, str], name: str, home: Path) -> None:
    assert params(conninfo, home, environ)[0].application_name == name
