"""The SQL console over a real server, driven by keys at 80x24: streaming, tags, scripts,
cancel, EXPLAIN, read-only mode, completion, transactions and history."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.dom import DOMNode
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from pgconsole.app import PgConsoleApp
from pgconsole.db.console.connection import VALUE_LIMIT
from pgconsole.db.console.history import History
from pgconsole.db.quoting import quote_ident
from pgconsole.screens import completion_source
from pgconsole.screens.confirm import ConfirmScreen
from pgconsole.screens.console import ConsoleScreen
from pgconsole.screens.explain import ExplainScreen
from pgconsole.screens.export import ExportScreen
from pgconsole.screens.history import HistoryScreen
from pgconsole.screens.value import ValueScreen
from pgconsole.throwaway.cluster import ThrowawayCluster
from pgconsole.throwaway.demo import seed
from pgconsole.widgets.sql_editor import CompletionMenu, SqlEditor
from tests.conftest import admin_connect
from tests.helpers.file_io import opens_of
from tests.helpers.queries import backend_reaches, backend_state
from tests.helpers.ui import (
    app_for,
    noted_calls,
    shown,
    tree_labels,
    wait_for_screen,
    wait_until,
)

SIZE = (80, 24)
DEMO = "console_demo"


def rss_bytes() -> int:
    """Resident set size of this process, from /proc/self/statm."""
    resident = int(Path("/proc/self/statm").read_text().split()[1])
    return resident * os.sysconf("SC_PAGE_SIZE")


def _run(coro: Any) -> None:
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(coro)
    finally:
        loop.close()


@pytest.fixture(scope="module")
def demo(cluster: ThrowawayCluster) -> Iterator[str]:
    """The demo database (1,000,000 rows in shop.events), shared by this module's tests."""

    async def create() -> None:
        admin = await admin_connect(cluster)
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(DEMO)} WITH (FORCE)")
            await admin.execute(f"CREATE DATABASE {quote_ident(DEMO)}")
        finally:
            await admin.close()
        conn = await admin_connect(cluster, DEMO)
        try:
            await seed(conn)
        finally:
            await conn.close()

    async def drop() -> None:
        admin = await admin_connect(cluster)
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(DEMO)} WITH (FORCE)")
        finally:
            await admin.close()

    _run(create())
    yield DEMO
    _run(drop())


@pytest.fixture
async def people(cluster: ThrowawayCluster, dbname: str) -> AsyncIterator[str]:
    conn = await admin_connect(cluster, dbname)
    try:
        await conn.execute(
            """
            CREATE TABLE people (id int PRIMARY KEY, name text NOT NULL, age int);
            INSERT INTO people SELECT g, 'person ' || g, 20 + g % 50
              FROM generate_series(1, 3000) g;
            CREATE TABLE pets (id int PRIMARY KEY, owner int REFERENCES people, kind text);
            INSERT INTO pets SELECT g, 1 + g % 3000, 'cat' FROM generate_series(1, 6000) g;
            ANALYZE people; ANALYZE pets;
            """
        )
    finally:
        await conn.close()
    yield dbname


async def open_console(pilot: Pilot[Any], app: PgConsoleApp) -> ConsoleScreen:
    """F4 once connected; the console's own connection open."""
    await wait_until(pilot, lambda: app.database is not None, "the pool")
    await pilot.press("f4")
    await wait_for_screen(pilot, app, ConsoleScreen, "the console")
    console = app.screen
    assert isinstance(console, ConsoleScreen)
    await wait_until(pilot, lambda: console.session.pid is not None, "the console's connection")
    return console


async def run(pilot: Pilot[Any], console: ConsoleScreen, sql: str, key: str = "f5") -> None:
    """Put `sql` in the editor, the cursor at its end, press `key`, wait for the run to end."""
    console.editor.text = sql
    console.editor.move_cursor(console.editor.document.end)
    console.editor.focus()
    await press_and_wait(pilot, console, key)


