"""The console's screens and editor on their own (no server): plan tree, history, completion."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import OptionList

from pgconsole.db.console.completion import Candidate
from pgconsole.db.console.explain import parse_plan
from pgconsole.db.console.history import Entry, History
from pgconsole.screens.explain import ExplainScreen
from pgconsole.screens.history import HistoryScreen
from pgconsole.widgets.sql_editor import CompletionMenu, SqlEditor
from tests.helpers.file_io import opens_of
from tests.helpers.ui import tree_labels, wait_for_screen, wait_until

SIZE = (80, 24)

PLAN = [
    {
        "Plan": {
            "Node Type": "Nested Loop",
            "Startup Cost": 0.0,
            "Total Cost": 50.0,
            "Plan Rows": 10,
            "Plan Width": 8,
            "Actual Startup Time": 0.0,
            "Actual Total Time": 20.0,
            "Actual Rows": 5000,
            "Actual Loops": 1,
            "Plans": [
                {
                    "Node Type": "Seq Scan",
                    "Relation Name": "[red]hot[/]",
                    "Alias": "[red]hot[/]",
                    "Startup Cost": 0.0,
                    "Total Cost": 40.0,
                    "Plan Rows": 10,
                    "Plan Width": 4,
                    "Actual Startup Time": 0.0,
                    "Actual Total Time": 18.0,
                    "Actual Rows": 5000,
                    "Actual Loops": 1,
                    "Filter": "(note = '\x1b[2J')",
                }
            ],
        },
        "Planning Time": 0.1,
        "Execution Time": 20.1,
    }
]


class Harness(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.result: Any = "unset"


async def test_the_plan_tree_shows_names_literally_and_marks_the_hot_node() -> None:
    app = Harness()
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(ExplainScreen(parse_plan(PLAN), "SELECT * FROM x"), app_result(app))
        await pilot.pause()
        lines = tree_labels(app)
        scan = next(line for line in lines if "Seq Scan" in line)
        assert "on [red]hot[/]" in scan  # markup is data
        assert scan.startswith("▲")  # 18 of 20 ms: the hot node
        assert "est 10 ≠500x" in next(line for line in lines if "Nested Loop" in line)
        assert any("Filter: (note = '␛[2J')" in line for line in lines)  # escape made visible
        await pilot.press("d")
        assert not any("Filter" in line for line in tree_labels(app))
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ExplainScreen)


def app_result(app: Harness) -> Any:
    def store(value: Any) -> None:
        app.result = value

    return store


async def test_history_filters_as_you_type_and_returns_the_whole_statement(
    tmp_path: Path,
) -> None:
    path = tmp_path / "h.jsonl"
    history = History(path)
    at = datetime(2026, 11, 22, tzinfo=UTC)
    await history.append(Entry(at, "me@h:5432/d", "SELECT '[red]x[/]\x07'", True, 1.0))
    await history.append(Entry(at, "me@h:5432/d", "UPDATE orders\n   SET paid = true", False, 2.0))
    await history.append(Entry(at, "other@h:5432/d", "SELECT 3", True, 1.0))
    app = Harness()
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(HistoryScreen(history, "me@h:5432/d"), app_result(app))
        screen = await wait_for_screen(pilot, app, HistoryScreen, "the history")
        options = screen.query_one(OptionList)
        await wait_until(pilot, lambda: options.option_count == 3, "the history read")
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(3)]
        assert any("SELECT '[red]x[/]␇'" in p for p in prompts)
        await pilot.press("ctrl+t")  # this server only
        assert options.option_count == 2
        # Each keystroke searches what was read when the screen opened, never the file.
        path.rename(tmp_path / "elsewhere.jsonl")
        with opens_of(path) as opens:
            for key in "paid":
                await pilot.press(key)
        assert opens == []
        assert options.option_count == 1
        await pilot.press("enter")
        await pilot.pause()
        assert app.result == "UPDATE orders\n   SET paid = true"
        app.push_screen(HistoryScreen(history), app_result(app))
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.result is None


CANDIDATES = [
    Candidate("name", "name", "column", "text · people"),
    Candidate("nickname", "nickname", "column", "text · people"),
    Candidate("NATURAL", "NATURAL", "keyword", ""),
]


class EditorHarness(App[None]):
    def compose(self) -> ComposeResult:
        editor = SqlEditor()
        editor.completer = lambda text, offset: [
            c for c in CANDIDATES if c.label.lower().startswith(_word(text[:offset]))
        ]
        yield editor


def _word(text: str) -> str:
    return text.split()[-1].lower() if text and not text[-1].isspace() else ""


async def test_the_editor_menu_filters_inserts_and_closes() -> None:
    app = EditorHarness()
    async with app.run_test(size=SIZE) as pilot:
        editor = app.query_one(SqlEditor)
        editor.focus()
        for key in ["S", "E", "L", "space", "n"]:
            await pilot.press(key)
        await pilot.press("ctrl+space")
        await pilot.pause()
        menu = app.screen.query_one(CompletionMenu)
        assert [c.label for c in menu.candidates] == ["name", "nickname", "NATURAL"]
        await pilot.press("a")  # typing filters
        await pilot.pause()
        assert [c.label for c in menu.candidates] == ["name", "NATURAL"]
        await pilot.press("escape")  # closes the menu only
        assert not editor.menu_open and editor.text == "SEL na"
        await pilot.press("ctrl+space")
        await pilot.pause()
        await pilot.press("down", "enter")
        assert editor.text == "SEL NATURAL"
        # highlighted by our walk of the parse tree (tree-sitter-sql is a dependency), not by
        # Textual's `language`, which would compile a 30 MB tree-sitter query
        assert editor.highlighting and editor.language is None
        assert (0, 3, "keyword") not in editor._highlights[0]  # SEL is no keyword
