"""Shared fixtures: one throwaway PostgreSQL for the whole run, a fresh database per test."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import keyring
import pytest
from keyring.backends.fail import Keyring as FailKeyring

from pgconsole.config import Settings
from pgconsole.db.connection.params import ConnectParams, PoolSettings, SessionSettings, SslMode
from pgconsole.db.connection.pool import Database, open_database
from pgconsole.db.quoting import quote_ident
from pgconsole.throwaway.cluster import ThrowawayCluster, ThrowawayStandby
from tests.conftest_fleet import fleet_servers
from tests.conftest_pgbouncer import pgbouncer
from tests.conftest_sshd import localhost_cluster, sshd

# Session fixtures, shared with every test module.
__all__ = ["fleet_servers", "localhost_cluster", "pgbouncer", "sshd"]

TEST_APP_NAME = "pgconsole-tests"
"""application_name of the suite's own admin connections (never `pgconsole`)."""


@pytest.fixture(autouse=True)
def unfrozen_collector() -> Iterator[None]:
    """An app freezes what it built at start (`freeze_start_objects`); the process runs many
    apps, so each test gives its frozen objects back to the collector."""
    yield
    gc.unfreeze()


@pytest.fixture(autouse=True)
def hermetic_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """Nothing of the machine leaks into a test: no PG*/PGCONSOLE_* variable, no ~/.pgpass,
    ~/.postgresql or config file, no D-Bus session, and no real keyring (a failing backend,
    as on a headless host, unless the test installs another). Yields the test's HOME."""
    for name in list(os.environ):
        if name.startswith(("PG", "PGCONSOLE_")) or name == "DBUS_SESSION_BUS_ADDRESS":
            monkeypatch.delenv(name)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    previous = keyring.get_keyring()
    keyring.set_keyring(FailKeyring())  # type: ignore[no-untyped-call]
    yield home
    keyring.set_keyring(previous)


@pytest.fixture(scope="session")
def cluster() -> Iterator[ThrowawayCluster]:
    """A real server with SSL on and a CA of its own, removed after the run."""
    with ThrowawayCluster() as server:
        yield server


@pytest.fixture(scope="session")
def plain_cluster() -> Iterator[ThrowawayCluster]:
    """A real server with `ssl = off`, for what a client does when the server has no TLS.

    Started on first use and shared by the whole run, so no test may stop it or change its
    settings: a test that needs that starts a `ThrowawayCluster` of its own.
    """
    with ThrowawayCluster(ssl=False) as server:
        yield server


DIAGNOSTICS_SETTINGS = {
    "max_prepared_transactions": "8",
    "wal_level": "logical",
    "shared_preload_libraries": "pg_stat_statements",
}
"""What the diagnostics need of a server: prepared transactions, logical slots and
pg_stat_statements, as a production server has them."""


@pytest.fixture(scope="session")
def diagnostics_cluster() -> Iterator[ThrowawayCluster]:
    """A real server for the diagnostics (`DIAGNOSTICS_SETTINGS`), started on first use.

    Its holders of the xmin horizon hold every database back: a test that makes one ends it.
    """
    with ThrowawayCluster(settings=DIAGNOSTICS_SETTINGS) as server:
        yield server


STANDBY_SLOT = "pgconsole_standby"
"""The standby's slot on the diagnostics server, and its application_name there."""


@pytest.fixture(scope="session")
def standby(diagnostics_cluster: ThrowawayCluster) -> Iterator[ThrowawayStandby]:
    """A streaming standby of the diagnostics server, started on first use: slot
    `STANDBY_SLOT`, hot_standby_feedback on (the slot's xmin is a holder of the horizon).

    A test that pauses its replay resumes it and waits for it to catch up before it ends.
    """
    with ThrowawayStandby(diagnostics_cluster, slot=STANDBY_SLOT) as server:
        yield server


@pytest.fixture
async def diag_db(diagnostics_cluster: ThrowawayCluster) -> AsyncIterator[str]:
    """A fresh database on the diagnostics server, dropped with its sessions after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await admin_connect(diagnostics_cluster)
    try:
        await admin.execute(f"CREATE DATABASE {quote_ident(name)}")
        yield name
        await admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")
    finally:
        await admin.close()


async def admin_connect(cluster: ThrowawayCluster, dbname: str = "postgres") -> asyncpg.Connection:
    """A superuser connection over verified TLS, labelled as the test suite's."""
    return await asyncpg.connect(
        cluster.dsn(dbname), server_settings={"application_name": TEST_APP_NAME}
    )


@contextlib.asynccontextmanager
async def admin_connection(
    cluster: ThrowawayCluster, dbname: str = "postgres"
) -> AsyncIterator[asyncpg.Connection]:
    """`admin_connect`, closed on the way out."""
    conn = await admin_connect(cluster, dbname)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def admin(cluster: ThrowawayCluster) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection to the `postgres` database."""
    async with admin_connection(cluster) as conn:
        yield conn


@pytest.fixture
async def dbname(cluster: ThrowawayCluster, admin: asyncpg.Connection) -> AsyncIterator[str]:
    """A fresh database `t_<uuid>`, dropped (with its sessions) after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    await admin.execute(f"CREATE DATABASE {quote_ident(name)}")
    try:
        yield name
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")


def params_for(cluster: ThrowawayCluster, dbname: str, **changes: object) -> ConnectParams:
    """How the app connects to `database`: superuser, verify-full against the cluster's CA."""
    base = ConnectParams(
        host=cluster.host,
        port=cluster.port,
        user=cluster.superuser,
        password=cluster.password,
        database=dbname,
        sslmode=SslMode.VERIFY_FULL,
        sslrootcert=cluster.ca_file,
        connect_timeout=5.0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def open_pool(
    cluster: ThrowawayCluster,
    dbname: str,
    session: SessionSettings | None = None,
    *,
    max_size: int = 4,
) -> AsyncIterator[Database]:
    """The app's pool on `dbname` (verify-full, as the app connects), closed on the way out."""
    database = await open_database(
        params_for(cluster, dbname), session or SessionSettings(), PoolSettings(max_size=max_size)
    )
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def conn(cluster: ThrowawayCluster, dbname: str) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection to the test's fresh database."""
    async with admin_connection(cluster, dbname) as connection:
        yield connection


@pytest.fixture
def settings() -> Settings:
    """Built-in defaults, untouched by any config file or variable of the machine."""
    return Settings()


async def pgconsole_backends(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Sessions on the server whose application_name is pgconsole's."""
    return await conn.fetch(
        "SELECT pid, state, datname FROM pg_stat_activity WHERE application_name = $1",
        "pgconsole",
    )


async def settled_backends(conn: asyncpg.Connection, within: float = 5.0) -> list[asyncpg.Record]:
    """pgconsole's sessions once they are gone, or whatever is left after `within` seconds.

    The server drops a backend from pg_stat_activity a moment after its client leaves.
    """
    for _ in range(int(within / 0.05)):
        rows = await pgconsole_backends(conn)
        if not rows:
            return rows
        await asyncio.sleep(0.05)
    return await pgconsole_backends(conn)