async def press_and_wait(pilot: Pilot[Any], console: ConsoleScreen, key: str = "f5") -> None:
    """Press `key` on what the editor holds; wait for the run it starts to end."""
    before = console.running
    await pilot.press(key)
    await wait_until(pilot, lambda: console.running is not before, "the run to start")
    worker = console.running
    assert worker is not None
    await wait_until(pilot, lambda: worker.is_finished, "the run to end", within=30)
    await pilot.pause()


def message(console: ConsoleScreen) -> str:
    return str(console.query_one("#console-message", Static).content)


def status(console: ConsoleScreen) -> str:
    return str(console.query_one("#console-status", Static).content)


@pytest.mark.slow
async def test_a_select_over_a_million_rows_pages_in_flat_memory(
    cluster: ThrowawayCluster, demo: str
) -> None:
    app = app_for(cluster, demo)
    async with app.run_test(size=SIZE) as pilot:
        console = await open_console(pilot, app)
        await run(pilot, console, "SELECT * FROM shop.events ORDER BY id")
        # The first page, not a million rows: the cursor stands after the page's 100 (+1).
        assert console.current is not None and console.current.pager is not None
        assert console.current.pager.position == 101
        assert console.current.pager.total is None
        grid = console.grid
        assert grid.display and len(grid.rows) == 100
        assert grid.rows[0].cells[0] == "1"
        assert "SELECT" in message(console) and "first page in" in message(console)
        grid.focus()
        for _ in range(30):  # warm up: every allocation of a first pass is made
            await pilot.press("pagedown")
        await wait_until(pilot, lambda: grid.pending is None, "pages")
        before = rss_bytes()
        seen = grid.rows_seen
        for _ in range(500):
            await pilot.press("pagedown")
        await wait_until(pilot, lambda: grid.pending is None, "pages")
        assert grid.rows_seen - seen >= 3000  # thousands of rows went through the grid
        assert len(grid.rows) <= grid.max_rows
        assert rss_bytes() - before < 20 << 20
        row = grid.current_row
        assert row is not None and row.ordinal is not None and row.ordinal > 3000
        assert row.cells[0] == str(row.ordinal + 1)  # ids are 1..1,000,000 in order
        await pilot.press("end")
        await wait_until(
            pilot,
            lambda: bool(grid.rows) and grid.rows[-1].cells[0] == "1000000",
            "the last row",
            within=30,
        )
        assert "1,000,000 rows" in message(console)


async def test_dml_tags_and_a_script_reporting_each_statement(
    cluster: ThrowawayCluster, people: str
) -> None:
    app = app_for(cluster, people)
    async with app.run_test(size=SIZE) as pilot:
        console = await open_console(pilot, app)
        await run(pilot, console, "UPDATE people SET age = age + 1 WHERE id <= 7")
        assert "UPDATE 7" in message(console)
        assert not console.grid.display
        script = (
            "CREATE TABLE notes (id int, body text);\n"
            "INSERT INTO notes VALUES (1, '[red]x[/]'), (2, 'b');\n"
            "DELETE FROM notes WHERE id = 2;\n"
            "SELECT * FROM notes;"
        )
        await run(pilot, console, script, key="f6")
        results = console.query_one("#console-results", OptionList)
        assert results.display and results.option_count == 4
        lines = [str(results.get_option_at_index(i).prompt) for i in range(4)]
        assert "CREATE TABLE" in lines[0]
        assert "INSERT 0 2" in lines[1]
        assert "DELETE 1" in lines[2]
        assert "SELECT" in lines[3]
        assert console.grid.rows[0].cells == ("1", "[red]x[/]")  # markup is data
        # A failure stops the script and says where.
        await run(pilot, console, "SELECT 1;\nSELEC 2;\nSELECT 3;", key="f6")
        assert results.option_count == 2
        assert "42601" in message(console) and "syntax error" in message(console)
        assert console.editor.cursor_location == (1, 0)  # the server's error position
        assert not console.grid.display  # SELECT 1's rows are not shown under the error
        # The list learns a query's row count once the grid has reached its end.
        await run(pilot, console, "SELECT 1;\nSELECT g FROM generate_series(1, 250) g;", key="f6")
        assert "more rows" in str(results.get_option_at_index(1).prompt)
        console.grid.focus()
        await pilot.press("end")
        await wait_until(pilot, lambda: console.grid.rows[-1].cells == ("250",), "the end")
        await wait_until(
            pilot, lambda: "250 rows" in str(results.get_option_at_index(1).prompt), "the count"
        )
        # A failed statement after a query: the query's rows go.
        await run(pilot, console, "SELECT * FROM people")
        assert console.grid.display
        await run(pilot, console, "SELECT nonsense FROM people")
        assert "42703" in message(console) and not console.grid.display
    conn = await admin_connect(cluster, people)
    try:
        assert await conn.fetchval("SELECT count(*) FROM people WHERE age > 20 + id % 50") == 7
    finally:
        await conn.close()


