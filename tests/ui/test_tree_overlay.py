"""Below 90 columns the schema tree opens over the grid: on the open relation, with its keys.

A fixed catalog and pages stand in for the server (the snapshot gallery's browser).
"""

from __future__ import annotations

import pytest
from textual.widgets import Input

from pgconsole.config import Settings
from pgconsole.db.browse.catalog import RelationInfo, SchemaInfo
from pgconsole.screens import browse_tree, relation_reader
from pgconsole.screens.main import MainScreen
from pgconsole.widgets.key_bar import KeyBar
from pgconsole.widgets.schema_tree import SchemaTree
from tests.helpers.ui import wait_until
from tests.ui.test_snapshot_gallery import (
    CATALOG,
    ITEM,
    BrowsingHarness,
    FixedPager,
    until_browsing,
)
from tests.ui.test_snapshots import PARAMS, until_connected


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> BrowsingHarness:
    """The app, opening shop.item (in the second of two schemas) from fixed pages."""

    async def load_catalog(conn: object, *, include_system: bool = False) -> object:
        return CATALOG

    async def find_relation(database: object, text: str) -> object:
        return ITEM

    monkeypatch.setattr(browse_tree, "load_catalog", load_catalog)
    monkeypatch.setattr(relation_reader, "find_relation", find_relation)
    monkeypatch.setattr(relation_reader, "Pager", FixedPager)
    return BrowsingHarness(PARAMS, Settings(read_only=True), table="shop.item")


def on_open_relation(tree: SchemaTree) -> bool:
    node = tree.cursor_node
    return node is not None and isinstance(node.data, RelationInfo) and node.data.oid == ITEM.oid


def bar(screen: MainScreen) -> str:
    return screen.query_one(KeyBar).render_line(0).text


@pytest.mark.parametrize("key", ["tab", "slash"])
async def test_the_tree_over_the_grid_opens_on_the_open_relation_with_its_keys(
    app: BrowsingHarness, key: str
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await until_browsing(pilot)
        screen = app.main_screen
        tree = screen.query_one(SchemaTree)
        shop = next(
            n
            for n in tree.root.children
            if isinstance(n.data, SchemaInfo) and n.data.name == "shop"
        )
        shop.collapse()  # the user closed the schema meanwhile
        await pilot.pause()
        await pilot.press(key)
        pane = screen.query_one("#left")
        await wait_until(pilot, lambda: pane.display and "-overlay" in pane.classes, "the tree")
        await wait_until(pilot, lambda: on_open_relation(tree), "the cursor on shop.item")
        assert shop.is_expanded
        if key == "slash":
            assert screen.query_one("#tree-filter", Input).has_focus
            # The find box's keys: what it types (w, s...) is not offered as a key.
            await wait_until(
                pilot, lambda: bar(screen).startswith(" Enter To the tree  Tab "), "its keys"
            )
            assert " w Filter " not in bar(screen)
            await pilot.press("enter")  # from the find box to the tree
        await wait_until(pilot, lambda: tree.has_focus, "the tree focused")
        await wait_until(
            pilot,
            lambda: bar(screen).startswith(" Enter Select  Tab Tree / grid  / Find table "),
            "the tree's keys",
        )
        assert " F2 Edit " not in bar(screen)
        await pilot.press("tab")  # back to the grid: its keys again
        await wait_until(pilot, lambda: screen.grid.has_focus, "the grid focused")
        await wait_until(pilot, lambda: bar(screen).startswith(" F2 Edit "), "the grid's keys")


@pytest.fixture
def no_table(monkeypatch: pytest.MonkeyPatch) -> BrowsingHarness:
    """The app with no relation named: the schema tree is all there is."""

    async def load_catalog(conn: object, *, include_system: bool = False) -> object:
        return CATALOG

    async def describe(database: object, oid: int) -> object:
        return ITEM

    monkeypatch.setattr(browse_tree, "load_catalog", load_catalog)
    monkeypatch.setattr(relation_reader, "describe_relation", describe)
    monkeypatch.setattr(relation_reader, "Pager", FixedPager)
    return BrowsingHarness(PARAMS, Settings(read_only=True))


async def test_tab_and_backslash_are_offered_once_a_relation_is_open(
    no_table: BrowsingHarness,
) -> None:
    async with no_table.run_test(size=(100, 30)) as pilot:
        await until_connected(pilot)
        screen = no_table.main_screen
        tree = screen.query_one(SchemaTree)
        await wait_until(pilot, lambda: screen.catalog is not None and tree.has_focus, "the tree")
        await wait_until(pilot, lambda: bar(screen).startswith(" Enter Select "), "its keys")
        # Neither has a grid to go to or a tree to hide: not offered, and nothing happens.
        assert " Tab " not in bar(screen)
        assert " \\ " not in bar(screen)
        await pilot.press("tab", "backslash")
        assert tree.has_focus and screen.tree_pane.display
        # Open shop.item: both act now, and the tree's bar offers them again.
        tree.select_relation(ITEM.oid)
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.grid.has_focus, "the grid")
        await pilot.press("tab")
        await wait_until(pilot, lambda: tree.has_focus, "the tree again")
        await wait_until(
            pilot,
            lambda: " Tab Tree / grid " in bar(screen) and " \\ Hide / show tree " in bar(screen),
            "Tab and \\ on the bar",
        )


def cursor_name(tree: SchemaTree) -> str | None:
    node = tree.cursor_node
    return node.data.name if node is not None and isinstance(node.data, RelationInfo) else None


@pytest.mark.parametrize(
    ("typed", "found", "below"),
    [("item", "item", "item_stock"), ("orders_2", "orders_2025", "orders_2026")],
)
async def test_enter_from_the_find_box_puts_the_cursor_on_the_first_match(
    no_table: BrowsingHarness, typed: str, found: str, below: str
) -> None:
    async with no_table.run_test(size=(80, 24)) as pilot:
        await until_connected(pilot)
        screen = no_table.main_screen
        tree = screen.query_one(SchemaTree)
        await wait_until(pilot, lambda: screen.catalog is not None and tree.has_focus, "the tree")
        await pilot.press("slash", *typed, "enter")
        await wait_until(pilot, lambda: tree.has_focus, "the tree focused")
        assert cursor_name(tree) == found  # a partition under the parent it matched through
        await pilot.press("down")
        assert cursor_name(tree) == below


@pytest.mark.parametrize("key", ["slash", "tab"])
async def test_narrowing_the_terminal_takes_the_focus_out_of_the_tree_it_hides(
    app: BrowsingHarness, key: str
) -> None:
    # At 200 columns the tree stands beside the grid; the find box (/) or the tree (Tab) has
    # the focus. Narrowed below 90 the tree is hidden: keys typed into it went nowhere seen
    # (q typed into the hidden find box instead of quitting).
    async with app.run_test(size=(200, 50)) as pilot:
        await until_browsing(pilot)
        screen = app.main_screen
        await pilot.press(key)
        await wait_until(pilot, lambda: screen.tree_pane.has_focus_within, "in the tree")
        await pilot.resize_terminal(80, 24)
        await wait_until(pilot, lambda: not screen.tree_pane.display, "the tree hidden")
        await wait_until(pilot, lambda: screen.grid.has_focus, "the grid's focus")
        await pilot.press("q")
        assert screen.query_one("#tree-filter", Input).value == ""
