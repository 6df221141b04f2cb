"""The browser over a real server: what the grid shows is what psql returns, in the same order."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Input

from pgconsole.app import PgConsoleApp
from pgconsole.db.quoting import qualified, quote_ident
from pgconsole.screens.filter import FilterScreen
from pgconsole.screens.main import MainScreen
from pgconsole.screens.value import ValueScreen
from pgconsole.throwaway.cluster import ThrowawayCluster
from pgconsole.widgets.grid import DataGrid
from tests.conftest import admin_connect
from tests.helpers.psql import psql_available, psql_rows
from tests.helpers.ui import app_for, first_page, shown, wait_for_screen, wait_until
from tests.helpers.waiting import poll_until

pytestmark = pytest.mark.skipif(not psql_available(), reason="psql is not installed")

SIZE = (100, 30)
ROWS = 537
HOSTILE_SCHEMA = 'My "Schema"'
HOSTILE_TABLE = "Order; DROP TABLE t; --"
HOSTILE_ARG = '"My ""Schema"""."Order; DROP TABLE t; --"'
MARKUP = ("[red]x[/]", "[@click=app.quit]quit", "esc \x1b[31mred", "bell\x07", "")


@pytest.fixture
async def filled(cluster: ThrowawayCluster, dbname: str) -> AsyncIterator[str]:
    conn = await admin_connect(cluster, dbname)
    try:
        await conn.execute(
            f"""
            CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL, w int, v text);
            CREATE INDEX t_n ON t (n);
            INSERT INTO t SELECT i, (i * 7919) % 1000,
                CASE WHEN i % 9 = 0 THEN NULL ELSE (i * 31) % 100 END, 'row ' || i
            FROM generate_series(1, {ROWS}) AS i;
            CREATE TABLE heap (a int, b text);
            INSERT INTO heap SELECT i, 'b' || i FROM generate_series(1, {ROWS}) AS i;
            CREATE TABLE victim (id int);
            INSERT INTO victim VALUES (1);
            CREATE TABLE markup (id int PRIMARY KEY, v text);
            """
        )
        hostile = qualified(HOSTILE_SCHEMA, HOSTILE_TABLE)
        await conn.execute(f"CREATE SCHEMA {quote_ident(HOSTILE_SCHEMA)}")
        await conn.execute(
            f'CREATE TABLE {hostile} ("select" int PRIMARY KEY, "a b" text, "Ünïcode" text)'
        )
        await conn.execute(f"INSERT INTO {hostile} VALUES (1, 'x', 'ü')")
        await conn.executemany(
            "INSERT INTO markup VALUES ($1, $2)", list(enumerate(MARKUP, start=1))
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    yield dbname


def screen(app: PgConsoleApp) -> MainScreen:
    return app.main_screen


def window_matches(grid: DataGrid, expected: list[tuple[str | None, ...]]) -> bool:
    """The grid's rows are a contiguous slice of psql's rows, in order."""
    rows = [r.cells for r in grid.rows]
    if not rows or rows[0] not in expected:
        return False
    start = expected.index(rows[0])
    return rows == expected[start : start + len(rows)]


async def settle(pilot: Pilot[Any], app: PgConsoleApp) -> None:
    """The key's page is in (the grid asks for it while handling the key), and no reload runs."""
    await wait_until(
        pilot,
        lambda: screen(app).grid.pending is None and not reloading(app),
        "the page fetch",
    )
    await pilot.pause()


def reloading(app: PgConsoleApp) -> bool:
    """A sort or filter change reads the first page again in the screen's "open" worker."""
    return any(worker.group == "open" and not worker.is_finished for worker in app.workers)


SELECT = "SELECT id::text, n::text, w::text, v FROM t"


@pytest.mark.slow
async def test_paging_through_a_keyed_table(cluster: ThrowawayCluster, filled: str) -> None:
    expected = await psql_rows(cluster, filled, f"{SELECT} ORDER BY t.id")
    app = app_for(cluster, filled, "public.t")
    async with app.run_test(size=SIZE) as pilot:
        grid = await first_page(pilot, app)
        assert grid.rows[0].cells == expected[0]
        seen = {grid.current_row.cells if grid.current_row else None}
        for _ in range(30):  # down through several page boundaries, fetching ahead
            await pilot.press("pagedown")
            await settle(pilot, app)
            assert window_matches(grid, expected)
            seen.add(grid.current_row.cells if grid.current_row else None)
        assert grid.current_row is not None and grid.current_row.cells == expected[-1]
        assert len(grid.rows) <= grid.max_rows
        for _ in range(30):
            await pilot.press("pageup")
            await settle(pilot, app)
            assert window_matches(grid, expected)
        assert grid.current_row is not None and grid.current_row.cells == expected[0]
        await pilot.press("end")
        await settle(pilot, app)
        assert grid.current_row is not None and grid.current_row.cells == expected[-1]
        await pilot.press("g", "g")
        await settle(pilot, app)
        assert grid.current_row is not None and grid.current_row.cells == expected[0]
        assert len(seen) > 10


@pytest.mark.parametrize(
    ("presses", "order_by"),
    [
        (("l", "s"), "t.n, t.id"),  # indexed NOT NULL column: keyset
        (("l", "s", "s"), "t.n DESC, t.id DESC"),
        (("l", "l", "s"), "t.w, t.id"),  # nullable, no index: a cursor
    ],
)
async def test_sorted_paging(
    cluster: ThrowawayCluster, filled: str, presses: tuple[str, ...], order_by: str
) -> None:
    expected = await psql_rows(cluster, filled, f"{SELECT} ORDER BY {order_by}")
    app = app_for(cluster, filled, "public.t")
    async with app.run_test(size=SIZE) as pilot:
        grid = await first_page(pilot, app)
        for key in presses:
            await pilot.press(key)
            await settle(pilot, app)
        await wait_until(pilot, lambda: grid.rows[0].cells == expected[0], "the sorted page")
        for _ in range(12):
            await pilot.press("pagedown")
            await settle(pilot, app)
            assert window_matches(grid, expected)
        await pilot.press("end")
        await settle(pilot, app)
        assert grid.current_row is not None and grid.current_row.cells == expected[-1]


async def test_filtered_paging(cluster: ThrowawayCluster, filled: str) -> None:
    expected = await psql_rows(cluster, filled, f"{SELECT} WHERE (n > 500) ORDER BY t.id")
    app = app_for(cluster, filled, "public.t")
    async with app.run_test(size=SIZE) as pilot:
        grid = await first_page(pilot, app)
        await pilot.press("w")
        await wait_for_screen(pilot, app, FilterScreen, "the filter prompt")
        await pilot.press(*"n > 500", "enter")
        await wait_until(pilot, lambda: grid.rows[0].cells == expected[0], "the filtered page")
        for _ in range(20):
            await pilot.press("pagedown")
            await settle(pilot, app)
            assert window_matches(grid, expected)
        assert grid.current_row is not None and grid.current_row.cells == expected[-1]


@pytest.mark.slow
async def test_table_without_key_streams_and_pages_back(
    cluster: ThrowawayCluster, filled: str
) -> None:
    expected = await psql_rows(cluster, filled, "SELECT a::text, b FROM heap")
    app = app_for(cluster, filled, "public.heap")
    async with app.run_test(size=SIZE) as pilot:
        grid = await first_page(pilot, app)
        for key in ["pagedown"] * 25 + ["pageup"] * 25:
            await pilot.press(key)
            await settle(pilot, app)
            assert window_matches(grid, expected)
        assert grid.current_row is not None and grid.current_row.ordinal == 0


@pytest.mark.slow
async def test_idle_cursor_is_closed_and_the_next_key_continues(
    cluster: ThrowawayCluster, filled: str, admin: asyncpg.Connection
) -> None:
    open_transactions = (
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgconsole'"
        " AND datname = $1 AND xact_start IS NOT NULL"
    )
    app = app_for(cluster, filled, "public.heap", cursor_idle_seconds=2.0)
    async with app.run_test(size=SIZE) as pilot:
        grid = await first_page(pilot, app)
        for _ in range(10):
            await pilot.press("pagedown")
            await settle(pilot, app)
        pager = screen(app).pager
        assert pager is not None and pager.holds_cursor
        assert await admin.fetchval(open_transactions, filled) == 1
        before = grid.current_row
        assert before is not None and before.ordinal is not None

        async def closed() -> bool:  # a timer closes it at the idle deadline
            count: int = await admin.fetchval(open_transactions, filled)
            return count == 0

        await poll_until(closed, "the idle cursor's transaction to end")
        for _ in range(12):  # on into rows the window has not fetched yet
            await pilot.press("pagedown")
            await settle(pilot, app)
        after = grid.current_row
        assert after is not None and after.ordinal is not None
        expected = await psql_rows(cluster, filled, "SELECT a::text, b FROM heap")
        assert window_matches(grid, expected)
        assert after.cells == expected[after.ordinal]
        assert after.ordinal > before.ordinal


@pytest.mark.parametrize("early", [True, False], ids=["opened-before-the-app", "by-the-app"])
async def test_hostile_identifiers_open_the_right_relation(
    cluster: ThrowawayCluster, filled: str, admin: asyncpg.Connection, early: bool
) -> None:
    app = app_for(cluster, filled, HOSTILE_ARG, early=early)
    async with app.run_test(size=SIZE) as pilot:
        grid = await first_page(pilot, app)
        assert [c.name for c in grid.columns] == ["select", "a b", "Ünïcode"]
        assert grid.rows[0].cells == ("1", "x", "ü")
        title = shown(app, "#relation-title")
        assert f"{HOSTILE_SCHEMA}.{HOSTILE_TABLE}" in title
    conn = await admin_connect(cluster, filled)
    try:
        assert await conn.fetchval("SELECT count(*) FROM t") == ROWS
        assert await conn.fetchval("SELECT count(*) FROM victim") == 1
    finally:
        await conn.close()


@pytest.mark.parametrize("early", [True, False], ids=["opened-before-the-app", "by-the-app"])
async def test_a_missing_table_is_named_and_the_tree_still_loads(
    cluster: ThrowawayCluster, filled: str, early: bool
) -> None:
    app = app_for(cluster, filled, 'public."T"', early=early)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.main_screen
        await wait_until(pilot, lambda: screen.catalog is not None, "the schema tree")
        assert shown(app, "#message") == '--table public."T": no such table or view'
        assert not screen.grid.rows
        assert screen.pager is None


async def test_markup_and_escapes_are_shown_literally(
    cluster: ThrowawayCluster, filled: str
) -> None:
    app = app_for(cluster, filled, "public.markup")
    async with app.run_test(size=SIZE) as pilot:
        grid = await first_page(pilot, app)
        lines = [grid.render_line(y).text for y in range(2, 2 + len(MARKUP))]
        assert "[red]x[/]" in lines[0]
        assert "[@click=app.quit]quit" in lines[1]
        assert "esc \u241b[31mred" in lines[2]
        assert "bell\u2407" in lines[3]
        assert "NULL" not in lines[4]  # an empty string is not NULL
        await pilot.press("down", "l", "enter")
        await wait_for_screen(pilot, app, ValueScreen, "the value view")
        assert shown(app, "#value-text") == "[@click=app.quit]quit"
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.main_screen, "the grid again")
        assert app.is_running


