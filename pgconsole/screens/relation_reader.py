"""Opening a relation and reading its rows from the first page, and what is said of them.

The browser opens a relation named on the command line (`--table`) or chosen in the tree, and
reads it from its first page then, after a change of sort or filter, after a rollback and
after a lost connection. A slow read is said with its time and Esc cancels it (the server
stops the query). A change the server refused or the user cancelled is undone: the rows shown
stay, and the spec they were read with comes back. The title over the grid and the position
under it say what is shown; a truncated value is read whole when opened.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from textual.app import App

from pgconsole.db.browse.catalog import Catalog, RelationDetail, describe_relation
from pgconsole.db.browse.pages import BrowseSpec, Column, Page, Pager, Row
from pgconsole.db.connection.errors import DB_ERRORS
from pgconsole.db.connection.failures import describe_error
from pgconsole.db.connection.pool import Database
from pgconsole.db.first_page import PAGE_SIZE, FirstPage, browse_spec, find_relation
from pgconsole.db.type_names import display_type
from pgconsole.screens.browse_filters import BrowseFilters, explain
from pgconsole.screens.editing import EditController
from pgconsole.screens.filter import filter_summary
from pgconsole.screens.paging import GridPaging
from pgconsole.screens.value import ValueScreen
from pgconsole.text import visible
from pgconsole.widgets.browser_message import BrowserMessage
from pgconsole.widgets.grid import DataGrid
from pgconsole.widgets.relation_title import Heading, RelationTitle
from pgconsole.words import counted


class ReaderHost(Protocol):
    """What the reader needs of the browser: the relation's state and the widgets showing it."""

    database: Database | None
    detail: RelationDetail | None
    spec: BrowseSpec | None
    pager: Pager | None
    idle_seconds: float
    editor: EditController
    filters: BrowseFilters
    paging: GridPaging

    @property
    def app(self) -> App[Any]: ...

    @property
    def catalog(self) -> Catalog | None: ...

    @property
    def grid(self) -> DataGrid: ...

    @property
    def message(self) -> BrowserMessage: ...

    @property
    def title_line(self) -> RelationTitle: ...

    def say(self, text: str, *, error: bool = False) -> None: ...

    def set_relation(self, detail: RelationDetail, spec: BrowseSpec) -> None: ...


