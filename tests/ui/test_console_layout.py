"""The console's layout at 80x24 with a session answering from fixed rows (no server)."""

from __future__ import annotations

from typing import Any, cast

from textual.app import App, ComposeResult
from textual.pilot import Pilot

from pgconsole.config import Settings
from pgconsole.db.console.connection import Result, ResultPager
from pgconsole.db.sqltext import Statement
from pgconsole.screens.console import ConsoleScreen
from pgconsole.widgets.results_list import ResultsList, Shown
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


class _Unknown:
    """A result's pager whose row count is not known yet."""

    total = None


class ResultsApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ResultsList()


async def test_each_result_is_one_line_cut_with_an_ellipsis() -> None:
    # `✓ select … · first page in 2.0 ms` is wider than 80 columns: it was wrapped onto a
    # second line (`page in 2.0 ms`), which pushed the next statement out of the list.
    pager = cast(ResultPager, _Unknown())
    shown = tuple(
        Shown(Statement(f"select * from shop.item where id > {n}", 0, 36), result, None)
        for n, result in enumerate(
            (
                Result(Statement("", 0, 0), "SELECT", 2.0, pager=pager),
                Result(Statement("", 0, 0), "SELECT", 2.0, pager=pager),
                Result(Statement("", 0, 0), "UPDATE 3", 4.1),
            )
        )
    )
    app = ResultsApp()
    async with app.run_test(size=(80, 10)) as pilot:
        results = app.query_one(ResultsList)
        results.shown = shown
        await pilot.pause()
        lines = [results.render_line(y).text.strip("▊▎ ") for y in range(3)]
        assert [line[0] for line in lines] == ["✓", "✓", "✓"], lines
        assert lines[0].endswith(" · fi…")
        assert lines[2].endswith("UPDATE 3 · 4.1 ms")
