"""Running what the user typed in the console: statements one at a time, or one statement's
plan, each remembered in the history.

`StatementRunner` belongs to the console screen and runs in the screen's workers (group
`console-run`: the screen's `worker_failed` speaks for a run that fails with a bug). F5 and
F6 run statements in order and stop at the first failure; F7 and F8 explain one statement,
F8 after a question when it may write (EXPLAIN ANALYZE runs it, then rolls it back). Only one
thing runs at a time: the session has one connection.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any, Protocol

from textual.app import App
from textual.worker import Worker, WorkerState

from pgconsole.db.connection.errors import DB_ERRORS
from pgconsole.db.console.connection import ConsoleRefused, Result, SessionLost
from pgconsole.db.console.explain import explained
from pgconsole.db.console.history import Entry, History, HistoryError
from pgconsole.db.sqltext import Statement, may_write
from pgconsole.screens.completion_source import CompletionSource
from pgconsole.screens.console_watch import ConsoleHost
from pgconsole.screens.paging import GridPaging
from pgconsole.widgets.results_list import (
    ResultsList,
    Shown,
    error_text,
    first_line,
    milliseconds,
    notices_text,
    result_line,
)
from pgconsole.widgets.sql_editor import SqlEditor


class RunHost(ConsoleHost, Protocol):
    """What the runner needs of the console screen besides (`ConsoleScreen` has it)."""

    history: History
    target: str
    """`user@host:port/db`, kept with each history entry."""
    completion: CompletionSource
    paging: GridPaging

    @property
    def app(self) -> App[Any]: ...

    @property
    def editor(self) -> SqlEditor: ...

    @property
    def results(self) -> ResultsList: ...

    def show_status(self) -> None: ...

    def show_result(self, result: Result) -> None: ...

    def clear_result(self) -> None: ...


class StatementRunner:
    """Runs the user's statements, or a statement's plan, on the console's session."""

    def __init__(self, host: RunHost) -> None:
        self.host = host
        self.running: Worker[None] | None = None
        """The last run or EXPLAIN started, finished or not."""
        self.since: float | None = None
        """When the statement on the server now started (`time.monotonic()`); None if none."""
        self._history_failed = False

    def busy(self) -> bool:
        """Whether a run or an EXPLAIN is on its way; if so the user is told."""
        if self.running is not None and self.running.state is WorkerState.RUNNING:
            self.host.notify("A statement is running: ctrl+c cancels it.", severity="warning")
            return True
        return False

    def run(self, statements: list[Statement], nothing: str) -> None:
        """Run `statements` in order, unless busy; with none, say `nothing`."""
        if self.busy():
            return
        if not statements:
            self.host.say(nothing)
            return
        self.running = self._in_worker(self._run(statements), "run_statements")

    def explain(self, statements: list[Statement], *, analyze: bool) -> None:
        """The plan of the one statement in `statements`, as a tree (ANALYZE: it runs, rolled
        back, after a question when it may write).

        A statement that is an EXPLAIN already (one recalled from the history) is explained
        as the key asks, its own EXPLAIN and options left out: F7 never runs it, and F8 asks
        first whatever the user's EXPLAIN said.
        """
        if self.busy():
            return
        if len(statements) != 1:
            self.host.say("EXPLAIN takes one statement: put the cursor in it (or select only it).")
            return
        statement = explained(statements[0])
        if analyze and may_write(statement):
            from pgconsole.screens.confirm import ConfirmScreen

            def answered(yes: bool | None) -> None:
                if yes:
                    self.running = self._in_worker(self._explain(statement, True), "explain")

            self.host.app.push_screen(
                ConfirmScreen(
                    "EXPLAIN ANALYZE runs this statement. It may change data: it runs inside a "
                    "transaction (or savepoint) that is rolled back. Go on?"
                ),
                answered,
            )
            return
        self.running = self._in_worker(self._explain(statement, analyze), "explain")

    def _in_worker(self, work: Coroutine[Any, Any, None], name: str) -> Worker[None]:
        return self.host.run_worker(
            work, name=name, group="console-run", exclusive=True, exit_on_error=False
        )

    async def _run(self, statements: list[Statement]) -> None:
        """Run `statements` in order; show each result; stop at the first failure."""
        host, session = self.host, self.host.session
        why = session.refusal(statements)
        if why is not None:
            mode = " (read-only mode)" if session.read_only else ""
            host.say(f"Refused{mode}, nothing was run: " + why, True)
            return
        host.results.shown = ()
        host.clear_result()
        for number, statement in enumerate(statements, 1):
            self._start(statement, number, len(statements))
            started = time.perf_counter()
            try:
                result = await session.run(statement)
            except ConsoleRefused as error:
                self._failed(statement, refused_text(error), started)
                break
            except DB_ERRORS as error:
                self._failed(statement, error_text(error, session), started)
                host.editor.point_at(statement, getattr(error, "position", None))
                break
            finally:
                self._stop()
            self._remember(statement, True, result.elapsed_ms)
            host.results.shown = (*host.results.shown, Shown(statement, result, None))
            host.show_result(result)
            host.completion.ran(statement)
        shown = host.results.shown
        if len(shown) > 1 and all(s.error is None for s in shown) and shown[-1].result:
            host.say(f"{len(shown)} statements ran. " + result_line(shown[-1].result))
        host.show_status()

    async def _explain(self, statement: Statement, analyze: bool) -> None:
        """Ask for the plan; show it as a tree."""
        from pgconsole.screens.explain import ExplainScreen  # loaded when first used

        host = self.host
        self._start(statement, 1, 1)
        started = time.perf_counter()
        try:
            plan = await host.session.explain(statement, analyze=analyze)
        except ConsoleRefused as error:
            host.say(refused_text(error), True)
            return
        except DB_ERRORS as error:
            host.say(error_text(error, host.session), True)
            host.editor.point_at(statement, getattr(error, "position", None))
            return
        finally:
            self._stop()
            host.show_status()
        word = "EXPLAIN ANALYZE" if analyze else "EXPLAIN"
        self._remember(Statement(f"{word} {statement.text}", 0, 0), True, _elapsed(started))
        host.say(f"{word} · {milliseconds(_elapsed(started))}")
        host.app.push_screen(ExplainScreen(plan, statement.text))

    def _start(self, statement: Statement, number: int, count: int) -> None:
        self.since = time.monotonic()
        of = f" ({number} of {count})" if count > 1 else ""
        self.host.say(f"Running{of}: {first_line(statement.text)} … ctrl+c cancels")
        self.host.show_status()

    def _stop(self) -> None:
        self.since = None
        self.host.paging.arm_idle_close()

    def _failed(self, statement: Statement, text: str, started: float) -> None:
        text += notices_text(self.host.session.notices)
        self._remember(statement, False, _elapsed(started))
        self.host.results.shown = (*self.host.results.shown, Shown(statement, None, text))
        self.host.say(text, True)

    def _remember(self, statement: Statement, ok: bool, elapsed_ms: float) -> None:
        entry = Entry(datetime.now(UTC), self.host.target, statement.text, ok, elapsed_ms)
        # Queued now, in run order; written on the history's own thread, never on the loop.
        saved = self.host.history.append(entry)
        self.host.run_worker(
            self._saved(saved), name="save_history", group="console-history", exit_on_error=False
        )

    async def _saved(self, saved: asyncio.Future[None]) -> None:
        """Wait for an entry's write; say once that the history is not saved."""
        try:
            # Shielded: a worker cancelled as the app quits leaves the write queued.
            await asyncio.shield(saved)
        except HistoryError as error:
            if not self._history_failed:
                self._history_failed = True
                self.host.notify(f"History is not saved: {error}", severity="warning", markup=False)


def _elapsed(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def refused_text(error: ConsoleRefused) -> str:
    """What the console says about a statement it did not run."""
    return str(error) if isinstance(error, SessionLost) else f"Refused: {error}"
