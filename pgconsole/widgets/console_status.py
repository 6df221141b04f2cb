"""The SQL console's status line: the statement timeout and the mode, a statement running, and
the user's open transaction with its age, its idle countdown and the sessions it blocks.

The screen sets `ConsoleStatus.state` (facts, never text); the line is drawn from it by
`status_line`, a pure function.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from pgconsole.db.console.connection import Waiter
from pgconsole.idle import clock, countdown_text
from pgconsole.text import visible
from pgconsole.words import counted

WAITERS_SHOWN = 3
"""Waiting sessions named in the status line (the rest are counted)."""


@dataclass(frozen=True)
class UserTransaction:
    """The user's open transaction, as the status line tells it."""

    age: float
    """Seconds since it began."""
    statements: int
    """Statements run in it."""
    aborted: bool
    """A statement failed in it: only ROLLBACK (or ROLLBACK TO a savepoint) helps."""
    idle_left: float | None = None
    """Seconds before pgconsole rolls it back for idling (`pgconsole.idle`), None for never."""
    waiters: tuple[Waiter, ...] = ()
    """Sessions waiting on its locks."""


@dataclass(frozen=True)
class ConsoleState:
    """What the console's status line shows."""

    read_only: bool
    statement_timeout: str
    """As the server shows it (`30s`, `0`); empty until it has been read."""
    running_for: float | None = None
    """Seconds the running statement has run, None when none runs."""
    transaction: UserTransaction | None = None
    """The user's transaction, None outside one."""
    cursor_open: bool = False
    """A transaction of ours holds a result's cursor (outside the user's)."""


SHORTER = 4
"""How many times `status_line` can say less to fit its width: without the timeout, then
without the transaction's statement count, then naming one blocked session, not three, then
only counting them."""


def waiters_text(waiters: Sequence[Waiter], shown: int = WAITERS_SHOWN) -> str:
    """`blocks pid 123 (alice, 12 s), pid 456 … and 2 more`, `shown` named."""
    named = ", ".join(
        f"pid {w.pid} ({w.user or '?'}, {int(w.waiting_seconds)} s)" for w in waiters[:shown]
    )
    more = len(waiters) - shown
    return f"blocks {named}" + (f" and {more} more" if more > 0 else "")


def transaction_text(tx: UserTransaction, shorter: int = 0) -> str:
    """`TX open 01:42 · 3 statements · idle: rolled back in 20 s · blocks pid 123 (…)`;
    `shorter` as `status_line` has it (2: without the count, 3: one blocked session named,
    4: the blocked sessions counted)."""
    state = "TX failed: ROLLBACK needed" if tx.aborted else "TX open"
    text = f"{state} {clock(tx.age)}"
    if shorter < 2:
        text += f" · {counted(tx.statements, 'statement')}"
    text += countdown_text(tx.idle_left)
    if tx.waiters and shorter >= 4:
        text += " · blocks " + counted(len(tx.waiters), "session")
    elif tx.waiters:
        shown = 1 if shorter == 3 else WAITERS_SHOWN
        text += " · " + visible(waiters_text(tx.waiters, shown))
    return text


def status_line(state: ConsoleState, width: int | None = None) -> Text:
    """Mode, timeout, the running statement, then the transaction (red when it is in trouble:
    aborted, or blocking other sessions) or, outside one, a cursor of ours.

    Within `width` cells: what matters least goes first (`SHORTER`), and what still does not
    fit is cut with `…`. The line never wraps: the status bar has one line, and a second
    would be lost with the sessions the transaction blocks.
    """
    line = _status_line(state, 0)
    if width is None:
        return line
    for shorter in range(1, SHORTER + 1):
        if line.cell_len <= width:
            return line
        line = _status_line(state, shorter)
    line.truncate(max(width, 1), overflow="ellipsis")
    return line


def _status_line(state: ConsoleState, shorter: int) -> Text:
    parts: list[Text] = []
    if state.read_only:
        parts.append(Text(" READ ONLY ", style="bold black on yellow"))
    if shorter < 1:
        timeout = state.statement_timeout or "…"
        parts.append(Text(f" timeout {visible(timeout)} ", style="dim"))
    if state.running_for is not None:
        running = f" running {state.running_for:.0f} s · ctrl+c cancels "
        parts.append(Text(running, style="bold cyan"))
    tx = state.transaction
    if tx is not None:
        trouble = tx.aborted or bool(tx.waiters)
        style = "bold white on red" if trouble else "bold black on cyan"
        parts.append(Text(f" {transaction_text(tx, shorter)} ", style=style))
    elif state.cursor_open:
        parts.append(Text(" cursor open ", style="dim"))
    line = Text()
    for part in parts:
        line.append_text(part)
        line.append(" ")
    return line


class ConsoleStatus(Static):
    """The console's status line, drawn from `state`."""

    state: reactive[ConsoleState | None] = reactive(None)
    """What to show; None before the console's connection is open."""

    def watch_state(self, state: ConsoleState | None) -> None:
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        if self.state is not None:
            self.update(status_line(self.state, self.size.width or None))
