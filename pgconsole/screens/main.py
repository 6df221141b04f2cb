"""The main screen: the schema tree on the left, the data grid (or the session) on the right."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar

from rich.text import Text
from textual import events, getters, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import ContentSwitcher
from textual.worker import Worker

from pgconsole.db.browse.catalog import (
    Catalog,
    RelationDetail,
    describe_relation,
    load_catalog,
)
from pgconsole.db.browse.pages import BrowseSpec, Column, Pager, Row
from pgconsole.db.connection.errors import DB_ERRORS
from pgconsole.db.connection.failures import describe_error
from pgconsole.db.connection.params import PoolSettings
from pgconsole.db.connection.pool import Database, PoolStats, ServerInfo
from pgconsole.db.opening import Opening, find_relation
from pgconsole.db.type_names import display_type
from pgconsole.failed_workers import ReportsFailedWorkers
from pgconsole.messages import PlaceRequested, QuitRequested
from pgconsole.paths import STYLES
from pgconsole.screens.browse_filters import BrowseFilters
from pgconsole.screens.editing import EditController
from pgconsole.screens.exact_count import count_exactly
from pgconsole.screens.paging import GridPaging
from pgconsole.screens.relation import RelationScreen
from pgconsole.screens.relation_reader import RelationReader
from pgconsole.screens.value import ValueScreen
from pgconsole.text import visible
from pgconsole.widgets.browser_message import BrowserMessage, ends_message
from pgconsole.widgets.grid import DataGrid
from pgconsole.widgets.key_bar import KeyBar
from pgconsole.widgets.overview import SessionOverview
from pgconsole.widgets.relation_title import RelationTitle
from pgconsole.widgets.schema_tree import SchemaTree
from pgconsole.widgets.status_bar import StatusBar
from pgconsole.widgets.tree_pane import TreePane


def _no_transaction() -> str | None:
    return None


class MainScreen(ReportsFailedWorkers, Screen[None]):
    """Browse: pick a relation in the tree, page through it in the grid."""

    CSS_PATH = STYLES / "main.tcss"
    AUTO_FOCUS = "#tree"  # not the find box: typed keys there would swallow ? and q
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter_tree", "Find table"),
        Binding("R", "refresh_catalog", "Refresh tree"),
        Binding("S", "toggle_system", "System schemas"),
        Binding("s", "sort", "Sort"),
        Binding("w", "where", "Filter"),
        Binding("equals_sign", "quick_filter", "= this value"),
        Binding("x", "clear_filters", "Clear filters"),
        Binding("i", "details", "Details"),
        Binding("c", "count", "Exact count"),
        Binding("e", "export", "Export"),
        Binding("escape", "stop_count", "Stop count", show=False),
        Binding("ctrl+o", "overview", "Session"),
        Binding("f2,u", "edit_cell", "Edit"),
        Binding("a", "insert_row", "Add row"),
        Binding("D,delete", "delete_row", "Delete row"),
        Binding("ctrl+s", "commit", "Commit"),
        Binding("ctrl+r", "rollback", "Roll back"),
        Binding("L", "sql_log", "SQL log"),
        Binding("A", "reapply", "Apply again", show=False),
        Binding("W", "who", "Sessions on this table"),
        Binding("tab,shift+tab", "switch_pane", "Tree / grid", show=False),
        Binding("[", "tree_width(-4)", "Narrower tree", show=False),
        Binding("]", "tree_width(4)", "Wider tree", show=False),
        Binding("\\", "toggle_tree", "Hide / show tree", show=False),
    ]
    KEY_BAR_ORDER: ClassVar[tuple[str, ...]] = (
        "edit_cell", "where", "sort", "activity", "console", "commit", "rollback", "export",
        "insert_row", "delete_row", "details", "count", "filter_tree",
    )  # fmt: skip
    """The key bar's order at 80 columns: what a DBA reaches for first."""

    grid = getters.query_one(DataGrid)
    """The data grid."""
    tree_pane = getters.query_one(TreePane)
    """The schema tree and its find box."""
    title_line = getters.query_one(RelationTitle)
    """The line over the grid: the relation open, or the session's state."""
    message = getters.query_one(BrowserMessage)
    """The line under the grid."""
    switcher = getters.query_one(ContentSwitcher)
    """The session overview or the grid."""
    status_bar = getters.query_one(StatusBar)
    """The server, the pool and the edit transaction."""
    overview = getters.query_one(SessionOverview)
    """What the session is connected to, and its limits."""

    def __init__(
        self,
        *,
        table: str | None = None,
        idle_seconds: float = 5.0,
        console_transaction: Callable[[], str | None] | None = None,
    ) -> None:
        """Args:
        table: A relation to open once connected (`schema.name`, quoted parts allowed).
        idle_seconds: How long a page's cursor may idle before it is closed.
        console_transaction: The SQL console's open transaction in words (None: none), kept
            in sight from the browser.
        """
        super().__init__()
        self.database: Database | None = None
        self.catalog: Catalog | None = None
        self.include_system = False
        self.detail: RelationDetail | None = None
        self.spec: BrowseSpec | None = None
        self.pager: Pager | None = None
        self.idle_seconds = idle_seconds
        self.initial_table = table
        self.console_transaction = console_transaction or _no_transaction
        self._start_failed = False
        """`--table` could not be opened: the message line keeps saying why."""
        self.editor = EditController(self)
        self.filters = BrowseFilters(self)
        self.reader = RelationReader(self)
        self.paging = GridPaging(
            self,
            lambda: self.grid,
            lambda: self.pager,
            paged=lambda _pages: self.reader.show_position(),
            failed=lambda error: self.say(describe_error(error), error=True),
            idle_closed=lambda: self.reader.show_position(" · cursor closed while idle"),
        )

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            yield TreePane(id="left")
            with Vertical(id="right"):
                yield RelationTitle(Text("connecting…"), id="relation-title")
                with ContentSwitcher(initial="overview", id="switcher"):
                    yield SessionOverview(id="overview")
                    yield DataGrid(id="grid")
                yield BrowserMessage(id="message")
        yield StatusBar()
        yield KeyBar()

    def on_mount(self) -> None:
        self.set_interval(1.0, self.tick_transaction)
        self.tree_pane.lay_out()

    async def tick_transaction(self) -> None:
        """The transaction's age and idle countdown (no I/O unless a rollback is due)."""
        with contextlib.suppress(NoMatches):  # a tick while the app exits and empties the DOM
            await self.editor.tick()
            if self.editor.status_text() is None:
                text = self.console_transaction()  # kept in sight from the browser
                self.show_transaction(None if text is None else f"SQL console (F4): {text}")

    # -- connection state (set by the app) --------------------------------------------------

    def show_connecting(self, target: str, read_only: bool) -> None:
        """Show an attempt in progress."""
        self.title_line.heading = Text(f"connecting to {visible(target)}…")
        self.status_bar.show_connecting(target, read_only)

    def show_failed(self, target: str) -> None:
        """Show that the last attempt failed (the error screen says why)."""
        self.title_line.heading = Text(f"not connected to {visible(target)}")
        self.status_bar.show_failed(target)

    def show_connected(
        self, database: Database, pool: PoolSettings, opening: Opening | None = None
    ) -> None:
        """Show the session, the `--table` relation if one was named, then the schema tree.

        The relation's first page may have been read with the pool (`opening.first`).
        """
        reconnected = self.database is not None and self.database is not database
        self.database = database
        self.overview.show(database.info, pool)
        self.status_bar.show_server(database.info)
        self.title_line.heading = Text(visible(database.info.target), style="bold")
        table, self.initial_table = self.initial_table, None
        if reconnected and self.spec is not None and self.detail is not None:
            # The pager (and its cursor) lived on the closed pool: page again on the new one,
            # the cursor kept on its row.
            self.pager = None
            self.restart()
            self.load_tree()
            return
        if table and opening is not None and opening.first is not None:
            first = opening.first
            self.set_relation(first.detail, first.spec)
            self.pager = first.pager
            self.reader.show_title()
            self.paging.arm_idle_close()
            self.reader.show_first(first.page)
        elif table and opening is not None and opening.first_error is not None:
            self._table_failed(table, opening.first_error)
        elif table:
            self.open_named(table, then_tree=True)
            return
        self.load_tree()

    def show_pool(self, stats: PoolStats) -> None:
        """Refresh the pool numbers in the status bar."""
        self.status_bar.show_pool(stats)

    def show_server(self, info: ServerInfo) -> None:
        """Refresh the server facts in the status bar."""
        self.status_bar.show_server(info)

    # -- messages to the user ----------------------------------------------------------------

    def say(self, text: str, *, error: bool = False) -> None:
        """One line (or a few) under the grid; database text shown literally.

        An `error` stays (the alert) until the user acts: a key bound to anything but motion,
        or Esc. Later messages show under it, and the position never replaces it.
        """
        self.message.say(text, error=error)

    def on_key(self, event: events.Key) -> None:
        """A key that starts something (not a cursor move) ends the message shown."""
        if not self.message.has_text:
            return  # nothing to end: no binding lookup on every key of a burst
        bound = None if event.key == "escape" else self.active_bindings.get(event.key)
        if ends_message(event.key, bound.binding.action if bound is not None else None):
            self.message.dismiss()

    def on_resize(self) -> None:
        self.tree_pane.lay_out()

    @on(DataGrid.CursorMoved, "#grid")
    def cursor_moved(self) -> None:
        self.reader.show_position()

    # -- schema tree -------------------------------------------------------------------------

    @work(exclusive=True, group="catalog", exit_on_error=False)
    async def load_tree(self) -> None:
        """Load every schema and relation in one catalog query, then fill the tree.

        With no relation open, the message line then counts them, unless it explains why
        `--table` could not be opened.
        """
        if self.database is None:
            return
        try:
            async with self.database.session(readonly=True) as conn:
                self.catalog = await load_catalog(conn, include_system=self.include_system)
        except DB_ERRORS as error:
            self.say("Could not load the schema tree: " + describe_error(error), error=True)
            return
        self.tree_pane.catalog = self.catalog
        if self.spec is not None and self.detail is not None:
            self.reader.show_title()  # the estimate comes with the catalog
        elif not self._start_failed:
            relations, schemas = len(self.catalog.relations), len(self.catalog.schemas)
            self.say(f"{relations:,} relations in {schemas} schemas")

    def action_filter_tree(self) -> None:
        """Type to narrow the tree."""
        self.tree_pane.open()
        self.tree_pane.find_box.focus()

    def _leave_tree(self) -> None:
        """Back to the grid: a tree over it goes."""
        self.tree_pane.close()
        if self.switcher.current == "grid":
            self.grid.focus()

    def action_tree_width(self, step: int) -> None:
        """Make the tree pane wider or narrower by `step` cells."""
        self.tree_pane.widen(step)

    def action_toggle_tree(self) -> None:
        """Hide the tree, or show it and go to it."""
        if self.spec is not None and self.tree_pane.display:
            self.tree_pane.hide()
            if self.switcher.current == "grid":
                self.grid.focus()
        else:
            self.tree_pane.open()
            self.tree_pane.schema_tree.focus()

    def action_switch_pane(self) -> None:
        """Tab: from the tree to the grid and back (the find box is `/`, not a Tab stop).

        Going to a hidden tree shows it; below 90 columns, leaving it hides it again.
        """
        if self.grid.has_focus or self.switcher.current != "grid":
            self.tree_pane.open()
            self.tree_pane.schema_tree.focus()
        else:
            self._leave_tree()

    def action_refresh_catalog(self) -> None:
        """Reload the schema tree."""
        self.load_tree()

    def action_toggle_system(self) -> None:
        """Show or hide pg_catalog, information_schema and the other system schemas."""
        self.include_system = not self.include_system
        self.load_tree()

    # -- the open relation -------------------------------------------------------------------

    def require_relation(self) -> bool:
        """Whether a relation is open; if not, say how to open one."""
        if self.spec is None or self.detail is None:
            self.say("Open a table first (pick one in the tree).")
            return False
        return True

    def action_details(self) -> None:
        """Columns, indexes, constraints, foreign keys and stats of the open relation."""
        if self.require_relation():
            assert self.detail is not None
            self.app.push_screen(RelationScreen(self.detail))

    def action_export(self) -> None:
        """Write the rows as shown (filter, order) to a CSV or JSON-lines file with COPY."""
        if self.require_relation() and self.database is not None:
            assert self.spec is not None
            estimate = self.reader.estimated_rows()
            from pgconsole.screens.export import ExportScreen  # loaded when first used

            self.app.push_screen(ExportScreen(self.database, self.spec, estimate))

    def action_count(self) -> None:
        """Count the rows exactly, in the background (Esc stops it)."""
        if self.require_relation():
            self.count()

    @work(exclusive=True, group="count", exit_on_error=False)
    async def count(self) -> None:
        """count(*) with the current filters, READ ONLY, under the statement timeout."""
        await count_exactly(self)

    def action_stop_count(self) -> None:
        """Esc: cancel a running count, or a reload after a change of sort or filter (the
        server stops the query; the workers say what was kept); a tree over the grid goes."""
        if self.tree_pane.over_grid:
            self._leave_tree()
        for worker in list(self.workers):
            if worker.group in ("count", "open") and worker.is_running:
                worker.cancel()

    def action_overview(self) -> None:
        """Show the session overview; again, back to the grid of the open relation."""
        if self.switcher.current == "overview" and self.spec is not None:
            self.switcher.current = "grid"
            self.grid.focus()
        else:
            self.switcher.current = "overview"

    def action_who(self) -> None:
        """The activity screen, showing only sessions that mention or wait on this relation."""
        if self.require_relation():
            assert self.detail is not None
            self.post_message(PlaceRequested("activity", relation=self.detail.name))

    def action_sort(self) -> None:
        """Sort by the column under the cursor: ascending, descending, then unsorted."""
        self.filters.sort()

    def action_where(self) -> None:
        """Filter with a WHERE expression (checked, then run READ ONLY)."""
        self.filters.where()

    def action_quick_filter(self) -> None:
        """Keep only rows whose column equals the value under the cursor (a parameter)."""
        self.filters.quick()

    def action_clear_filters(self) -> None:
        """Drop the WHERE expression and the quick filters."""
        self.filters.clear()

    # -- opening a relation ------------------------------------------------------------------

    @on(SchemaTree.RelationChosen)
    def relation_chosen(self, event: SchemaTree.RelationChosen) -> None:
        self.open_relation(event.relation.oid)  # the pane over the grid has closed itself

    @work(exclusive=True, group="open", exit_on_error=False)
    async def open_named(self, text: str, *, then_tree: bool = False) -> None:
        """Open `schema.name` given on the command line (quoted parts keep their case).

        Args:
            text: The name as typed.
            then_tree: Load the schema tree afterwards: the first page the DBA asked for
                comes first, the tree (slow on a database with thousands of tables) next.
        """
        try:
            if self.database is not None:
                try:
                    detail = await find_relation(self.database, text)
                except LookupError as error:
                    self._table_failed(text, str(error))
                else:
                    await self.reader.show(detail)
        finally:
            if then_tree:
                self.load_tree()

    def _table_failed(self, text: str, reason: str) -> None:
        self._start_failed = True
        self.say(f"--table {text}: {reason}", error=True)

    @work(exclusive=True, group="open", exit_on_error=False)
    async def open_relation(self, oid: int) -> None:
        """Describe the relation and show its first page (no count(*): the estimate is shown)."""
        if self.database is None:
            return
        try:
            async with self.database.session(readonly=True) as conn:
                detail = await describe_relation(conn, oid)
        except (*DB_ERRORS, LookupError) as error:
            self.say(describe_error(error), error=True)
            return
        await self.reader.show(detail)

    def set_relation(self, detail: RelationDetail, spec: BrowseSpec) -> None:
        """Make `detail` the open relation, read with `spec`: its columns in the grid."""
        self.detail = detail
        self.filters.failed = None
        self.editor.relation_changed()
        self.spec = spec
        self.grid.set_columns(spec.columns, detail.key or ())
        self.switcher.current = "grid"
        self.tree_pane.relation = detail.oid  # lays the pane out beside or over the grid
        self.grid.focus()

    def worker_failed(self, worker: Worker[object]) -> None:
        """A fetch that failed with a bug: the grid stops waiting for its rows."""
        if worker.group == "fetch":
            self.grid.fetch_failed()

    @work(exclusive=True, group="open", exit_on_error=False)
    async def restart(self, doing: str = "reading") -> None:
        """Reload from the first page after a change of sort or filter (Esc cancels it)."""
        await self.reader.reload(doing)

    # -- paging ------------------------------------------------------------------------------

    @on(DataGrid.RowsWanted)
    def rows_wanted(self, event: DataGrid.RowsWanted) -> None:
        self.paging.fetch(event.want, event.row)

    # -- values ------------------------------------------------------------------------------

    @on(DataGrid.CellOpened)
    def cell_opened(self, event: DataGrid.CellOpened) -> None:
        self.show_value(event.row, event.column)

    @work(group="value", exit_on_error=False)
    async def show_value(self, row: Row, column: Column) -> None:
        """Show a whole value; a truncated one is fetched from the server first."""
        assert self.spec is not None
        index = self.spec.columns.index(column)
        value = row.cells[index]
        if row.truncated(index) and self.pager is not None:
            try:
                value = await self.pager.full_value(row, column.name)
            except (*DB_ERRORS, LookupError) as error:
                self.say(describe_error(error), error=True)
                return
        self.app.push_screen(ValueScreen(column.name, display_type(column.type), value))

    async def on_unmount(self) -> None:
        await self.reader.close_pager()

    # -- editing -----------------------------------------------------------------------------

    def _edit(self, job: Callable[[], Coroutine[Any, Any, object]]) -> None:
        if not self.require_relation():
            return
        if self.switcher.current != "grid":
            # An edit acts on the row under the grid's cursor: never on a grid out of sight.
            self.say("The grid is hidden behind the session overview: ctrl+o shows it again.")
            return
        self.run_worker(job(), group="edit", exclusive=True, exit_on_error=False)

    def action_edit_cell(self) -> None:
        """Edit the cell under the cursor (inside the edit transaction)."""
        self._edit(self.editor.edit_cell)

    def action_insert_row(self) -> None:
        """Insert a row (inside the edit transaction)."""
        self._edit(self.editor.insert_row)

    def action_delete_row(self) -> None:
        """Delete the row under the cursor (inside the edit transaction)."""
        self._edit(self.editor.delete_row)

    def action_commit(self) -> None:
        """Commit the edit transaction, after a confirmation."""
        self._edit(self.editor.commit)

    def action_rollback(self) -> None:
        """Roll back the edit transaction, after a confirmation."""
        self._edit(self.editor.rollback)

    def action_reapply(self) -> None:
        """Apply again the changes of a transaction that was lost or rolled back for idling."""
        self._edit(self.editor.reapply)

    def action_sql_log(self) -> None:
        """Show the SQL sent for edits, with parameters."""
        self.editor.show_log()

    async def reopen_for_editing(self) -> None:
        """Read the rows again with the identity columns editing now needs."""
        assert self.spec is not None and self.detail is not None
        self.spec = self.editor.with_tracking(self.spec, self.detail)
        await self.reader.reload()

    async def reload_grid(self) -> None:
        """Read the rows again from the first page (after a rollback)."""
        if self.spec is not None and self.database is not None:
            await self.reader.reload()

    def reload_grid_later(self) -> None:
        """`reload_grid` in a worker of its own."""
        self.run_worker(self.reload_grid(), group="reload", exit_on_error=False)

    def show_transaction(self, text: str | None) -> None:
        """The edit transaction's badge in the status bar."""
        self.status_bar.show_transaction(text)

    def idle_in_transaction_seconds(self) -> float | None:
        """The session's idle_in_transaction_session_timeout in effect (pgconsole's or the
        server's, the stricter), None when there is none."""
        return None if self.database is None else self.database.info.idle_in_transaction_seconds

    @work(group="edit", exclusive=True, exit_on_error=False)
    async def quit_when_settled(self) -> None:
        """Quit, once an open transaction is committed or rolled back (or stay)."""
        if await self.editor.settle():
            self.post_message(QuitRequested())
