"""Shown when connecting fails: why, in one line, what helps, and a key to try again."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical
from textual.reactive import reactive
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


class DetailRows(Grid):
    """`label value` rows: the labels in a column as wide as the longest, each value in the
    column beside it, wrapping under itself (a long DETAIL or HINT stays right of its label)."""

    DEFAULT_CSS = """
    DetailRows { grid-size: 2; grid-columns: auto 1fr; grid-rows: auto; grid-gutter: 0 1;
                 height: auto; }
    DetailRows > .detail-label { width: auto; }
    """

    rows: reactive[tuple[tuple[str, str], ...]] = reactive((), recompose=True)

    def __init__(self, rows: tuple[tuple[str, str], ...], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_reactive(DetailRows.rows, rows)

    def compose(self) -> ComposeResult:
        for label, value in self.rows:
            yield Static(Text(visible(label), style="dim"), classes="detail-label")
            yield Static(Text(visible(value)), classes="detail-value")


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
            yield DetailRows(self.failure.details, id="failure-details")
            yield Static(_RETRY_PROMPT, id="failure-state")
        yield KeyBar()

    def show_failure(self, failure: ConnectFailure) -> None:
        """Show `failure` (a newer one replaces the old)."""
        self.failure = failure
        self.query_one("#failure-summary", Static).update(_summary(failure))
        self.query_one(DetailRows).rows = failure.details
        self.query_one("#failure-state", Static).update(_RETRY_PROMPT)

    def show_retrying(self) -> None:
        """Say that a new attempt is under way."""
        self.query_one("#failure-state", Static).update(Text("retrying…"))

    def action_retry(self) -> None:
        """Ask the app to connect again."""
        self.show_retrying()
        self.post_message(RetryRequested())
