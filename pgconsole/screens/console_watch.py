"""The console's transaction kept in sight: its facts for the status line, who waits on its
locks, and pgconsole's own rollback before the server's idle limit would end the session.

`TransactionWatch` belongs to the console screen, which calls `tick` every second and draws
the status line from `state`. The waiters are asked for through the pool in a worker of the
screen, never on the console's connection (it may be running the user's statement).
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, Protocol

from textual.notifications import SeverityLevel
from textual.worker import Worker

from pgconsole import idle
from pgconsole.db.connection.errors import DB_ERRORS
from pgconsole.db.connection.failures import describe_error
from pgconsole.db.console.connection import ConsoleConnection, Waiter
from pgconsole.widgets.console_status import ConsoleState, UserTransaction


class ConsoleHost(Protocol):
    """What each helper of the console screen needs of it: the session, the message line,
    notifications and workers (`ConsoleScreen` has them)."""

    session: ConsoleConnection

    def say(self, text: str, error: bool = False) -> None: ...

    def notify(
        self,
        message: str,
        *,
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None: ...

    def run_worker(
        self,
        work: Coroutine[Any, Any, None],
        name: str | None = "",
        group: str = "default",
        *,
        exit_on_error: bool = True,
        exclusive: bool = False,
    ) -> Worker[None]: ...


class WatchedConsole(ConsoleHost, Protocol):
    """What the watch needs of the console screen besides."""

    idle_in_transaction: float | None
    """The server's idle_in_transaction_session_timeout in seconds; None for none."""

    @property
    def running_since(self) -> float | None:
        """When the running statement started (`time.monotonic()`); None when none runs."""
        ...


class TransactionWatch:
    """The user's transaction on the console's session, watched every second."""

    def __init__(self, console: WatchedConsole) -> None:
        self.console = console
        self.waiters: list[Waiter] = []
        """Sessions waiting on the transaction's locks, as last asked."""

    def state(self, now: float) -> ConsoleState:
        """The status line's facts at `now` (`time.monotonic()`)."""
        session = self.console.session
        running = self.console.running_since
        return ConsoleState(
            read_only=session.read_only,
            statement_timeout=session.statement_timeout,
            running_for=None if running is None else now - running,
            transaction=self.transaction(now),
            cursor_open=session.holds_transaction,
        )

    def transaction(self, now: float) -> UserTransaction | None:
        """The user's open transaction, None outside one."""
        session = self.console.session
        if session.tx_started_at is None:
            return None
        return UserTransaction(
            age=now - session.tx_started_at,
            statements=session.tx_statements,
            aborted=session.aborted,
            idle_left=self.idle_left(now),
            waiters=tuple(self.waiters),
        )

    def idle_left(self, now: float) -> float | None:
        """Seconds before pgconsole rolls back the user's idle transaction, or None (none
        open, no limit, or a statement running: it is not idle)."""
        session = self.console.session
        if session.tx_started_at is None or self.console.running_since is not None:
            return None
        return idle.idle_left(session.tx_last_used, self.console.idle_in_transaction, now)

    async def tick(self, now: float) -> None:
        """The idle rollback when due; the waiters asked for again, or forgotten."""
        if idle.rollback_due(self.idle_left(now)):  # never while a statement runs
            await self._idle_rollback()
        if self.console.session.in_transaction and self.console.running_since is None:
            self.console.run_worker(
                self._poll_waiters(),
                name="poll_waiters",
                group="console-waiters",
                exclusive=True,
                exit_on_error=False,
            )
        elif self.waiters and not self.console.session.in_transaction:
            self.waiters = []

    async def _idle_rollback(self) -> None:
        session = self.console.session
        count = session.tx_statements
        try:
            await session.rollback()
        except DB_ERRORS as error:
            self.console.say(
                "The idle transaction could not be rolled back: " + describe_error(error), True
            )
            return
        self.waiters = []
        self.console.notify(
            f"The console's transaction sat idle too long and was rolled back ({count} "
            "statements) before the server's idle_in_transaction_session_timeout.",
            severity="warning",
            timeout=30,
        )

    async def _poll_waiters(self) -> None:
        """Who waits on the console's locks (through the pool, never the console's connection)."""
        try:
            self.waiters = await self.console.session.waiters()
        except DB_ERRORS:
            self.waiters = []
