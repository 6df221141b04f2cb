"""The console's layout at 80x24 with a session answering from fixed rows (no server)."""

from __future__ import annotations

from typing import Any, cast

from textual.pilot import Pilot

from pgconsole.config import Settings
from pgconsole.screens.console import ConsoleScreen
from pgconsole.widgets.sql_editor import SqlEditor
from tests.helpers.ui import wait_until
from tests.ui.test_snapshot_gallery import FixedConsole
from tests.ui.test_snapshots import PARAMS, ConnectedHarness, until_connected


async def opened(pilot: Pilot[Any]) -> ConsoleScreen:
    await until_connected(pilot)
    app = cast(ConnectedHarness, pilot.app)
    assert app.database is not None
    console = FixedConsole(app.database)
    await app.push_screen(console)
    await wait_until(pilot, lambda: console.session.pid is not None, "its session")
    return console


async def run(pilot: Pilot[Any], console: ConsoleScreen, sql: str) -> None:
    """Run `sql` with F5 and wait for its result or error."""
    editor = console.query_one(SqlEditor)
    editor.text = sql
    before = console.running
    await pilot.press("f5")
    await wait_until(
        pilot,
        lambda: (
            console.running is not before
            and console.running is not None
            and console.running.is_finished
        ),
        "the run",
    )


def lines_used(console: ConsoleScreen) -> int:
    """The screen's lines that a shown widget takes."""
    return sum(w.outer_size.height for w in console.children if w.display)


async def test_no_empty_lines_after_an_error_or_without_rows() -> None:
    app = ConnectedHarness(PARAMS, Settings(read_only=True))
    async with app.run_test(size=(80, 24)) as pilot:
        console = await opened(pilot)
        editor = console.query_one(SqlEditor)
        await run(pilot, console, "select nme, price from shop.item;")
        # No grid: the editor takes the lines the rows would, not an empty area.
        await wait_until(pilot, lambda: lines_used(console) == 24, "every line used")
        assert not console.grid.display
        assert editor.outer_size.height > 9
        await run(pilot, console, "select id, name, price, stock from shop.item;")
        await wait_until(pilot, lambda: console.grid.display, "the rows")
        await wait_until(pilot, lambda: editor.outer_size.height == 9, "the editor's 40 %")
        assert lines_used(console) == 24
        await run(pilot, console, "select nme, price from shop.item;")
        await wait_until(pilot, lambda: not console.grid.display, "the error")
        await wait_until(pilot, lambda: lines_used(console) == 24, "every line used again")
