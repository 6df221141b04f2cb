"""Asks for a password inside the TUI: no terminal prompt, nothing echoed, nothing logged."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from pgconsole.paths import STYLES
from pgconsole.text import visible
from pgconsole.widgets.ordered_keys import OrderedInput


class PasswordScreen(ModalScreen[str | None]):
    """Returns the typed password, or None when the user gives up (Esc)."""

    CSS_PATH = STYLES / "password.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, target: str, reason: str) -> None:
        super().__init__()
        self.target = target
        self.reason = reason

    def compose(self) -> ComposeResult:
        with Vertical(id="password-box"):
            yield Static(Text(f"Password for {visible(self.target)}", style="bold"))
            yield Static(Text(visible(self.reason)), id="password-reason")
            yield OrderedInput(password=True, placeholder="password", id="password-input")
            yield Static(
                Text.assemble(("Enter", "bold"), " connects · ", ("Esc", "bold"), " cancels"),
                id="password-keys",
            )

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def submit(self, event: Input.Submitted) -> None:
        """Hand the password to the app; the widget is cleared at once."""
        password = event.value
        event.input.value = ""
        self.dismiss(password)

    def action_cancel(self) -> None:
        """Give up on this attempt."""
        self.dismiss(None)