async def test_a_statement_with_rows_after_another_restyles_no_widget(
    cluster: ThrowawayCluster, people: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The grid is hidden when a statement starts and shown with its rows, and the editor
    # takes the grid's lines meanwhile. As a class on the screen, each change made Textual
    # match the stylesheet against every widget of the screen again (about 5 ms a time).
    app = app_for(cluster, people)

    def restyle(_app: PgConsoleApp, node: DOMNode, *_: Any, **__: Any) -> str:
        return f"{type(node).__name__}#{node.id}"

    restyled = noted_calls(monkeypatch, PgConsoleApp, "update_styles", restyle)
    async with app.run_test(size=SIZE) as pilot:
        console = await open_console(pilot, app)
        await run(pilot, console, "SELECT * FROM people ORDER BY id")
        assert console.grid.display and console.grid.rows
        tall = console.editor.size.height
        await run(pilot, console, "UPDATE people SET age = age WHERE id = 1")
        assert not console.grid.display
        await wait_until(pilot, lambda: console.editor.size.height > tall, "the editor taller")
        restyled.clear()
        await run(pilot, console, "SELECT * FROM people ORDER BY id DESC")
        assert console.grid.display and console.grid.rows[0].cells[0] != "1"
        await wait_until(pilot, lambda: console.editor.size.height == tall, "the editor back")
        assert restyled == []


async def test_a_statement_with_rows_after_one_with_rows_leaves_the_editor_as_it_is(
    cluster: ThrowawayCluster, people: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The grid keeps its lines while the next statement runs (emptied: the last rows must not
    # pass for the new statement's). Hidden and shown again, it had the editor take the whole
    # screen and give it back, each drawn whole: most of the time from F5 to the rows.
    app = app_for(cluster, people)

    def drawn_at(editor: SqlEditor, *_: Any) -> int:
        return editor.size.height  # the height it is drawn at

    drawn = noted_calls(monkeypatch, SqlEditor, "render_lines", drawn_at)
    async with app.run_test(size=SIZE) as pilot:
        console = await open_console(pilot, app)
        console.editor.cursor_blink = False  # the blink draws the editor twice a second
        await run(pilot, console, "SELECT * FROM people ORDER BY id")
        console.editor.text = "SELECT * FROM people ORDER BY id DESC"
        console.editor.move_cursor(console.editor.document.end)
        await pilot.pause()
        drawn.clear()
        await press_and_wait(pilot, console)  # run() would set the text again: a redraw
        assert console.grid.display and console.grid.rows[0].cells[0] != "1"
        assert set(drawn) <= {console.editor.size.height}, "the editor was resized"


async def test_the_cancel_key_ends_a_statement_on_the_server(
    cluster: ThrowawayCluster, people: str
) -> None:
    app = app_for(cluster, people)
    conn = await admin_connect(cluster, people)
    try:
        async with app.run_test(size=SIZE) as pilot:
            console = await open_console(pilot, app)
            pid = console.session.pid
            console.editor.text = "SELECT pg_sleep(60)"
            await pilot.press("f5")

            await backend_reaches(conn, pid, "active")
            assert "running" in status(console)
            await pilot.press("ctrl+c")
            # Idle long before pg_sleep(60) could end by itself. How soon is measured in
            # benchmarks/console.py (ctrl+c → the server's session idle), not asserted here.
            await backend_reaches(conn, pid, "idle", within=30)
            worker = console.running
            assert worker is not None
            await wait_until(pilot, lambda: worker.is_finished, "the run to end")
            assert "Cancelled" in message(console) and "57014" in message(console)
            await run(pilot, console, "SELECT 'next one'")
            assert console.grid.rows[0].cells == ("next one",)
    finally:
        await conn.close()


async def test_explain_and_explain_analyze_trees(cluster: ThrowawayCluster, people: str) -> None:
    app = app_for(cluster, people)
    async with app.run_test(size=SIZE) as pilot:
        console = await open_console(pilot, app)
        console.editor.text = (
            "SELECT p.name, count(*) FROM people p JOIN pets t ON t.owner = p.id GROUP BY p.name"
        )
        await pilot.press("f7")
        await wait_for_screen(pilot, app, ExplainScreen, "the plan")
        labels = tree_labels(app)
        assert any("Join" in label for label in labels), labels
        assert any("people" in label for label in labels) and any(
            "pets" in label for label in labels
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is console, "back to the console")

        # EXPLAIN ANALYZE of the join: a read, so no question; actual times in the tree.
        await pilot.press("f8")
        await wait_for_screen(pilot, app, ExplainScreen, "the analysis")
        labels = tree_labels(app)
        assert any("Join" in label and "actual" in label for label in labels), labels
        assert any(label.startswith("▲") for label in labels), labels  # the hottest node
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is console, "back to the console")

        console.editor.text = "UPDATE people SET age = 0"
        await pilot.press("f8")
        await wait_for_screen(pilot, app, ConfirmScreen, "the question")
        await pilot.press("y")
        await wait_for_screen(pilot, app, ExplainScreen, "the analysed plan")
        labels = tree_labels(app)
        assert any("Update" in label for label in labels), labels
        assert any("actual" in label for label in labels), labels
        await pilot.press("escape")
    conn = await admin_connect(cluster, people)
    try:
        assert await conn.fetchval("SELECT count(*) FROM people WHERE age = 0") == 0
    finally:
        await conn.close()


async def test_a_recalled_explain_is_explained_as_the_key_asks(
    cluster: ThrowawayCluster, people: str
) -> None:
    # The statement's own EXPLAIN and options are left out, the key's applied: EXPLAIN
    # EXPLAIN ANALYZE … was a syntax error.
    app = app_for(cluster, people)
    async with app.run_test(size=SIZE) as pilot:
        console = await open_console(pilot, app)
        await run(pilot, console, "EXPLAIN ANALYZE SELECT count(*) FROM people")
        console.editor.text = ""
        await pilot.press("f9")
        found = await wait_for_screen(pilot, app, HistoryScreen, "the history")
        await wait_until(pilot, lambda: len(found.matches) == 1, "the statement")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is console, "back to the console")
        await pilot.press("f8")
        plan = await wait_for_screen(pilot, app, ExplainScreen, "the analysis")
        assert plan.plan.analyzed and plan.statement == "SELECT count(*) FROM people"
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is console, "back to the console")
        assert message(console).startswith("EXPLAIN ANALYZE · ")

        # F7 never runs it, whatever its own EXPLAIN says.
        console.editor.text = "-- recalled\nexplain (analyze, buffers) UPDATE people SET age = 0"
        await pilot.press("f7")
        plan = await wait_for_screen(pilot, app, ExplainScreen, "the plan")
        assert not plan.plan.analyzed and plan.statement == "UPDATE people SET age = 0"
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is console, "back to the console")
        # F8 asks first, although its own EXPLAIN did not analyse.
        console.editor.text = "EXPLAIN VERBOSE UPDATE people SET age = 0"
        await pilot.press("f8")
        await wait_for_screen(pilot, app, ConfirmScreen, "the question")
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is console, "back to the console")
    conn = await admin_connect(cluster, people)
    try:
        assert await conn.fetchval("SELECT count(*) FROM people WHERE age = 0") == 0
    finally:
        await conn.close()


