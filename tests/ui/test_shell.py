"""Quitting, read-only mode, help and the command palette."""

from __future__ import annotations

import time
from functools import partial

import asyncpg

from pgconsole.app import PgConsoleApp
from pgconsole.config import Settings
from pgconsole.screens.help import HelpScreen
from pgconsole.screens.main import MainScreen
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.conftest import params_for, pgconsole_backends, settled_backends
from tests.helpers.ui import shown, wait_for_screen, wait_until
from tests.helpers.waiting import poll_until

SIZE = (80, 24)


async def test_quit_leaves_no_pgconsole_backend(
    cluster: ThrowawayCluster, dbname: str, admin: asyncpg.Connection
) -> None:
    settings = Settings(pool_min_size=3, pool_max_size=3)
    app = PgConsoleApp(params_for(cluster, dbname), settings)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.database is not None, "the pool to open")
        assert len(await pgconsole_backends(admin)) == 3
        started = time.monotonic()
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running, "the app to exit", within=10)
        assert time.monotonic() - started < 5.0
    assert await settled_backends(admin) == []


async def test_read_only_mode_shows_badge_and_refuses_writes(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    app = PgConsoleApp(params_for(cluster, dbname), Settings(read_only=True))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.database is not None, "the pool to open")
        badge = app.screen.query_one("#status-read-only")
        assert badge.display
        assert shown(app, "#status-read-only").strip() == "READ-ONLY"
        assert "READ ONLY" in str(app.screen.query_one("#overview").content)  # type: ignore[attr-defined]
        assert app.database is not None
        async with app.database.pool.acquire() as conn:
            assert await conn.fetchval("SHOW default_transaction_read_only") == "on"
            try:
                await conn.execute("CREATE TABLE should_not_exist (id int)")
            except asyncpg.ReadOnlySQLTransactionError:
                pass
            else:
                raise AssertionError("a read-only session created a table")


async def test_help_lists_every_key_and_closes(
    cluster: ThrowawayCluster, dbname: str, settings: Settings
) -> None:
    app = PgConsoleApp(params_for(cluster, dbname), settings)
    async with app.run_test(size=SIZE) as pilot:
        for key in ("question_mark", "f1"):
            await pilot.press(key)
            await wait_for_screen(pilot, app, HelpScreen, "help")
            keys = shown(app, "#help-keys")
            for expected in ("?  F1", "Help", "Quit", "Ctrl+q", "r ", "Retry", "Close help"):
                assert expected in keys
            await pilot.press("escape")
            await wait_for_screen(pilot, app, MainScreen, "help closed")
        assert app.is_running


async def test_reconnect_is_a_palette_command(
    cluster: ThrowawayCluster, dbname: str, settings: Settings, admin: asyncpg.Connection
) -> None:
    app = PgConsoleApp(params_for(cluster, dbname), settings)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.database is not None, "the pool to open")
        first = app.database
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Reconnect" in titles and "Help: keys" in titles
        await pilot.press("ctrl+p")
        await pilot.press(*"Reconnect")
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: app.database is not None and app.database is not first,
            "a new pool",
        )
        assert first is not None and first.closed

        async def only_the_new_pool() -> bool:
            # The server drops the old pool's backends a moment after they are closed.
            return len(await pgconsole_backends(admin)) == 1

        await poll_until(only_the_new_pool, "one pgconsole backend, the new pool's")


async def test_plaintext_and_unverified_sessions_are_announced(
    cluster: ThrowawayCluster, dbname: str, settings: Settings
) -> None:
    from pgconsole.db.connection.params import SslMode

    cases = [
        (SslMode.DISABLE, "No TLS", "no TLS"),
        (SslMode.REQUIRE, "TLS unverified", "TLS unverified"),
    ]
    for mode, title, badge in cases:
        app = PgConsoleApp(params_for(cluster, dbname, sslmode=mode, sslrootcert=None), settings)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, partial(has_database, app), "the pool")
            assert shown(app, "#status-tls").strip() == badge
            assert title in [n.title for n in app._notifications]


def has_database(app: PgConsoleApp) -> bool:
    return app.database is not None
