"""The SQL console screen behind pgbouncer in transaction mode: the status shows the timeout
that holds, and ctrl+c cancels the statement through pgbouncer."""

from __future__ import annotations

import time

from pgconsole.app import PgConsoleApp
from pgconsole.config import Settings
from pgconsole.screens.console import ConsoleScreen
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.conftest import admin_connect, params_for
from tests.helpers.pgbouncer import ThrowawayPgBouncer
from tests.helpers.ui import shown, wait_for_screen, wait_until

SIZE = (100, 30)


async def test_ctrl_c_cancels_through_pgbouncer_and_the_timeout_is_shown(
    cluster: ThrowawayCluster, pgbouncer: ThrowawayPgBouncer, dbname: str
) -> None:
    params = params_for(cluster, dbname, host=pgbouncer.host, port=pgbouncer.port)
    app = PgConsoleApp(params, Settings(pooler="transaction", statement_timeout="45s"))
    watcher = await admin_connect(cluster, dbname)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.database is not None, "the pool", within=30)
            await pilot.press("f4")
            await wait_for_screen(pilot, app, ConsoleScreen, "the console")
            console = app.screen
            assert isinstance(console, ConsoleScreen)
            await wait_until(
                pilot, lambda: "timeout 45s" in shown(app, "#console-status"), "the timeout"
            )
            console.editor.text = "SELECT pg_sleep(40)"
            await pilot.press("f5")
            while not await watcher.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'"
                " AND datname = current_database()"
            ):
                await pilot.pause(0.02)
            worker = console.running
            assert worker is not None
            pressed = time.monotonic()
            await pilot.press("ctrl+c")
            await wait_until(pilot, lambda: worker.is_finished, "the run to end", within=30)
            latency = time.monotonic() - pressed
            assert latency < 5, f"the statement ran on for {latency:.2f} s after ctrl+c"
            assert "Cancelled" in shown(app, "#console-message")
    finally:
        await watcher.close()
