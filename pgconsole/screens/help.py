"""The help screen: every key pgconsole knows, grouped by where it works."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import Static

from pgconsole.keys import key_label
from pgconsole.paths import STYLES

KeySection = tuple[str, Sequence[type[DOMNode]]]
"""A heading and the classes whose BINDINGS are listed under it."""


def key_rows(classes: Iterable[type[DOMNode]]) -> list[tuple[str, str]]:
    """(keys, description) for each binding of `classes`, in order, without repeats."""
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    for cls in classes:
        for binding in cls.BINDINGS:
            if not isinstance(binding, Binding):
                continue
            description = binding.tooltip or binding.description
            if not description or binding.key in seen:
                continue
            seen.add(binding.key)
            rows.append((key_label(binding.key), description))
    return rows


class HelpScreen(ModalScreen[None]):
    """Lists the keys of every screen; Esc, q, ? or F1 closes it."""

    CSS_PATH = STYLES / "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "close", "Close help"),
    ]

    def __init__(self, sections: Sequence[KeySection]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        text = Text()
        for heading, classes in self.sections:
            rows = key_rows(classes)
            if not rows:
                continue
            text.append(f"{heading}\n", style="bold underline")
            for keys, description in rows:
                text.append(f"  {keys:<16}", style="bold")
                text.append(f"{description}\n")
            text.append("\n")
        text.append("Ctrl+P opens the command palette; Esc or q closes this help.", style="dim")
        with VerticalScroll(id="help-body"):
            yield Static(Text("pgconsole keys", style="bold"), id="help-title")
            yield Static(text, id="help-keys")

    def action_close(self) -> None:
        """Close the help screen."""
        self.dismiss(None)
