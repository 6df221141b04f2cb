"""Settings layers and their precedence; every bad value names where it came from."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pgconsole.config import ConfigError, Settings, load_settings, read_config_file
from pgconsole.db.connection.params import Timeouts, stricter
from pgconsole.server_list import server_list

CONFIG = """
statement_timeout = "20s"
pool_max_size = 6

[profiles.prod]
dsn = "postgresql://dba@prod.example.com/app?sslmode=verify-full"
read_only = true
statement_timeout = "10s"

[profiles.staging]
dsn = "postgresql://dba@staging.example.com/app"
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    return path


@pytest.mark.parametrize(
    ("variable", "overrides", "expected"),
    [
        (None, {}, Settings()),  # nothing to validate: the dataclass's defaults
        (None, {"read_only": True}, Settings(read_only=True)),  # a switch needs no check
        ("true", {}, Settings(read_only=True)),  # validated: the model's defaults are the same
        ("false", {"lock_timeout": " 1s "}, Settings(lock_timeout="1s")),
    ],
)
def test_validated_or_not_the_defaults_are_the_same(
    monkeypatch: pytest.MonkeyPatch,
    variable: str | None,
    overrides: dict[str, object],
    expected: Settings,
) -> None:
    if variable is not None:
        monkeypatch.setenv("PGCONSOLE_READ_ONLY", variable)
    assert load_settings(read_config_file(None), overrides=overrides) == expected


def test_only_a_switch_skips_validation() -> None:
    # a bool for a field that is not one is validated (pydantic makes it the int 1)
    settings = load_settings(read_config_file(None), overrides={"pool_max_size": True})
    assert type(settings.pool_max_size) is int and settings.pool_max_size == 1
    with pytest.raises(ConfigError, match="--no-such-setting"):
        load_settings(read_config_file(None), overrides={"no_such_setting": True})


def test_defaults_without_any_file() -> None:
    settings = load_settings(read_config_file(None))
    assert settings.dsn is None
    assert settings.read_only is False
    assert settings.statement_timeout == "30s"
    assert settings.idle_in_transaction_session_timeout == "2min"


def test_profile_overrides_top_level_which_overrides_defaults(config_file: Path) -> None:
    config = read_config_file(config_file)
    prod = load_settings(config, "prod")
    assert prod.read_only is True
    assert prod.statement_timeout == "10s"  # profile beats top level
    assert prod.pool_max_size == 6  # top level beats defaults
    assert prod.lock_timeout == "5s"  # default
    staging = load_settings(config, "staging")
    assert staging.read_only is False and staging.statement_timeout == "20s"


