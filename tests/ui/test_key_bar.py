"""The key bar: the focused widget's and the screen's keys, help first, updated on focus."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from pgconsole.widgets.key_bar import KeyBar


class Pane(Static, can_focus=True):
    def __init__(self, key: str, description: str, id: str) -> None:
        super().__init__(id=id)
        self._bindings.bind(key, "noop", description)

    def action_noop(self) -> None:
        pass


class Harness(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("z", "hidden", "Hidden", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Pane("a", "Alpha", "one")
        yield Pane("b", "Beta", "two")
        yield KeyBar()

    def action_help(self) -> None:
        pass


def descriptions(app: Harness) -> list[str]:
    return [description for _key, description, _enabled in app.query_one(KeyBar).shown]


async def test_help_comes_first_and_hidden_keys_stay_hidden() -> None:
    app = Harness()
    async with app.run_test(size=(80, 5)) as pilot:
        app.query_one("#one").focus()
        await pilot.pause()
        shown = descriptions(app)
        assert shown[0] == "Help"
        assert "Quit" in shown and "Alpha" in shown
        assert "Hidden" not in shown and "Beta" not in shown


async def test_moving_focus_changes_the_keys_shown() -> None:
    app = Harness()
    async with app.run_test(size=(80, 5)) as pilot:
        app.query_one("#one").focus()
        await pilot.pause()
        app.query_one("#two").focus()
        await pilot.pause()
        shown = descriptions(app)
        assert "Beta" in shown and "Alpha" not in shown
        line = app.query_one(KeyBar).render_line(0).text
        assert line.startswith(" ? Help ") and "Beta" in line
