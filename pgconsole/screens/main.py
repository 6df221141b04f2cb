"""The main screen: the schema tree on the left, the data grid (or the session) on the right."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.css.scalar import Scalar
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import ContentSwitcher, Input, Static
from textual.worker import Worker

from pgconsole.db.browse.catalog import (
    Catalog,
    RelationDetail,
    RelationInfo,
    describe_relation,
    load_catalog,
)
from pgconsole.db.browse.filtering import (
    caret_excerpt,
    error_position,
    filter_position,
    without_alias,
)
from pgconsole.db.browse.pages import ALIAS, BrowseSpec, Column, Page, Pager, Row, Sort, count_rows
from pgconsole.db.connection.errors import DB_ERRORS
from pgconsole.db.connection.failures import describe_error
from pgconsole.db.connection.params import PoolSettings
from pgconsole.db.connection.pool import Database, PoolStats, ServerInfo
from pgconsole.db.opening import PAGE_SIZE, Opening, browse_spec, find_relation
from pgconsole.db.type_names import display_type
from pgconsole.failed_workers import ReportsFailedWorkers
from pgconsole.messages import PlaceRequested, QuitRequested
from pgconsole.paths import STYLES
from pgconsole.screens.editing import EditController
from pgconsole.screens.filter import FilterScreen, cut_to, filter_summary
from pgconsole.screens.relation import RelationScreen
from pgconsole.screens.value import ValueScreen
from pgconsole.text import visible
from pgconsole.widgets.grid import DataGrid
from pgconsole.widgets.key_bar import KeyBar
from pgconsole.widgets.message_line import MessageLine
from pgconsole.widgets.overview import SessionOverview
from pgconsole.widgets.schema_tree import (
    NARROW_SCREEN,
    PANE_CHROME,
    SchemaTree,
    TreeFind,
    human_rows,
    pane_width,
)
from pgconsole.widgets.status_bar import StatusBar

MOTION_ACTIONS = frozenset(
    {"move", "page", "column", "column_edge", "first", "g", "last", "focus_next", "focus_previous"}
)
"""Actions that only move (the grid's, the focus): a key bound to one leaves a message shown."""


def is_motion(action: str) -> bool:
    """Whether a binding's action (`move(1)`, `cursor_down`, ...) only moves a cursor."""
    name = action.partition("(")[0].rpartition(".")[2]
    return name in MOTION_ACTIONS or name.startswith(("cursor_", "scroll_"))


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
        self._idle_timer: Timer | None = None
        self.alert = ""
        """An error about data (lost, not applied, refused): shown until the user starts
        another action or presses Esc; motion and routine status leave it."""
        self._note = ""
        self._position = ""
        self._shown: BrowseSpec | None = None
        """The spec the grid's rows were read with: what a cancelled or failed change keeps."""
        self._failed_filter: tuple[str, str] | None = None
        """A filter the server refused, and why: `w` offers it again to be fixed."""
        self._progress: dict[str, tuple[str, str, float]] = {}
        """Slow work by worker group: what it does, how Esc stops it, when it started."""
        self._progress_note = ""
        self._progress_timer: Timer | None = None
        self.editor = EditController(self)
        self._tree_offset = 0
        """Cells the user added to the tree pane's width (`]`), or took away (`[`)."""
        self._tree_hidden = False
        """The user hid the tree beside the grid (`\\`), at 90 columns and more."""
        self._overlay_open = False
        """Below 90 columns: the tree lies over the grid while the user is in it."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            with Vertical(id="left"):
                yield TreeFind(placeholder="/ find table", id="tree-filter")
                yield SchemaTree(id="tree")
            with Vertical(id="right"):
                yield Static(Text("connecting…"), id="relation-title")
                with ContentSwitcher(initial="overview", id="switcher"):
                    yield SessionOverview(id="overview")
                    yield DataGrid(id="grid")
                yield MessageLine(id="message")
        yield StatusBar()
        yield KeyBar()

    def on_mount(self) -> None:
        self.set_interval(1.0, self.tick_transaction)
        self._layout_tree()

    async def tick_transaction(self) -> None:
        """The transaction's age and idle countdown (no I/O unless a rollback is due)."""
        with contextlib.suppress(NoMatches):  # a tick while the app exits and empties the DOM
            await self.editor.tick()
            if self.editor.status_text() is None:
                self.show_transaction(self._console_transaction())

    def _console_transaction(self) -> str | None:
        """The SQL console's open transaction, so that it stays in sight from the browser."""
        text = self.console_transaction()
        return None if text is None else f"SQL console (F4): {text}"

    @property
    def grid(self) -> DataGrid:
        """The data grid."""
        return self.query_one(DataGrid)

    # -- connection state (set by the app) --------------------------------------------------

    def show_connecting(self, target: str, read_only: bool) -> None:
        """Show an attempt in progress."""
        self._title(Text(f"connecting to {visible(target)}…"))
        self.query_one(StatusBar).show_connecting(target, read_only)

    def show_failed(self, target: str) -> None:
        """Show that the last attempt failed (the error screen says why)."""
        self._title(Text(f"not connected to {visible(target)}"))
        self.query_one(StatusBar).show_failed(target)

    def show_connected(
        self, database: Database, pool: PoolSettings, opening: Opening | None = None
    ) -> None:
        """Show the session, the `--table` relation if one was named, then the schema tree.

        The relation's first page may have been read with the pool (`opening.first`).
        """
        reconnected = self.database is not None and self.database is not database
        self.database = database
        self.query_one(SessionOverview).show(database.info, pool)
        self.query_one(StatusBar).show_server(database.info)
        self._title(Text(visible(database.info.target), style="bold"))
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
            self._set_relation(first.detail, first.spec)
            self.pager = first.pager
            self._show_relation_title()
            self._arm_idle_close()
            self._show_first(first.page)
        elif table and opening is not None and opening.first_error is not None:
            self._table_failed(table, opening.first_error)
        elif table:
            self.open_named(table, then_tree=True)
            return
        self.load_tree()

    def show_pool(self, stats: PoolStats) -> None:
        """Refresh the pool numbers in the status bar."""
        self.query_one(StatusBar).show_pool(stats)

    def show_server(self, info: ServerInfo) -> None:
        """Refresh the server facts in the status bar."""
        self.query_one(StatusBar).show_server(info)

    # -- messages to the user ----------------------------------------------------------------

    def _title(self, text: Text) -> None:
        self.query_one("#relation-title", Static).update(text)

    def say(self, text: str, *, error: bool = False) -> None:
        """One line (or a few) under the grid; database text shown literally.

        An `error` stays (`alert`) until the user acts: a key bound to anything but motion, or
        Esc. Later messages show under it, and the position never replaces it.
        """
        if error:
            self.alert, self._note = text, ""
        else:
            self._note = text
        self._show_message()

    def dismiss_message(self) -> None:
        """The user acted: the last message, and any alert, are done with."""
        if self.alert or self._note:
            self.alert = self._note = ""
            self._show_message()

    def _show_position(self, suffix: str = "") -> None:
        position = self._position_text() + suffix
        if position != self._position:
            self._position = position
            self._show_message()

    def _show_message(self) -> None:
        self.query_one(MessageLine).show(self.alert, self._note, self._position)

    def on_key(self, event: events.Key) -> None:
        """A key that starts something (not a cursor move) ends the message shown."""
        if not (self.alert or self._note):
            return  # nothing to end: no binding lookup on every key of a burst
        if event.key == "escape":
            self.dismiss_message()
            return
        bound = self.active_bindings.get(event.key)
        if bound is not None and not is_motion(bound.binding.action):
            self.dismiss_message()

    def on_resize(self) -> None:
        self._layout_tree()
        self._redraw_for_width()

    def _redraw_for_width(self) -> None:
        # The title's filter is cut to the width: draw it again once the title has its new
        # width (the message line redraws itself when its width changes).
        if self.spec is not None and self.detail is not None:
            self.call_after_refresh(self._show_relation_title)

    # -- progress of slow work ---------------------------------------------------------------

    PROGRESS_AFTER = 0.25
    """Seconds of work before it is said: a fast reload never makes the message line blink."""

    def _start_progress(self, group: str, doing: str, stop: str, *, at_once: bool = False) -> float:
        """Say `doing… 2.1 s (stop)` while the `group` worker runs, the time ticking.

        Returns:
            The start, which `_end_progress` takes: a worker replaced by a newer one of its
            group ends only its own progress.
        """
        started = time.monotonic() - (self.PROGRESS_AFTER if at_once else 0.0)
        self._progress[group] = (doing, stop, started)
        self._tick_progress()
        if self._progress_timer is None:
            self._progress_timer = self.set_interval(0.1, self._tick_progress)
        return started

    def _end_progress(self, group: str, started: float) -> float | None:
        """The `group` work begun at `started` is over: its line goes. How long it ran, or None
        when newer work of the group has taken its place."""
        if group not in self._progress or self._progress[group][2] != started:
            return None
        del self._progress[group]
        if not self._progress and self._progress_timer is not None:
            self._progress_timer.stop()
            self._progress_timer = None
        if self._progress_note and self._note == self._progress_note:
            self._note = self._progress_note = ""
            self._show_message()
        self._tick_progress()
        return time.monotonic() - started

    def _tick_progress(self) -> None:
        now = time.monotonic()
        text = " · ".join(
            f"{doing}… {now - started:.1f} s ({stop})"
            for doing, stop, started in self._progress.values()
            if now - started >= self.PROGRESS_AFTER
        )
        if text and (not self._note or self._note == self._progress_note):
            self._progress_note = text
            self.say(text)

    @on(DataGrid.CursorMoved, "#grid")
    def cursor_moved(self) -> None:
        self._show_position()

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
        self.query_one(SchemaTree).show(self.catalog, self.query_one("#tree-filter", Input).value)
        self._layout_tree()
        if self.spec is not None and self.detail is not None:
            self.query_one(SchemaTree).select_relation(self.detail.oid)
            self._show_relation_title()  # the estimate comes with the catalog
        elif not self._start_failed:
            relations, schemas = len(self.catalog.relations), len(self.catalog.schemas)
            self.say(f"{relations:,} relations in {schemas} schemas")

    @on(Input.Changed, "#tree-filter")
    def filter_tree(self, event: Input.Changed) -> None:
        if self.catalog is not None:
            self.query_one(SchemaTree).show(self.catalog, event.value)

    @on(Input.Submitted, "#tree-filter")
    def filter_done(self) -> None:
        self.query_one(SchemaTree).focus()

    def action_filter_tree(self) -> None:
        """Type to narrow the tree."""
        self._show_tree()
        self.query_one("#tree-filter", Input).focus()

    def _narrow(self) -> bool:
        """The tree lies over the grid (shown only while the user is in it): below 90 columns,
        with a relation open. With none, the tree is all there is to use, at any width."""
        return self.size.width < NARROW_SCREEN and self.spec is not None

    def _layout_tree(self) -> None:
        """Size the tree pane to its widest label, and show, hide or lay it over the grid."""
        pane = self.query_one("#left")
        narrow = self._narrow()
        pane.set_class(narrow, "-overlay")
        shown = self.spec is None or (self._overlay_open if narrow else not self._tree_hidden)
        content = self.query_one(SchemaTree).natural_width() + PANE_CHROME
        width = pane_width(content, self.size.width, self._tree_offset)
        if shown != pane.display or pane.styles.width != Scalar.from_number(width):
            self._redraw_for_width()  # the grid's side gets wider or narrower
        pane.display = shown
        pane.styles.width = width

    def _show_tree(self) -> None:
        """The user goes to the tree: a hidden one shows, over the grid when narrow, its
        cursor on the relation open (the user left the tree, or never chose it there)."""
        if self._narrow():
            if not self._overlay_open and self.detail is not None:
                self.query_one(SchemaTree).select_relation(self.detail.oid)
            self._overlay_open = True
        else:
            self._tree_hidden = False
        self._layout_tree()

    def _leave_tree(self) -> None:
        """Back to the grid: a tree over it goes."""
        self._overlay_open = False
        self._layout_tree()
        if self.query_one(ContentSwitcher).current == "grid":
            self.grid.focus()

    def action_tree_width(self, step: int) -> None:
        """Make the tree pane wider or narrower by `step` cells."""
        screen = self.size.width
        content = self.query_one(SchemaTree).natural_width() + PANE_CHROME
        # What the limits swallow is not kept: the next key back always shows.
        wanted = pane_width(content, screen, self._tree_offset + step)
        self._tree_offset = wanted - pane_width(content, screen, 0)
        self._show_tree()

    def action_toggle_tree(self) -> None:
        """Hide the tree, or show it and go to it."""
        pane = self.query_one("#left")
        if self.spec is not None and pane.display:
            self._tree_hidden = not self._narrow()
            self._leave_tree()
        else:
            self._show_tree()
            self.query_one(SchemaTree).focus()

    def action_refresh_catalog(self) -> None:
        """Reload the schema tree."""
        self.load_tree()

    def action_toggle_system(self) -> None:
        """Show or hide pg_catalog, information_schema and the other system schemas."""
        self.include_system = not self.include_system
        self.load_tree()

    def action_details(self) -> None:
        """Columns, indexes, constraints, foreign keys and stats of the open relation."""
        if self._require_relation():
            assert self.detail is not None
            self.app.push_screen(RelationScreen(self.detail))

    def action_export(self) -> None:
        """Write the rows as shown (filter, order) to a CSV or JSON-lines file with COPY."""
        if self._require_relation() and self.database is not None:
            assert self.spec is not None
            relation = self._relation_info()
            estimate = relation.estimated_rows if relation else None
            from pgconsole.screens.export import ExportScreen  # loaded when first used

            self.app.push_screen(ExportScreen(self.database, self.spec, estimate))

    def action_count(self) -> None:
        """Count the rows exactly, in the background (Esc stops it)."""
        if self._require_relation():
            self.count()

    @work(exclusive=True, group="count", exit_on_error=False)
    async def count(self) -> None:
        """count(*) with the current filters, READ ONLY, under the statement timeout."""
        if self.database is None or self.spec is None:
            return
        started = self._start_progress("count", "counting", "Esc stops", at_once=True)
        try:
            total = await count_rows(self.database, self.spec)
        except asyncio.CancelledError:
            took = self._end_progress("count", started)
            if took is not None:  # stopped, not replaced by a newer count
                self.say(f"count stopped after {took:.1f} s")
            raise
        except DB_ERRORS as error:
            self._end_progress("count", started)
            self.say("Count failed: " + without_alias(describe_error(error), ALIAS), error=True)
            return
        self._end_progress("count", started)
        self.say(
            f"exactly {total:,} rows"
            + (" (filtered)" if self.spec.filter or self.spec.equals else "")
        )

    def action_stop_count(self) -> None:
        """Esc: cancel a running count, or a reload after a change of sort or filter (the
        server stops the query; the workers say what was kept); a tree over the grid goes."""
        if self._overlay_open and self._narrow():
            self._leave_tree()
        for worker in list(self.workers):
            if worker.group in ("count", "open") and worker.is_running:
                worker.cancel()

    def action_overview(self) -> None:
        """Show the session overview; again, back to the grid of the open relation."""
        switcher = self.query_one(ContentSwitcher)
        if switcher.current == "overview" and self.spec is not None:
            switcher.current = "grid"
            self.grid.focus()
        else:
            switcher.current = "overview"

    # -- opening a relation ------------------------------------------------------------------

    @on(SchemaTree.RelationChosen)
    def relation_chosen(self, event: SchemaTree.RelationChosen) -> None:
        self._overlay_open = False
        self._layout_tree()
        self.open_relation(event.relation.oid)

    @work(exclusive=True, group="open", exit_on_error=False)
    async def open_named(self, text: str, *, then_tree: bool = False) -> None:
        """Open `schema.name` given on the command line (quoted parts keep their case).

        Args:
            text: The name as typed.
            then_tree: Load the schema tree afterwards: the first page the DBA asked for
                comes first, the tree (slow on a database with thousands of tables) next.
        """
        try:
            await self._open_named(text)
        finally:
            if then_tree:
                self.load_tree()

    async def _open_named(self, text: str) -> None:
        if self.database is None:
            return
        try:
            detail = await find_relation(self.database, text)
        except LookupError as error:
            self._table_failed(text, str(error))
            return
        await self._show_relation(detail)

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
        await self._show_relation(detail)

    async def _show_relation(self, detail: RelationDetail) -> None:
        changing = self.detail is not None and self.detail.oid != detail.oid
        if changing and not await self.editor.settle():  # commit, roll back or stay
            return
        await self._close_pager()
        self._set_relation(detail, browse_spec(detail, physical=detail.oid in self.editor.physical))
        await self._reload()

    def _set_relation(self, detail: RelationDetail, spec: BrowseSpec) -> None:
        self.detail = detail
        self._failed_filter = None
        self.editor.relation_changed()
        self.spec = spec
        self.grid.set_columns(spec.columns, detail.key or ())
        self.query_one(ContentSwitcher).current = "grid"
        self._layout_tree()
        self.grid.focus()

    def worker_failed(self, worker: Worker[object]) -> None:
        """A fetch that failed with a bug: the grid stops waiting for its rows."""
        if worker.group == "fetch":
            self.grid.fetch_failed()

    async def _close_pager(self) -> None:
        if self.pager is not None:
            pager, self.pager = self.pager, None
            await pager.close()

    async def reopen_for_editing(self) -> None:
        """Read the rows again with the identity columns editing now needs."""
        assert self.spec is not None and self.detail is not None
        self.spec = self.editor.with_tracking(self.spec, self.detail)
        await self._reload()

    async def reload_grid(self) -> None:
        """Read the rows again from the first page (after a rollback)."""
        if self.spec is not None and self.database is not None:
            await self._reload()

    def reload_grid_later(self) -> None:
        """`reload_grid` in a worker of its own."""
        self.run_worker(self.reload_grid(), group="reload", exit_on_error=False)

    def show_transaction(self, text: str | None) -> None:
        """The edit transaction's badge in the status bar."""
        self.query_one(StatusBar).show_transaction(text)

    def idle_in_transaction_seconds(self) -> float | None:
        """The session's idle_in_transaction_session_timeout in effect (pgconsole's or the
        server's, the stricter), None when there is none."""
        return None if self.database is None else self.database.info.idle_in_transaction_seconds

    async def _reload(self, doing: str = "reading") -> None:
        """(Re)start paging from the first page with the current spec.

        Args:
            doing: What the reload is for, said while it is slow: `reading`, or `sorting` and
                `filtering`, whose change is undone when it fails or Esc cancels it (the rows
                shown stay, and the spec they were read with).
        """
        assert self.database is not None and self.spec is not None
        spec = self.spec
        self._set_tracked_spec(spec)  # same relation, new order or filter
        await self._close_pager()
        pager = self.pager = Pager(self.database, spec, PAGE_SIZE, self.idle_seconds)
        self._show_relation_title()
        started = self._start_progress("open", doing, "Esc cancels")
        try:
            page = await pager.first()
        except asyncio.CancelledError:
            took = self._end_progress("open", started)
            if took is not None and self.spec is spec:  # Esc, not a newer change
                kept = doing != "reading" and self._back_to_shown()
                what = "the rows shown are as before" if kept else "Home reads again"
                self.say(f"{doing} cancelled after {took:.1f} s: {what}")
            if self.pager is not pager:
                await pager.close()  # a cursor it opened; the server query is cancelled
            raise
        except DB_ERRORS as error:
            explained = self._explain(error, pager.last_sql)
            if doing != "reading" and self.spec is spec and self._back_to_shown():
                await pager.close()
                change = "sort" if doing == "sorting" else "filter"
                again = ""
                if spec.filter and spec.filter != self.spec.filter:
                    self._failed_filter = (spec.filter, explained)
                    again = " (w to fix it)"
                self.say(
                    f"Not applied: {explained}\nThe {change} was not applied: the rows shown"
                    f" are as before{again}.",
                    error=True,
                )
                return
            if self.grid.columns == tuple(self.spec.columns) and self.grid.rows:
                # The same relation read again (after a rollback or a lost connection): its
                # rows stay in sight, marked as read before, and Home tries again.
                self.grid.stale = True
                self.say(
                    explained + "\nThe rows shown were read before: Home reads again.",
                    error=True,
                )
                return
            self.grid.set_columns(self.spec.columns, self.spec.key or ())
            self._show_position()
            self.say(explained, error=True)
            return
        finally:
            self._end_progress("open", started)
            self._arm_idle_close()
        self._show_first(page)

    def _set_tracked_spec(self, spec: BrowseSpec) -> None:
        """The edit transaction follows the grid's order and filter on the same relation."""
        if self.editor.tx is not None and self.editor.tx.spec.name == spec.name:
            self.editor.tx.spec = spec

    def _back_to_shown(self) -> bool:
        """Put back the spec the grid's rows were read with, if they are of the same relation
        (a change of sort or filter that failed or was cancelled); False when there is none."""
        shown, spec = self._shown, self.spec
        if shown is None or spec is None or self.database is None or not self.grid.rows:
            return False
        if (shown.schema, shown.name) != (spec.schema, spec.name):
            return False
        if self.grid.columns != tuple(shown.columns):
            return False
        self.spec = shown
        self._set_tracked_spec(shown)
        self.pager = Pager(self.database, shown, PAGE_SIZE, self.idle_seconds)
        self._show_relation_title()
        return True

    def _show_first(self, page: Page) -> None:
        """The first page, the cursor kept on its row and column if this is a reload."""
        self._shown = self.spec
        self.grid.reload_page(page)
        self._show_position()

    def _show_relation_title(self) -> None:
        assert self.spec is not None and self.detail is not None
        relation = self._relation_info()
        title = Text.assemble(
            (visible(f"{self.spec.schema}.{self.spec.name}"), "bold"),
            f" {human_rows(relation.estimated_rows if relation else None)} rows",
        )
        tail = Text()
        if self.spec.sort:
            arrow = "↓" if self.spec.sort.descending else "↑"
            tail.append(f" {arrow}{visible(self.spec.sort.column)}", style="cyan")
        if not self.spec.key:
            tail.append(" no key: cursor", style="yellow")
        summary = visible(filter_summary(self.spec.filter, self.spec.equals))
        if summary:
            # The expression gets what the rest leaves of the width (padding: 2 cells).
            width = self.query_one("#relation-title", Static).size.width or self.size.width
            room = width - 2 - title.cell_len - tail.cell_len - len(" where ")
            title.append(" where ", style="bold magenta")
            title.append(cut_to(summary, max(room, 8)), style="magenta")
        self._title(title + tail)

    def _relation_info(self) -> RelationInfo | None:
        if self.catalog is None or self.detail is None:
            return None
        return next((r for r in self.catalog.relations if r.oid == self.detail.oid), None)

    def _position_text(self) -> str:
        if self.spec is None:
            return ""
        grid = self.grid
        row = grid.current_row
        where = f"row {row.ordinal + 1:,}" if row is not None and row.ordinal is not None else ""
        mode = "keyset" if self.spec is not None and self.spec.uses_keyset else "cursor"
        more = "more below" if grid.more_after else "end"
        return " · ".join(p for p in (where, f"{len(grid.rows)} rows in memory", mode, more) if p)

    def _explain(self, error: BaseException, sql: str) -> str:
        """The server's error in the user's names; for an error inside the filter, the
        filter's line with a caret under the position, right below the first line (the
        message line shows four), and the SQLSTATE last."""
        lines = without_alias(describe_error(error), ALIAS).split("\n")
        position = error_position(error)
        spec_filter = self.spec.filter if self.spec is not None else ""
        start = sql.find("(" + spec_filter + ")") if spec_filter else -1
        at = None
        if position is not None and start >= 0:
            at = filter_position(position, start + 1, spec_filter)
        if at is None:
            return "\n".join(lines)
        sqlstate = [line for line in lines[1:] if line.startswith("SQLSTATE ")]
        rest = [line for line in lines[1:] if not line.startswith("SQLSTATE ")]
        return "\n".join([lines[0], caret_excerpt(spec_filter, at), *rest, *sqlstate])

    # -- paging ------------------------------------------------------------------------------

    @on(DataGrid.RowsWanted)
    def rows_wanted(self, event: DataGrid.RowsWanted) -> None:
        self.fetch(event.want, event.row)

    @work(exclusive=True, group="fetch", exit_on_error=False)
    async def fetch(self, want: str, row: Row | None) -> None:
        """Fetch the page the grid asked for."""
        if self.pager is None:
            return
        grid = self.grid
        try:
            if want == "first":
                grid.show_page(await self.pager.first())
            elif want == "last":
                grid.show_page(await self.pager.last(), at_end=True)
            elif want == "after" and row is not None:
                grid.add_after(await self.pager.after(row))
            elif want == "before" and row is not None:
                grid.add_before(await self.pager.before(row))
        except DB_ERRORS as error:
            grid.fetch_failed()
            self.say(describe_error(error), error=True)
            return
        finally:
            self._arm_idle_close()
        self._show_position()

    def _arm_idle_close(self, at_least: float = 0.0) -> None:
        """One timer, at the open cursor's idle deadline (none when no cursor is open)."""
        if self._idle_timer is not None:
            self._idle_timer.stop()
            self._idle_timer = None
        deadline = self.pager.idle_deadline if self.pager is not None else None
        if deadline is not None:
            delay = max(at_least, deadline - time.monotonic())
            self._idle_timer = self.set_timer(delay, self.close_idle_cursor)

    async def close_idle_cursor(self) -> None:
        """Never keep a snapshot open while the user looks away."""
        self._idle_timer = None
        if self.pager is not None and await self.pager.close_if_idle():
            self._show_position(" · cursor closed while idle")
        else:
            # A fetch holds the cursor right now (its end sets a new deadline), or the cursor
            # was used since the timer was set: look again a little later.
            self._arm_idle_close(at_least=0.05)

    # -- sort and filter ---------------------------------------------------------------------

    def _require_relation(self) -> bool:
        if self.spec is None or self.detail is None:
            self.say("Open a table first (pick one in the tree).")
            return False
        return True

    def action_sort(self) -> None:
        """Sort by the column under the cursor: ascending, descending, then unsorted."""
        if not self._require_relation() or self.grid.current_column is None:
            return
        assert self.spec is not None and self.detail is not None
        name = self.grid.current_column.name
        current = self.spec.sort
        if current is None or current.column != name:
            indexed = any(
                i.leading_column == name and i.method == "btree" and i.valid and not i.partial
                for i in self.detail.indexes
            )
            sort: Sort | None = Sort(name, descending=False, indexed=indexed)
        elif not current.descending:
            sort = Sort(name, descending=True, indexed=current.indexed)
        else:
            sort = None
        self.spec = replace(self.spec, sort=sort)
        self.restart("sorting")

    def action_where(self) -> None:
        """Filter with a WHERE expression (checked, then run READ ONLY)."""
        if not self._require_relation():
            return
        assert self.spec is not None

        def apply(text: str | None) -> None:
            if text is None or self.spec is None:
                return
            self.spec = replace(self.spec, filter=text)
            self.restart("filtering")

        relation = f"{self.spec.schema}.{self.spec.name}"
        # A filter the server refused comes back to be fixed, with why.
        current, error = self._failed_filter or (self.spec.filter, "")
        self._failed_filter = None
        prompt = FilterScreen(relation, current, error, columns=self.spec.columns)
        self.app.push_screen(prompt, apply)

    def action_quick_filter(self) -> None:
        """Keep only rows whose column equals the value under the cursor (a parameter)."""
        if not self._require_relation():
            return
        assert self.spec is not None
        row, column = self.grid.current_row, self.grid.current_column
        if row is None or column is None:
            return
        index = self.spec.columns.index(column)
        if row.truncated(index):
            self.say("That value is too long to filter on: use w and a WHERE expression.")
            return
        equals = (*self.spec.equals, (column.name, row.cells[index]))
        self.spec = replace(self.spec, equals=equals)
        self.restart("filtering")

    def action_clear_filters(self) -> None:
        """Drop the WHERE expression and the quick filters."""
        if self.spec is not None and (self.spec.filter or self.spec.equals):
            self.spec = replace(self.spec, filter="", equals=())
            self.restart("filtering")

    @work(exclusive=True, group="open", exit_on_error=False)
    async def restart(self, doing: str = "reading") -> None:
        """Reload from the first page after a change of sort or filter (Esc cancels it)."""
        await self._reload(doing)

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
        await self._close_pager()

    # -- editing -----------------------------------------------------------------------------

    def _edit(self, job: Callable[[], Coroutine[Any, Any, object]]) -> None:
        if not self._require_relation():
            return
        if self.query_one(ContentSwitcher).current != "grid":
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

    @work(group="edit", exclusive=True, exit_on_error=False)
    async def quit_when_settled(self) -> None:
        """Quit, once an open transaction is committed or rolled back (or stay)."""
        if await self.editor.settle():
            self.post_message(QuitRequested())

    def action_switch_pane(self) -> None:
        """Tab: from the tree to the grid and back (the find box is `/`, not a Tab stop).

        Going to a hidden tree shows it; below 90 columns, leaving it hides it again.
        """
        if self.grid.has_focus or self.query_one(ContentSwitcher).current != "grid":
            self._show_tree()
            self.query_one(SchemaTree).focus()
        else:
            self._leave_tree()

    def action_who(self) -> None:
        """The activity screen, showing only sessions that mention or wait on this relation."""
        if self._require_relation():
            assert self.detail is not None
            self.post_message(PlaceRequested("activity", relation=self.detail.name))
