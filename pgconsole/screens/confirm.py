"""A yes/no question, answered with y or n (Esc means no)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from pgconsole.keys import one_key
from pgconsole.paths import STYLES
from pgconsole.text import visible


class ConfirmScreen(ModalScreen[bool]):
    """Dismissed with True for y, False for n or Esc."""

    CSS_PATH = STYLES / "confirm.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__()
        self.question = question
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(Text(visible(self.question), style="bold"), id="confirm-question")
            if self.detail:
                yield Static(Text(visible(self.detail)), id="confirm-detail")
            yield Static(
                Text.assemble(("y", "bold"), " yes · ", ("n", "bold"), " no"), id="confirm-keys"
            )

    def action_answer(self, answer: bool) -> None:
        """Close with the answer."""
        self.dismiss(answer)


class ChoiceScreen(ModalScreen[str]):
    """A question with a few answers, each on its own key; dismissed with the answer's label.

    The last choice is what Esc means.
    """

    CSS_PATH = STYLES / "confirm.tcss"

    def __init__(self, question: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.question = question
        self.choices = choices
        for key, label in choices:
            self._bindings.bind(key, f"choose({label!r})", label.capitalize())

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(Text(visible(self.question), style="bold"), id="confirm-question")
            keys = Text()
            for number, (key, label) in enumerate(self.choices):
                if number:
                    keys.append(" · ")
                keys.append(one_key(key), style="bold")
                keys.append(f" {label}")
            yield Static(keys, id="confirm-keys")

    def action_choose(self, label: str) -> None:
        """Close with the chosen answer."""
        self.dismiss(label)
