"""The grid's paging controller with a source of made-up pages: pages reach the grid, a failed
fetch leaves it waiting for nothing, and an idle cursor is closed at its deadline (no server)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from textual import on
from textual.app import App, ComposeResult
from textual.screen import Screen

from pgconsole.db.browse.pages import Column, IdleCursor, Page, Pager, Pages, Row
from pgconsole.db.console.connection import ConsoleConnection, ResultPager
from pgconsole.screens.paging import GridPaging
from pgconsole.widgets import grid as grid_module
from pgconsole.widgets.grid import DataGrid
from tests.helpers.ui import noted_calls, wait_until

PAGE = 20
ROWS = 1000


@dataclass
class MadeUpPages:
    """`ROWS` numbered rows, `PAGE` at a time, behind a cursor that idles `idle` seconds."""

    idle: float = 60.0
    failing: Exception | None = None
    gate: asyncio.Event | None = None
    """When set, `after` waits for it: a page still on its way."""
    busy: int = 0
    """`close_if_idle` calls still to answer False (a fetch holds the cursor)."""
    asked: list[str] = field(default_factory=list)
    closed: int = 0
    deadline: float | None = None

    def _page(self, start: int, stop: int) -> Page:
        self.asked.append(f"{start}-{stop}")
        if self.failing is not None:
            raise self.failing
        self.deadline = time.monotonic() + self.idle
        start, stop = max(0, start), min(ROWS, stop)
        rows = tuple(Row((str(n),), ordinal=n) for n in range(start, stop))
        return Page(rows, more_before=start > 0, more_after=stop < ROWS)

    async def first(self) -> Page:
        return self._page(0, PAGE)

    async def last(self) -> Page:
        return self._page(ROWS - PAGE, ROWS)

    async def after(self, row: Row) -> Page:
        assert row.ordinal is not None
        if self.gate is not None:
            self.asked.append("waiting")
            await self.gate.wait()
        return self._page(row.ordinal + 1, row.ordinal + 1 + PAGE)

    async def before(self, row: Row) -> Page:
        assert row.ordinal is not None
        return self._page(row.ordinal - PAGE, row.ordinal)

    @property
    def idle_deadline(self) -> float | None:
        return self.deadline

    async def close_if_idle(self) -> bool:
        if self.busy:
            self.busy -= 1
            return False
        if self.deadline is None or time.monotonic() < self.deadline:
            return False
        self.deadline = None
        self.closed += 1
        return True


class PagedScreen(Screen[None]):
    def __init__(self, pages: Pages | None, cursor: IdleCursor | None = None) -> None:
        super().__init__()
        self.pages = pages
        self.said: list[str] = []
        self.paging = GridPaging(
            self,
            lambda: self.query_one(DataGrid),
            lambda: self.pages,
            cursor=None if cursor is None else (lambda: cursor),
            paged=lambda pages: self.said.append(f"paged {pages is self.pages}"),
            failed=lambda error: self.said.append(f"failed: {error}"),
            idle_closed=lambda: self.said.append("closed while idle"),
        )

    def compose(self) -> ComposeResult:
        yield DataGrid()

    def on_mount(self) -> None:
        grid = self.query_one(DataGrid)
        grid.set_columns([Column("n", "int4", numeric=True)])
        grid.focus()

    @on(DataGrid.RowsWanted)
    def rows_wanted(self, event: DataGrid.RowsWanted) -> None:
        self.paging.fetch(event.want, event.row)


class Harness(App[None]):
    def __init__(self, screen: PagedScreen) -> None:
        super().__init__()
        self.paged = screen

    def on_mount(self) -> None:
        self.push_screen(self.paged)


def grid_of(app: Harness) -> DataGrid:
    return app.paged.query_one(DataGrid)


async def test_pages_reach_the_grid_and_the_screen_is_told() -> None:
    pages = MadeUpPages()
    app = Harness(PagedScreen(pages))
    async with app.run_test(size=(40, 12)) as pilot:
        await wait_until(pilot, lambda: app.paged.is_mounted, "the screen")
        app.paged.paging.fetch("first", None)
        grid = grid_of(app)
        await wait_until(pilot, lambda: len(grid.rows) == PAGE, "the first page")
        await pilot.press("end")
        await wait_until(pilot, lambda: grid.current_row == Row(("999",), ordinal=999), "the end")
        await pilot.press("pageup", "pageup")
        await wait_until(pilot, lambda: grid.pending is None and len(grid.rows) > PAGE, "a page")
        assert pages.asked[:2] == ["0-20", "980-1000"]
        assert pages.asked[2] == "960-980"  # the page before the last one
        assert app.paged.said == ["paged True"] * len(pages.asked)


async def test_a_failed_fetch_is_told_and_the_grid_stops_waiting() -> None:
    pages = MadeUpPages(failing=OSError("the server went away"))
    app = Harness(PagedScreen(pages))
    async with app.run_test(size=(40, 12)) as pilot:
        await wait_until(pilot, lambda: app.paged.is_mounted, "the screen")
        grid = grid_of(app)
        grid.pending = "first"
        grid.jump = "first"
        app.paged.paging.fetch("first", None)
        await wait_until(pilot, lambda: bool(app.paged.said), "the failure")
        assert app.paged.said == ["failed: the server went away"]
        assert grid.pending is None and grid.jump is None


async def test_nothing_to_page_leaves_the_grid_waiting_for_nothing() -> None:
    app = Harness(PagedScreen(None))
    async with app.run_test(size=(40, 12)) as pilot:
        await wait_until(pilot, lambda: app.paged.is_mounted, "the screen")
        grid = grid_of(app)
        grid.pending = "after"
        assert app.paged.paging.fetch("after", None) is None
        assert grid.pending is None


async def test_an_idle_cursor_is_closed_at_its_deadline_and_looked_at_again_when_busy() -> None:
    pages = MadeUpPages(idle=0.2, busy=1)
    app = Harness(PagedScreen(pages))
    async with app.run_test(size=(40, 12)) as pilot:
        await wait_until(pilot, lambda: app.paged.is_mounted, "the screen")
        app.paged.paging.fetch("first", None)
        await wait_until(pilot, lambda: pages.closed == 1, "the idle cursor closed")
        assert pages.busy == 0  # asked once while busy, then again
        assert app.paged.said == ["paged True", "closed while idle"]


@pytest.mark.parametrize("seconds_left", [0.1, -1.0], ids=["ahead", "passed"])
async def test_the_cursor_to_close_may_be_another_than_the_pages(seconds_left: float) -> None:
    # The console: its session holds one cursor transaction, whichever result owns it. A
    # deadline already passed when the timer is set is met at once (a zero-delay Textual timer
    # ends without calling back: it divides by its delay).
    cursor = MadeUpPages(idle=0.1)
    app = Harness(PagedScreen(None, cursor))
    async with app.run_test(size=(40, 12)) as pilot:
        await wait_until(pilot, lambda: app.paged.is_mounted, "the screen")
        cursor.deadline = time.monotonic() + seconds_left
        app.paged.paging.arm_idle_close()
        await wait_until(pilot, lambda: cursor.closed == 1, "the session's cursor closed")
        assert app.paged.said == ["closed while idle"]


def painted_states(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, bool]]:
    """Each frame painted from now on, as (the grid's cursor row, a page still pending)."""

    def note(app: Any, _screen: Screen[None], renderable: object) -> tuple[int, bool] | None:
        grid = grid_of(app)
        return None if renderable is None else (grid.cursor_row, grid.pending is not None)

    return noted_calls(monkeypatch, Harness, "_display", note)


async def started(pilot: Any, app: Harness) -> MadeUpPages:
    """The first page shown; later pages wait for the source's gate."""
    await wait_until(pilot, lambda: app.paged.is_mounted, "the screen")
    app.paged.paging.fetch("first", None)
    await wait_until(pilot, lambda: len(grid_of(app).rows) == PAGE, "the first page")
    pages = app.paged.pages
    assert isinstance(pages, MadeUpPages)
    pages.gate = asyncio.Event()
    return pages


async def test_a_motion_and_the_rows_it_asked_for_are_painted_in_one_frame(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(grid_module, "PAINT_HOLD_SECONDS", 60.0)  # the rows always come first
    app = Harness(PagedScreen(MadeUpPages()))
    async with app.run_test(size=(40, 12)) as pilot:
        pages = await started(pilot, app)
        frames = painted_states(monkeypatch)
        await pilot.press("down")  # near the window's end: the next page is asked for
        # Without the hold the motion is painted before the page is even asked for.
        await wait_until(pilot, lambda: "waiting" in pages.asked, "the page asked for")
        assert pages.gate is not None
        pages.gate.set()
        await wait_until(pilot, lambda: (1, False) in frames, "the motion and its rows")
        assert all(not pending for _, pending in frames)


async def test_a_page_slower_than_the_hold_does_not_hold_back_the_motion(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = Harness(PagedScreen(MadeUpPages()))
    async with app.run_test(size=(40, 12)) as pilot:
        pages = await started(pilot, app)
        frames = painted_states(monkeypatch)
        await pilot.press("down")
        await wait_until(pilot, lambda: (1, True) in frames, "the motion, its page on its way")
        assert pages.gate is not None
        pages.gate.set()
        await wait_until(pilot, lambda: (1, False) in frames, "its rows")


async def test_a_grid_that_goes_away_while_holding_lets_the_app_paint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(grid_module, "PAINT_HOLD_SECONDS", 60.0)
    app = Harness(PagedScreen(MadeUpPages()))
    async with app.run_test(size=(40, 12)) as pilot:
        pages = await started(pilot, app)
        await pilot.press("down")
        await wait_until(pilot, lambda: "waiting" in pages.asked, "the page asked for")
        frames = noted_calls(monkeypatch, Harness, "_display", lambda _a, _s, r: r and "frame")
        app.pop_screen()  # the grid is unmounted with its page still on its way
        await wait_until(pilot, lambda: bool(frames), "a frame of the screen below")


def test_both_pagers_are_pages() -> None:
    """Checked by mypy: the browser's and the console's pagers speak one protocol, and the
    console's session is the idle cursor its results share."""
    kinds: list[type[Pages]] = [Pager, ResultPager]
    cursors: list[type[IdleCursor]] = [ConsoleConnection]
    assert all(hasattr(kind, "close_if_idle") for kind in [*kinds, *cursors])
