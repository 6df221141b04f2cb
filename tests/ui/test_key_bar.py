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


def test_the_bar_shows_whole_keys_and_ends_with_more_when_cut() -> None:
    from pgconsole.widgets.key_bar import entry_width, fitting

    shown = (("?", "Help", True), ("s", "Sort", True), ("w", "Filter", True), ("F2", "Edit", True))
    assert fitting(shown, 200) == shown  # everything fits: as it is
    width = entry_width("s", "Sort") + entry_width("w", "Filter") + entry_width("?", "more")
    assert fitting(shown, width) == (
        ("s", "Sort", True),
        ("w", "Filter", True),
        ("?", "more", True),
    )
    assert fitting(shown, width - 1) == (("s", "Sort", True), ("?", "more", True))


def test_key_names_have_one_spelling() -> None:
    from pgconsole.keys import key_label

    assert key_label("ctrl+s") == "Ctrl+s"
    assert key_label("shift+f7") == "Shift+F7"
    assert key_label("plus,minus") == "+  -"
    assert key_label("question_mark,f1") == "?  F1"
    assert key_label("pagedown,ctrl+d") == "PgDn  Ctrl+d"


async def test_a_narrow_bar_shows_whole_keys_then_more() -> None:
    app = Harness()
    async with app.run_test(size=(20, 5)) as pilot:
        app.query_one("#one").focus()
        await pilot.pause()
        bar = app.query_one(KeyBar)
        line = bar.render_line(0).text.rstrip()
        assert line.endswith("? more")
        for key, description, _enabled in bar.shown:
            if description != "Help" and f" {key} " in line:
                assert f" {key} {description}" in line  # never cut mid-word
