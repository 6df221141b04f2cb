"""Keys that arrive in one burst (a slow SSH link, key repeat) are applied in the order typed, in
the console's editor, the cell editor's text area and every input line."""

from __future__ import annotations

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.widget import Widget

from pgconsole.db.edit.transaction import Value
from pgconsole.screens.cell_editor import CellEditorScreen
from pgconsole.widgets.ordered_keys import OrderedInput, OrderedTextArea
from pgconsole.widgets.sql_editor import SqlEditor
from tests.helpers.ui import wait_until


class Harness(App[None]):
    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget

    def on_mount(self) -> None:
        self.widget.focus()


def key(name: str) -> events.Key:
    character = {"backspace": "\x7f", "enter": "\r", "ctrl+e": "\x05", "ctrl+s": "\x13"}.get(name)
    return events.Key(name, name if len(name) == 1 else character)


async def burst(app: App[None], keys: list[str]) -> None:
    """Post every key at once, as the terminal driver does with the bytes of one read."""
    for name in keys:
        app.post_message(key(name))


@pytest.mark.parametrize("widget", [SqlEditor, OrderedTextArea])
async def test_a_text_area_applies_a_burst_in_order(widget: type[OrderedTextArea]) -> None:
    area = widget()
    area.text = "SELECT 1\nFROM t"
    app = Harness(area)
    async with app.run_test() as pilot:
        area.move_cursor((0, 0))
        await pilot.pause()
        await burst(app, ["a", "b", "c", "backspace", "d", "down", "ctrl+e", "enter", "x"])
        # Only the keys applied in order give this text; "x", the last key, completes it.
        expected = "abdSELECT 1\nFROM t\nx"
        await wait_until(pilot, lambda: area.text == expected, f"the text {expected!r}")


async def test_an_input_applies_a_burst_in_order() -> None:
    line = OrderedInput("")
    app = Harness(line)
    async with app.run_test() as pilot:
        await burst(app, ["a", "b", "c", "backspace", "d", "left", "left", "x"])
        await wait_until(pilot, lambda: line.value == "axbd", "the value 'axbd'")


async def test_ctrl_s_saves_what_was_typed_before_it_in_the_same_burst() -> None:
    saved: list[Value] = []

    async def save(value: Value) -> str | None:
        saved.append(value)
        return None

    app = App[None]()
    async with app.run_test() as pilot:
        await app.push_screen(CellEditorScreen("age of people", "integer", "1", save))
        await pilot.pause()
        # The old value is selected: typing replaces it.
        await burst(app, ["4", "2", "ctrl+s"])
        await wait_until(pilot, lambda: bool(saved), "the save")
        assert saved == ["42"]
