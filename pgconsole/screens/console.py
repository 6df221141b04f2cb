"""The SQL console: an editor, the results of what it ran, and the session's transaction.

F5 runs the statement under the cursor (or the selection), F6 every statement in the editor,
one at a time, stopping at the first failure. A query's rows stream into the browser's grid
through a cursor (`pgconsole.db.console.session`); every other statement reports its command tag.
The status line shows the statement timeout and, while the user's transaction is open, its
age, its statements, the idle countdown and the sessions waiting on its locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from textual import getters, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import OptionList
from textual.worker import Worker, WorkerState

from pgconsole.db.browse.export import query_source
from pgconsole.db.connection.errors import DB_ERRORS
from pgconsole.db.connection.failures import describe_error
from pgconsole.db.connection.pool import Database
from pgconsole.db.console.history import Entry, History, HistoryError, default_history_path
from pgconsole.db.console.session import VALUE_LIMIT, ConsoleRefused, ConsoleSession, Result
from pgconsole.db.sqltext import Statement, may_write, split_statements
from pgconsole.failed_workers import ReportsFailedWorkers
from pgconsole.messages import PlaceRequested
from pgconsole.paths import STYLES
from pgconsole.screens.completion_source import CompletionSource
from pgconsole.screens.console_watch import TransactionWatch
from pgconsole.screens.paging import GridPaging
from pgconsole.widgets.console_status import ConsoleStatus, transaction_text
from pgconsole.widgets.grid import DataGrid
from pgconsole.widgets.key_bar import KeyBar
from pgconsole.widgets.message_line import MessageLine
from pgconsole.widgets.ordered_keys import after_typed_keys
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

if TYPE_CHECKING:
    from pgconsole.db.browse.pages import Pages


class ConsoleScreen(ReportsFailedWorkers, Screen[None]):
    """Type SQL, run it, page its rows, explain it; the transaction always in sight."""

    CSS_PATH = STYLES / "console.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        # Priority: the text area takes F6 (select line) and F7 (select all) for itself.
        Binding("f5", "run", "Run", priority=True),
        Binding("f6", "run_all", "Run all", priority=True),
        Binding("f7", "explain", "Explain", priority=True),
        Binding("f8,shift+f7", "explain_analyze", "Analyze", priority=True),
        Binding("ctrl+c", "cancel", "Cancel", priority=True),
        Binding("f9,ctrl+r", "history", "History", priority=True),
        Binding("e", "export", "Export"),
        Binding("escape", "to_editor", "Editor / back", show=False),
        Binding("f4", "close", "Browser"),
    ]
    KEY_BAR_ORDER: ClassVar[tuple[str, ...]] = (
        "run",
        "run_all",
        "cancel",
        "explain",
        "explain_analyze",
        "history",
        "close",
        "export",
    )
    """The key bar's order at 80 columns: F5 first."""

    def __init__(
        self, database: Database, *, read_only: bool, target: str, idle_seconds: float = 5.0
    ) -> None:
        """Args:
        database: The app's pool: the console opens a connection of its own beside it.
        read_only: Every statement runs READ ONLY; escapes are refused.
        target: `user@host:port/db`, kept with each history entry.
        idle_seconds: How long a result's cursor may idle before its transaction ends
            (`cursor_idle_seconds`).
        """
        super().__init__()
        self.database = database
        self.target = target
        self.session = ConsoleSession(database, read_only=read_only, idle_seconds=idle_seconds)
        self.history = History(default_history_path())
        self._history_failed = False
        self.completion = CompletionSource(self, database)
        self.current: Result | None = None
        self.running: Worker[None] | None = None
        self.running_since: float | None = None
        self.tx_watch = TransactionWatch(self)
        self.paging = GridPaging(
            self,
            lambda: self.grid,
            lambda: None if self.current is None else self.current.pager,
            # The session holds one cursor transaction, whichever result's: closed when idle
            # also when another result (or an error) is shown.
            cursor=lambda: self.session,
            group="console-fetch",
            paged=self._paged,
            failed=lambda error: self.say(describe_error(error), True),
            idle_closed=self.show_status,
        )
        self.idle_in_transaction: float | None = None
        """The session's idle_in_transaction_session_timeout in seconds, None for none."""

    def compose(self) -> ComposeResult:
        yield SqlEditor(id="console-editor")
        yield MessageLine(note_style="", id="console-message")
        yield ResultsList(id="console-results")
        yield DataGrid(id="console-grid")
        yield ConsoleStatus(id="console-status")
        yield KeyBar()

    status_line = getters.query_one("#console-status", ConsoleStatus)
    results = getters.query_one("#console-results", ResultsList)

    @property
    def shown(self) -> tuple[Shown, ...]:
        """The statements of the last run, each with its result or its error."""
        return self.results.shown

    @property
    def editor(self) -> SqlEditor:
        """The SQL editor."""
        return self.query_one(SqlEditor)

    @property
    def grid(self) -> DataGrid:
        """The result grid."""
        return self.query_one("#console-grid", DataGrid)

    def on_mount(self) -> None:
        # The limit in effect: the server's or role's when stricter than pgconsole's.
        self.idle_in_transaction = self.database.info.idle_in_transaction_seconds
        self._show_grid(False)
        self.editor.completer = self.completion.complete
        self.editor.focus()
        self.say("F5 runs the statement under the cursor, F6 all of them. F4 goes back.")
        self.set_interval(1.0, self.tick)
        self.connect()

    async def on_unmount(self) -> None:
        await self.session.close()

    def on_screen_resume(self) -> None:
        # Back from the browser (F4) or a modal: the schema may have changed meanwhile, by
        # another session too. Completion reads the catalog again (four queries, in the
        # background) when its copy is older than FRESH_SECONDS. The first resume
        # comes with the mount, which reads it anyway.
        self.completion.refresh_if_stale()

    # -- connection and catalog ----------------------------------------------------------------

    @work(exclusive=True, group="console-connect", exit_on_error=False)
    async def connect(self) -> None:
        """Open the console's connection, then read the completion catalog."""
        try:
            await self.session.open()
        except DB_ERRORS as error:
            self.say("Could not open the console's connection: " + describe_error(error), True)
            return
        self.show_status()
        await self.completion.load()

    # -- messages and status -------------------------------------------------------------------

    def worker_failed(self, worker: Worker[object]) -> None:
        """A run or a fetch that failed with a bug: the grid stops waiting, the line says so."""
        if worker.group == "console-fetch":
            self.grid.fetch_failed()
        elif worker.group == "console-run":
            self.say("The statement stopped on an unexpected error (see the notice).", True)

    def say(self, text: str, error: bool = False) -> None:
        """A line (or a few) between the editor and the results; database text literal."""
        self.query_one(MessageLine).show(text if error else "", "" if error else text, "")

    def show_status(self) -> None:
        """Timeout, mode, a statement running, and the user's transaction with its waiters."""
        with contextlib.suppress(NoMatches):
            self.status_line.state = self.tx_watch.state(time.monotonic())

    def transaction_text(self) -> str | None:
        """`TX open 01:42 · 3 statements · …` (kept in sight from the browser), or None."""
        tx = self.tx_watch.transaction(time.monotonic())
        return None if tx is None else transaction_text(tx)

    async def tick(self) -> None:
        """Every second: the idle rollback when due, the waiters, and the status line."""
        with contextlib.suppress(NoMatches):  # a tick while the app exits and empties the DOM
            await self.tx_watch.tick(time.monotonic())
            self.show_status()

    # -- running -------------------------------------------------------------------------------

    def _busy(self) -> bool:
        if self.running is not None and self.running.state is WorkerState.RUNNING:
            self.notify("A statement is running: ctrl+c cancels it.", severity="warning")
            return True
        return False

    def action_run(self) -> None:
        """Run the statement under the cursor, or the selected statements."""
        after_typed_keys(self, self._run_here)

    def action_run_all(self) -> None:
        """Run every statement in the editor, one at a time, stopping at the first failure."""
        after_typed_keys(self, self._run_all)

    def _run_here(self) -> None:
        if self._busy():
            return
        statements = self.editor.statements_here()
        if not statements:
            self.say("Nothing to run: type a statement (F5 runs the one under the cursor).")
            return
        self.running = self.run_statements(statements)

    def _run_all(self) -> None:
        if self._busy():
            return
        statements = split_statements(self.editor.text)
        if not statements:
            self.say("Nothing to run: the editor holds no statement.")
            return
        self.running = self.run_statements(statements)

    @work(exclusive=True, group="console-run", exit_on_error=False)
    async def run_statements(self, statements: list[Statement]) -> None:
        """Run `statements` in order; show each result; stop at the first failure."""
        why = self.session.refusal(statements)
        if why is not None:
            mode = " (read-only mode)" if self.session.read_only else ""
            self.say(f"Refused{mode}, nothing was run: " + why, True)
            return
        self.results.shown = ()
        # The last run's rows go: under a new statement's error they would pass for its own.
        self.current = None
        self._show_grid(False)
        for number, statement in enumerate(statements, 1):
            self._start_running(statement, number, len(statements))
            started = time.perf_counter()
            try:
                result = await self.session.run(statement)
            except ConsoleRefused as error:
                self._failed(statement, f"Refused: {error}", started)
                break
            except DB_ERRORS as error:
                self._failed(statement, error_text(error, self.session), started)
                self.editor.point_at(statement, getattr(error, "position", None))
                break
            finally:
                self._stop_running()
            self._remember(statement, True, result.elapsed_ms)
            self.results.shown = (*self.shown, Shown(statement, result, None))
            self.show_result(result)
            self.completion.ran(statement)
        shown = self.shown
        if len(shown) > 1 and all(s.error is None for s in shown) and shown[-1].result:
            self.say(f"{len(shown)} statements ran. " + result_line(shown[-1].result))
        self.show_status()

    def _start_running(self, statement: Statement, number: int, count: int) -> None:
        self.running_since = time.monotonic()
        of = f" ({number} of {count})" if count > 1 else ""
        self.say(f"Running{of}: {first_line(statement.text)} … ctrl+c cancels")
        self.show_status()

    def _stop_running(self) -> None:
        self.running_since = None
        self.paging.arm_idle_close()

    def _failed(self, statement: Statement, text: str, started: float) -> None:
        text += notices_text(self.session.notices)
        elapsed = (time.perf_counter() - started) * 1000
        self._remember(statement, False, elapsed)
        self.results.shown = (*self.shown, Shown(statement, None, text))
        self.say(text, True)

    def _remember(self, statement: Statement, ok: bool, elapsed_ms: float) -> None:
        entry = Entry(datetime.now(UTC), self.target, statement.text, ok, elapsed_ms)
        # Queued now, in run order; written on the history's own thread, never on the loop.
        self.save_history(self.history.append(entry))

    @work(group="console-history", exit_on_error=False)
    async def save_history(self, saved: asyncio.Future[None]) -> None:
        """Wait for an entry's write; say once that the history is not saved."""
        try:
            # Shielded: a worker cancelled as the app quits leaves the write queued.
            await asyncio.shield(saved)
        except HistoryError as error:
            if not self._history_failed:
                self._history_failed = True
                self.notify(f"History is not saved: {error}", severity="warning", markup=False)

    # -- results -------------------------------------------------------------------------------

    @on(OptionList.OptionSelected, "#console-results")
    @on(OptionList.OptionHighlighted, "#console-results")
    def result_chosen(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index >= len(self.shown):
            return
        shown = self.shown[event.option_index]
        if shown.result is not None and shown.result is not self.current:
            self.show_result(shown.result)
        elif shown.error is not None:
            self.current = None
            self._show_grid(False)
            self.say(shown.error, True)

    def show_result(self, result: Result) -> None:
        """Put a result in the grid (rows) or the message line (a tag)."""
        self.current = result
        grid = self.grid
        if result.columns and result.page is not None:
            self._show_grid(True)
            grid.set_columns(result.columns)
            grid.show_page(result.page)
        else:
            self._show_grid(False)
        self.say(result_line(result) + notices_text(result.notices))

    def _show_grid(self, shown: bool) -> None:
        """Show or hide the result grid. Without rows to show (an error, a statement that
        returns none) the editor takes the grid's lines (`-no-grid` in console.tcss): nothing
        else would, and they were left empty under the status line."""
        self.grid.display = shown
        self.set_class(not shown, "-no-grid")

    @on(DataGrid.RowsWanted, "#console-grid")
    def rows_wanted(self, event: DataGrid.RowsWanted) -> None:
        event.stop()
        if self.running is not None and self.running.state is WorkerState.RUNNING:
            event.grid.pending = None  # the statement has the connection
            return
        self.paging.fetch(event.want, event.row)

    def _paged(self, pages: Pages) -> None:
        """A page of a result reached the grid: its line and its row count."""
        result = self.current
        if result is not None and result.pager is pages:
            self.say(result_line(result) + self._position_text())
        self.results.relabel(pages)

    def _position_text(self) -> str:
        row = self.grid.current_row
        if row is None or row.ordinal is None:
            return ""
        return f" · row {row.ordinal + 1:,} · {len(self.grid.rows)} in memory"

    @on(DataGrid.CellOpened, "#console-grid")
    def cell_opened(self, event: DataGrid.CellOpened) -> None:
        from pgconsole.screens.value import ValueScreen  # loaded when first used

        event.stop()
        index = event.grid.columns.index(event.column)
        value = event.row.cells[index]
        if value is not None and len(value) > VALUE_LIMIT:
            value = value[:VALUE_LIMIT]
            self.notify(
                f"Console results keep the first {VALUE_LIMIT:,} characters of each value: "
                "select substr() of it to read further.",
                severity="warning",
            )
        self.app.push_screen(ValueScreen(event.column.name, event.column.type, value))

    # -- other keys ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.running_since is not None
        if action == "export":
            focused = self.focused is self.grid if self.is_mounted else False
            has_rows = self.current is not None and self.current.pager is not None
            return True if focused and has_rows else None
        return True

    async def action_cancel(self) -> None:
        """Cancel the running statement on the server; the connection stays usable."""
        try:
            signalled = await self.session.cancel()
        except DB_ERRORS as error:
            self.say("Could not cancel: " + describe_error(error), True)
            return
        if signalled and self.running_since is not None:
            self.say("Cancelling…")

    def action_to_editor(self) -> None:
        """Esc: back to the editor; from the editor, one step back to the place before."""
        if self.editor.has_focus:
            self.post_message(PlaceRequested("back"))
        else:
            self.editor.focus()

    def action_close(self) -> None:
        """F4 again: the browser (the console keeps its text, results and session)."""
        self.post_message(PlaceRequested("browser"))

    def action_history(self) -> None:
        """Search the statements run before; Enter puts one in the editor."""
        from pgconsole.screens.history import HistoryScreen  # loaded when first used

        def recall(sql: str | None) -> None:
            if sql:
                self.editor.text = sql
                self.editor.focus()

        self.app.push_screen(HistoryScreen(self.history, self.target), recall)

    def action_export(self) -> None:
        """Export the current query's rows (the statement runs again, READ ONLY)."""
        from pgconsole.screens.export import ExportScreen  # loaded when first used

        result = self.current
        if result is None or result.pager is None:
            self.say("Run a query first: its rows can be exported.")
            return
        source = query_source(result.statement.text, first_line(result.statement.text, 40))
        # On the console's own session: the query means what it meant when it ran (its
        # search_path, temporary tables, the open transaction's changes).
        self.app.push_screen(
            ExportScreen(self.session, source, None, file_stem="result", cancel=self.session.cancel)
        )

    def action_explain(self) -> None:
        """The plan of the statement under the cursor, as a tree."""
        after_typed_keys(self, lambda: self._explain(analyze=False))

    def action_explain_analyze(self) -> None:
        """Run the statement under the cursor with EXPLAIN ANALYZE (rolled back), as a tree."""
        after_typed_keys(self, lambda: self._explain(analyze=True))

    def _explain(self, *, analyze: bool) -> None:
        if self._busy():
            return
        statements = self.editor.statements_here()
        if len(statements) != 1:
            self.say("EXPLAIN takes one statement: put the cursor in it (or select only it).")
            return
        statement = statements[0]
        if analyze and may_write(statement):
            from pgconsole.screens.confirm import ConfirmScreen

            def answered(yes: bool | None) -> None:
                if yes:
                    self.running = self.explain(statement, analyze=True)

            self.app.push_screen(
                ConfirmScreen(
                    "EXPLAIN ANALYZE runs this statement. It may change data: it runs inside a "
                    "transaction (or savepoint) that is rolled back. Go on?"
                ),
                answered,
            )
            return
        self.running = self.explain(statement, analyze=analyze)

    @work(exclusive=True, group="console-run", exit_on_error=False)
    async def explain(self, statement: Statement, *, analyze: bool) -> None:
        """Ask for the plan; show it as a tree."""
        from pgconsole.screens.explain import ExplainScreen  # loaded when first used

        self._start_running(statement, 1, 1)
        started = time.perf_counter()
        try:
            plan = await self.session.explain(statement, analyze=analyze)
        except ConsoleRefused as error:
            self.say(f"Refused: {error}", True)
            return
        except DB_ERRORS as error:
            self.say(error_text(error, self.session), True)
            self.editor.point_at(statement, getattr(error, "position", None))
            return
        finally:
            self._stop_running()
            self.show_status()
        word = "EXPLAIN ANALYZE" if analyze else "EXPLAIN"
        self._remember(Statement(f"{word} {statement.text}", 0, 0), True, _elapsed(started))
        self.say(f"{word} · {milliseconds(_elapsed(started))}")
        self.app.push_screen(ExplainScreen(plan, statement.text))


def _elapsed(started: float) -> float:
    return (time.perf_counter() - started) * 1000