@pytest.mark.parametrize("trick", ["1=1; DELETE FROM t", "true) OR (true", "1=1 -- ", "$1 = 1"])
async def test_filter_tricks_are_refused_before_reaching_the_server(
    cluster: ThrowawayCluster, filled: str, trick: str
) -> None:
    app = app_for(cluster, filled, "public.t")
    async with app.run_test(size=SIZE) as pilot:
        grid = await first_page(pilot, app)
        first = grid.rows[0].cells
        await pilot.press("w")
        await wait_for_screen(pilot, app, FilterScreen, "the filter prompt")
        await pilot.press(*trick, "enter")
        await wait_until(pilot, lambda: bool(shown(app, "#filter-error").strip()), "the refusal")
        assert isinstance(app.screen, FilterScreen)  # still asking: nothing was run
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, FilterScreen), "the grid")
        assert grid.rows[0].cells == first
    conn = await admin_connect(cluster, filled)
    try:
        assert await conn.fetchval("SELECT count(*) FROM t") == ROWS
    finally:
        await conn.close()


async def test_quick_filter_uses_the_cell_value(cluster: ThrowawayCluster, filled: str) -> None:
    app = app_for(cluster, filled, "public.t")
    async with app.run_test(size=SIZE) as pilot:
        grid = await first_page(pilot, app)
        await pilot.press("down", "l", "equals_sign")
        value = (2 * 7919) % 1000
        await wait_until(
            pilot,
            lambda: bool(grid.rows) and all(r.cells[1] == str(value) for r in grid.rows),
            "the quick filter",
        )
        await settle(pilot, app)
        await pilot.press("x")
        await wait_until(pilot, lambda: len(grid.rows) == 100, "filters cleared")