class RelationReader:
    """Reads the host's relation (`spec`) through a new `Pager`, and shows what it read."""

    def __init__(self, host: ReaderHost) -> None:
        self.host = host
        self.shown: BrowseSpec | None = None
        """The spec the grid's rows were read with: what a cancelled or failed change keeps."""
        self.start_failed = False
        """`--table` could not be opened: the message line keeps saying why."""

    async def open_named(self, text: str) -> None:
        """Open `schema.name` given on the command line (quoted parts keep their case)."""
        if self.host.database is None:
            return
        try:
            detail = await find_relation(self.host.database, text)
        except LookupError as error:
            self.table_failed(text, str(error))
            return
        await self.show(detail)

    def table_failed(self, text: str, reason: str) -> None:
        """Say why the `--table` relation could not be opened (and keep saying it)."""
        self.start_failed = True
        self.host.say(f"--table {text}: {reason}", error=True)

    async def open_oid(self, oid: int, name: str | None = None) -> None:
        """Describe the relation and show its first page (no count(*): the estimate is shown).
        An error names the relation (`name`): the grid still shows the one open before."""
        host = self.host
        if host.database is None:
            return
        try:
            async with host.database.transaction(readonly=True) as conn:
                detail = await describe_relation(conn, oid)
        except (*DB_ERRORS, LookupError) as error:
            shown = visible(name) if name else "the relation"
            host.say(f"Could not open {shown}: {describe_error(error)}", error=True)
            return
        await self.show(detail)

    def show_opened(self, first: FirstPage) -> None:
        """Show the relation whose first page was read while connecting (`--table`)."""
        self.host.set_relation(first.detail, first.spec)
        self.host.pager = first.pager
        self.show_title()
        self.host.paging.arm_idle_close()
        self.show_first(first.page)

    async def show(self, detail: RelationDetail) -> None:
        """Open `detail` in the grid from its first page, once an edit transaction on another
        relation is settled (committed, rolled back, or the user stays)."""
        host = self.host
        changing = host.detail is not None and host.detail.oid != detail.oid
        if changing and not await host.editor.settle():
            return
        await self.close_pager()
        host.set_relation(detail, browse_spec(detail, physical=detail.oid in host.editor.physical))
        await self.reload()

    async def close_pager(self) -> None:
        """Close the pager's cursor, if one is open (the pager goes)."""
        if self.host.pager is not None:
            pager, self.host.pager = self.host.pager, None
            await pager.close()

    async def reload(self, doing: str = "reading") -> None:
        """(Re)start paging from the first page with the current spec.

        Args:
            doing: What the reload is for, said while it is slow: `reading`, or `sorting` and
                `filtering`, whose change is undone when it fails or Esc cancels it (the rows
                shown stay, and the spec they were read with).
        """
        host = self.host
        assert host.database is not None and host.spec is not None
        spec = host.spec
        self.track(spec)  # same relation, new order or filter
        await self.close_pager()
        pager = host.pager = Pager(host.database, spec, PAGE_SIZE, host.idle_seconds)
        self.show_title()
        started = host.message.start_work("open", doing, "Esc cancels")
        try:
            page = await pager.first()
        except asyncio.CancelledError:
            took = host.message.end_work("open", started)
            if took is not None and host.spec is spec:  # Esc, not a newer change
                kept = doing != "reading" and self.back_to_shown()
                what = "the rows shown are as before" if kept else "Home reads again"
                host.say(f"{doing} cancelled after {took:.1f} s: {what}")
            if host.pager is not pager:
                await pager.close()  # a cursor it opened; the server query is cancelled
            raise
        except DB_ERRORS as error:
            await self._failed(error, spec, pager, doing)
            return
        finally:
            host.message.end_work("open", started)
            host.paging.arm_idle_close()
        self.show_first(page)

    async def reload_for_editing(self) -> None:
        """Read the rows again with the identity columns editing now needs."""
        host = self.host
        assert host.spec is not None and host.detail is not None
        host.spec = host.editor.with_tracking(host.spec, host.detail)
        await self.reload()

    async def _failed(
        self, error: BaseException, spec: BrowseSpec, pager: Pager, doing: str
    ) -> None:
        """Say why the first page of `spec` could not be read, and keep what can be kept."""
        host = self.host
        assert host.spec is not None
        explained = explain(error, pager.last_sql, host.spec.filter)
        if doing != "reading" and host.spec is spec and self.back_to_shown():
            await pager.close()
            host.say(host.filters.not_applied(spec, host.spec, doing, explained), error=True)
            return
        grid = host.grid
        if grid.columns == tuple(host.spec.columns) and grid.rows:
            # The same relation read again (after a rollback or a lost connection): its
            # rows stay in sight, marked as read before, and Home tries again.
            grid.stale = True
            host.say(explained + "\nThe rows shown were read before: Home reads again.", error=True)
            return
        grid.set_columns(host.spec.columns, host.spec.key or ())
        self.show_position()
        host.say(explained, error=True)

    def track(self, spec: BrowseSpec) -> None:
        """The edit transaction follows the grid's order and filter on the same relation."""
        tx = self.host.editor.tx
        if tx is not None and tx.spec.name == spec.name:
            tx.spec = spec

    def back_to_shown(self) -> bool:
        """Put back the spec the grid's rows were read with, if they are of the same relation
        (a change of sort or filter that failed or was cancelled); False when there is none."""
        host, shown = self.host, self.shown
        spec = host.spec
        if shown is None or spec is None or host.database is None or not host.grid.rows:
            return False
        if (shown.schema, shown.name) != (spec.schema, spec.name):
            return False
        if host.grid.columns != tuple(shown.columns):
            return False
        host.spec = shown
        self.track(shown)
        host.pager = Pager(host.database, shown, PAGE_SIZE, host.idle_seconds)
        self.show_title()
        return True

    def show_first(self, page: Page) -> None:
        """The first page, the cursor kept on its row and column if this is a reload."""
        self.shown = self.host.spec
        self.host.grid.reload_page(page)
        self.show_position()

    def estimated_rows(self) -> int | None:
        """The planner's estimate of the open relation's rows, from the catalog."""
        host = self.host
        if host.catalog is None or host.detail is None:
            return None
        oid = host.detail.oid
        relation = next((r for r in host.catalog.relations if r.oid == oid), None)
        return relation.estimated_rows if relation else None

    def show_title(self) -> None:
        """The title over the grid: the relation, its estimate, order, mode and filters."""
        spec = self.host.spec
        assert spec is not None and self.host.detail is not None
        self.host.title_line.heading = Heading(
            spec.schema,
            spec.name,
            self.estimated_rows(),
            spec.sort,
            bool(spec.key),
            filter_summary(spec.filter, spec.equals),
        )

    def show_position(self, suffix: str = "") -> None:
        """Where the grid's cursor is, under the grid: row, rows read, paging mode, more."""
        spec, grid = self.host.spec, self.host.grid
        if spec is None:
            self.host.message.show_position(suffix)
            return
        row = grid.current_row
        where = f"row {row.ordinal + 1:,}" if row is not None and row.ordinal is not None else ""
        mode = "keyset" if spec.uses_keyset else "cursor"
        more = "more below" if grid.more_after else "end"
        parts = (where, f"{counted(len(grid.rows), 'row')} in memory", mode, more)
        self.host.message.show_position(" · ".join(p for p in parts if p) + suffix)

    async def show_value(self, row: Row, column: Column) -> None:
        """Show a whole value; a truncated one is fetched from the server first."""
        host = self.host
        assert host.spec is not None
        index = host.spec.columns.index(column)
        value = row.cells[index]
        if row.truncated(index) and host.pager is not None:
            try:
                value = await host.pager.full_value(row, column.name)
            except (*DB_ERRORS, LookupError) as error:
                host.say(describe_error(error), error=True)
                return
        host.app.push_screen(ValueScreen(column.name, display_type(column.type), value))
