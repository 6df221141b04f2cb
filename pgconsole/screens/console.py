"""The SQL console: an editor, the results of what it ran, and the session's transaction.

F5 runs the statement under the cursor (or the selection), F6 every statement in the editor,
one at a time, stopping at the first failure. A query's rows stream into the browser's grid
through a cursor (`pgconsole.db.console.connection`); every other statement reports its command tag.
The status line shows the statement timeout and, while the user's transaction is open, its
age, its statements, the idle countdown and the sessions waiting on its locks.

The screen composes the widgets and routes keys and messages; its helpers each hold one part:
`StatementRunner` runs statements and plans (`console_run`), `TransactionWatch` keeps the
transaction in sight (`console_watch`), `CompletionSource` keeps completion's catalog, and
`GridPaging` pages the grid and closes an idle cursor (`paging`).
"""

from __future__ import annotations

import contextlib
import time
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
from pgconsole.db.console.connection import VALUE_LIMIT, ConsoleConnection, Result
from pgconsole.db.console.history import History, default_history_path
from pgconsole.db.sqltext import split_statements
from pgconsole.failed_workers import ReportsFailedWorkers
from pgconsole.messages import Place, PlaceRequested
from pgconsole.paths import STYLES
from pgconsole.screens.completion_source import CompletionSource
from pgconsole.screens.console_run import StatementRunner
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
    first_line,
    notices_text,
    result_line,
)
from pgconsole.widgets.sql_editor import SqlEditor

if TYPE_CHECKING:
    from pgconsole.db.browse.pages import Pages


class ConsoleScreen(ReportsFailedWorkers, Screen[None]):
    """Type SQL, run it, page its rows, explain it; the transaction always in sight."""

    PLACE: ClassVar[Place] = "console"
    """Which place this screen is (`pgconsole.places.place_of`)."""

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

    editor = getters.query_one("#console-editor", SqlEditor)
    message = getters.query_one("#console-message", MessageLine)
    results = getters.query_one("#console-results", ResultsList)
    grid = getters.query_one("#console-grid", DataGrid)
    status_line = getters.query_one("#console-status", ConsoleStatus)

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
        self.pending_text = ""
        """Text for the editor, given before the screen was mounted (`put_in_editor`)."""
        self.arriving = False
        """Shown as a place (`arrive`) rather than back from a modal: the editor takes the keys."""
        self.database = database
        self.target = target
        self.session = ConsoleConnection(database, read_only=read_only, idle_seconds=idle_seconds)
        self.history = History(default_history_path())
        self.completion = CompletionSource(self, database)
        self.current: Result | None = None
        self.runner = StatementRunner(self)
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

    @property
    def shown(self) -> tuple[Shown, ...]:
        """The statements of the last run, each with its result or its error."""
        return self.results.shown

    def on_mount(self) -> None:
        # The limit in effect: the server's or role's when stricter than pgconsole's.
        self.idle_in_transaction = self.database.info.idle_in_transaction_seconds
        self._show_grid(False)
        self.editor.completer = self.completion.complete
        self.editor.focus()
        self.say("F5 runs the statement under the cursor, F6 all of them. F4 goes back.")
        self.set_interval(1.0, self.tick)
        self.connect()
        if self.pending_text:
            self.editor.text, self.pending_text = self.pending_text, ""

    def put_in_editor(self, text: str) -> None:
        """`text` in the editor in place of what was there (not run): now, or once the
        screen is mounted (the console is made the first time it is shown)."""
        if not self.is_mounted:
            self.pending_text = text
            return
        self.pending_text = ""
        self.editor.text = text
        self.editor.focus()

    async def on_unmount(self) -> None:
        await self.session.close()

    def arrive(self) -> None:
        """About to be shown as a place (F4, or another screen's way here): the editor takes
        the keys, whatever had them when the console was left, since what is typed on arrival
        is SQL (left on the result grid, `e` would open the export, `g` move its cursor). Back
        from a modal (an export, a value shown whole) the focus stays where it was."""
        self.arriving = True

    def on_screen_resume(self) -> None:
        if self.arriving:
            self.arriving = False
            self.editor.focus()
        # Back from the browser (F4) or a modal: the schema may have changed meanwhile, by
        # another session too. Completion reads the catalog again (four queries, in the
        # background) when its copy is older than `completion_source.FRESH_SECONDS`. The first
        # resume comes with the mount, which reads it anyway.
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
        self.message.show(text if error else "", "" if error else text, "")

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

    @property
    def running(self) -> Worker[None] | None:
        """The last run or EXPLAIN started, finished or not."""
        return self.runner.running

    @property
    def running_since(self) -> float | None:
        """When the statement on the server now started; None when none runs."""
        return self.runner.since

    def action_run(self) -> None:
        """Run the statement under the cursor, or the selected statements."""
        nothing = "Nothing to run: type a statement (F5 runs the one under the cursor)."
        after_typed_keys(self, lambda: self.runner.run(self.editor.statements_here(), nothing))

    def action_run_all(self) -> None:
        """Run every statement in the editor, one at a time, stopping at the first failure."""
        nothing = "Nothing to run: the editor holds no statement."
        after_typed_keys(self, lambda: self.runner.run(split_statements(self.editor.text), nothing))

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
            self.show_no_result()
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

    def clear_result(self) -> None:
        """A new run: the last run's rows go (under the new statement's error they would pass
        for its own), but the grid keeps its lines until the run shows what it got. After a
        statement with rows, the next one then lays nothing out: hiding the grid and showing
        it again had Textual lay out the screen and draw the editor anew, twice a statement."""
        self.current = None
        self.grid.set_columns(())

    def show_no_result(self) -> None:
        """Neither rows nor a tag: the grid is hidden (an error chosen in the results list)."""
        self.current = None
        self._show_grid(False)

    def _show_grid(self, shown: bool) -> None:
        """Show or hide the result grid. Without rows to show (an error, a statement that
        returns none) the editor takes the grid's lines: nothing else would, and they were left
        empty under the status line.

        Set on the two widgets, not by a class on the screen: a class there makes Textual match
        the stylesheet again against every widget of the screen, twice a statement (hidden when
        it starts, shown with its rows), which cost more than the statement's round trips.
        """
        if self.grid.display == shown:
            return
        self.grid.display = shown
        self.editor.styles.height = None if shown else "1fr"  # None: console.tcss's 40%

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
        explain = self.runner.explain
        after_typed_keys(self, lambda: explain(self.editor.statements_here(), analyze=False))

    def action_explain_analyze(self) -> None:
        """Run the statement under the cursor with EXPLAIN ANALYZE (rolled back), as a tree."""
        explain = self.runner.explain
        after_typed_keys(self, lambda: explain(self.editor.statements_here(), analyze=True))