async def test_relation_details(cluster: ThrowawayCluster, filled: str) -> None:
    from pgconsole.screens.relation import RelationScreen

    conn = await admin_connect(cluster, filled)
    try:
        await conn.execute(
            "CREATE TABLE child (id int PRIMARY KEY, t_id int REFERENCES t (id) ON DELETE CASCADE)"
        )
    finally:
        await conn.close()
    app = app_for(cluster, filled, "public.t")
    async with app.run_test(size=SIZE) as pilot:
        await first_page(pilot, app)
        await pilot.press("i")
        await wait_for_screen(pilot, app, RelationScreen, "the details")
        console = Console(width=120, record=True, file=io.StringIO())
        for widget in app.screen.query(".relation-table"):
            console.print(widget.content)  # type: ignore[attr-defined]
        texts = console.export_text()
        for expected in ("Columns", "t_n", "t_pkey", "Referenced by", "child", "cascade"):
            assert expected in texts, expected
        await pilot.press("escape")
        await wait_for_screen(pilot, app, MainScreen, "the grid")


async def test_exact_count_only_when_asked(cluster: ThrowawayCluster, filled: str) -> None:
    app = app_for(cluster, filled, "public.t")
    async with app.run_test(size=SIZE) as pilot:
        await first_page(pilot, app)
        assert "exactly" not in shown(app, "#message")
        await pilot.press("c")
        await wait_until(pilot, lambda: f"exactly {ROWS:,} rows" in shown(app, "#message"), "count")
        await pilot.press("w")
        await wait_for_screen(pilot, app, FilterScreen, "the filter prompt")
        await pilot.press(*"id <= 10", "enter")
        await wait_until(pilot, lambda: len(screen(app).grid.rows) == 10, "the filtered page")
        await pilot.press("c")
        await wait_until(
            pilot, lambda: "exactly 10 rows (filtered)" in shown(app, "#message"), "count"
        )


