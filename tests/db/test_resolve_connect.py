"""Resolved settings against a real server: what resolves as psql would also connects.

Where psql is installed, the same environment is handed to it, so the suite notices when
pgconsole and libpq part ways.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import asyncpg
import pytest

from pgconsole.config import read_config_file
from pgconsole.db.connection.conninfo import quote_keyword_value
from pgconsole.db.connection.params import PoolSettings, SessionSettings
from pgconsole.db.connection.passwords import PasswordChoice, PasswordSource, find_password
from pgconsole.db.connection.pool import Database, TlsState, open_database
from pgconsole.target import Target, resolve_target
from pgconsole.throwaway.cluster import ThrowawayCluster

PSQL = shutil.which("psql")


@pytest.fixture
def home(hermetic_environment: Path) -> Path:
    """The test's own HOME."""
    return hermetic_environment


def escape_passfile(field: str) -> str:
    return field.replace("\\", "\\\\").replace(":", "\\:")


def write_pgpass(home: Path, *lines: str) -> Path:
    path = home / ".pgpass"
    path.write_text("".join(line + "\n" for line in lines))
    path.chmod(0o600)
    return path


async def connect_target(target: Target) -> tuple[Database, PasswordChoice]:
    """Find the password as the app does (keyring fails here), then open the pool."""
    choice = await find_password(target.password_query, os.environ, keyring_limit=2.0)
    database = await open_database(
        target.params.with_password(choice.password), SessionSettings(), PoolSettings()
    )
    return database, choice


def psql_connects(conninfo: str) -> bool:
    """Whether psql, never prompting, connects with this conninfo and the test's environment."""
    assert PSQL is not None
    result = subprocess.run(
        [PSQL, "-w", "-X", "-Atc", "SELECT 1", conninfo],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return result.returncode == 0 and result.stdout.strip() == "1"


async def test_keyword_string_with_a_pgpass_password_over_verified_tls(
    cluster: ThrowawayCluster, home: Path
) -> None:
    passfile = write_pgpass(
        home,
        f"127.0.0.1:{cluster.port}:postgres:wrong-user:nope",
        f"127.0.0.1:{cluster.port}:postgres:postgres:{escape_passfile(cluster.password)}",
    )
    conninfo = (
        f"host=127.0.0.1 port={cluster.port} dbname=postgres user=postgres "
        f"sslmode=verify-full sslrootcert={quote_keyword_value(str(cluster.ca_file))}"
    )
    target = resolve_target(read_config_file(None), conninfo=conninfo, environ=os.environ)
    database, choice = await connect_target(target)
    try:
        assert (choice.source, choice.detail) == (PasswordSource.PASSFILE, str(passfile))
        assert database.info.tls.state is TlsState.VERIFIED
        assert database.info.current_user == "postgres"
        async with database.transaction() as conn:
            assert await conn.fetchval("SELECT current_database()") == "postgres"
    finally:
        await database.close()
    if PSQL:
        assert psql_connects(conninfo)


async def test_unix_socket_with_options_and_pgappname(
    cluster: ThrowawayCluster,
    home: Path,
    admin: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    socket_dir = str(cluster.socket_dir)
    # A socket directory other than the default one is matched by its path, as in libpq.
    write_pgpass(
        home, f"{escape_passfile(socket_dir)}:{cluster.port}:*:postgres:{cluster.password}"
    )
    monkeypatch.setenv("PGAPPNAME", "pgconsole-socket-test")
    monkeypatch.setenv("PGOPTIONS", "-c geqo=off")
    conninfo = (
        f"host={quote_keyword_value(socket_dir)} port={cluster.port} user=postgres "
        "dbname=postgres options='-c work_mem=7MB'"
    )
    target = resolve_target(read_config_file(None), conninfo=conninfo, environ=os.environ)
    assert target.keywords["application_name"].source == "$PGAPPNAME"
    database, choice = await connect_target(target)
    try:
        assert choice.source is PasswordSource.PASSFILE
        assert database.info.tls.state is TlsState.LOCAL
        async with database.transaction() as conn:
            assert await conn.fetchval("SHOW work_mem") == "7MB"
            assert await conn.fetchval("SHOW geqo") == "on"  # options= beats $PGOPTIONS
            pid = await conn.fetchval("SELECT pg_backend_pid()")
        name = await admin.fetchval(
            "SELECT application_name FROM pg_stat_activity WHERE pid = $1", pid
        )
        assert name == "pgconsole-socket-test"
    finally:
        await database.close()


async def test_service_file_and_pgpassword(
    cluster: ThrowawayCluster, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = tmp_path / "services.conf"
    services.write_text(
        "[other]\nthis line is never read\n"
        f"[throwaway]\nhost=127.0.0.1\nport={cluster.port}\nuser=postgres\n"
        f"sslmode=verify-full\nsslrootcert={cluster.ca_file}\ndbname=template1\n"
    )
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    monkeypatch.setenv("PGSERVICE", "throwaway")
    monkeypatch.setenv("PGDATABASE", "postgres")  # the service beats the variable
    monkeypatch.setenv("PGPASSWORD", cluster.password)
    target = resolve_target(read_config_file(None), environ=os.environ)
    database, choice = await connect_target(target)
    try:
        assert choice.source is PasswordSource.ENVIRONMENT
        assert database.info.tls.state is TlsState.VERIFIED
        async with database.transaction() as conn:
            assert await conn.fetchval("SELECT current_database()") == "template1"
    finally:
        await database.close()
    if PSQL:
        assert psql_connects("dbname=template1")


@pytest.mark.skipif(PSQL is None, reason="psql is not installed")
@pytest.mark.parametrize(
    "entry",
    ["{socket}:{port}:*:postgres", "localhost:{port}:*:postgres", "*:*:*:*", "\\*:*:*:*"],
    ids=["socket-path", "localhost", "wildcards", "escaped-star"],
)
async def test_pgpass_agrees_with_psql(entry: str, cluster: ThrowawayCluster, home: Path) -> None:
    socket_dir = str(cluster.socket_dir)
    line = entry.format(socket=escape_passfile(socket_dir), port=cluster.port)
    write_pgpass(home, f"{line}:{cluster.password}:trailing-field")
    conninfo = f"host={socket_dir} port={cluster.port} user=postgres dbname=postgres"
    target = resolve_target(read_config_file(None), conninfo=conninfo, environ=os.environ)
    choice = await find_password(target.password_query, os.environ, keyring_limit=2.0)
    found = choice.password == cluster.password
    assert found == psql_connects(conninfo)
    assert found == (entry != "localhost:{port}:*:postgres" and not entry.startswith("\\"))
