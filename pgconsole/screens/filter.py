"""Asks for a WHERE expression and checks it before anything reaches the server."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from pgconsole.db.browse.filtering import PG_WHITESPACE, FilterError, caret_line, check_filter
from pgconsole.db.browse.pages import Column
from pgconsole.db.quoting import quote_ident
from pgconsole.paths import STYLES
from pgconsole.text import visible
from pgconsole.widgets.ordered_keys import OrderedInput

_TEXT_TYPES = ("text", "character varying", "character", "varchar", "char", "citext", "name")


def _name(column: Column) -> str:
    """A column name as it has to be typed: quoted unless it is a plain lower-case word."""
    plain = column.name.isidentifier() and column.name == column.name.lower()
    return column.name if plain and column.name.isascii() else quote_ident(column.name)


def placeholder(columns: Sequence[Column]) -> str:
    """An example filter over the relation's own columns (two at most), one the user could run."""
    parts: list[str] = []
    for column in columns[:2]:
        base = (column.base_type or column.type).split("(")[0]
        if column.numeric:
            parts.append(f"{_name(column)} > 100")
        elif base in _TEXT_TYPES:
            parts.append(f"{_name(column)} LIKE 'a%'")
        else:
            parts.append(f"{_name(column)} IS NOT NULL")
    return " AND ".join(parts) or "true"


def filter_summary(filter_text: str, equals: Sequence[tuple[str, str | None]]) -> str:
    """The active filters on one line: the WHERE expression, then each `=` filter."""
    parts = [" ".join(filter_text.split())] if filter_text.strip(PG_WHITESPACE) else []
    for name, value in equals:
        literal = "NULL" if value is None else "'" + value.replace("'", "''") + "'"
        parts.append(f"{name} {'IS' if value is None else '='} {literal}")
    return " AND ".join(parts)


class FilterScreen(ModalScreen[str | None]):
    """Returns the checked filter ("" clears it), or None when cancelled."""

    CSS_PATH = STYLES / "filter.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(
        self,
        relation: str,
        current: str = "",
        error: str = "",
        columns: Sequence[Column] = (),
    ) -> None:
        super().__init__()
        self.relation = relation
        self.current = current
        self.error = error
        self.columns = tuple(columns)

    def compose(self) -> ComposeResult:
        with Vertical(id="filter-box"):
            yield Static(Text(f"WHERE … on {visible(self.relation)}", style="bold"))
            yield OrderedInput(
                self.current, placeholder=placeholder(self.columns), id="filter-input"
            )
            yield Static(
                Text(visible(self.error, keep_newlines=True), style="red"), id="filter-error"
            )
            yield Static(
                Text.assemble(
                    ("Enter", "bold"), " applies · empty clears · ", ("Esc", "bold"), " cancels"
                ),
                id="filter-keys",
            )

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def submit(self, event: Input.Submitted) -> None:
        """Check the expression; show what is wrong, or hand it back."""
        try:
            checked = check_filter(event.value)
        except FilterError as error:
            message = str(error)
            if error.position is not None:
                message += "\n" + event.value + "\n" + caret_line(event.value, error.position)
            self.show_error(message)
            return
        self.dismiss(checked)

    def show_error(self, message: str) -> None:
        """Show why the filter cannot run (the typed text stays)."""
        self.query_one("#filter-error", Static).update(
            Text(visible(message, keep_newlines=True), style="red")
        )

    def action_cancel(self) -> None:
        """Keep the old filter."""
        self.dismiss(None)
