"""pgconsole measured in-process: PgConsoleApp under `run_test`, keys sent as a terminal would.

Every time runs from the moment the key is sent (or the app is constructed) to the end of the
frame that shows the result: see `benchmarks.harness`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from textual.widgets import Static

from benchmarks.data import ROWS_PER_SCALE, Target
from benchmarks.harness import (
    SIZE,
    MeasuredApp,
    Press,
    painted,
    presses_until,
    screen_of,
    settle,
)
from benchmarks.raw import SORT_COLUMN, Samples
from pgconsole.config import Settings
from pgconsole.db.browse.pages import Row
from pgconsole.widgets.grid import DataGrid
from pgconsole.widgets.schema_tree import SchemaTree

ACCOUNTS = "public.pgbench_accounts"
LARGE = (200, 50)
"""The large terminal of issue 17's page-flip target (the rest runs at `SIZE`, 80x24)."""
CURSOR_IDLE_SECONDS = 1.0
"""`cursor_idle_seconds` for the sort session: short, to watch the cursor being closed."""


@dataclass
class UiResults:
    """pgconsole's samples (seconds) and what was noticed along the way."""

    samples: Samples = field(default_factory=dict)
    presses: list[Press] = field(default_factory=list)
    """Every keyset PgDn/PgUp on pgbench_accounts, fetching or not."""
    keyset_sql: str = ""
    """The statement pgconsole sent for its last keyset page, to compare with ours."""
    errors: list[str] = field(default_factory=list)
    cursor_windows: list[tuple[float, float]] = field(default_factory=list)
    """Epoch-second intervals during which pgconsole browsed through a cursor."""

    def add(self, key: str, *values: float) -> None:
        """Record samples under `key`."""
        self.samples.setdefault(key, []).extend(values)

    def add_presses(self, key: str, presses: list[Press], *, keyset: bool = True) -> None:
        """Record the presses that fetched a page under `key` (the frame with the fetched
        rows) and `key_shown` (the first frame: the page asked for, when it was in memory),
        every press under `key_all`."""
        self.add(key, *(p.complete for p in presses if p.fetched))
        self.add(f"{key}_shown", *(p.feedback for p in presses if p.fetched and not p.owed))
        self.add(f"{key}_all", *(p.feedback for p in presses))
        if keyset:
            self.presses.extend(presses)


def _has_page(grid: DataGrid, old: list[Row]) -> bool:
    return grid.rows is not old and grid.pending is None


async def launches(target: Target, password: str, repeat: int, results: UiResults) -> None:
    """App constructed → schema tree painted, and → first page of --table painted."""
    for _ in range(repeat):
        await _launch(target, password, results)


async def _launch(target: Target, password: str, results: UiResults) -> None:
    started = time.perf_counter()
    app = MeasuredApp(target.params(password), Settings(), table=ACCOUNTS)
    tree = app.painted_when(lambda: bool(screen_of(app).query_one(SchemaTree).root.children))
    first = app.painted_when(
        lambda: bool(screen_of(app).grid.rows) and screen_of(app).grid.pending is None
    )
    async with app.run_test(size=SIZE):
        results.add("launch_inproc", await asyncio.wait_for(first, 60) - started)
        results.add("tree", await asyncio.wait_for(tree, 60) - started)


async def _open_from_tree(app: MeasuredApp, name: str) -> float:
    """Select `public.name` in the tree, press Enter: seconds to its first page painted."""
    screen = screen_of(app)
    assert screen.catalog is not None
    oid = next(r.oid for r in screen.catalog.relations if r.name == name)
    tree = screen.query_one(SchemaTree)
    tree.focus()
    tree.select_relation(oid)
    await settle(app)
    grid, old = screen.grid, screen.grid.rows
    sent = app.send_key("enter")
    done = await painted(
        app,
        lambda: (
            screen.spec is not None
            and screen.spec.name == name
            and bool(grid.rows)
            and _has_page(grid, old)
        ),
    )
    await settle(app)
    return done - sent


async def _jump(app: MeasuredApp, after_key: int) -> None:
    """Put the grid's window just after `after_key`, as if paged there."""
    screen = screen_of(app)
    assert screen.pager is not None
    page = await screen.pager.after(Row(cells=(), position=(str(after_key),)))
    screen.grid.show_page(page)
    await settle(app)


async def _key_to_page(app: MeasuredApp, key: str, within: float = 60) -> float:
    """Press `key` (End, Home, s): seconds until the page it fetches is painted."""
    grid = screen_of(app).grid
    old = grid.rows
    sent = app.send_key(key)
    done = await painted(app, lambda: _has_page(grid, old), within)
    await settle(app)
    return done - sent


