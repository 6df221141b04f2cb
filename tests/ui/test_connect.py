"""The shell connects in a worker, shows where and how safely, and survives every failure."""

from __future__ import annotations

import gc
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from pgconsole.app import PgConsoleApp
from pgconsole.config import Settings
from pgconsole.db.connection.failures import FailureKind
from pgconsole.db.connection.params import ConnectParams
from pgconsole.db.quoting import quote_ident
from pgconsole.screens.connection_error import ConnectionErrorScreen
from pgconsole.screens.main import MainScreen
from pgconsole.throwaway.certs import CertificateAuthority
from pgconsole.throwaway.cluster import ThrowawayCluster
from pgconsole.widgets.status_bar import StatusBar
from tests.conftest import params_for
from tests.helpers.proxy import ProxyMode, TcpProxy
from tests.helpers.ui import shown, wait_until

SIZE = (80, 24)


def connected(app: PgConsoleApp) -> bool:
    return app.database is not None and isinstance(app.screen, MainScreen)


def failed(app: PgConsoleApp) -> bool:
    """The error screen is up, its lines composed (pushed is not yet mounted)."""
    return isinstance(app.screen, ConnectionErrorScreen) and app.screen.is_mounted


async def test_connects_over_verified_tls(
    cluster: ThrowawayCluster, dbname: str, settings: Settings
) -> None:
    app = PgConsoleApp(params_for(cluster, dbname), settings)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: connected(app), "the pool to open")
        assert shown(app, "#status-tls").strip() == "TLS verified"
        assert shown(app, "#status-target") == f"postgres@127.0.0.1:{cluster.port}/{dbname}"
        assert shown(app, "#status-version").strip().startswith("PG 1")
        await wait_until(pilot, lambda: "pool 1/4" in shown(app, "#status-pool"), "pool stats")
        assert "1 idle" in shown(app, "#status-pool")
        assert not app.screen.query_one("#status-read-only").display


async def test_what_the_start_built_leaves_the_collector_once_connected(
    cluster: ThrowawayCluster, dbname: str, settings: Settings
) -> None:
    """The modules, styles and first screen go to the permanent generation, so that a full
    collection does not walk them in the middle of a key's frame."""
    gc.unfreeze()  # what an earlier test of this process froze
    app = PgConsoleApp(params_for(cluster, dbname), settings)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: connected(app), "the pool to open")
        await wait_until(pilot, lambda: gc.get_freeze_count() > 0, "the start to be frozen")
        assert gc.get_freeze_count() > 10_000  # the whole start, not a handful of objects
        assert app.started


async def test_ui_paints_connecting_before_the_server_answers(
    cluster: ThrowawayCluster, settings: Settings
) -> None:
    proxy = TcpProxy(cluster.host, cluster.port)
    await proxy.set_mode(ProxyMode.SILENT)
    try:
        app = PgConsoleApp(params_for(cluster, "postgres", port=proxy.port), settings)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(
                pilot, lambda: "connecting to" in shown(app, "#relation-title"), "connecting…"
            )
            assert app.database is None
            await pilot.press("question_mark")  # the UI answers keys while connecting
            await wait_until(pilot, lambda: type(app.screen).__name__ == "HelpScreen", "help")
    finally:
        await proxy.close()


async def test_wrong_ca_shows_the_tls_screen_without_fallback(
    cluster: ThrowawayCluster, settings: Settings, tmp_path: Path, admin: asyncpg.Connection
) -> None:
    other = CertificateAuthority.create(tmp_path, "not the server's CA")
    app = PgConsoleApp(params_for(cluster, "postgres", sslrootcert=other.cert), settings)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: failed(app), "the error screen")
        screen = app.screen
        assert isinstance(screen, ConnectionErrorScreen)
        assert screen.failure.kind is FailureKind.TLS
        assert "certificate could not be verified" in shown(app, "#failure-summary")
        assert app.is_running and app.database is None
        count = await admin.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgconsole'"
        )
        assert count == 0  # no plaintext session slipped through


# -- each failure, then a retry once the cause is fixed ---------------------------------------


