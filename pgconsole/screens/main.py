"""The main screen: the schema tree on the left, the data grid (or the session) on the right.

The screen composes its widgets (`TreePane`, `RelationTitle`, `DataGrid`, `BrowserMessage`),
holds the open relation's state, owns the workers and routes messages. Its neighbours do the
work: `relation_reader` (opening a relation, reading it from the first page), `paging`
(the pages after it, the idle cursor), `browse_filters` (sort and filters), `exact_count`,
`editing` with `browse_editing` (the edit keys) and `browse_tree` (the catalog, the tree keys).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import events, getters, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import ContentSwitcher
from textual.worker import Worker

from pgconsole.db.browse.catalog import Catalog, RelationDetail
from pgconsole.db.browse.pages import BrowseSpec, Pager
from pgconsole.db.connection.failures import describe_error
from pgconsole.db.connection.params import PoolSettings
from pgconsole.db.connection.pool import Database, PoolStats, ServerInfo
from pgconsole.db.opening import Opening
from pgconsole.failed_workers import ReportsFailedWorkers
from pgconsole.messages import PlaceRequested
from pgconsole.paths import STYLES
from pgconsole.screens.browse_editing import BrowseEditing
from pgconsole.screens.browse_filters import BrowseFilters
from pgconsole.screens.browse_tree import BrowseTree, leave_tree
from pgconsole.screens.editing import EditController
from pgconsole.screens.exact_count import count_exactly
from pgconsole.screens.paging import GridPaging
from pgconsole.screens.relation import RelationScreen
from pgconsole.screens.relation_reader import RelationReader
from pgconsole.text import visible
from pgconsole.widgets.browser_message import BrowserMessage, ends_message
from pgconsole.widgets.grid import DataGrid
from pgconsole.widgets.key_bar import KeyBar
from pgconsole.widgets.overview import SessionOverview
from pgconsole.widgets.relation_title import RelationTitle
from pgconsole.widgets.schema_tree import SchemaTree
from pgconsole.widgets.status_bar import StatusBar
from pgconsole.widgets.tree_pane import TreePane


class MainScreen(ReportsFailedWorkers, BrowseEditing, BrowseTree, Screen[None]):
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
        self.detail: RelationDetail | None = None
        self.spec: BrowseSpec | None = None
        self.pager: Pager | None = None
        self.idle_seconds = idle_seconds
        self.initial_table = table
        self.console_transaction = console_transaction or (lambda: None)
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

    @property
    def catalog(self) -> Catalog | None:
        """Every schema and relation, as last loaded (None until the first load)."""
        return self.tree_pane.catalog

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
            self.reader.show_opened(opening.first)
        elif table and opening is not None and opening.first_error is not None:
            self.reader.table_failed(table, opening.first_error)
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

    @on(TreePane.HiddenWithFocus)
    def _tree_hidden_with_focus(self) -> None:
        if self.switcher.current == "grid" and self.tree_pane.has_focus_within:
            self.grid.focus()

    @on(DataGrid.CursorMoved, "#grid")
    def cursor_moved(self) -> None:
        self.reader.show_position()

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
            self.app.push_screen(RelationScreen(self.detail, self.database))

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
            counting = count_exactly(self)
            self.run_worker(
                counting, name="count", group="count", exclusive=True, exit_on_error=False
            )

    def action_stop_count(self) -> None:
        """Esc: cancel a running count, or a reload after a change of sort or filter (the
        server stops the query; the workers say what was kept); a tree over the grid goes."""
        if self.tree_pane.over_grid:
            leave_tree(self)
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
        relation = event.relation  # the pane over the grid has closed itself
        self.open_relation(relation.oid, relation.qualified_name)

    @work(exclusive=True, group="open", exit_on_error=False)
    async def open_named(self, text: str, *, then_tree: bool = False) -> None:
        """Open `schema.name` given on the command line (quoted parts keep their case).

        Args:
            text: The name as typed.
            then_tree: Load the schema tree afterwards: the first page the DBA asked for
                comes first, the tree (slow on a database with thousands of tables) next.
        """
        try:
            await self.reader.open_named(text)
        finally:
            if then_tree:
                self.load_tree()

    @work(exclusive=True, group="open", exit_on_error=False)
    async def open_relation(self, oid: int, name: str | None = None) -> None:
        """Describe the relation and show its first page (no count(*): the estimate is shown);
        `name` says which in an error."""
        await self.reader.open_oid(oid, name)

    def set_relation(self, detail: RelationDetail, spec: BrowseSpec) -> None:
        """Make `detail` the open relation, read with `spec`: its columns in the grid."""
        self.detail = detail
        self.filters.failed = None
        self.editor.relation_changed()
        self.spec = spec
        self.grid.set_columns(spec.columns, detail.key or ())
        self.switcher.current = "grid"
        self.tree_pane.relation = detail.oid  # lays the pane out beside or over the grid
        self.refresh_bindings()  # Tab and `\` act now (BrowseTree.check_action)
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
        showing = self.reader.show_value(event.row, event.column)
        self.run_worker(showing, name="show_value", group="value", exit_on_error=False)

    async def on_unmount(self) -> None:
        await self.reader.close_pager()