async def test_export_from_the_grid(cluster: ThrowawayCluster, filled: str, tmp_path: Path) -> None:
    from pgconsole.screens.export import ExportScreen

    target = tmp_path / "t.csv"
    app = app_for(cluster, filled, "public.t")
    async with app.run_test(size=SIZE) as pilot:
        await first_page(pilot, app)
        await pilot.press("e")
        await wait_for_screen(pilot, app, ExportScreen, "the export dialog")
        field = app.screen.query_one("#export-path", Input)
        field.value = str(target)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Exported" in shown(app, "#export-status"), "the export")
        assert f"Exported {ROWS:,} rows" in shown(app, "#export-status")
        await pilot.press("escape")
        await wait_for_screen(pilot, app, MainScreen, "the grid")
    with target.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["id", "n", "w", "v"]
    assert len(rows) == ROWS + 1
    assert rows[1] == ["1", str(7919 % 1000), "31", "row 1"]


async def lock_waiters(cluster: ThrowawayCluster, dbname: str, conn: asyncpg.Connection) -> int:
    """Backends of `database` waiting on a lock (pgconsole's queries behind the test's lock)."""
    waiting: int = await conn.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
        dbname,
    )
    return waiting


PROGRESS = re.compile(r"(\w+)… \d+\.\d s \(Esc (?:cancels|stops)\)")


