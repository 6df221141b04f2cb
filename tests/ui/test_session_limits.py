"""The edit screen and the session overview use the time limits in effect: a database's
stricter idle_in_transaction_session_timeout, not pgconsole's looser default."""

from __future__ import annotations

import asyncpg

from pgconsole.db.quoting import quote_ident
from pgconsole.screens.console import ConsoleScreen
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.helpers.ui import app_for, first_page, shown, wait_for_screen, wait_until

SIZE = (80, 24)


async def test_the_edit_screen_counts_down_from_the_stricter_server_limit(
    cluster: ThrowawayCluster, dbname: str, admin: asyncpg.Connection, conn: asyncpg.Connection
) -> None:
    await conn.execute("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)")
    await admin.execute(
        f"ALTER DATABASE {quote_ident(dbname)} SET idle_in_transaction_session_timeout = '20s'"
    )
    app = app_for(cluster, dbname, "public.t")  # pgconsole's default: 2min
    async with app.run_test(size=SIZE) as pilot:
        await first_page(pilot, app)
        assert app.main_screen.idle_in_transaction_seconds() == 20.0
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert "idle in tx    20s (2min · 20s)" in shown(app, "#overview")


async def test_the_console_counts_down_from_the_stricter_server_limit(
    cluster: ThrowawayCluster, dbname: str, admin: asyncpg.Connection
) -> None:
    await admin.execute(
        f"ALTER DATABASE {quote_ident(dbname)} SET idle_in_transaction_session_timeout = '20s'"
    )
    app = app_for(cluster, dbname)  # pgconsole's default: 2min
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.database is not None, "the connection")
        await pilot.press("f4")
        console = await wait_for_screen(pilot, app, ConsoleScreen, "the console")
        assert console.idle_in_transaction == 20.0
