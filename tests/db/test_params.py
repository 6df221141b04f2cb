"""Connection URIs and what each sslmode asks of asyncpg."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from pgconsole.db.cluster import ThrowawayCluster
from pgconsole.db.params import ConnectParams, ConnInfoError, SessionSettings, SslMode, parse_uri


def test_parse_full_uri() -> None:
    params = parse_uri(
        "postgresql://al%40ice:p%40ss@db.example.com:6543/sales%20db"
        "?sslmode=verify-full&sslrootcert=/etc/ca.pem&connect_timeout=3"
    )
    assert params.user == "al@ice"
    assert params.password == "p@ss"
    assert params.host == "db.example.com"
    assert params.port == 6543
    assert params.database == "sales db"
    assert params.sslmode is SslMode.VERIFY_FULL
    assert params.sslrootcert == Path("/etc/ca.pem")
    assert params.connect_timeout == 3.0


def test_defaults_follow_libpq() -> None:
    params = parse_uri("postgresql://bob@host/", connect_timeout=7)
    assert params.port == 5432
    assert params.database == "bob"  # libpq: the database defaults to the user name
    assert params.sslmode is SslMode.PREFER
    assert params.connect_timeout == 7


def test_password_is_not_in_repr_or_target() -> None:
    params = parse_uri("postgresql://bob:hunter2@host/db")
    assert "hunter2" not in repr(params)
    assert "hunter2" not in params.target
    assert params.target == "bob@host:5432/db"


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("mysql://host/db", "postgresql://"),
        ("postgresql://host:99999/db", "invalid port"),
        ("postgresql://host/db?sslmode=sometimes", "invalid sslmode"),
        ("postgresql://host/db?connect_timeout=soon", "connect_timeout"),
        ("postgresql://host/db?work_mem=1GB", "unknown connection URI parameter: work_mem"),
    ],
)
def test_bad_uris_are_clear_errors(uri: str, message: str) -> None:
    with pytest.raises(ConnInfoError, match=message):
        parse_uri(uri)


def test_ssl_argument_per_mode(cluster: ThrowawayCluster) -> None:
    assert ConnectParams(sslmode=SslMode.DISABLE).ssl_argument() is False
    assert ConnectParams(sslmode=SslMode.PREFER).ssl_argument() == "prefer"
    required = ConnectParams(sslmode=SslMode.REQUIRE).ssl_argument()
    assert isinstance(required, ssl.SSLContext)
    assert required.verify_mode is ssl.CERT_NONE
    full = ConnectParams(sslmode=SslMode.VERIFY_FULL, sslrootcert=cluster.ca_file).ssl_argument()
    assert isinstance(full, ssl.SSLContext)
    assert full.verify_mode is ssl.CERT_REQUIRED and full.check_hostname
    ca_only = ConnectParams(sslmode=SslMode.VERIFY_CA, sslrootcert=cluster.ca_file).ssl_argument()
    assert isinstance(ca_only, ssl.SSLContext)
    assert ca_only.verify_mode is ssl.CERT_REQUIRED and not ca_only.check_hostname


def test_unreadable_root_certificate_is_a_clear_error(tmp_path: Path) -> None:
    params = ConnectParams(sslmode=SslMode.VERIFY_FULL, sslrootcert=tmp_path / "missing.crt")
    with pytest.raises(ConnInfoError, match=r"missing\.crt could not be read"):
        params.ssl_argument()


def test_session_settings_name_pgconsole_and_read_only() -> None:
    settings = SessionSettings(read_only=True).server_settings()
    assert settings["application_name"] == "pgconsole"
    assert settings["default_transaction_read_only"] == "on"
    assert "default_transaction_read_only" not in SessionSettings().server_settings()