async def browsing(
    target: Target, password: str, *, scale: int, repeat: int, fetches: int, results: UiResults
) -> None:
    """Open relations, page at the start, middle and end, End and Home, the wide table."""
    total = scale * ROWS_PER_SCALE
    app = MeasuredApp(target.params(password), Settings(), table=ACCOUNTS)
    async with app.run_test(size=SIZE):
        screen = screen_of(app)
        grid = screen.grid
        await painted(app, lambda: bool(grid.rows) and grid.pending is None)
        await settle(app)
        for i in range(repeat):
            results.add("open_wide", await _open_from_tree(app, "wide"))
            if i == 0:
                presses = await presses_until(app, "pagedown", fetches, warm_up=1)
                results.add_presses("pgdn_wide", presses, keyset=False)
            results.add("open_accounts", await _open_from_tree(app, "pgbench_accounts"))
        results.add_presses("pgdn_start", await presses_until(app, "pagedown", fetches, warm_up=1))
        if screen.pager is not None:
            results.keyset_sql = screen.pager.last_sql
        await _jump(app, total // 2)
        results.add_presses("pgdn_middle", await presses_until(app, "pagedown", fetches, warm_up=1))
        await _jump(app, total - 100 * (fetches + 6))
        results.add_presses("pgdn_end", await presses_until(app, "pagedown", fetches, warm_up=1))
        await _key_to_page(app, "home")
        for _ in range(repeat):
            results.add("end", await _key_to_page(app, "end"))
            results.add("home", await _key_to_page(app, "home"))
        await _key_to_page(app, "end")
        results.add_presses("pgup_end", await presses_until(app, "pageup", fetches, warm_up=1))


async def large_flips(
    target: Target, password: str, *, scale: int, fetches: int, results: UiResults
) -> None:
    """PgDn at the start and in the middle of pgbench_accounts at 200x50 (`_large` series)."""
    app = MeasuredApp(target.params(password), Settings(), table=ACCOUNTS)
    async with app.run_test(size=LARGE):
        grid = screen_of(app).grid
        await painted(app, lambda: bool(grid.rows) and grid.pending is None)
        await settle(app)
        presses = await presses_until(app, "pagedown", fetches, warm_up=1)
        results.add_presses("pgdn_start_large", presses, keyset=False)
        await _jump(app, scale * ROWS_PER_SCALE // 2)
        presses = await presses_until(app, "pagedown", fetches, warm_up=1)
        results.add_presses("pgdn_middle_large", presses, keyset=False)


async def sorting(
    target: Target, password: str, *, sorts: int, fetches: int, results: UiResults
) -> None:
    """`s` on a column without an index: a cursor. Page in it, go idle, page again."""
    settings = Settings(cursor_idle_seconds=CURSOR_IDLE_SECONDS)
    app = MeasuredApp(target.params(password), settings, table=ACCOUNTS)
    async with app.run_test(size=SIZE):
        screen = screen_of(app)
        grid = screen.grid
        await painted(app, lambda: bool(grid.rows) and grid.pending is None)
        await settle(app)
        while grid.current_column is not None and grid.current_column.name != SORT_COLUMN:
            app.send_key("l")
            await settle(app)
        window_start = time.time()
        for _ in range(sorts):
            sort = screen.spec.sort if screen.spec is not None else None
            if sort is not None and sort.descending:  # `s` cycles asc → desc → unsorted
                await _key_to_page(app, "s")
            took = await _key_to_page(app, "s", within=300)
            if not grid.rows:
                results.errors.append(f"sort by {SORT_COLUMN}: {_message(app)}")
                continue
            results.add("sort", took)
            results.add_presses(
                "cursor_next", await presses_until(app, "pagedown", fetches), keyset=False
            )
            await _until_cursor_closed(app)
        # After the idle close, the next page reopens the cursor where it was.
        reopen = await presses_until(app, "pagedown", 1)
        results.add_presses("cursor_reopen", reopen, keyset=False)
        await _until_cursor_closed(app)
        results.cursor_windows.append((window_start, time.time()))


async def _until_cursor_closed(app: MeasuredApp, within: float = 30) -> None:
    screen = screen_of(app)
    deadline = time.monotonic() + within
    while screen.pager is not None and screen.pager.holds_cursor:
        if time.monotonic() > deadline:
            raise TimeoutError("the idle cursor was not closed")
        await settle(app)


def _message(app: MeasuredApp) -> str:
    return str(screen_of(app).query_one("#message", Static).content)
