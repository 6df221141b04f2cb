"""resolve_target end to end: every place a connection setting can come from, in order.

Documented precedence: command line > $PGCONSOLE_* > profile > config file top level >
service file > PG* variables > libpq defaults.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from pgconsole.config import ConfigError, ConfigFile, read_config_file
from pgconsole.db.connection.libpq import SOCKET_DIRECTORIES, Sourced
from pgconsole.db.connection.params import ConnInfoError
from pgconsole.db.connection.passwords import PasswordSource, find_password
from pgconsole.target import Target, resolve_target

LAYERS = ("conninfo", "pgconsole_env", "profile", "config", "service", "pghost")
"""Every place a host can come from, highest precedence first."""


@pytest.fixture
def home(hermetic_environment: Path) -> Path:
    """The test's own HOME (no PG* or PGCONSOLE_* variable is set in it)."""
    return hermetic_environment


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return tmp_path / "config.toml"


def resolve_hosts(
    present: tuple[str, ...],
    config_path: Path,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Target:
    """Set a host in each place named in `present`, then resolve."""
    top = 'host = "config-host"\n' if "config" in present else ""
    config_path.write_text(top + '[profiles.prod]\nhost = "profile-host"\n')
    (home / ".pg_service.conf").write_text("[svc]\nhost=service-host\n")
    if "service" in present:
        monkeypatch.setenv("PGSERVICE", "svc")
    if "pghost" in present:
        monkeypatch.setenv("PGHOST", "pghost-host")
    if "pgconsole_env" in present:
        monkeypatch.setenv("PGCONSOLE_HOST", "env-host")
    return resolve_target(
        read_config_file(config_path),
        conninfo="host=conninfo-host" if "conninfo" in present else None,
        profile="prod" if "profile" in present else None,
        environ=os.environ,
        home=home,
    )


def expected_host(layer: str | None, config_path: Path, home: Path) -> Sourced | None:
    """The value and source text each place gives (None: libpq's default socket)."""
    return {
        "conninfo": Sourced("conninfo-host", "command line"),
        "pgconsole_env": Sourced("env-host", "$PGCONSOLE_HOST"),
        "profile": Sourced("profile-host", f"profile prod in {config_path}"),
        "config": Sourced("config-host", str(config_path)),
        "service": Sourced("service-host", f"service svc in {home / '.pg_service.conf'}"),
        "pghost": Sourced("pghost-host", "$PGHOST"),
        None: None,
    }[layer]


def assert_host(target: Target, expected: Sourced | None) -> None:
    host = target.keywords["host"]
    if expected is None:
        assert host.value in SOCKET_DIRECTORIES
        assert host.source == "default (Unix socket)"
    else:
        assert host == expected
    assert target.params.host == host.value


@pytest.mark.parametrize("removed", range(len(LAYERS) + 1))
def test_removing_layers_from_the_top_reveals_each_next_one(
    removed: int, config_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    present = LAYERS[removed:]
    target = resolve_hosts(present, config_path, home, monkeypatch)
    winner = present[0] if present else None
    assert_host(target, expected_host(winner, config_path, home))


@pytest.mark.parametrize(
    "present",
    [combo for n in range(len(LAYERS) + 1) for combo in itertools.combinations(LAYERS, n)],
    ids=lambda combo: "+".join(combo) or "nothing",
)
def test_the_highest_place_present_wins(
    present: tuple[str, ...], config_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = resolve_hosts(present, config_path, home, monkeypatch)
    winner = next((name for name in LAYERS if name in present), None)
    assert_host(target, expected_host(winner, config_path, home))


def test_each_keyword_comes_from_its_own_highest_place(
    config_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path.write_text(
        'dbname = "config-db"\n[profiles.prod]\nport = "6432"\nsslmode = "verify-full"\n'
    )
    (home / ".pg_service.conf").write_text("[svc]\nuser=svc-user\nport=7000\ndbname=svc-db\n")
    monkeypatch.setenv("PGSERVICE", "svc")
    monkeypatch.setenv("PGHOST", "pghost-host")
    monkeypatch.setenv("PGUSER", "pguser")
    monkeypatch.setenv("PGCONSOLE_APPLICATION_NAME", "oncall")
    target = resolve_target(
        read_config_file(config_path),
        conninfo="postgresql:///?connect_timeout=3",
        profile="prod",
        environ=os.environ,
        home=home,
    )
    sources = {key: sourced.source for key, sourced in target.keywords.items()}
    assert sources == {
        "connect_timeout": "command line",
        "application_name": "$PGCONSOLE_APPLICATION_NAME",
        "port": f"profile prod in {config_path}",
        "sslmode": f"profile prod in {config_path}",
        "dbname": str(config_path),
        "service": "$PGSERVICE",
        "user": f"service svc in {home / '.pg_service.conf'}",
        "host": "$PGHOST",
    }
    params = target.params
    assert (params.host, params.port, params.user, params.database) == (
        "pghost-host",
        6432,
        "svc-user",
        "config-db",
    )
    assert (params.connect_timeout, params.application_name) == (3.0, "oncall")


def test_a_profile_field_overrides_the_same_profiles_dsn(config_path: Path, home: Path) -> None:
    config_path.write_text(
        "[profiles.prod]\n"
        'dsn = "postgresql://dba@dsn-host:6432/app?sslmode=require"\n'
        'host = "field-host"\n'
        'sslmode = "verify-full"\n'
    )
    target = resolve_target(read_config_file(config_path), profile="prod", home=home)
    source = f"profile prod in {config_path}"
    assert target.keywords["host"] == Sourced("field-host", source)
    assert target.keywords["sslmode"] == Sourced("verify-full", source)
    assert target.keywords["port"] == Sourced("6432", source)  # the dsn's, not overridden
    assert (target.params.host, target.params.port, target.params.user) == (
        "field-host",
        6432,
        "dba",
    )


def test_pgconsole_dsn_beats_a_profile_field(
    config_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path.write_text('[profiles.prod]\nhost = "profile-host"\nport = "6432"\n')
    monkeypatch.setenv("PGCONSOLE_DSN", "host=env-host user=dba")
    target = resolve_target(read_config_file(config_path), profile="prod", home=home)
    assert target.keywords["host"] == Sourced("env-host", "$PGCONSOLE_DSN")
    assert target.keywords["user"] == Sourced("dba", "$PGCONSOLE_DSN")
    assert target.keywords["port"] == Sourced("6432", f"profile prod in {config_path}")


def test_the_command_line_conninfo_beats_pgconsole_dsn(
    config_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGCONSOLE_DSN", "postgresql://env-host:6432")
    target = resolve_target(read_config_file(None), conninfo="host=cli-host", home=home)
    assert target.keywords["host"] == Sourced("cli-host", "command line")
    assert target.keywords["port"] == Sourced("6432", "$PGCONSOLE_DSN")


@pytest.mark.parametrize(
    ("profile", "environment_profile", "key"),
    [
        ("prod", None, "prod"),
        (None, "prod", "prod"),
        (None, None, "dba@db1:6432"),
    ],
)
def test_keyring_key_is_the_profile_else_user_at_host_and_port(
    profile: str | None,
    environment_profile: str | None,
    key: str,
    config_path: Path,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config_path.write_text('[profiles.prod]\nhost = "prod-host"\n')
    if environment_profile:
        monkeypatch.setenv("PGCONSOLE_PROFILE", environment_profile)
    target = resolve_target(
        read_config_file(config_path),
        conninfo="host=db1 port=6432 user=dba",
        profile=profile,
        environ=os.environ,
        home=home,
    )
    assert target.password_query.keyring_key == key
    assert target.profile == (profile or environment_profile)


async def test_the_password_query_takes_the_conninfo_password(home: Path) -> None:
    target = resolve_target(
        read_config_file(None), conninfo="host=db1 port=6432 dbname=app user=dba password=s3cr3t"
    )
    query = target.password_query
    assert query.conninfo_password == "s3cr3t"
    assert (query.host, query.port, query.database, query.user) == ("db1", 6432, "app", "dba")
    assert query.passfile == home / ".pgpass"
    assert target.params.password is None  # found at connect time, not kept in the params
    choice = await find_password(query, os.environ)
    assert (choice.password, choice.source) == ("s3cr3t", PasswordSource.CONNINFO)


@pytest.mark.parametrize(
    ("conninfo", "password"),
    [
        ("postgresql://dba:p%40ss@db1/app", "p@ss"),
        ("postgresql://dba:@db1/app", None),  # libpq: an empty password is no password
        ("postgresql://dba@db1/app", None),
        ("host=db1 password=''", ""),
    ],
)
def test_conninfo_passwords_from_a_uri(conninfo: str, password: str | None, home: Path) -> None:
    target = resolve_target(read_config_file(None), conninfo=conninfo, home=home)
    assert target.password_query.conninfo_password == password


def test_pgpassfile_names_the_password_file(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "pw"))
    target = resolve_target(read_config_file(None), conninfo="host=db1", home=home)
    assert target.password_query.passfile == tmp_path / "pw"


def test_pgpassword_is_not_a_conninfo_password(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPASSWORD", "from-env")
    target = resolve_target(read_config_file(None), conninfo="host=db1", home=home)
    assert "password" not in target.keywords
    assert target.password_query.conninfo_password is None


def test_a_bad_profile_dsn_names_the_profile(config_path: Path, home: Path) -> None:
    config_path.write_text('[profiles.prod]\ndsn = "host=db1 work_mem=64MB"\n')
    with pytest.raises(ConnInfoError) as caught:
        resolve_target(read_config_file(config_path), profile="prod", home=home)
    assert str(caught.value) == (
        f'profile prod in {config_path}: invalid connection option "work_mem"'
    )


def test_an_unknown_key_in_the_conninfo_is_an_error(home: Path) -> None:
    with pytest.raises(ConnInfoError) as caught:
        resolve_target(read_config_file(None), conninfo="postgresql://db1?work_mem=64MB")
    assert str(caught.value) == 'invalid connection option "work_mem"'


def test_a_profile_names_a_service(
    config_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path.write_text('[profiles.prod]\nservice = "svc"\n')
    service_file = home / ".pg_service.conf"
    service_file.write_text("[svc]\nhost=service-host\nport=6543\n[other]\nhost=other\n")
    monkeypatch.setenv("PGSERVICE", "other")
    target = resolve_target(read_config_file(config_path), profile="prod", home=home)
    assert target.keywords["host"] == Sourced("service-host", f"service svc in {service_file}")
    assert target.params.endpoints == (("service-host", 6543),)


def test_a_colour_the_status_bar_could_not_draw_is_refused(config_path: Path, home: Path) -> None:
    config_path.write_text('[profiles.prod]\nhost = "db1"\ncolor = "blood"\n')
    with pytest.raises(ConfigError, match='color: unknown colour "blood"'):
        resolve_target(read_config_file(config_path), profile="prod", home=home)
    config_path.write_text('[profiles.prod]\nhost = "db1"\ncolor = "#d70000"\n')
    target = resolve_target(read_config_file(config_path), profile="prod", home=home)
    assert target.settings.color == "#d70000"


def test_a_bad_bastion_or_a_socket_host_is_refused_before_connecting(
    home: Path,
) -> None:
    config = ConfigFile(None, {}, {})
    with pytest.raises(ConfigError, match="ssh: bad port in ssh bastion"):
        resolve_target(config, conninfo="host=db1", overrides={"ssh": "jump:ssh"}, home=home)
    with pytest.raises(ConfigError, match="Unix socket directory"):
        resolve_target(config, conninfo="host=/tmp", overrides={"ssh": "jump"}, home=home)
