"""The three places (browser, activity, console) and the keys between them, at 80x24."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from pgconsole.app import PgConsoleApp
from pgconsole.screens.activity import ActivityScreen
from pgconsole.screens.console import ConsoleScreen
from pgconsole.screens.main import MainScreen
from pgconsole.throwaway.cluster import ThrowawayCluster
from pgconsole.widgets.grid import DataGrid
from pgconsole.widgets.schema_tree import SchemaTree
from tests.conftest import admin_connect
from tests.helpers.ui import app_for, first_page, wait_until


async def lands_on(pilot: Pilot[Any], app: PgConsoleApp, key: str, kind: type) -> None:
    """Press `key`; the screen on top is a mounted `kind`, with only the browser below it."""
    await pilot.press(key)
    await wait_until(
        pilot,
        lambda: isinstance(app.screen, kind) and app.screen.is_mounted,
        f"{kind.__name__} after {key}",
    )
    assert len(app.screen_stack) == (1 if kind is MainScreen else 2), app.screen_stack


async def test_f3_f4_esc_and_the_browser_key_land_where_they_say(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    app = app_for(cluster, dbname)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.database is not None, "the connection")
        await lands_on(pilot, app, "f3", ActivityScreen)
        await lands_on(pilot, app, "f4", ConsoleScreen)  # not stacked on the activity screen
        assert isinstance(app.screen, ConsoleScreen) and app.screen.editor.has_focus
        await lands_on(pilot, app, "escape", ActivityScreen)  # from the editor: one step back
        await lands_on(pilot, app, "f4", ConsoleScreen)
        await lands_on(pilot, app, "f4", MainScreen)  # F4 Browser, as the key bar says
        await lands_on(pilot, app, "f3", ActivityScreen)
        await lands_on(pilot, app, "f3", MainScreen)  # F3 again: the browser
        await lands_on(pilot, app, "f3", ActivityScreen)
        await lands_on(pilot, app, "escape", MainScreen)  # back to where F3 was pressed


async def test_tab_moves_between_the_tree_and_the_grid(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    conn = await admin_connect(cluster, dbname)
    try:
        await conn.execute("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)")
    finally:
        await conn.close()
    app = app_for(cluster, dbname, "public.t")
    async with app.run_test(size=(80, 24)) as pilot:
        await first_page(pilot, app)
        screen = app.main_screen
        screen.grid.focus()
        await pilot.press("tab")
        await wait_until(pilot, lambda: isinstance(app.focused, SchemaTree), "the tree")
        await pilot.press("tab")
        await wait_until(pilot, lambda: isinstance(app.focused, DataGrid), "the grid")
        await pilot.press("shift+tab")
        await wait_until(pilot, lambda: isinstance(app.focused, SchemaTree), "the tree again")