def progress(app: PgConsoleApp, doing: str) -> bool:
    """The message line says `doing… 1.2 s (Esc …)`, the elapsed time ticking."""
    return any(m.group(1) == doing for m in PROGRESS.finditer(shown(app, "#message")))


@pytest.mark.parametrize(
    ("keys", "doing"),
    [(("w", *"n > 500", "enter"), "filtering"), (("l", "l", "s"), "sorting")],
)
async def test_a_slow_reload_shows_progress_and_esc_cancels_it_on_the_server(
    cluster: ThrowawayCluster, filled: str, keys: tuple[str, ...], doing: str
) -> None:
    app = app_for(cluster, filled, "public.t", lock_timeout="60s")
    locker = await admin_connect(cluster, filled)
    try:
        async with app.run_test(size=SIZE) as pilot:
            grid = await first_page(pilot, app)
            first = [r.cells for r in grid.rows]
            async with locker.transaction():
                await locker.execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
                await pilot.press(*keys)
                await wait_until(pilot, lambda: progress(app, doing), f"{doing}… n s")
                await poll_until(
                    lambda: _is_positive(lock_waiters(cluster, filled, locker)), "the wait"
                )
                await pilot.press("escape")
                await wait_until(
                    pilot, lambda: f"{doing} cancelled" in shown(app, "#message"), "cancelled"
                )
                await poll_until(
                    lambda: _is_zero(lock_waiters(cluster, filled, locker)), "no query left"
                )
            assert "the rows shown are as before" in shown(app, "#message")
            assert [r.cells for r in grid.rows] == first
            assert not {"↑", "↓"} & set(shown(app, "#relation-title"))
            assert "where" not in shown(app, "#relation-title")
            await pilot.press("pagedown")  # the old order and filter page on
            await settle(pilot, app)
            expected = await psql_rows(cluster, filled, f"{SELECT} ORDER BY t.id")
            assert grid.current_row is not None and grid.current_row.cells != first[0]
            assert window_matches(grid, expected)
    finally:
        await locker.close()


async def _is_positive(count: Awaitable[int]) -> bool:
    return await count > 0


async def _is_zero(count: Awaitable[int]) -> bool:
    return await count == 0


async def test_a_slow_count_shows_the_time_and_esc_stops_it(
    cluster: ThrowawayCluster, filled: str
) -> None:
    app = app_for(cluster, filled, "public.t", lock_timeout="60s")
    locker = await admin_connect(cluster, filled)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await first_page(pilot, app)
            async with locker.transaction():
                await locker.execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
                await pilot.press("c")
                await wait_until(pilot, lambda: progress(app, "counting"), "counting… n s")
                await poll_until(
                    lambda: _is_positive(lock_waiters(cluster, filled, locker)), "the wait"
                )
                await pilot.press("escape")
                await wait_until(
                    pilot, lambda: "count stopped after" in shown(app, "#message"), "stopped"
                )
                await poll_until(
                    lambda: _is_zero(lock_waiters(cluster, filled, locker)), "no query left"
                )
    finally:
        await locker.close()


