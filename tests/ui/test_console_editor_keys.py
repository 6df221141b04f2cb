"""The console editor's readline keys, in the console over a real server: Ctrl+a (twice: select
all), Ctrl+u, Ctrl+l and the palette's "Console: clear editor", both undone by Ctrl+z."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.pilot import Pilot

from pgconsole.app import PgConsoleApp
from pgconsole.screens.console import ConsoleScreen
from pgconsole.screens.help import key_rows
from pgconsole.throwaway.cluster import ThrowawayCluster
from pgconsole.widgets.sql_editor import SqlEditor
from tests.helpers.ui import app_for, burst, wait_for_screen, wait_until

SIZE = (80, 24)
TEXT = "SELECT 1;\n  SELECT relname FROM pg_class;"


async def editor_with_text(pilot: Pilot[Any], app: PgConsoleApp) -> SqlEditor:
    """The console's editor, focused, holding TEXT with the cursor before `relname`."""
    await wait_until(pilot, lambda: app.database is not None, "the pool")
    await pilot.press("f4")
    console = await wait_for_screen(pilot, app, ConsoleScreen, "the console")
    editor = console.editor
    editor.text = TEXT
    editor.move_cursor((1, 9))
    editor.focus()
    await wait_until(pilot, lambda: editor.has_focus, "the editor focused")
    return editor


async def test_ctrl_a_goes_to_the_line_start_and_twice_selects_all(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    app = app_for(cluster, dbname)
    async with app.run_test(size=SIZE) as pilot:
        editor = await editor_with_text(pilot, app)
        await pilot.press("ctrl+a")
        # Column 0 as in readline, not the first non-blank as Home goes.
        await wait_until(pilot, lambda: editor.cursor_location == (1, 0), "the line start")
        assert editor.selection.is_empty
        await pilot.press("ctrl+a")
        await wait_until(pilot, lambda: editor.selected_text == TEXT, "all selected")
        await pilot.press("x")  # typing replaces the selection
        await wait_until(pilot, lambda: editor.text == "x", "the text replaced")


async def test_ctrl_a_after_another_key_is_the_line_start_again(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    app = app_for(cluster, dbname)
    async with app.run_test(size=SIZE) as pilot:
        editor = await editor_with_text(pilot, app)
        await pilot.press("ctrl+a", "right", "ctrl+a")
        await wait_until(pilot, lambda: editor.cursor_location == (1, 0), "the line start")
        assert editor.selection.is_empty


async def test_ctrl_u_cuts_back_to_the_line_start(cluster: ThrowawayCluster, dbname: str) -> None:
    app = app_for(cluster, dbname)
    async with app.run_test(size=SIZE) as pilot:
        editor = await editor_with_text(pilot, app)
        await pilot.press("ctrl+u")
        expected = "SELECT 1;\nrelname FROM pg_class;"
        await wait_until(pilot, lambda: editor.text == expected, "the start of the line cut")
        assert editor.cursor_location == (1, 0)
        assert app.clipboard == "  SELECT "
        await pilot.press("ctrl+u")  # at the line start: nothing more (the lines stay apart)
        await pilot.press("ctrl+z")
        await wait_until(pilot, lambda: editor.text == TEXT, "the cut undone")


async def test_ctrl_l_clears_and_ctrl_z_brings_the_text_back(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    app = app_for(cluster, dbname)
    async with app.run_test(size=SIZE) as pilot:
        editor = await editor_with_text(pilot, app)
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: editor.text == "", "the editor empty")
        await pilot.press("ctrl+z")
        await wait_until(pilot, lambda: editor.text == TEXT, "the text back")


async def test_the_palette_clears_the_editor(cluster: ThrowawayCluster, dbname: str) -> None:
    app = app_for(cluster, dbname)
    async with app.run_test(size=SIZE) as pilot:
        editor = await editor_with_text(pilot, app)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Console: clear editor" in titles
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "CommandPalette", "palette")
        await pilot.press(*"Console: clear editor")
        await pilot.press("enter")
        await wait_until(pilot, lambda: editor.text == "", "the editor empty")
        await wait_until(pilot, lambda: editor.has_focus, "the editor focused again")
        await pilot.press("ctrl+z")
        await wait_until(pilot, lambda: editor.text == TEXT, "the text back")


class Harness(App[None]):
    def compose(self) -> ComposeResult:
        yield SqlEditor()

    def on_mount(self) -> None:
        self.query_one(SqlEditor).focus()


async def test_the_readline_keys_keep_their_order_in_a_burst() -> None:
    app = Harness()
    async with app.run_test() as pilot:
        editor = app.query_one(SqlEditor)
        editor.text = "SELECT 1"
        editor.move_cursor((0, 7))
        await pilot.pause()
        # One read: the cut, the typing, Ctrl+a twice and a key replacing all, in that order.
        burst(app, ["ctrl+u", "a", "b", "ctrl+a", "c", "ctrl+a", "ctrl+a", "x", "y"])
        await wait_until(pilot, lambda: editor.text == "xy", "the text 'xy'")


def test_the_editor_keys_are_listed_in_help() -> None:
    descriptions = dict(key_rows([SqlEditor]))
    assert descriptions["Ctrl+a"] == "Line start (twice: select all)"
    assert descriptions["Ctrl+u"] == "Cut to line start"
    assert descriptions["Ctrl+l"] == "Clear the editor"
    assert descriptions["Ctrl+z"] == "Undo"
