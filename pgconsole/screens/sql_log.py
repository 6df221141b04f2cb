"""The statements the edit transaction ran, with their parameters and outcomes."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from pgconsole.db.edit.transaction import Statement
from pgconsole.db.sqltext import TokenKind, tokens
from pgconsole.paths import STYLES
from pgconsole.text import visible
from pgconsole.words import counted


def split_returning(sql: str) -> tuple[str, str | None]:
    """`sql` before its RETURNING list, and the list from the keyword on (None without one).

    An edit returns every column of the grid, each cut as the grid reads it: a list many times
    longer than the change itself. Only a RETURNING outside parentheses, quotes and comments
    counts (a column may be named "x RETURNING y").
    """
    depth = 0
    for token in tokens(sql):
        if token.kind is TokenKind.PUNCT and token.text in "()":
            depth += 1 if token.text == "(" else -1
        elif depth == 0 and token.kind is TokenKind.WORD and token.text.upper() == "RETURNING":
            return sql[: token.start].rstrip(), sql[token.start :]
    return sql, None


def describe_statement(statement: Statement) -> Text:
    """`UPDATE ... SET ... WHERE ...`, without its RETURNING list (its number is beside it)."""
    return Text(visible(split_returning(statement.sql)[0], keep_newlines=True))


def describe_values(statement: Statement) -> Text:
    """The statement's `$n` values on a line, as the server's log gives them
    (`parameters: $1 = 'Sencha', $2 = NULL`), then how it ended."""
    text = Text()
    values = [
        f"${n} = {'NULL' if value is None else repr(str(value))}"
        for n, value in enumerate(statement.params, start=1)
    ]
    if values:
        text.append(f"parameters: {visible(', '.join(values))}\n", style="cyan")
    undone = statement.outcome.startswith("undone")
    text.append(f"→ {visible(statement.outcome)}", style="red" if undone else "green")
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
                Text(
                    f"SQL sent for edits: {counted(len(self.statements), 'statement')}",
                    style="bold",
                ),
                id="value-title",
            )
            with VerticalScroll(id="value-scroll"):
                if not self.statements:
                    yield Static(Text("Nothing yet.", style="dim"))
                numbers = len(f"{len(self.statements)}.")
                for number, statement in enumerate(self.statements, start=1):
                    # The number in a column of its own, the statement in the next: its SQL
                    # wraps under its first character, and `9.` and `10.` end in one column.
                    with Horizontal(classes="statement"):
                        yield Static(
                            Text(f"{number}.".rjust(numbers), style="bold"), classes="number"
                        )
                        with Vertical(classes="statement-text"):
                            yield Static(describe_statement(statement))
                            returning = split_returning(statement.sql)[1]
                            if returning is not None:
                                # One line, cut with … at the box's edge: the values
                                # stay in sight.
                                yield Static(
                                    Text(visible(" ".join(returning.split()))),
                                    classes="returning",
                                )
                            yield Static(describe_values(statement), classes="values")

    def on_mount(self) -> None:
        self.call_after_refresh(self._show_the_end)

    def _show_the_end(self) -> None:
        """The newest statements, when they do not all fit. Anchored, not scroll_end(): after
        scroll_end the scrollbar stays drawn at the top while the newest statements are shown;
        scrolling up releases the anchor. Only when the log is taller than its box: anchored,
        a shorter one is drawn at the box's bottom, under empty lines."""
        scroll = self.query_one(VerticalScroll)
        if scroll.max_scroll_y > 0:
            scroll.anchor()

    def action_close(self) -> None:
        """Close the log."""
        self.dismiss(None)
