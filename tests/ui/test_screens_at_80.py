"""What the secondary screens show at 80x24, read from the drawn lines (no server)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from rich.cells import cell_len
from textual.app import App
from textual.screen import Screen

from pgconsole.db.connection.failures import classify
from pgconsole.db.connection.params import ConnectParams
from pgconsole.db.console.explain import parse_plan
from pgconsole.db.console.history import Entry, History
from pgconsole.db.edit.transaction import Conflict, plan_edits
from pgconsole.paths import STYLES
from pgconsole.screens.cell_editor import CellEditorScreen
from pgconsole.screens.confirm import ChoiceScreen
from pgconsole.screens.conflict import ConflictScreen
from pgconsole.screens.connection_error import ConnectionErrorScreen
from pgconsole.screens.explain import ExplainScreen, node_label, plan_header
from pgconsole.screens.history import HistoryScreen
from pgconsole.screens.insert import InsertScreen
from pgconsole.screens.sql_log import SqlLogScreen, split_returning
from tests.helpers.ui import drawn_lines, wait_until
from tests.ui.test_snapshot_screens import (
    ASSAM,
    EXPLAINED,
    GRID_COLUMNS,
    ITEM,
    PLAN,
    edit_statements,
)

SIZE = (80, 24)


class Harness(App[None]):
    """Shows one screen, styled as in pgconsole."""

    CSS_PATH = STYLES / "app.tcss"

    def __init__(self, screen: Screen[Any]) -> None:
        super().__init__()
        self.shown = screen

    def on_mount(self) -> None:
        self.push_screen(self.shown)


async def drawn(screen: Screen[Any], size: tuple[int, int] = SIZE) -> list[str]:
    """The lines `screen` draws (at 80x24) once it is up."""
    app = Harness(screen)
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: app.screen is screen and screen.is_mounted, "the screen")
        await pilot.pause()
        return drawn_lines(app)


async def test_a_long_detail_wraps_under_its_value_column() -> None:
    detail = (
        'The database was initialized with LC_COLLATE "de_DE.UTF-8", which is not recognized '
        "by setlocale()."
    )
    hint = "Recreate the database with another locale or install the missing locale."
    error = asyncpg.PostgresError.new(
        {"S": "FATAL", "C": "XX000", "M": "locale mismatch", "D": detail, "H": hint}
    )
    failure = classify(error, ConnectParams(host="db1.example.com"))
    lines = await drawn(ConnectionErrorScreen(failure))
    text = [line.strip("┃ ") for line in lines]
    column = lines[next(i for i, t in enumerate(text) if t.startswith("SQLSTATE"))].index("XX000")
    for label, value in (("Detail", detail), ("Hint", hint)):
        first = next(i for i, t in enumerate(text) if t.startswith(label))
        assert lines[first].index(value[:10]) == column
        follows = lines[first + 1]
        assert follows[:column].strip("┃ ") == "", f"{label} wraps to the left of its column"
        words = follows[column:].strip("┃ ").split()
        assert words and words[0] in value.split()


async def test_a_newer_failure_replaces_the_rows() -> None:
    params = ConnectParams(host="db1.example.com")
    first = asyncpg.PostgresError.new({"S": "FATAL", "C": "XX000", "M": "first", "D": "one"})
    second = asyncpg.PostgresError.new({"S": "FATAL", "C": "53300", "M": "second", "H": "two"})
    screen = ConnectionErrorScreen(classify(first, params))
    app = Harness(screen)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.screen is screen and screen.is_mounted, "the screen")
        screen.show_failure(classify(second, params))
        await pilot.pause()
        rows = [line.strip("┃ ") for line in drawn_lines(app)]
        assert "SQLSTATE 53300" in rows and "Hint     two" in rows
        assert not any(row.startswith(("Detail", "SQLSTATE XX000")) for row in rows)


@pytest.mark.parametrize("width", [80, 60])
async def test_every_history_key_is_shown(tmp_path: Path, width: int) -> None:
    history = History(tmp_path / "history.jsonl")
    at = datetime(2026, 3, 2, 14, 1, tzinfo=UTC)
    for sql in ("select 1", "select count(*) from shop.item"):
        await history.append(Entry(at, "dba@db1:5432/shop", sql, True, 1.0))
    screen = HistoryScreen(history, "dba@db1:5432/shop")
    app = Harness(screen)
    async with app.run_test(size=(width, 24)) as pilot:
        await wait_until(pilot, lambda: screen.is_mounted and history.loaded, "the history")
        await pilot.pause()
        drawn = " ".join(line.strip("│ ") for line in drawn_lines(app))
        for words in ("Esc closes", "↑↓ choose", "Enter", "Ctrl+t this server only"):
            assert words in drawn
        await pilot.press("ctrl+t")
        drawn = " ".join(line.strip("│ ") for line in drawn_lines(app))
        assert "2 statements (this server)" in drawn and "Ctrl+t every server" in drawn


async def saved(value: object) -> str | None:
    return None


def cell_editor() -> Screen[Any]:
    return CellEditorScreen("stock of shop.item", "integer", "40", saved)


def insert_form() -> Screen[Any]:
    return InsertScreen(ITEM, plan_edits(ITEM, physical=False), saved)


def conflict() -> Screen[Any]:
    return ConflictScreen(Conflict(ASSAM, ASSAM, {"price": "13.00"}), GRID_COLUMNS, "overwrite")


def choice() -> Screen[Any]:
    return ChoiceScreen("Commit?", [("c", "commit"), ("escape", "cancel")])


@pytest.mark.parametrize(
    ("screen", "hint"),
    [
        pytest.param(
            cell_editor, "Ctrl+s save · Ctrl+n NULL · Ctrl+t DEFAULT · Esc cancel", id="cell_editor"
        ),
        pytest.param(insert_form, "Ctrl+s insert · Esc cancel", id="insert_form"),
        pytest.param(conflict, "r reload theirs · Esc cancel", id="conflict"),
        pytest.param(choice, "c commit · Esc cancel", id="choice"),
    ],
)
async def test_a_modal_spells_its_keys_as_the_key_bar_does(
    screen: Callable[[], Screen[Any]], hint: str
) -> None:
    # `Ctrl+s` and `Esc`, as on the key bar, the help screen and the README (was ctrl+s, esc).
    drawn_text = "\n".join(await drawn(screen()))
    assert hint in drawn_text
    assert "ctrl+" not in drawn_text and "esc " not in drawn_text


async def test_the_plan_header_keeps_each_figure_whole_and_cuts_with_an_ellipsis() -> None:
    statement = EXPLAINED + " limit 100" + " offset 0" * 20  # three lines and more at 80
    lines = await drawn(ExplainScreen(parse_plan(PLAN, rolled_back=True), statement))
    header = [line.strip() for line in lines[:4]]
    assert "planning 0.412 ms" in header[0] and "execution 10.093 ms" in header[0]
    # The statement: two lines, the second cut where the screen ends, with an ellipsis.
    assert header[1].startswith("select o.id, o.placed_at,")
    assert header[2].endswith("…") and len(lines[2].rstrip()) <= 80
    assert lines[3].startswith("▼")  # the plan right after


@pytest.mark.parametrize(("width", "header"), [(80, 3), (60, 4)])
async def test_the_plan_follows_its_header_at_any_width(width: int, header: int) -> None:
    # The header's height is its lines at the screen's width, from the first frame.
    lines = await drawn(ExplainScreen(parse_plan(PLAN, rolled_back=True), EXPLAINED), (width, 24))
    assert lines[header - 1].rstrip().endswith("…")
    assert lines[header].startswith("▼ 0.549 ms 6%")


@pytest.mark.parametrize("width", [78, 60, 40, 24])
def test_the_plan_header_never_splits_a_figure(width: int) -> None:
    plan = parse_plan(PLAN, rolled_back=True)
    lines = plan_header(plan, "select 1", width).plain.splitlines()
    assert all(cell_len(line) <= width for line in lines)
    for figure in ("EXPLAIN ANALYZE", "planning 0.412 ms", "execution 10.093 ms"):
        assert any(figure in line for line in lines), (figure, lines)
    assert lines[-1] == "select 1"


async def test_a_hot_node_shows_its_figures_at_80_columns() -> None:
    plan = parse_plan(PLAN, rolled_back=True)
    lines = await drawn(ExplainScreen(plan, EXPLAINED))
    hot = [line for line in lines if "▲" in line]
    assert len(hot) == len(plan.hottest()) == 2
    for node in plan.hottest():
        line = next(line for line in hot if f"{node.self_ms:.3f} ms" in line)
        assert f"{node.actual_rows:,.0f} rows" in line and f"est {node.plan_rows:,.0f}" in line
    misestimate = next(line for line in hot if "402 rows" in line)
    assert "est 31 ≠13x" in misestimate


async def test_the_sql_log_folds_each_returning_list_to_one_line() -> None:
    # Four statements of an edit on shop.item (7 columns), newest at the bottom.
    lines = [line.strip("│ ") for line in await drawn(SqlLogScreen(edit_statements()))]
    returning = [line for line in lines if "RETURNING" in line]
    assert len(returning) >= 2
    for line in returning:
        assert line.startswith("RETURNING _pgconsole_r.") and line.endswith("…"), line
        assert not lines[lines.index(line) + 1].startswith(("left(", "_pgconsole_r."))
    # The last two statements whole: each one's SQL, its values and its outcome.
    text = "\n".join(lines)
    assert "3. INSERT INTO" in text and "4. INSERT INTO" in text
    for value in ("'Sencha'", "'Gyokuro, Yame'", "'24.00'", "→ INSERT 1", "→ undone:"):
        assert value in text, value


@pytest.mark.parametrize("edits", [1, 5])
async def test_the_sql_log_starts_at_its_top_or_shows_its_end(edits: int) -> None:
    statements = edit_statements()
    statements = statements[:1] + statements[1:] * edits
    lines = [line.strip("│ ") for line in await drawn(SqlLogScreen(statements))]
    assert lines[1] == f"SQL sent for edits: {len(statements)} statements"
    if edits == 1:  # all fit: drawn from the top, under the title
        assert lines[3] == "1. BEGIN"
    else:  # the newest at the bottom
        assert lines[-2] == "→ INSERT 1"
        assert "parameters: $1 = 'Gyokuro, Yame'" in lines[-3]


@pytest.mark.parametrize("edits", [1, 4])
async def test_the_sql_log_hangs_a_statement_under_its_text(edits: int) -> None:
    # A statement's SQL wraps under its own first character, not under its number; its
    # RETURNING list, values and outcome stand under it too, past 9 statements as well.
    statements = edit_statements()
    statements = statements[:1] + statements[1:] * edits
    lines = await drawn(SqlLogScreen(statements))
    last = len(statements)
    first = next(i for i, line in enumerate(lines) if f"{last}. INSERT INTO" in line)
    column = lines[first].index("INSERT INTO")
    end = next(i for i in range(first, len(lines)) if "→ INSERT 1" in lines[i])
    rest = lines[first + 1 : end + 1]
    assert len(rest) >= 4  # the SQL wraps, then RETURNING, parameters and the outcome
    for line in rest:
        assert line[:column].strip("│ ") == "" and line[column] != " ", (column, line)
    assert rest[-3].startswith("RETURNING ", column) and rest[-2].startswith("parameters: ", column)


@pytest.mark.parametrize(
    ("sql", "head", "returning"),
    [
        ("DELETE FROM t WHERE id = $1 RETURNING 1", "DELETE FROM t WHERE id = $1", "RETURNING 1"),
        ("BEGIN", "BEGIN", None),
        (  # the word in a quoted name, a string, a comment or parentheses is not the list
            "UPDATE t SET \"a returning b\" = $1 /* returning */ WHERE f('returning') "
            "AND (SELECT 1 RETURNING) returning t.x",
            "UPDATE t SET \"a returning b\" = $1 /* returning */ WHERE f('returning') "
            "AND (SELECT 1 RETURNING)",
            "returning t.x",
        ),
    ],
)
def test_the_returning_list_is_found_by_the_lexer(
    sql: str, head: str, returning: str | None
) -> None:
    assert split_returning(sql) == (head, returning)


def test_a_hot_nodes_share_is_of_the_time_it_was_ranked_by() -> None:
    # 1 ms of the 2 ms execution went outside the nodes (as planning and sending do): the
    # share is of the nodes' own times, which hottest() ranks by (a node is hot from 10% of
    # them), so a ▲ never stands beside less than 10%.
    scan = {"Node Type": "Seq Scan", "Relation Name": "t", "Actual Loops": 1}
    plan = parse_plan(
        [
            {
                "Plan": {
                    "Node Type": "Hash Join",
                    "Actual Total Time": 1.0,
                    "Actual Loops": 1,
                    "Plans": [
                        {**scan, "Actual Total Time": 0.85},
                        {**scan, "Relation Name": "u", "Actual Total Time": 0.03},
                    ],
                },
                "Execution Time": 2.0,
            }
        ]
    )
    scan_node = plan.root.children[0]
    assert scan_node in plan.hottest() and plan.root in plan.hottest()
    assert "▲ 0.850 ms 85%" in node_label(scan_node, plan, hot=True).plain
    assert "▲ 0.120 ms 12%" in node_label(plan.root, plan, hot=True).plain
