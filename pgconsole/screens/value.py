"""The whole value of one cell: long text, pretty JSON, bytea; loaded only when asked for."""

from __future__ import annotations

import contextlib
import json
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from pgconsole.paths import STYLES
from pgconsole.text import visible
from pgconsole.words import counted


def pretty(value: str | None, type_name: str) -> Text:
    """The value for reading: NULL marked, JSON indented, control characters visible."""
    if value is None:
        return Text("NULL", style="dim italic")
    if type_name in ("json", "jsonb"):
        with contextlib.suppress(ValueError):  # not valid JSON after all: show it as it is
            value = json.dumps(json.loads(value), indent=2, ensure_ascii=False)
    return Text(visible(value, keep_newlines=True))


class ValueScreen(ModalScreen[None]):
    """Shows one value in full; Esc, q or Enter closes it."""

    CSS_PATH = STYLES / "value.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,enter", "close", "Close"),
    ]

    def __init__(self, column: str, type_name: str, value: str | None) -> None:
        super().__init__()
        self.column = column
        self.type_name = type_name
        self.value = value

    def compose(self) -> ComposeResult:
        length = "NULL" if self.value is None else counted(len(self.value), "character")
        with Vertical(id="value-box"):
            yield Static(
                Text.assemble(
                    (visible(self.column), "bold"), f"  {visible(self.type_name)} · {length}"
                ),
                id="value-title",
            )
            with VerticalScroll(id="value-scroll"):
                yield Static(pretty(self.value, self.type_name), id="value-text")

    def action_close(self) -> None:
        """Close the value view."""
        self.dismiss(None)
