"""Asks for a WHERE expression and checks it before anything reaches the server."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from pgconsole.db.filtering import FilterError, caret_line, check_filter
from pgconsole.paths import STYLES
from pgconsole.text import visible
from pgconsole.widgets.ordered_keys import OrderedInput


class FilterScreen(ModalScreen[str | None]):
    """Returns the checked filter ("" clears it), or None when cancelled."""

    CSS_PATH = STYLES / "filter.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, relation: str, current: str = "", error: str = "") -> None:
        super().__init__()
        self.relation = relation
        self.current = current
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(id="filter-box"):
            yield Static(Text(f"WHERE … on {visible(self.relation)}", style="bold"))
            yield OrderedInput(
                self.current, placeholder="status = 'open' AND total > 100", id="filter-input"
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
