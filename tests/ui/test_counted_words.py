"""A count of one is said in the singular wherever pgconsole counts: `1 row`, `1 statement`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from pgconsole.db.browse.pages import BrowseSpec, Column, Page, Row
from pgconsole.db.console.connection import Result
from pgconsole.db.console.explain import parse_plan
from pgconsole.db.console.history import Entry, History
from pgconsole.db.sqltext import Statement
from pgconsole.screens.exact_count import count_text
from pgconsole.screens.explain import node_label
from pgconsole.screens.export import ExportScreen
from pgconsole.screens.history import HistoryScreen
from pgconsole.screens.sql_log import SqlLogScreen
from pgconsole.screens.value import ValueScreen
from pgconsole.throwaway.cluster import ThrowawayCluster
from pgconsole.widgets.activity_status import status_text
from pgconsole.widgets.relation_title import Heading, heading_text
from pgconsole.widgets.results_list import result_line
from pgconsole.widgets.schema_tree import SchemaTree
from tests.conftest import admin_connect
from tests.helpers.ui import app_for, drawn_lines, shown, wait_for_screen, wait_until
from tests.ui.test_activity_status import STATUS
from tests.ui.test_screens_at_80 import Harness, drawn
from tests.ui.test_snapshot_screens import edit_statements

SPEC = BrowseSpec("shop", "item", (Column("id", "bigint", numeric=True),))


def test_one_row_counted_exactly() -> None:
    assert count_text(1, SPEC) == "exactly 1 row"
    assert count_text(2, SPEC) == "exactly 2 rows"


def test_one_row_kept_of_a_result() -> None:
    statement = Statement("UPDATE t SET a = 1 RETURNING a", 0, 30)
    one = Page((Row(("1",)),), False, False)
    kept = Result(statement, "UPDATE 2", 2.0, 2, (), one, truncated=True)
    assert result_line(kept) == "UPDATE 2 · 2.0 ms · first 1 row kept"


def test_one_query_in_the_activity_status() -> None:
    line = status_text(replace(STATUS, queries=1)).plain
    assert line.startswith("refreshed 14:03:07 · every 1 s · 1 query · ")


def test_an_estimate_of_one_row_in_the_title() -> None:
    heading = Heading("shop", "config", 1, None, True, "")
    assert heading_text(heading, 80).plain.strip() == "shop.config ≈1 row"


def test_one_row_in_a_plan() -> None:
    node = {"Node Type": "Limit", "Plan Rows": 1, "Startup Cost": 0.0, "Total Cost": 0.1}
    planned = parse_plan([{"Plan": node}])
    assert "  1 row  Limit" in node_label(planned.root, planned, hot=False).plain
    ran = {**node, "Actual Total Time": 0.01, "Actual Rows": 1, "Actual Loops": 1}
    analyzed = parse_plan([{"Plan": ran, "Execution Time": 0.02}])
    assert "  1 row, est 1" in node_label(analyzed.root, analyzed, hot=False).plain
    never = {**node, "Actual Loops": 0}
    skipped = parse_plan([{"Plan": {**ran, "Plans": [never]}, "Execution Time": 0.02}])
    label = node_label(skipped.root.children[0], skipped, hot=False).plain
    assert "never executed, est 1 row" in label


async def test_one_statement_in_the_sql_log() -> None:
    lines = [line.strip("│ ") for line in await drawn(SqlLogScreen(edit_statements()[:1]))]
    assert lines[1] == "SQL sent for edits: 1 statement"


async def test_one_statement_in_the_history(tmp_path: Path) -> None:
    history = History(tmp_path / "history.jsonl")
    at = datetime(2026, 3, 2, 14, 1, tzinfo=UTC)
    await history.append(Entry(at, "dba@db1:5432/shop", "select 1", True, 1.0))
    screen = HistoryScreen(history, "dba@db1:5432/shop")
    app = Harness(screen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: screen.is_mounted and history.loaded, "the history")
        await pilot.pause()
        assert "1 statement (every server)" in " ".join(drawn_lines(app))


async def test_a_value_of_one_character() -> None:
    lines = await drawn(ValueScreen("flag", "text", "y"))
    assert any("1 character" in line and "1 characters" not in line for line in lines)


async def test_one_relation_one_row_and_its_export(
    cluster: ThrowawayCluster, dbname: str, hermetic_environment: Path
) -> None:
    conn = await admin_connect(cluster, dbname)
    try:
        await conn.execute("CREATE TABLE one (id int PRIMARY KEY)")
        await conn.execute("INSERT INTO one VALUES (1)")
        await conn.execute("ANALYZE one")
    finally:
        await conn.close()
    (hermetic_environment / "Downloads").mkdir()
    app = app_for(cluster, dbname)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(
            pilot, lambda: "1 relation in 1 schema" in shown(app, "#message"), "the tree's count"
        )
        tree = app.main_screen.query_one(SchemaTree)
        relation = tree.root.children[0].children[0]
        tree.move_cursor(relation)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "1 row in memory" in shown(app, "#message"), "the row")
        await pilot.press("e")
        await wait_for_screen(pilot, app, ExportScreen, "the export dialog")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Exported" in shown(app, "#export-status"), "the export")
        assert shown(app, "#export-status").startswith("Exported 1 row (")
