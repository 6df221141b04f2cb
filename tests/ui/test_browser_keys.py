"""The browser's keys over a real server: motion typed ahead of a fetch, the footer, the cursor
across a reload, and messages that stay until the user acts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import TextArea

from pgconsole.screens.cell_editor import CellEditorScreen
from pgconsole.screens.confirm import ConfirmScreen
from pgconsole.throwaway.cluster import ThrowawayCluster
from pgconsole.widgets.grid import DataGrid
from tests.conftest import admin_connect
from tests.helpers.ui import app_for, burst, first_page, shown, wait_for_screen, wait_until

SIZE = (100, 30)
BIG = 2_000_000


@pytest.fixture
async def big(cluster: ThrowawayCluster, dbname: str) -> AsyncIterator[str]:
    """`big`: ids 1..2,000,000 under a primary key; `heap`: 2,000 rows and no key."""
    conn = await admin_connect(cluster, dbname)
    try:
        await conn.execute(
            f"""
            CREATE TABLE big AS SELECT g AS id, g % 1000 AS n, 'row ' || g AS v
                FROM generate_series(1, {BIG}) AS g;
            ALTER TABLE big ADD PRIMARY KEY (id);
            CREATE TABLE heap AS SELECT g AS a, 'b' || g AS b FROM generate_series(1, 2000) AS g;
            """
        )
    finally:
        await conn.close()
    yield dbname


def current_id(grid: DataGrid) -> int:
    row = grid.current_row
    assert row is not None and row.cells[0] is not None
    return int(row.cells[0])


def settled(grid: DataGrid) -> bool:
    return grid.pending is None and grid.owed == 0 and grid.jump is None


async def lands_on(pilot: Pilot[Any], grid: DataGrid, expected: int, what: str) -> None:
    """Wait until the cursor is on row id `expected` with nothing left to fetch or move."""
    try:
        await wait_until(pilot, lambda: settled(grid) and current_id(grid) == expected, what)
    except AssertionError as error:
        raise AssertionError(f"{error}: the cursor is on id {current_id(grid)}") from None


async def test_a_burst_of_page_keys_moves_exactly_as_many_screens(
    cluster: ThrowawayCluster, big: str
) -> None:
    app = app_for(cluster, big, "public.big")
    async with app.run_test(size=SIZE) as pilot:
        grid = await first_page(pilot, app)
        await pilot.press("pagedown")
        await wait_until(pilot, lambda: settled(grid) and current_id(grid) > 1, "one PgDn")
        screen = current_id(grid) - 1  # what one PgDn moves
        burst(app, ["pagedown"] * 20)
        await lands_on(pilot, grid, 1 + 21 * screen, "20 PgDn typed ahead")
        assert len(grid.rows) <= grid.max_rows
        burst(app, ["pageup"] * 15 + ["ctrl+d"] * 3 + ["ctrl+u"])
        await lands_on(pilot, grid, 1 + 8 * screen, "PgUp, ctrl+d and ctrl+u typed ahead")


async def test_a_burst_of_row_keys_crosses_page_boundaries(
    cluster: ThrowawayCluster, big: str
) -> None:
    app = app_for(cluster, big, "public.big")
    async with app.run_test(size=SIZE) as pilot:
        grid = await first_page(pilot, app)
        burst(app, ["j"] * 450)
        await lands_on(pilot, grid, 451, "450 j typed ahead")
        burst(app, ["k"] * 420)
        await lands_on(pilot, grid, 31, "420 k typed ahead")
        burst(app, ["end", "k", "k", "k", "home", "j", "j"])
        await lands_on(pilot, grid, 3, "End, k, Home, j typed ahead")
        burst(app, ["end", *["k"] * 5])
        await lands_on(pilot, grid, BIG - 5, "End then k typed ahead")


async def press_and_read_the_footer(pilot: Pilot[Any], grid: DataGrid, key: str) -> None:
    """Press `key`, wait for the cursor to move, then for the footer to name its row."""
    before = grid.cursor_row
    await pilot.press(key)
    await wait_until(pilot, lambda: grid.cursor_row != before, key)
    row = grid.current_row
    assert row is not None and row.ordinal is not None
    where = f"row {row.ordinal + 1:,} "
    await wait_until(pilot, lambda: where in shown(pilot.app, "#message"), f"{where!r} shown")


async def test_the_footer_follows_the_cursor_in_cursor_mode(
    cluster: ThrowawayCluster, big: str
) -> None:
    app = app_for(cluster, big, "public.heap")
    async with app.run_test(size=SIZE) as pilot:
        grid = await first_page(pilot, app)
        for key in ["pagedown", "j", "j", "pageup", "pagedown", "pagedown"]:
            await press_and_read_the_footer(pilot, grid, key)


async def test_the_cursor_keeps_its_row_and_column_across_a_reload(
    cluster: ThrowawayCluster, big: str
) -> None:
    app = app_for(cluster, big, "public.big")
    async with app.run_test(size=SIZE) as pilot:
        grid = await first_page(pilot, app)
        await pilot.press(*["j"] * 29, "l", "l")
        await wait_until(pilot, lambda: current_id(grid) == 30, "row 30")
        assert grid.cursor_column == 2
        row = grid.current_row
        assert row is not None and row.ident == ("30",)
        await pilot.press("f2")
        editor = await wait_for_screen(pilot, app, CellEditorScreen, "the cell editor")
        editor.query_one(TextArea).text = "changed"
        await pilot.press("ctrl+s")
        await wait_until(
            pilot,
            lambda: grid.current_row is not None and grid.current_row.cells[2] == "changed",
            "the edit",
        )
        await pilot.press("ctrl+r")
        await wait_for_screen(pilot, app, ConfirmScreen, "the rollback question")
        await pilot.press("y")
        # The rollback reads the first page again: the row shows its stored value.
        await wait_until(
            pilot,
            lambda: any(r.ident == ("30",) and r.cells[2] == "row 30" for r in grid.rows),
            "the reload",
        )
        assert grid.current_row is not None and grid.current_row.ident == ("30",)
        assert grid.cursor_column == 2


async def test_an_error_stays_until_the_user_acts(cluster: ThrowawayCluster, big: str) -> None:
    app = app_for(cluster, big, "public.big")
    async with app.run_test(size=SIZE) as pilot:
        grid = await first_page(pilot, app)
        main = app.main_screen
        main.say("The connection was lost: nothing was committed.", error=True)
        seen = grid.rows_seen
        burst(app, ["pagedown"] * 4)  # motion, and a page fetched
        await wait_until(pilot, lambda: grid.rows_seen > seen and settled(grid), "a fetch")
        where = f"{len(grid.rows)} rows in memory"
        await wait_until(pilot, lambda: where in shown(app, "#message"), "the new position")
        assert "nothing was committed" in shown(app, "#message")
        await pilot.press("escape")
        await wait_until(
            pilot, lambda: "nothing was committed" not in shown(app, "#message"), "Esc"
        )
        assert where in shown(app, "#message")  # the position stays
        # A key that starts another action ends it too.
        main.say("Read-only: no privilege", error=True)
        await pilot.press("c")
        await wait_until(pilot, lambda: "exactly" in shown(app, "#message"), "the count")
        assert "Read-only" not in shown(app, "#message")


def test_the_position_goes_right_of_the_last_line_or_under_it() -> None:
    from pgconsole.widgets.message_line import message_text

    text, height = message_text("lost", "", "row 5", 20)
    assert text.plain == "lost" + " " * 11 + "row 5" and height == 1
    text, height = message_text("lost\nall of it", "later", "row 5 · keyset", 16)
    assert text.plain.split("\n") == ["lost", "all of it", "later", "  row 5 · keyset"]
    assert height == 4
    text, height = message_text("", "", "row 5", 10)
    assert text.plain == "     row 5" and height == 1