def test_environment_beats_the_file_and_flags_beat_both(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = read_config_file(config_file)
    monkeypatch.setenv("PGCONSOLE_STATEMENT_TIMEOUT", "5s")
    monkeypatch.setenv("PGCONSOLE_READ_ONLY", "false")
    settings = load_settings(config, "prod")
    assert settings.statement_timeout == "5s"
    assert settings.read_only is False
    settings = load_settings(config, "prod", {"read_only": True})
    assert settings.read_only is True


def test_config_and_profile_from_environment(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGCONSOLE_CONFIG", str(config_file))
    monkeypatch.setenv("PGCONSOLE_PROFILE", "prod")
    settings = load_settings(read_config_file(None))
    assert settings.dsn is not None and "prod.example.com" in settings.dsn


def test_xdg_config_home_is_the_default_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pgconsole").mkdir()
    (tmp_path / "pgconsole" / "config.toml").write_text('lock_timeout = "2s"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert load_settings(read_config_file(None)).lock_timeout == "2s"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("statement_timeout = [", "not valid TOML"),
        ("colour = 'red'\n", "unknown key 'colour'"),
        ("[profiles.x]\nwork_mem = '1GB'\n", "[profiles.x] unknown key 'work_mem'"),
        ("[profiles.x]\npassword = 'secret'\n", "passwords do not belong in the config file"),
        ("profiles = 3\n", "[profiles] must hold tables"),
    ],
)
def test_bad_files_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        read_config_file(path)
    assert str(path) in str(raised.value)
    assert message in str(raised.value)


def test_bad_value_names_profile_and_key(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[profiles.prod]\nstatement_timeout = 'forever'\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(read_config_file(path), "prod")
    assert str(raised.value).startswith(
        f"invalid value for {path}: [profiles.prod] statement_timeout"
    )
    assert "PostgreSQL duration" in str(raised.value)


def test_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGCONSOLE_POOL_MAX_SIZE", "lots")
    with pytest.raises(ConfigError, match=r"invalid value for \$PGCONSOLE_POOL_MAX_SIZE"):
        load_settings(read_config_file(None))


def test_unknown_profile_lists_the_known_ones(config_file: Path) -> None:
    with pytest.raises(ConfigError, match=r'no profile "dev" .* \(profiles: prod, staging\)'):
        load_settings(read_config_file(config_file), "dev")


def test_missing_named_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        read_config_file(tmp_path / "nope.toml")


def test_example_config_is_valid() -> None:
    example = Path(__file__).parent.parent / "config.example.toml"
    config = read_config_file(example)
    for name in config.profiles:
        load_settings(config, name)


@pytest.mark.parametrize(
    ("ours", "theirs", "expected"),
    [
        ("30s", "0", "30s"),  # the server has no limit: ours
        ("2min", "10s", "10s"),  # a role's stricter limit is kept
        ("10s", "2min", "10s"),  # ours is stricter
        ("0", "10s", "10s"),  # ours is none: never loosens theirs
        ("0", "0", "0"),
        ("500", "1s", "500"),  # a bare number is milliseconds
        ("1h", "60min", "60min"),  # equal: theirs, unchanged
        ("30s", "not a duration", "not a duration"),
    ],
)
def test_session_limits_only_tighten_the_servers(ours: str, theirs: str, expected: str) -> None:
    assert stricter(ours, theirs) == expected


def test_configured_limits_are_tightened_by_the_servers() -> None:
    configured = Settings(statement_timeout="0", lock_timeout="1s").session()
    server = Timeouts("15s", "3s", "10s", "1h")
    tightened = configured.tightened(server)
    assert tightened.server_settings() == {
        "statement_timeout": "15s",
        "lock_timeout": "1s",
        "idle_in_transaction_session_timeout": "10s",
    }
    assert configured.timeouts == Timeouts("0", "1s", "2min", "0")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[fleet]\nserver = ["host=db1"]\n', "unknown key 'server'"),
        ('[fleet]\nservers = "host=db1"\n', "servers must be a list of strings"),
        ('[fleet]\nservers = ["host=db1 password=x"]\n', "passwords do not belong"),
        ('[fleet]\nservers = ["host=db1 colour=red"]\n', 'invalid connection option "colour"'),
        ("[fleet]\nconcurrency = 0\n", "concurrency must be a number above 0"),
        ('[fleet]\nkeep_connections = "yes"\n', "keep_connections must be true or false"),
    ],
)
def test_a_fleet_table_pgconsole_could_not_use_is_refused(
    tmp_path: Path, table: str, message: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(table)
    with pytest.raises(ConfigError, match=re.escape(message)):
        read_config_file(path)


def test_the_fleet_lists_profiles_then_its_servers_with_its_options(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[profiles.b]\nhost = "db2"\n[profiles.a]\nhost = "db1"\ncolor = "nope"\n'
        '[fleet]\nservers = ["host=db3 dbname=app"]\nconcurrency = 3\ninterval = 10\n'
    )
    servers = server_list(read_config_file(path), home=tmp_path)
    assert [entry.name for entry in servers.entries] == ["b", "a", "host=db3 dbname=app"]
    assert servers.entries[1].target is None  # a bad colour: shown with its reason
    assert servers.entries[1].problem is not None and "unknown colour" in servers.entries[1].problem
    db3 = servers.entries[2].target
    assert db3 is not None and db3.params.host == "db3" and db3.params.database == "app"
    assert servers.options.concurrency == 3 and servers.options.interval == 10
    assert servers.options.connect_timeout == 3.0  # the default
    only = server_list(read_config_file(path), ["a", "b"], home=tmp_path)
    assert [entry.name for entry in only.entries] == ["a", "b"]
    with pytest.raises(ConfigError, match='no profile "c"'):
        server_list(read_config_file(path), ["c"], home=tmp_path)
