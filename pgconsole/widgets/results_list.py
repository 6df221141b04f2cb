"""The SQL console's results: one line per statement of the last run, and the words for them.

`ResultsList.shown` holds the statements run (each with its result or its error); the list
draws itself from it, on screen only when the run had more than one statement. Choosing a
line (`OptionList.OptionHighlighted`) is the screen's to act on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from pgconsole.db.connection.failures import describe_error
from pgconsole.db.console.connection import ConsoleConnection, Result
from pgconsole.db.sqltext import Statement
from pgconsole.text import visible
from pgconsole.words import counted


@dataclass(frozen=True)
class Shown:
    """One statement of the last run, as the results list shows it."""

    statement: Statement
    result: Result | None
    error: str | None


def first_line(sql: str, width: int = 60) -> str:
    """The statement's first words on one line, cut to `width` characters."""
    line = " ".join(sql.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def milliseconds(value: float) -> str:
    """`4.1 ms`, or `12.3 s` from ten seconds on."""
    return f"{value:,.1f} ms" if value < 10_000 else f"{value / 1000:,.1f} s"


def result_line(result: Result) -> str:
    """`UPDATE 3 · 4.1 ms`, or for a query `SELECT · 100+ rows · first page 3.2 ms`."""
    if result.pager is not None:
        total = result.pager.total
        rows = (
            f"{total:,} row{'' if total == 1 else 's'}"
            if total is not None
            else "more rows: page down or End"
        )
        return f"{result.tag} · {rows} · first page in {milliseconds(result.elapsed_ms)}"
    text = f"{result.tag} · {milliseconds(result.elapsed_ms)}"
    if result.truncated:
        text += f" · first {counted(len(result.page.rows) if result.page else 0, 'row')} kept"
    return text


def notices_text(notices: Sequence[str], shown: int = 4) -> str:
    """The server's notices, one per line after the result (the first few, then a count)."""
    lines = "".join(f"\n{notice}" for notice in notices[:shown])
    more = len(notices) - shown
    return lines + (f"\n… and {more} more" if more > 0 else "")


def error_text(error: BaseException, session: ConsoleConnection) -> str:
    """What a failed statement says: the server's error, a cancel or a statement_timeout
    named as such, what a lost connection means, and how to leave an aborted transaction."""
    text = describe_error(error)
    conn = session.conn
    if conn is None or conn.is_closed():
        return (
            f"The console's connection was lost: {text}\nAn open transaction ended "
            "without a commit. The next statement opens a new connection."
        )
    if isinstance(error, asyncpg.QueryCanceledError) and "user request" in str(error):
        text = "Cancelled: " + text
    elif isinstance(error, asyncpg.QueryCanceledError):
        text += f" (statement_timeout is {session.statement_timeout})"
    if session.aborted:
        text += "\nThe transaction is aborted: ROLLBACK (or ROLLBACK TO a savepoint) to go on."
    return text


def list_label(shown: Shown) -> Text:
    """`✓ SELECT * FROM t  SELECT · 500 rows · …` or `✗ … the error's first line`."""
    if shown.error is not None:
        mark, style, tail = "✗", "red", shown.error.split("\n", 1)[0]
    else:
        assert shown.result is not None
        mark, style, tail = "✓", "green", result_line(shown.result)
    return Text.assemble(
        (mark + " ", style),
        visible(first_line(shown.statement.text, 30)),
        "  ",
        (visible(tail), "dim"),
    )


class ResultsList(OptionList):
    """The statements of the last run, the latest highlighted; shown for two or more."""

    # One line per statement, cut with … at the list's width: an OptionList wraps a long
    # prompt, and a wrapped line pushed the next statements out of the list's few lines.
    DEFAULT_CSS = """
    ResultsList { text-wrap: nowrap; text-overflow: ellipsis; }
    """

    shown: reactive[tuple[Shown, ...]] = reactive(())
    """The statements run so far in the last run, in order."""

    def watch_shown(self, shown: tuple[Shown, ...]) -> None:
        self.clear_options()
        self.add_options([Option(list_label(one)) for one in shown])
        self.display = len(shown) > 1
        if shown:
            self.highlighted = len(shown) - 1

    def relabel(self, pages: object) -> None:
        """Draw again the line of the result paged by `pages` (its row count became known)."""
        for index, one in enumerate(self.shown):
            paged = one.result is not None and one.result.pager is pages
            if paged and index < self.option_count:
                self.replace_option_prompt_at_index(index, list_label(one))
