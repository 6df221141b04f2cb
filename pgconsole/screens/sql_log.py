"""The statements the edit transaction ran, with their parameters and outcomes."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from pgconsole.db.edit.transaction import Statement
from pgconsole.paths import STYLES
from pgconsole.text import visible


def describe_statement(number: int, statement: Statement) -> Text:
    """`3. UPDATE ... ` then its `$n` values and how it ended."""
    text = Text()
    text.append(f"{number}. ", style="bold")
    text.append(visible(statement.sql, keep_newlines=True))
    for n, value in enumerate(statement.params, start=1):
        shown = "NULL" if value is None else repr(str(value))
        text.append(f"\n   ${n} = {visible(shown)}", style="cyan")
    undone = statement.outcome.startswith("undone")
    text.append(f"\n   → {visible(statement.outcome)}", style="red" if undone else "green")
    return text


class SqlLogScreen(ModalScreen[None]):
    """What ran in this session's edit transactions, oldest first."""

    CSS_PATH = STYLES / "value.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,L", "close", "Close")]

    def __init__(self, statements: list[Statement]) -> None:
        super().__init__()
        self.statements = list(statements)

    def compose(self) -> ComposeResult:
        with Vertical(id="value-box"):
            yield Static(
                Text(f"SQL sent for edits: {len(self.statements)} statements", style="bold"),
                id="value-title",
            )
            with VerticalScroll(id="value-scroll"):
                if not self.statements:
                    yield Static(Text("Nothing yet.", style="dim"))
                for number, statement in enumerate(self.statements, start=1):
                    yield Static(describe_statement(number, statement))

    def on_mount(self) -> None:
        # Anchored, not scroll_end(): after scroll_end on mount the scrollbar stays drawn at
        # the top while the newest statements are shown. Scrolling up releases the anchor.
        self.query_one(VerticalScroll).anchor()

    def action_close(self) -> None:
        """Close the log."""
        self.dismiss(None)