@pytest.mark.parametrize(
    ("typed", "message", "caret"),
    [
        ("id > 0 AND vv = 'x'", 'column "vv" does not exist', " " * 11 + "^"),
        (
            "id > 0 AND n > point '(1,2)'",
            "operator does not exist: integer > point",
            " " * 13 + "^",
        ),
    ],
)
async def test_a_failed_filter_keeps_the_rows_and_speaks_the_users_names(
    cluster: ThrowawayCluster, filled: str, typed: str, message: str, caret: str
) -> None:
    app = app_for(cluster, filled, "public.t")
    async with app.run_test(size=(120, 30)) as pilot:
        grid = await first_page(pilot, app)
        first = [r.cells for r in grid.rows]
        await pilot.press("w")
        await wait_for_screen(pilot, app, FilterScreen, "the filter prompt")
        await pilot.press(*typed, "enter")
        await wait_until(pilot, lambda: message in shown(app, "#message"), "the server's error")
        text = shown(app, "#message")
        assert f"{typed}\n{caret}\n" in text
        assert "_pgconsole_r" not in text
        assert "The filter was not applied" in text
        assert "where" not in shown(app, "#relation-title")
        assert [r.cells for r in grid.rows] == first
        assert not grid.stale
        await pilot.press("w")  # the refused filter comes back, to be fixed
        prompt = await wait_for_screen(pilot, app, FilterScreen, "the filter prompt")
        assert prompt.query_one(Input).value == typed
        assert message in shown(app, "#filter-error")


async def test_the_hint_names_the_column_as_the_user_would(
    cluster: ThrowawayCluster, filled: str
) -> None:
    app = app_for(cluster, filled, "public.t")
    async with app.run_test(size=(120, 30)) as pilot:
        await first_page(pilot, app)
        await pilot.press("w")
        await wait_for_screen(pilot, app, FilterScreen, "the filter prompt")
        await pilot.press(*"vv = 'x'", "enter")
        await wait_until(pilot, lambda: "HINT" in shown(app, "#message"), "the hint")
        assert 'the column "v"' in shown(app, "#message")


@pytest.mark.slow
async def test_the_title_shows_the_filter_cut_to_fit(
    cluster: ThrowawayCluster, filled: str
) -> None:
    long = "n > 500 AND v <> '" + "x" * 150 + "'"
    app = app_for(cluster, filled, "public.t")
    async with app.run_test(size=SIZE) as pilot:
        grid = await first_page(pilot, app)
        await pilot.press("w")
        prompt = await wait_for_screen(pilot, app, FilterScreen, "the filter prompt")
        assert prompt.query_one(Input).placeholder == "id > 100 AND n > 100"
        await pilot.press(*"n > 500", "enter")
        await wait_until(pilot, lambda: "where n > 500" in shown(app, "#relation-title"), "title")
        await settle(pilot, app)
        await pilot.press("w")
        await wait_for_screen(pilot, app, FilterScreen, "the filter prompt")
        await pilot.press("ctrl+u", *long, "enter")
        await wait_until(pilot, lambda: "…" in shown(app, "#relation-title"), "the cut title")
        title = shown(app, "#relation-title")
        assert "where n > 500 AND v <> 'xxx" in title
        assert len(title) <= SIZE[0] - screen(app).query_one("#left").size.width - 2
        assert grid.rows


async def test_a_relation_that_cannot_be_opened_is_named_in_the_error(
    cluster: ThrowawayCluster, filled: str
) -> None:
    # Another session drops heap's index in a transaction not yet committed: reading the
    # index's size to describe heap waits for it, and times out. The grid still shows t, so
    # the error says which relation it is about.
    app = app_for(cluster, filled, "public.t", lock_timeout="200ms")
    locker = await admin_connect(cluster, filled)
    try:
        await locker.execute("CREATE INDEX heap_a ON heap (a)")
        async with app.run_test(size=SIZE) as pilot:
            await first_page(pilot, app)
            async with locker.transaction():
                await locker.execute("DROP INDEX heap_a")
                await pilot.press("tab")
                await pilot.press(*"/heap", "enter", "enter")
                await wait_until(pilot, lambda: "55P03" in shown(app, "#message"), "the timeout")
            message = shown(app, "#message")
            assert message.startswith('Could not open "public"."heap": canceling statement due')
            assert "public.t" in shown(app, "#relation-title")  # what the grid still shows
    finally:
        await locker.close()