async def fails_then_recovers(
    app: PgConsoleApp, kind: FailureKind, summary_part: str, fix: object
) -> None:
    """Run the app: expect `kind`, apply `fix`, press r, expect a connected shell."""
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: failed(app), f"the {kind} error screen")
        screen = app.screen
        assert isinstance(screen, ConnectionErrorScreen)
        assert screen.failure.kind is kind
        assert summary_part in shown(app, "#failure-summary")
        assert "r to retry" in shown(app, "#failure-state")
        assert app.is_running
        await fix()  # type: ignore[operator]
        await pilot.press("r")
        await wait_until(pilot, lambda: connected(app), "a connection after the retry")
        assert shown(app, "#status-tls").strip() == "TLS verified"


async def test_wrong_password_then_retry(
    cluster: ThrowawayCluster, dbname: str, settings: Settings, admin: asyncpg.Connection
) -> None:
    role = f"r_{uuid.uuid4().hex[:8]}"
    await admin.execute(f"CREATE ROLE {quote_ident(role)} LOGIN")
    try:
        params = params_for(cluster, dbname, user=role, password="typed-password")

        async def fix() -> None:
            sql = await admin.fetchval(
                "SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)",
                role,
                "typed-password",
            )
            await admin.execute(sql)

        await fails_then_recovers(
            PgConsoleApp(params, settings),
            FailureKind.AUTH,
            f'Password authentication failed for user "{role}"',
            fix,
        )
    finally:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", role
        )
        await admin.execute(f"DROP ROLE IF EXISTS {quote_ident(role)}")


async def test_unknown_database_then_retry(
    cluster: ThrowawayCluster, settings: Settings, admin: asyncpg.Connection
) -> None:
    name = f"t_late_{uuid.uuid4().hex[:8]}"

    async def fix() -> None:
        await admin.execute(f"CREATE DATABASE {quote_ident(name)}")

    try:
        await fails_then_recovers(
            PgConsoleApp(params_for(cluster, name), settings),
            FailureKind.NO_DATABASE,
            f'Database "{name}" does not exist',
            fix,
        )
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")


@pytest.fixture
async def proxy(cluster: ThrowawayCluster) -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy(cluster.host, cluster.port)
    try:
        yield proxy
    finally:
        await proxy.close()


async def test_refused_port_then_retry(
    cluster: ThrowawayCluster, settings: Settings, proxy: TcpProxy
) -> None:
    async def fix() -> None:
        await proxy.set_mode(ProxyMode.FORWARD)

    await fails_then_recovers(
        PgConsoleApp(params_for(cluster, "postgres", port=proxy.port), settings),
        FailureKind.REFUSED,
        f"Connection refused by 127.0.0.1:{proxy.port}",
        fix,
    )


async def test_silent_host_then_retry(
    cluster: ThrowawayCluster, settings: Settings, proxy: TcpProxy
) -> None:
    await proxy.set_mode(ProxyMode.SILENT)

    async def fix() -> None:
        await proxy.set_mode(ProxyMode.FORWARD)

    params = params_for(cluster, "postgres", port=proxy.port, connect_timeout=0.5)
    await fails_then_recovers(
        PgConsoleApp(params, settings),
        FailureKind.TIMEOUT,
        f"No answer from 127.0.0.1:{proxy.port} within 0.5 s",
        fix,
    )


async def test_tls_failure_then_retry(
    cluster: ThrowawayCluster, settings: Settings, tmp_path: Path
) -> None:
    rootcert = tmp_path / "root.crt"
    shutil.copy(CertificateAuthority.create(tmp_path / "other", "other CA").cert, rootcert)

    async def fix() -> None:
        shutil.copy(cluster.ca_file, rootcert)

    params: ConnectParams = params_for(cluster, "postgres", sslrootcert=rootcert)
    await fails_then_recovers(
        PgConsoleApp(params, settings),
        FailureKind.TLS,
        "TLS: the server's certificate could not be verified",
        fix,
    )


async def test_timers_firing_while_the_app_exits_do_not_raise(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    """The pool refresh and the transaction tick run on timers that can fire after exit has
    started emptying the DOM (seen in CI as NoMatches for the status bar)."""
    app = PgConsoleApp(params_for(cluster, dbname), Settings())
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: connected(app), "a connection")
        await app.main_screen.query_one(StatusBar).remove_children()  # as during teardown
        app.refresh_pool_stats()
        await app.main_screen.tick_transaction()
        assert app.is_running
