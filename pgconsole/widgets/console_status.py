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


def waiters_text(waiters: Sequence[Waiter]) -> str:
    """`blocks pid 123 (alice, 12 s), pid 456 … and 2 more`."""
    named = ", ".join(
        f"pid {w.pid} ({w.user or '?'}, {int(w.waiting_seconds)} s)"
        for w in waiters[:WAITERS_SHOWN]
    )
    more = len(waiters) - WAITERS_SHOWN
    return f"blocks {named}" + (f" and {more} more" if more > 0 else "")


def transaction_text(tx: UserTransaction) -> str:
    """`TX open 01:42 · 3 statements · idle: rolled back in 20 s · blocks pid 123 (…)`."""
    state = "TX failed: ROLLBACK needed" if tx.aborted else "TX open"
    text = f"{state} {clock(tx.age)} · {counted(tx.statements, 'statement')}"
    text += countdown_text(tx.idle_left)
    if tx.waiters:
        text += " · " + visible(waiters_text(tx.waiters))
    return text


def status_line(state: ConsoleState) -> Text:
    """Mode, timeout, the running statement, then the transaction (red when it is in trouble:
    aborted, or blocking other sessions) or, outside one, a cursor of ours."""
    parts: list[Text] = []
    if state.read_only:
        parts.append(Text(" READ ONLY ", style="bold black on yellow"))
    timeout = state.statement_timeout or "…"
    parts.append(Text(f" timeout {visible(timeout)} ", style="dim"))
    if state.running_for is not None:
        running = f" running {state.running_for:.0f} s · ctrl+c cancels "
        parts.append(Text(running, style="bold cyan"))
    tx = state.transaction
    if tx is not None:
        trouble = tx.aborted or bool(tx.waiters)
        style = "bold white on red" if trouble else "bold black on cyan"
        parts.append(Text(f" {transaction_text(tx)} ", style=style))
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
        if state is not None:
            self.update(status_line(state))
