"""The console's editor: a TextArea with SQL highlighting and a completion menu.

ctrl+space (terminals send it as ctrl+@) opens the menu at the cursor; typing keeps filtering
it; ↑↓ choose, Enter or Tab insert, Esc closes it and only it. A single candidate is inserted
at once. The candidates come from `completer(text, offset)`, set by the screen: the widget
itself never touches the database, so typing never waits on it.

Readline's keys work as a terminal user expects: Ctrl+a goes to the start of the line (twice in
a row selects all), Ctrl+u cuts back to the start of the line, Ctrl+l clears the editor and
Ctrl+z brings the text back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import OptionList, TextArea
from textual.widgets.option_list import Option
from textual.widgets.text_area import Location

from pgconsole.db.console.completion import Candidate
from pgconsole.db.sqltext import Statement, split_statements, statement_at, word_at
from pgconsole.text import visible
from pgconsole.widgets import sql_highlight
from pgconsole.widgets.ordered_keys import OrderedTextArea

Completer = Callable[[str, int], Sequence[Candidate]]
MENU_LINES = 8


def offset_of(text: str, location: Location) -> int:
    """The character offset in `text` of a (row, column) location."""
    row, column = location
    return sum(len(line) + 1 for line in text.split("\n")[:row]) + column


def location_of(text: str, offset: int) -> Location:
    """The (row, column) of a character offset in `text`."""
    before = text[:offset]
    return before.count("\n"), offset - (before.rfind("\n") + 1)


class CompletionMenu(OptionList):
    """The candidates, drawn over the screen under the cursor."""

    DEFAULT_CSS = """
    CompletionMenu {
        overlay: screen;
        position: absolute;
        constrain: inside inflect;
        width: auto;
        min-width: 20;
        max-width: 60;
        height: auto;
        max-height: 8;
        border: none;
        padding: 0;
        background: $panel;
    }
    """

    def __init__(self) -> None:
        super().__init__(id="completion-menu")
        self.can_focus = False
        self.candidates: list[Candidate] = []

    def show(self, candidates: Sequence[Candidate]) -> None:
        """Replace the options with `candidates`, the first highlighted."""
        self.candidates = list(candidates)
        self.clear_options()
        self.add_options(
            [
                Option(Text.assemble(visible(c.label), "  ", (visible(c.detail), "dim")))
                for c in self.candidates
            ]
        )
        self.highlighted = 0 if self.candidates else None


class SqlEditor(OrderedTextArea):
    """SQL in, with highlighting (tree-sitter's SQL grammar, when installed) and completion."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+space,ctrl+@", "complete", "Complete"),
        # Readline's keys, as a terminal user expects them (shown in help, not in the bar).
        Binding("ctrl+a", "line_start", "Line start (twice: select all)", show=False),
        Binding("ctrl+u", "cut_to_line_start", "Cut to line start", show=False),
        Binding("ctrl+l", "clear_all", "Clear the editor", show=False),
        Binding("ctrl+z", "undo", "Undo", show=False),
    ]

    highlighting = False
    """SQL is highlighted (tree-sitter's SQL grammar is installed); set on mount. A class
    attribute: TextArea's constructor builds the highlights before ours sets anything."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id,
            soft_wrap=False,
            show_line_numbers=True,
            tab_behavior="focus",
        )
        self.completer: Completer | None = None
        self.menu: CompletionMenu | None = None
        self._last_key: str | None = None
        """The key handled before the one being handled: Ctrl+a twice selects all."""
        self._line_start_at: Location | None = None
        """Where the last Ctrl+a left the cursor."""

    def on_mount(self) -> None:
        # Without tree-sitter the text stays plain: the console works the same.
        self.highlighting = sql_highlight.available()
        self._build_highlight_map()

    def _build_highlight_map(self) -> None:
        # TextArea's hook, run whenever the text changes: the spans come from our own walk of
        # the parse tree, not from a tree-sitter query (see `sql_highlight`).
        self._line_cache.clear()
        self._highlights.clear()
        if self.highlighting:
            self._highlights.update(sql_highlight.highlights(self.text))

    # -- readline keys ---------------------------------------------------------------------

    def action_line_start(self) -> None:
        """To column 0 (readline's Ctrl+a); pressed again at once, select all the text."""
        if (
            self._last_key == "ctrl+a"
            and self.selection.is_empty
            and self.cursor_location == self._line_start_at
        ):
            self.select_all()
            self._line_start_at = None
            return
        row, _column = self.cursor_location
        self.move_cursor((row, 0))
        self._line_start_at = self.cursor_location

    def action_cut_to_line_start(self) -> None:
        """Cut from the cursor back to the start of its line (readline's Ctrl+u)."""
        if self.read_only:
            return
        row, column = self.cursor_location
        if column == 0:
            return
        result = self.delete((row, 0), (row, column), maintain_selection_offset=False)
        self.app.copy_to_clipboard(result.replaced_text)

    def clear_all(self) -> None:
        """Empty the editor as one step that Ctrl+z undoes."""
        if self.read_only or not self.text:
            return
        self.close_menu()
        # Its own batch: undo brings back the whole text, and only it.
        self.history.checkpoint()
        self.clear()
        self.history.checkpoint()
        self.notify("Editor cleared: Ctrl+z brings the text back.", timeout=3)

    def action_clear_all(self) -> None:
        """Empty the editor (Ctrl+l)."""
        self.clear_all()

    # -- statements ------------------------------------------------------------------------

    def statements_here(self) -> list[Statement]:
        """The selection's statements, else the statement under the cursor (or none)."""
        text = self.text
        selection = self.selected_text
        if selection.strip():
            start = min(offset_of(text, self.selection.start), offset_of(text, self.selection.end))
            return [
                Statement(s.text, s.start + start, s.end + start)
                for s in split_statements(selection)
            ]
        here = statement_at(text, offset_of(text, self.cursor_location))
        return [] if here is None else [here]

    def point_at(self, statement: Statement, position: str | int | None) -> None:
        """Put the cursor where the server says an error in `statement` is: `position` is the
        error's 1-based character position in the statement's text (None: nowhere)."""
        if not position:
            return
        with contextlib.suppress(ValueError):
            offset = statement.start + int(position) - 1
            if statement.start <= offset <= statement.end:
                self.cursor_location = location_of(self.text, offset)

    # -- completion ------------------------------------------------------------------------

    @property
    def menu_open(self) -> bool:
        """Whether the completion menu is on screen."""
        return self.menu is not None and self.menu.is_attached

    def _offset(self) -> int:
        return offset_of(self.text, self.cursor_location)

    def _candidates(self) -> list[Candidate]:
        if self.completer is None:
            return []
        return list(self.completer(self.text, self._offset()))

    def action_complete(self) -> None:
        """Open the menu (or insert the only candidate)."""
        candidates = self._candidates()
        if not candidates:
            self.close_menu()
            self.notify("Nothing to complete here.", timeout=2)
            return
        if len(candidates) == 1:
            self.close_menu()
            self._insert(candidates[0])
            return
        if self.menu is None:
            self.menu = CompletionMenu()
        if not self.menu.is_attached:
            self.screen.mount(self.menu)
        self.menu.show(candidates)
        self._place_menu()

    def _place_menu(self) -> None:
        if self.menu is None:
            return
        prefix, _qualifier, _start = word_at(self.text, self._offset())
        x, y = self.cursor_screen_offset
        self.menu.styles.offset = (max(0, x - len(prefix)), y + 1)

    def close_menu(self) -> None:
        """Take the menu off the screen (the text stays as it is)."""
        if self.menu is not None and self.menu.is_attached:
            self.menu.remove()

    def _refilter(self) -> None:
        if not self.menu_open:
            return
        candidates = self._candidates()
        if not candidates:
            self.close_menu()
            return
        assert self.menu is not None
        self.menu.show(candidates)
        self._place_menu()

    def _insert(self, candidate: Candidate) -> None:
        offset = self._offset()
        _prefix, _qualifier, start = word_at(self.text, offset)
        begin = location_of(self.text, start)
        self.replace(candidate.text, begin, self.cursor_location, maintain_selection_offset=False)

    def _accept(self) -> None:
        assert self.menu is not None
        index = self.menu.highlighted
        chosen = self.menu.candidates[index] if index is not None else None
        self.close_menu()
        if chosen is not None:
            self._insert(chosen)

    async def _on_key(self, event: events.Key) -> None:
        try:
            await self._handle_key(event)
        finally:
            self._last_key = event.key

    def on_mouse_down(self, _event: events.MouseDown) -> None:
        # A click between two Ctrl+a: the second is a line start again, not select all.
        self._last_key = None

    async def _handle_key(self, event: events.Key) -> None:
        if self.menu_open:
            assert self.menu is not None
            handled = True
            if event.key == "down":
                self.menu.action_cursor_down()
            elif event.key == "up":
                self.menu.action_cursor_up()
            elif event.key in ("enter", "tab"):
                self._accept()
            elif event.key == "escape":
                self.close_menu()
            else:
                handled = False
            if handled:
                event.stop()
                event.prevent_default()
                return
        await super()._on_key(event)

    def on_text_area_changed(self, _event: TextArea.Changed) -> None:
        """Typing (or deleting) with the menu open filters it again."""
        if self.menu_open:
            self.call_after_refresh(self._refilter)

    def on_blur(self, _event: events.Blur) -> None:
        self.close_menu()
