"""Shown when connecting fails: why, in one line, what helps, and a key to try again."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

from pgconsole.db.connection.failures import ConnectFailure
from pgconsole.messages import RetryRequested
from pgconsole.paths import STYLES
from pgconsole.text import visible
from pgconsole.widgets.key_bar import KeyBar

_RETRY_PROMPT = Text.assemble("Press ", ("r", "bold"), " to retry, ", ("q", "bold"), " to quit.")


def _summary(failure: ConnectFailure) -> Text:
    return Text(visible(failure.summary))


def _details(failure: ConnectFailure) -> Text:
    details = Text()
    width = max((len(label) for label, _ in failure.details), default=0) + 1
    for label, value in failure.details:
        details.append(f"{label:<{width}}", style="dim")
        details.append(visible(value))
        details.append("\n")
    details.rstrip()
    return details


class ConnectionErrorScreen(Screen[None]):
    """A failed connection: the app stays up and waits for a retry or quit."""

    CSS_PATH = STYLES / "connection_error.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "retry", "Retry"),
    ]

    def __init__(self, failure: ConnectFailure) -> None:
        super().__init__()
        self.failure = failure

    def compose(self) -> ComposeResult:
        with Vertical(id="failure"):
            yield Static(Text("Cannot connect", style="bold"), id="failure-title")
            yield Static(_summary(self.failure), id="failure-summary")
            yield Static(_details(self.failure), id="failure-details")
            yield Static(_RETRY_PROMPT, id="failure-state")
        yield KeyBar()

    def show_failure(self, failure: ConnectFailure) -> None:
        """Show `failure` (a newer one replaces the old)."""
        self.failure = failure
        self.query_one("#failure-summary", Static).update(_summary(failure))
        self.query_one("#failure-details", Static).update(_details(failure))
        self.query_one("#failure-state", Static).update(_RETRY_PROMPT)

    def show_retrying(self) -> None:
        """Say that a new attempt is under way."""
        self.query_one("#failure-state", Static).update(Text("retrying…"))

    def action_retry(self) -> None:
        """Ask the app to connect again."""
        self.show_retrying()
        self.post_message(RetryRequested())