@pytest.mark.parametrize(
    "script",
    [
        "COMMIT; DELETE FROM people",
        "SET TRANSACTION READ WRITE; DELETE FROM people",
        "BEGIN READ WRITE; DELETE FROM people; COMMIT",
        "SET default_transaction_read_only = off; DELETE FROM people",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
    ],
)
async def test_read_only_escapes_are_refused_and_nothing_changes(
    cluster: ThrowawayCluster, people: str, script: str
) -> None:
    app = app_for(cluster, people, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        console = await open_console(pilot, app)
        await run(pilot, console, script, key="f6")
        assert "Refused" in message(console) and "read-only" in message(console)
        await run(pilot, console, "DELETE FROM people")
        assert "25006" in message(console)  # read_only_sql_transaction
        assert "READ ONLY" in status(console)
    conn = await admin_connect(cluster, people)
    try:
        assert await conn.fetchval("SELECT count(*) FROM people") == 3000
    finally:
        await conn.close()


async def test_completion_offers_a_column_of_the_table_in_from(
    cluster: ThrowawayCluster, people: str
) -> None:
    app = app_for(cluster, people)
    async with app.run_test(size=SIZE) as pilot:
        console = await open_console(pilot, app)
        await wait_until(
            pilot, lambda: console.completion.catalog is not None, "the completion catalog"
        )
        editor = console.editor
        editor.text = "SELECT na FROM people"
        editor.move_cursor((0, len("SELECT na")))
        editor.focus()
        await pilot.press("ctrl+space")
        await pilot.pause()
        menu = console.query_one(CompletionMenu)
        assert menu.candidates[0].label == "name"  # the FROM table's column comes first
        assert menu.candidates[0].kind == "column"
        await pilot.press("enter")
        assert editor.text == "SELECT name FROM people"
        assert not editor.menu_open
        # Typing with the menu open filters it; Esc closes it and changes nothing.
        editor.text = "SELECT a FROM people"
        editor.move_cursor((0, len("SELECT a")))
        await pilot.press("ctrl+space")
        await pilot.pause()
        assert any(c.label == "age" for c in menu.candidates)
        await pilot.press("g")
        await pilot.pause()
        assert all("ag" in c.label.lower() for c in menu.candidates)
        await pilot.press("escape")
        assert not editor.menu_open and editor.text == "SELECT ag FROM people"


async def test_completion_learns_a_table_another_session_created(
    cluster: ThrowawayCluster, people: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(completion_source, "FRESH_SECONDS", 0.0)
    app = app_for(cluster, people)
    async with app.run_test(size=SIZE) as pilot:
        console = await open_console(pilot, app)
        await wait_until(
            pilot, lambda: console.completion.catalog is not None, "the completion catalog"
        )
        first = console.completion.catalog

        def relations() -> list[str]:
            return [c.label for c in console.completion.complete("SELECT * FROM late", 18)]

        assert "late_table" not in relations()
        conn = await admin_connect(cluster, people)
        try:
            await conn.execute("CREATE TABLE late_table (id int)")
        finally:
            await conn.close()
        await pilot.press("f4")  # to the browser and back
        await wait_until(pilot, lambda: app.screen is not console, "the browser")
        await pilot.press("f4")
        await wait_until(
            pilot, lambda: console.completion.catalog is not first, "the catalog read again"
        )
        assert "late_table" in relations()


async def test_a_transaction_shows_its_age_and_who_waits_on_it(
    cluster: ThrowawayCluster, people: str
) -> None:
    app = app_for(cluster, people)
    conn = await admin_connect(cluster, people)
    try:
        async with app.run_test(size=SIZE) as pilot:
            console = await open_console(pilot, app)
            await run(pilot, console, "BEGIN")
            await run(pilot, console, "UPDATE people SET age = 1 WHERE id = 1")
            await wait_until(pilot, lambda: "TX open" in status(console), "the TX badge")
            assert "2 statements" in status(console)
            blocked = asyncio.create_task(conn.execute("UPDATE people SET age = 2 WHERE id = 1"))
            await wait_until(
                pilot,
                lambda: f"blocks pid {conn.get_server_pid()}" in status(console),
                "the waiter in the status line",
            )
            await run(pilot, console, "ROLLBACK")
            await blocked
            await wait_until(pilot, lambda: "TX open" not in status(console), "no badge")
            # Quitting with a transaction open asks first.
            await run(pilot, console, "BEGIN")
            await pilot.press("ctrl+q")
            await wait_for_screen(pilot, app, ConfirmScreen, "the question")
            await pilot.press("n")
            assert console.session.in_transaction
        assert await conn.fetchval("SELECT age FROM people WHERE id = 1") == 2
    finally:
        await conn.close()


async def test_history_keeps_what_ran_and_recalls_it(
    cluster: ThrowawayCluster, people: str
) -> None:
    app = app_for(cluster, people)
    async with app.run_test(size=SIZE) as pilot:
        console = await open_console(pilot, app)
        # Written, read and searched on the history's own thread, never on the loop's.
        with opens_of(console.history.path) as opens:
            await run(pilot, console, "SELECT 'first'")
            await run(pilot, console, "SELECT 'second'\n  FROM people LIMIT 1")
            console.editor.text = ""
            await pilot.press("f9")
            found = await wait_for_screen(pilot, app, HistoryScreen, "the history")
            for key in "first":
                await pilot.press(key)
            await wait_until(pilot, lambda: len(found.matches) == 1, "the one match")
        assert len(opens) >= 3  # two appends, one load
        assert threading.get_ident() not in opens
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is console, "back to the console")
        assert console.editor.text == "SELECT 'first'"


async def test_a_history_that_cannot_be_written_is_said_once(
    cluster: ThrowawayCluster, people: str, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    app = app_for(cluster, people)
    async with app.run_test(size=SIZE) as pilot:
        console = await open_console(pilot, app)
        console.history = History(blocker / "pgconsole" / "history.jsonl")

        def warnings() -> list[str]:
            return [str(n.message) for n in app._notifications if "not saved" in str(n.message)]

        await run(pilot, console, "SELECT 1")
        await wait_until(pilot, lambda: bool(warnings()), "the warning")
        await run(pilot, console, "SELECT 2")
        # The second write failed too, once its worker ended: still one word of it.
        await wait_until(
            pilot,
            lambda: not any(w.group == "console-history" for w in app.workers),
            "the history's writes to end",
        )
        assert len(warnings()) == 1
        assert "History is not saved" in warnings()[0]


async def test_f4_goes_back_and_the_console_keeps_its_text(
    cluster: ThrowawayCluster, people: str
) -> None:
    app = app_for(cluster, people)
    async with app.run_test(size=SIZE) as pilot:
        console = await open_console(pilot, app)
        console.editor.text = "SELECT 1"
        await pilot.press("f4")
        await wait_until(pilot, lambda: app.screen is app.main_screen, "the browser")
        await pilot.press("f4")
        await wait_until(pilot, lambda: app.screen is console, "the console again")
        assert console.editor.text == "SELECT 1"


async def test_f4_to_the_console_gives_the_editor_the_keys_wherever_they_were(
    cluster: ThrowawayCluster, people: str
) -> None:
    app = app_for(cluster, people)
    async with app.run_test(size=SIZE) as pilot:
        console = await open_console(pilot, app)
        await run(pilot, console, "SELECT id FROM people ORDER BY id")
        console.grid.focus()
        await wait_until(pilot, lambda: console.grid.has_focus, "the result grid focused")
        await pilot.press("f4")
        await wait_until(pilot, lambda: app.screen is app.main_screen, "the browser")
        await pilot.press("f4")
        await wait_until(pilot, lambda: console.editor.has_focus, "the editor focused")
        await pilot.press("e")  # typed SQL, not the export of the result
        await wait_until(pilot, lambda: console.editor.text.endswith("e"), "the letter typed")
        assert app.screen is console


async def test_a_connection_error_message_is_readable(
    cluster: ThrowawayCluster, people: str
) -> None:
    app = app_for(cluster, people)
    async with app.run_test(size=SIZE) as pilot:
        console = await open_console(pilot, app)
        pid = console.session.pid
        conn = await admin_connect(cluster, people)
        try:
            await conn.execute("SELECT pg_terminate_backend($1)", pid)
        finally:
            await conn.close()
        await run(pilot, console, "SELECT 1")
        assert message(console)  # a message, no traceback, the app runs on
        await run(pilot, console, "SELECT 2")  # a new connection
        assert console.grid.rows[0].cells == ("2",)
        assert console.session.pid != pid


@pytest.mark.slow
async def test_no_transaction_is_left_open_while_the_user_looks_away(
    cluster: ThrowawayCluster, people: str
) -> None:
    app = app_for(
        cluster,
        people,
        # Long enough that a loaded machine does not close the cursor before the first check.
        cursor_idle_seconds=2.0,
        idle_in_transaction_session_timeout="6s",
    )
    conn = await admin_connect(cluster, people)
    try:
        async with app.run_test(size=SIZE) as pilot:
            console = await open_console(pilot, app)
            pid = console.session.pid

            # A query's cursor: our short transaction ends once idle, paging goes on after.
            await run(pilot, console, "SELECT id FROM people ORDER BY id")
            assert await backend_state(conn, pid) == "idle in transaction"
            # The cursor's idle timer ends it (cursor_idle_seconds). Nothing else would: the
            # idle rollback is for the user's transaction, and the server's 6 s limit would end
            # the session, never leave it idle.
            await backend_reaches(conn, pid, "idle")
            console.grid.focus()
            await pilot.press("end")
            await wait_until(
                pilot, lambda: console.grid.rows[-1].cells == ("3000",), "the last row"
            )
            # The user's own transaction: rolled back 3 s before the server's 6 s limit.
            await run(pilot, console, "BEGIN")
            await run(pilot, console, "UPDATE people SET age = 0")
            assert await backend_state(conn, pid) == "idle in transaction"
            await wait_until(
                pilot, lambda: not console.session.in_transaction, "the idle rollback", within=8
            )
            assert await backend_state(conn, pid) == "idle"
            assert any("rolled back" in str(n.message) for n in app._notifications)
        assert await conn.fetchval("SELECT count(*) FROM people WHERE age = 0") == 0
    finally:
        await conn.close()


async def test_a_reconnect_gives_the_console_a_new_session(
    cluster: ThrowawayCluster, people: str
) -> None:
    app = app_for(cluster, people)
    async with app.run_test(size=SIZE) as pilot:
        first = await open_console(pilot, app)
        old_pid = first.session.pid
        await pilot.press("f4")
        await wait_until(pilot, lambda: app.screen is app.main_screen, "the browser")
        old_database = app.database
        app.action_reconnect()
        await wait_until(
            pilot,
            lambda: app.database is not None and app.database is not old_database,
            "the new pool",
        )
        assert first.session.conn is None  # the old console's connection was closed
        second = await open_console(pilot, app)
        assert second is not first and second.session.pid != old_pid
        await run(pilot, second, "SELECT 'new session'")
        assert second.grid.rows[0].cells == ("new session",)


@pytest.mark.slow
async def test_the_browser_shows_the_consoles_open_transaction_and_its_idle_end(
    cluster: ThrowawayCluster, people: str
) -> None:
    app = app_for(cluster, people, idle_in_transaction_session_timeout="5s")
    async with app.run_test(size=SIZE) as pilot:
        console = await open_console(pilot, app)
        await run(pilot, console, "BEGIN")
        await run(pilot, console, "UPDATE people SET age = 0 WHERE id = 1")
        await pilot.press("f4")
        await wait_until(pilot, lambda: app.screen is app.main_screen, "the browser")
        badge = app.main_screen.query_one("#status-tx", Static)
        await wait_until(
            pilot, lambda: "SQL console (F4): TX open" in str(badge.content), "the console's TX"
        )
        # The console's idle rollback runs while the browser is on screen.
        await wait_until(
            pilot, lambda: not console.session.in_transaction, "the idle rollback", within=6
        )
        await wait_until(pilot, lambda: not badge.display, "the badge gone")


async def test_enter_shows_a_long_value_whole(cluster: ThrowawayCluster, people: str) -> None:
    app = app_for(cluster, people)
    async with app.run_test(size=SIZE) as pilot:
        console = await open_console(pilot, app)
        await run(pilot, console, "SELECT repeat('x', 1500) AS long, repeat('y', 2500) AS longer")
        console.grid.focus()
        await pilot.press("enter")
        await wait_for_screen(pilot, app, ValueScreen, "the value")
        assert isinstance(app.screen, ValueScreen) and app.screen.value == "x" * 1500
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is console, "back")
        await pilot.press("right", "enter")
        await wait_for_screen(pilot, app, ValueScreen, "the value")
        assert isinstance(app.screen, ValueScreen) and app.screen.value == "y" * VALUE_LIMIT
        assert any("first 2,000 characters" in str(n.message) for n in app._notifications)


async def test_notices_are_shown_literally(cluster: ThrowawayCluster, people: str) -> None:
    app = app_for(cluster, people)
    async with app.run_test(size=SIZE) as pilot:
        console = await open_console(pilot, app)
        await run(pilot, console, "DO $$ BEGIN RAISE NOTICE '[red]x[/] %', 42; END $$")
        assert "DO" in message(console)
        assert "NOTICE: [red]x[/] 42" in message(console)


async def test_up_then_f5_in_one_burst_runs_the_statement_moved_to(
    cluster: ThrowawayCluster, people: str
) -> None:
    app = app_for(cluster, people)
    async with app.run_test(size=SIZE) as pilot:
        console = await open_console(pilot, app)
        console.editor.text = "SELECT 'first';\nSELECT 'second';"
        console.editor.move_cursor(console.editor.document.end)
        console.editor.focus()
        await pilot.pause()
        # Both keys in one read, as over a slow SSH link: F5 is a priority binding.
        for name in ("up", "f5"):
            app.post_message(events.Key(name, None))
        await wait_until(pilot, lambda: console.current is not None, "the result")
        assert console.grid.rows[0].cells == ("first",)


async def export_to(
    pilot: Pilot[Any], app: PgConsoleApp, console: ConsoleScreen, path: Path
) -> ExportScreen:
    """`e` in the result grid, `path` typed, Enter: the export started."""
    console.grid.focus()
    await pilot.press("e")
    export = await wait_for_screen(pilot, app, ExportScreen, "the export dialog")
    export.query_one("#export-path", Input).value = str(path)
    await pilot.press("enter")
    return export


async def test_e_exports_a_result_from_the_consoles_own_session_and_esc_stops_it(
    cluster: ThrowawayCluster, people: str, tmp_path: Path
) -> None:
    app = app_for(cluster, people)
    async with app.run_test(size=SIZE) as pilot:
        console = await open_console(pilot, app)
        for sql in ("CREATE TEMP TABLE picked (id int)", "BEGIN", "INSERT INTO picked VALUES (7)"):
            await run(pilot, console, sql)
        # A temporary table and an uncommitted row: only the console's session sees them.
        await run(pilot, console, "SELECT p.id, q.name FROM picked p JOIN people q USING (id)")
        await export_to(pilot, app, console, tmp_path / "picked.csv")
        await wait_until(pilot, lambda: "Exported" in shown(app, "#export-status"), "the export")
        assert (tmp_path / "picked.csv").read_text() == "id,name\n7,person 7\n"
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is console, "back to the console")

        # A long export, stopped with Esc on the server: no file, the transaction goes on.
        await run(pilot, console, "SELECT g, repeat('x', 500) FROM generate_series(1, 5000000) g")
        export = await export_to(pilot, app, console, tmp_path / "big.csv")
        await wait_until(pilot, lambda: "written" in shown(app, "#export-status"), "progress")
        await pilot.press("escape")
        await wait_until(pilot, lambda: "Cancelled" in shown(app, "#export-status"), "cancelled")
        worker = export.running
        assert worker is not None
        await wait_until(pilot, lambda: worker.is_finished, "the export to end")
        assert not (tmp_path / "big.csv").exists() and not (tmp_path / "big.csv.part").exists()
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is console, "back to the console")
        await run(pilot, console, "SELECT count(*) FROM picked")
        assert console.grid.rows[0].cells == ("1",)
        assert console.session.in_transaction
