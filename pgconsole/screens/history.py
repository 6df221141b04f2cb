"""Search the statements run before; Enter puts the chosen one back in the editor."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from pgconsole.db.console.history import Entry, History
from pgconsole.failed_workers import ReportsFailedWorkers
from pgconsole.paths import STYLES
from pgconsole.text import visible
from pgconsole.widgets.ordered_keys import OrderedInput
from pgconsole.words import counted

SHOWN = 200
"""Entries listed at most (the newest matches)."""


def entry_label(entry: Entry, width: int = 200) -> Text:
    """`11-22 14:03 ✓ SELECT …` on one line."""
    when = entry.at.astimezone().strftime("%m-%d %H:%M")
    line = " ".join(entry.sql.split())
    if len(line) > width:
        line = line[: width - 1] + "…"
    return Text.assemble(
        (when + " ", "dim"),
        ("✓ ", "green") if entry.ok else ("✗ ", "red"),
        visible(line),
    )


class HistoryScreen(ReportsFailedWorkers, ModalScreen[str | None]):
    """The history, newest first, filtered as you type."""

    CSS_PATH = STYLES / "history.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("enter", "choose", "Put in editor", priority=True),
        Binding("down", "move(1)", "Next", show=False, priority=True),
        Binding("up", "move(-1)", "Previous", show=False, priority=True),
        Binding("ctrl+t", "toggle_target", "This server only"),
    ]

    def __init__(self, history: History, target: str | None = None) -> None:
        """Args:
        history: The history file.
        target: This server (`user@host:port/db`): ctrl+t shows only its statements.
        """
        super().__init__()
        self.history = history
        self.target = target
        self.only_target = False
        self.matches: list[Entry] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="history-box"):
            yield OrderedInput(
                placeholder="search history (every word must appear)", id="history-search"
            )
            yield OptionList(id="history-list")
            yield Static(id="history-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._fill("")
        self.load()

    @work(exclusive=True, group="history-load", exit_on_error=False)
    async def load(self) -> None:
        """Read the file into the history's index (off the loop), then list what matches."""
        await self.history.load()
        self._fill(self.query_one(Input).value)

    @on(Input.Changed, "#history-search")
    def search(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def _fill(self, text: str) -> None:
        """List the loaded entries holding every word of `text` (no file IO: per keystroke)."""
        matches = self.history.search(text, limit=SHOWN * 5)
        if self.only_target and self.target is not None:
            matches = [m for m in matches if m.target == self.target]
        self.matches = matches[:SHOWN]
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(entry_label(entry)) for entry in self.matches])
        if self.matches:
            options.highlighted = 0
        self.query_one("#history-hint", Static).update(self._hint())

    def _hint(self) -> Text:
        """What is listed, then every key on a line of its own (whole at 80 columns; wraps
        narrower, never cut)."""
        scope = "this server" if self.only_target else "every server"
        count = counted(len(self.matches), "statement") if self.history.loaded else "reading…"
        toggle = "every server" if self.only_target else "this server only"
        return Text.assemble(
            (f"{count} ({scope})\n", "dim"),
            ("↑↓", "bold"),
            " choose · ",
            ("Enter", "bold"),
            " to the editor · ",
            ("Ctrl+t", "bold"),
            f" {toggle} · ",
            ("Esc", "bold"),
            " closes",
        )

    def action_move(self, delta: int) -> None:
        """Move in the list while typing in the search box."""
        options = self.query_one(OptionList)
        if not self.matches:
            return
        current = options.highlighted or 0
        options.highlighted = max(0, min(len(self.matches) - 1, current + delta))

    def action_choose(self) -> None:
        """Close with the highlighted statement's whole text."""
        index = self.query_one(OptionList).highlighted
        if index is None or index >= len(self.matches):
            self.dismiss(None)
            return
        self.dismiss(self.matches[index].sql)

    @on(OptionList.OptionSelected, "#history-list")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.matches[event.option_index].sql)

    def action_toggle_target(self) -> None:
        """Only this server's statements, or every server's."""
        self.only_target = not self.only_target
        self._fill(self.query_one(Input).value)

    def action_close(self) -> None:
        """Close without choosing."""
        self.dismiss(None)
