"""A lost update caught: the user's value, the value someone else saved, and the original."""

from __future__ import annotations

from typing import ClassVar, Literal

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from pgconsole.db.browse.pages import Column
from pgconsole.db.edit.transaction import DEFAULT, Conflict, Value
from pgconsole.keys import one_key
from pgconsole.paths import STYLES
from pgconsole.text import visible

Choice = Literal["overwrite", "reload", "cancel"]


def shown_value(value: Value | str | None) -> Text:
    """A value for the comparison: NULL and DEFAULT marked, text shown literally."""
    if value is None:
        return Text("NULL", style="dim italic")
    if value is DEFAULT:
        return Text("DEFAULT", style="dim italic")
    assert isinstance(value, str)
    return Text(visible(value, keep_newlines=True))


class ConflictScreen(ModalScreen[Choice]):
    """Nothing is written until the user picks: overwrite theirs, reload theirs, or cancel."""

    CSS_PATH = STYLES / "confirm.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "choose('overwrite')", "Overwrite theirs"),
        Binding("r", "choose('reload')", "Reload theirs"),
        Binding("escape,c", "choose('cancel')", "Cancel"),
    ]

    def __init__(self, conflict: Conflict, columns: tuple[Column, ...], action: str) -> None:
        super().__init__()
        self.conflict = conflict
        self.columns = columns
        self.action = action

    def compose(self) -> ComposeResult:
        conflict = self.conflict
        deleted = conflict.current is None
        with Vertical(id="confirm-box"):
            yield Static(Text(f"Conflict: {conflict}", style="bold red"), id="confirm-question")
            with VerticalScroll(id="conflict-values"):
                yield Static(self._table(), id="confirm-detail")
            keys = Text()
            if not deleted:
                keys.append_text(Text.assemble(("o", "bold"), f" {self.action} anyway · "))
            keys.append_text(
                Text.assemble(
                    ("r", "bold"), " reload theirs · ", (one_key("escape"), "bold"), " cancel"
                )
            )
            yield Static(keys, id="confirm-keys")

    def _table(self) -> Table:
        conflict = self.conflict
        table = Table(box=None, show_header=True, header_style="bold", expand=True)
        table.add_column("column", no_wrap=True)
        table.add_column("yours")
        table.add_column("theirs now")
        table.add_column("as read")
        names = list(conflict.values) or [c.name for c in self.columns]
        for name in names:
            index = next(i for i, c in enumerate(self.columns) if c.name == name)
            mine = conflict.values.get(name, conflict.original.cells[index])
            theirs: Text = (
                Text("(row gone)", style="dim italic")
                if conflict.current is None
                else shown_value(conflict.current.cells[index])
            )
            table.add_row(
                Text(visible(name)),
                shown_value(mine),
                theirs,
                shown_value(conflict.original.cells[index]),
            )
        return table

    def action_choose(self, choice: Choice) -> None:
        """Close with the user's choice (overwrite needs a row to overwrite)."""
        if choice == "overwrite" and self.conflict.current is None:
            return
        self.dismiss(choice)
