"""`pgconsole doctor`: a report with sources and TLS facts, exit 0; one line and 1 on failure."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from pgconsole.db.quoting import quote_ident
from pgconsole.throwaway.certs import CertificateAuthority
from pgconsole.throwaway.cluster import ThrowawayCluster, free_port


def doctor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pgconsole", "doctor", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env=environment,
        check=False,
    )


def rows(out: str) -> dict[str, list[str]]:
    """Report rows by label: `  label   value   source` split on runs of spaces."""
    table: dict[str, list[str]] = {}
    for line in out.splitlines():
        if line.startswith("  "):
            label, *rest = re.split(r"\s{2,}", line.strip())
            table.setdefault(label, rest)
    return table


def keywords(cluster: ThrowawayCluster, **changes: str) -> str:
    values = {
        "host": cluster.host,
        "port": str(cluster.port),
        "dbname": "postgres",
        "user": cluster.superuser,
        "sslmode": "verify-full",
        "sslrootcert": str(cluster.ca_file),
    }
    values.update(changes)
    return " ".join(f"{key}={value}" for key, value in values.items())


def test_verified_report(cluster: ThrowawayCluster) -> None:
    result = doctor(keywords(cluster), env={"PGPASSWORD": cluster.password})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    table = rows(out)
    assert table["host"] == [cluster.host, "command line"]
    assert table["sslmode"] == ["verify-full", "command line"]
    assert table["statement_timeout"] == ["30s", "default"]
    assert table["read_only"] == ["no", "default"]
    assert table["source"] == ["$PGPASSWORD"]
    assert table["certificate verified"] == [f"yes (against {cluster.ca_file})"]
    assert table["host name checked"] == ["yes"]
    assert table["badge"] == ["TLS verified"]
    for power in ("superuser", "pg_monitor", "pg_read_all_stats", "pg_signal_backend"):
        assert table[power] == ["yes"]
    assert table["pool"][0].startswith("min 1, max 4")
    assert out.rstrip().endswith("OK: connected, TLS verified")
    assert cluster.password not in out + result.stderr


def test_sources_of_profile_and_environment(cluster: ThrowawayCluster, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[profiles.test]\nhost = "{cluster.host}"\nport = {cluster.port}\n'
        f'sslmode = "verify-full"\nsslrootcert = "{cluster.ca_file}"\nread_only = true\n'
    )
    result = doctor(
        "--config",
        str(config),
        "--profile",
        "test",
        env={"PGPASSWORD": cluster.password, "PGUSER": cluster.superuser, "PGDATABASE": "postgres"},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    table = rows(out)
    assert table["host"] == [cluster.host, f"profile test in {config}"]
    assert table["port"] == [str(cluster.port), f"profile test in {config}"]
    assert table["user"] == [cluster.superuser, "$PGUSER"]
    assert table["dbname"] == ["postgres", "$PGDATABASE"]
    assert table["read_only"] == ["yes", f"profile test in {config}"]
    assert "read-only yes" in table["session settings"][0]


@pytest.mark.parametrize("case", ["password", "host", "port", "tls"])
def test_failures_are_one_line_and_non_zero(
    cluster: ThrowawayCluster, tmp_path: Path, case: str
) -> None:
    env = {"PGPASSWORD": cluster.password}
    if case == "password":
        env["PGPASSWORD"] = "wrong"
        conninfo, expected = keywords(cluster), 'Password authentication failed for user "postgres"'
    elif case == "host":
        conninfo, expected = keywords(cluster, host="no-such-host.invalid"), "Unknown host"
    elif case == "port":
        port = free_port()
        conninfo, expected = keywords(cluster, port=str(port)), "Connection refused"
    else:
        other = CertificateAuthority.create(tmp_path, "another CA")
        conninfo = keywords(cluster, sslrootcert=str(other.cert))
        expected = "TLS: the server's certificate could not be verified"
    result = doctor(conninfo, env=env)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("pgconsole doctor: ")
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert "wrong" not in result.stderr


def test_no_password_anywhere_names_the_cause(cluster: ThrowawayCluster) -> None:
    result = doctor(keywords(cluster))
    assert result.returncode == 1
    assert "the server asks for one and no source had it" in result.stderr


def test_bad_settings_exit_2(cluster: ThrowawayCluster) -> None:
    result = doctor(keywords(cluster, keepalives_count="3", work_mem="1GB"))
    assert result.returncode == 2
    assert 'invalid connection option "work_mem"' in result.stderr


async def test_timeouts_show_pgconsoles_and_the_servers(
    cluster: ThrowawayCluster, dbname: str, admin: asyncpg.Connection
) -> None:
    await admin.execute(
        f"ALTER DATABASE {quote_ident(dbname)} SET idle_in_transaction_session_timeout = '10s'"
    )
    result = await asyncio.to_thread(
        doctor, keywords(cluster, dbname=dbname), env={"PGPASSWORD": cluster.password}
    )
    assert result.returncode == 0, result.stderr
    table = rows(result.stdout)
    assert table["idle in transaction limit"] == ["10s (pgconsole 2min, server 10s)"]
    assert table["statement limit"] == ["30s (pgconsole 30s, server 0)"]
    assert table["lock limit"] == ["5s (pgconsole 5s, server 0)"]
    assert table["idle session limit"][0].endswith("(pgconsole 0, server 0)")
