"""The schema tree pane: sized to its labels, over the grid when narrow, keys to size it."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widget import Widget

from pgconsole.app import PgConsoleApp
from pgconsole.throwaway.cluster import ThrowawayCluster
from pgconsole.widgets.schema_tree import SchemaTree
from tests.conftest import admin_connect
from tests.helpers.ui import app_for, first_page, tree_labels, wait_until

MEDIUM = "a_name_of_medium_size"
LONG = "a_name_far_too_long_to_fit_in_a_third_of_the_screen"


async def create(cluster: ThrowawayCluster, dbname: str, *names: str) -> None:
    conn = await admin_connect(cluster, dbname)
    try:
        for name in names:
            await conn.execute(f"CREATE TABLE {name} (id int PRIMARY KEY)")
            await conn.execute(f"INSERT INTO {name} VALUES (1)")
    finally:
        await conn.close()


def pane(app: PgConsoleApp) -> Widget:
    return app.main_screen.query_one("#left")


def tree(app: PgConsoleApp) -> SchemaTree:
    return app.main_screen.query_one(SchemaTree)


async def tree_shows(pilot: Pilot[Any], app: PgConsoleApp, name: str) -> None:
    await wait_until(pilot, lambda: any(name in label for label in tree_labels(app)), name)


async def choose(pilot: Pilot[Any], app: PgConsoleApp, name: str) -> None:
    """Put the tree's cursor on `name` and press Enter, as the user does."""
    node = next(n for n in tree(app).root.children[0].children if name in str(n.label))
    tree(app).move_cursor(node)
    await pilot.press("enter")
    await wait_until(
        pilot,
        lambda: app.main_screen.spec is not None and app.main_screen.spec.name == name,
        f"{name} opened",
    )
    await first_page(pilot, app)


async def test_tree_is_as_wide_as_its_longest_label(cluster: ThrowawayCluster, dbname: str) -> None:
    await create(cluster, dbname, "t", MEDIUM)
    app = app_for(cluster, dbname)
    async with app.run_test(size=(120, 36)) as pilot:
        await tree_shows(pilot, app, MEDIUM)
        tree(app).root.expand_all()
        # The widest line fills the tree's width exactly: nothing cut, no space to spare.
        await wait_until(
            pilot,
            lambda: tree(app).virtual_size.width == tree(app).scrollable_content_region.width,
            "the tree as wide as its longest line",
        )
        assert pane(app).region.width < 120 // 3

        await create(cluster, dbname, LONG)
        await pilot.press("R")
        await tree_shows(pilot, app, LONG)
        await wait_until(pilot, lambda: pane(app).region.width == 120 // 3, "a third of 120")


async def test_narrow_screen_opens_the_tree_over_the_grid(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    await create(cluster, dbname, "t", "u")
    app = app_for(cluster, dbname)
    async with app.run_test(size=(80, 24)) as pilot:
        await tree_shows(pilot, app, "u")
        assert pane(app).display  # no relation open: the tree is all there is, at 80 columns
        await choose(pilot, app, "t")
        grid = app.main_screen.grid
        await wait_until(pilot, lambda: not pane(app).display, "the tree hidden")
        await wait_until(pilot, lambda: grid.region.width == 80, "the grid on the whole width")
        assert grid.has_focus

        await pilot.press("tab")
        await wait_until(pilot, lambda: pane(app).display and tree(app).has_focus, "the tree")
        assert pane(app).region.x == 0 and pane(app).region.width < 80
        assert grid.region.width == 80  # over the grid, which keeps its width
        await choose(pilot, app, "u")
        await wait_until(pilot, lambda: not pane(app).display, "the tree hidden after choosing")
        assert grid.has_focus

        await pilot.press("tab")
        await wait_until(pilot, lambda: pane(app).display, "the tree shown by Tab")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not pane(app).display, "the tree hidden by Esc")
        assert grid.has_focus
        await pilot.press("slash")
        await wait_until(pilot, lambda: pane(app).display, "the tree shown by /")
        await pilot.press("tab")
        await wait_until(pilot, lambda: not pane(app).display, "the tree hidden by Tab")


async def test_keys_widen_narrow_and_hide_the_tree(cluster: ThrowawayCluster, dbname: str) -> None:
    await create(cluster, dbname, MEDIUM)
    app = app_for(cluster, dbname, table=f"public.{MEDIUM}")
    async with app.run_test(size=(120, 36)) as pilot:
        grid = await first_page(pilot, app)
        await tree_shows(pilot, app, MEDIUM)
        await wait_until(pilot, lambda: pane(app).region.width > 0, "the tree laid out")
        width = pane(app).region.width

        await pilot.press("right_square_bracket")
        await wait_until(pilot, lambda: pane(app).region.width == width + 4, "a wider tree")
        await pilot.press("left_square_bracket", "left_square_bracket")
        await wait_until(pilot, lambda: pane(app).region.width == width - 4, "a narrower tree")

        await pilot.press("backslash")
        await wait_until(pilot, lambda: not pane(app).display, "the tree hidden")
        await wait_until(pilot, lambda: grid.region.width == 120, "the grid on the whole width")
        assert grid.has_focus
        await pilot.press("backslash")
        await wait_until(pilot, lambda: pane(app).display and tree(app).has_focus, "the tree")
        await wait_until(pilot, lambda: pane(app).region.width == width - 4, "its width kept")
