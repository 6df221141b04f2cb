"""The data grid: rows drawn line by line (Textual's Line API), a bounded window of pages.

The grid never holds more than `max_rows` rows. When the cursor nears either end of the
window it asks for more with a `RowsWanted` message; the screen fetches a page and hands it
back with `add_after` / `add_before`, and the grid drops rows from the far end.

Motion keys never wait for a fetch and are never dropped: a move past the window's edge puts
the cursor on the edge row and keeps the rest as a debt (`owed`), paid as the rows arrive, so
twenty PgDn typed ahead over a slow link move exactly twenty screens.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import ClassVar, Literal

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer

from pgconsole.cells import fit
from pgconsole.db.browse.pages import Column, Page, Row
from pgconsole.db.type_names import display_type
from pgconsole.text import visible

Want = Literal["first", "last", "after", "before"]
NULL_TEXT = "NULL"
MIN_WIDTH = 4
MAX_WIDTH = 40
FETCH_MARGIN = 50
"""Rows from the window's edge at which the next page is asked for."""

PAINT_HOLD_SECONDS = 0.006
"""How long a motion that asks for rows may hold the app's next paint for them. A near server
answers within it (2-4 ms here), so the motion and its rows cost one frame rather than two (a
frame of 200x50 takes 6-8 ms to render); from a farther one the motion is painted this much
later, and its rows when they come."""


def cell_text(value: str | None, limit: int | None = None) -> str:
    """One line of a cell: NULL marker, or the value with control characters made visible.

    With `limit`, only that many characters of the value are looked at: a column is never
    drawn wider than MAX_WIDTH, and a console value may hold thousands.
    """
    if value is None:
        return NULL_TEXT
    return visible(value if limit is None else value[:limit])


@dataclass(frozen=True)
class _PaintStyles:
    """The grid's styles for one paint."""

    base: Style
    header: Style
    type: Style
    cursor: Style
    cursor_row: Style
    null: Style
    changed: Style


def row_identity(row: Row) -> tuple[str | None, ...]:
    """What marks a row as the same row across fetches (its ident, else its version)."""
    return row.ident or (row.version,)


class DataGrid(ScrollView, can_focus=True):
    """A relation's rows, a cursor cell, and keys to move through any number of pages."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "datagrid--header",
        "datagrid--type",
        "datagrid--cursor",
        "datagrid--cursor-row",
        "datagrid--null",
        "datagrid--changed",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("right,l", "column(1)", "Right", show=False),
        Binding("left,h", "column(-1)", "Left", show=False),
        Binding("pagedown,ctrl+d", "page(1)", "Page down", show=False),
        Binding("pageup,ctrl+u", "page(-1)", "Page up", show=False),
        Binding("home", "first", "First row"),
        Binding("g", "g", "First row (gg)", show=False),
        Binding("end,G", "last", "Last row"),
        Binding("ctrl+left,0", "column_edge(-1)", "First column", show=False),
        Binding("ctrl+right,dollar_sign", "column_edge(1)", "Last column", show=False),
        Binding("enter", "open_cell", "Value"),
    ]
    DEFAULT_CSS = """
    DataGrid { height: 1fr; }
    DataGrid > .datagrid--header { text-style: bold; background: $panel; }
    DataGrid > .datagrid--type { color: $text-muted; background: $panel; }
    DataGrid > .datagrid--cursor { background: $accent; color: $text; }
    DataGrid > .datagrid--cursor-row { background: $boost; }
    DataGrid > .datagrid--null { color: $text-muted; text-style: italic; }
    DataGrid > .datagrid--changed { background: $warning 40%; }
    """

    @dataclass
    class RowsWanted(Message):
        """The grid needs rows: `first`, `last`, or the page after/before `row`."""

        grid: DataGrid
        want: Want
        row: Row | None

        @property
        def control(self) -> DataGrid:
            return self.grid

    @dataclass
    class CursorMoved(Message):
        """The cursor is on another cell, or the window around it changed."""

        grid: DataGrid

        @property
        def control(self) -> DataGrid:
            return self.grid

    @dataclass
    class CellOpened(Message):
        """Enter on a cell: show its whole value."""

        grid: DataGrid
        row: Row
        column: Column

        @property
        def control(self) -> DataGrid:
            return self.grid

    def __init__(self, *, max_rows: int = 300, id: str | None = None) -> None:
        super().__init__(id=id)
        self.max_rows = max_rows
        self.columns: tuple[Column, ...] = ()
        self.key: tuple[str, ...] = ()
        self.rows: list[Row] = []
        self.widths: list[int] = []
        self.cursor_row = 0
        self.cursor_column = 0
        self.more_before = False
        self.more_after = False
        self.pending: Want | None = None
        self.stale = False
        """The rows shown were read before a reload failed (a lost server): Home reads the
        first page again even when the window starts there."""
        """The page asked for and not received yet."""
        self.owed = 0
        """Rows of typed motion still to make once rows arrive (negative: upwards). When
        `jump` is set, counted from where the jump lands."""
        self.jump: Literal["first", "last"] | None = None
        """Home or End asked for a page that has not been shown yet."""
        self.rows_seen = 0
        """Rows received since the relation was opened (memory stays bounded regardless)."""
        self._g_pending = False
        self._hold: tuple[AbstractContextManager[None], Timer] | None = None
        self._paint: _PaintStyles | None = None
        self.changed: dict[tuple[str | None, ...], set[int]] = {}
        """Cells changed in the open transaction: row identity → column indexes."""

    # -- data in ---------------------------------------------------------------------------

    def set_columns(self, columns: Sequence[Column], key: Sequence[str] = ()) -> None:
        """A new relation (or query): forget the rows."""
        self.columns = tuple(columns)
        self.key = tuple(key)
        self.rows = []
        self.cursor_row = self.cursor_column = 0
        self.more_before = self.more_after = False
        self.pending = None
        self.owed = 0
        self.jump = None
        self.changed = {}
        self.widths = [self._header_width(c) for c in self.columns]
        self._resize()

    def show_page(self, page: Page, *, at_end: bool = False) -> None:
        """Replace the window with `page` (the first or last page); Home or End lands here."""
        if self.jump == ("last" if at_end else "first"):
            self.jump = None
        self.rows = list(page.rows)
        self.more_before, self.more_after = page.more_before, page.more_after
        self.cursor_row = len(self.rows) - 1 if at_end and self.rows else 0
        self._received(page)
        self.scroll_to(y=max(0, self.cursor_row - self._body_height() + 1), animate=False)
        if not at_end:
            self.scroll_to(y=0, animate=False)
        else:
            # The new widths may add a horizontal scrollbar, one body line less: look again
            # once the layout knows.
            self.call_after_refresh(self._keep_cursor_visible)
        self._pay()

    def reload_page(self, page: Page) -> None:
        """Replace the window with `page` read again: the cursor stays on its row (found by
        identity) when the page holds it, and on its column whatever happens.

        Motion typed before the reload is forgotten: it was meant for the old rows.
        """
        was = self.current_row
        offset = self.cursor_row - int(self.scroll_y)
        self.owed, self.jump = 0, None
        self.rows = list(page.rows)
        self.more_before, self.more_after = page.more_before, page.more_after
        found = None if was is None else self._find(was)
        self.cursor_row = found or 0
        self.cursor_column = min(self.cursor_column, max(0, len(self.columns) - 1))
        self._received(page)
        self.scroll_to(y=max(0, self.cursor_row - offset), animate=False)
        self._keep_cursor_visible()

    def _find(self, row: Row) -> int | None:
        """The index of the window's row that is the same row as `row`, if any.

        By ident (key values, or tableoid and ctid) when the rows have one, else by the
        keyset bookmark; never by version alone (rows without an ident share none).
        """
        if row.ident:
            return next((i for i, r in enumerate(self.rows) if r.ident == row.ident), None)
        if row.position:
            return next((i for i, r in enumerate(self.rows) if r.position == row.position), None)
        return None

    def add_after(self, page: Page) -> None:
        """Append the page that follows the window, dropping rows from the top."""
        self.rows.extend(page.rows)
        self.more_after = page.more_after
        overflow = len(self.rows) - self.max_rows
        if overflow > 0:
            del self.rows[:overflow]
            self.cursor_row -= overflow
            self.more_before = True
            self.scroll_to(y=max(0, self.scroll_y - overflow), animate=False)
        self._received(page)
        self._pay()

    def add_before(self, page: Page) -> None:
        """Prepend the page that precedes the window, dropping rows from the bottom."""
        self.rows[:0] = page.rows
        self.more_before = page.more_before
        self.cursor_row += len(page.rows)
        self.scroll_to(y=self.scroll_y + len(page.rows), animate=False)
        overflow = len(self.rows) - self.max_rows
        if overflow > 0:
            del self.rows[-overflow:]
            self.more_after = True
        self._received(page)
        self._pay()

    def _received(self, page: Page) -> None:
        self.pending = None
        self._release_paint()
        self.stale = False
        self.rows_seen += len(page.rows)
        self._widen(page.rows)
        self._resize()
        self._keep_cursor_visible()

    def _pay(self) -> None:
        """Ask for the next page a typed-ahead jump or motion needs, or make the motion."""
        if self.jump is not None:
            self._want(self.jump, None)
        elif self.owed:
            self._move_to(self.cursor_row + self.owed)

    def fetch_failed(self) -> None:
        """The page asked for did not come: nothing is pending, and typed motion is dropped
        rather than made later by surprise."""
        self.pending = None
        self._release_paint()
        self.owed = 0
        self.jump = None

    # -- edits -----------------------------------------------------------------------------

    def replace_row(self, old: Row, new: Row, changed: set[int]) -> None:
        """Show `new` where `old` is, its `changed` columns highlighted."""
        index = self._index_of(old)
        if index is None:
            return
        marks = self.changed.pop(row_identity(old), set())
        self.changed[row_identity(new)] = marks | changed
        self.rows[index] = new
        self._widen([new])
        self._resize()

    def insert_row(self, row: Row) -> None:
        """Show a new row under the cursor, every cell highlighted."""
        at = min(self.cursor_row + 1, len(self.rows))
        self.rows.insert(at, row)
        self.changed[row_identity(row)] = set(range(len(self.columns)))
        self.cursor_row = at
        self._widen([row])
        self._resize()
        self._keep_cursor_visible()

    def remove_row(self, row: Row) -> None:
        """Take a deleted row out of the window."""
        index = self._index_of(row)
        if index is None:
            return
        del self.rows[index]
        self.changed.pop(row_identity(row), None)
        self.cursor_row = max(0, min(self.cursor_row, len(self.rows) - 1))
        self._resize()
        self._keep_cursor_visible()

    def clear_changes(self) -> None:
        """Committed or rolled back: no highlight any more."""
        self.changed.clear()
        self.refresh()

    def _index_of(self, row: Row) -> int | None:
        return next((i for i, r in enumerate(self.rows) if r is row), None)

    def _widen(self, rows: Sequence[Row]) -> None:
        """Grow the column widths to fit `rows` (up to MAX_WIDTH)."""
        for row in rows:
            for i, value in enumerate(row.cells):
                shown = cell_len(cell_text(value, MAX_WIDTH + 1))
                self.widths[i] = max(self.widths[i], min(shown, MAX_WIDTH))

    # -- geometry --------------------------------------------------------------------------

    def _header_width(self, column: Column) -> int:
        marker = 2 if column.name in self.key else 0
        label = cell_len(visible(column.name)) + marker
        return max(MIN_WIDTH, min(max(label, cell_len(display_type(column.type))), MAX_WIDTH))

    def _line_width(self) -> int:
        return sum(w + 1 for w in self.widths)

    def _body_height(self) -> int:
        # Rows visible under the two header lines, scrollbars excluded.
        return max(1, self.scrollable_content_region.height - 2)

    def _resize(self) -> None:
        self.virtual_size = Size(self._line_width(), len(self.rows) + 2)
        self.refresh()

    def _keep_cursor_visible(self) -> None:
        top = int(self.scroll_y)
        height = self._body_height()
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + height:
            self.scroll_to(y=self.cursor_row - height + 1, animate=False)
        left = sum(w + 1 for w in self.widths[: self.cursor_column])
        right = left + (self.widths[self.cursor_column] if self.widths else 0)
        if left < self.scroll_x:
            self.scroll_to(x=left, animate=False)
        elif right > self.scroll_x + self.scrollable_content_region.width:
            self.scroll_to(x=right - self.scrollable_content_region.width + 1, animate=False)
        self.refresh()
        self.post_message(self.CursorMoved(self))

    # -- drawing ---------------------------------------------------------------------------

    def _paint_styles(self) -> _PaintStyles:
        return _PaintStyles(
            base=self.rich_style,
            header=self.get_component_rich_style("datagrid--header"),
            type=self.get_component_rich_style("datagrid--type"),
            cursor=self.get_component_rich_style("datagrid--cursor"),
            cursor_row=self.get_component_rich_style("datagrid--cursor-row"),
            null=self.get_component_rich_style("datagrid--null"),
            changed=self.get_component_rich_style("datagrid--changed"),
        )

    def render_lines(self, crop: Region) -> list[Strip]:
        # The component styles are looked up once per paint, not once per line.
        self._paint = self._paint_styles()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        if self._paint is None:  # called on its own, before any paint
            self._paint = self._paint_styles()
        width = self.size.width
        scroll_x = int(self.scroll_x)
        if y == 0:
            strip = self._header_strip()
        elif y == 1:
            strip = self._type_strip()
        else:
            index = int(self.scroll_y) + y - 2
            if index >= len(self.rows):
                return Strip.blank(width, self._paint.base)
            strip = self._row_strip(index)
        return strip.crop(scroll_x, scroll_x + width).extend_cell_length(width, self._paint.base)

    def _header_strip(self) -> Strip:
        assert self._paint is not None
        style = self._paint.header
        segments = []
        for column, width in zip(self.columns, self.widths, strict=True):
            label = visible(column.name) + (" ⚷" if column.name in self.key else "")
            segments.append(Segment(fit(label, width, column.numeric) + " ", style))
        return Strip(segments)

    def _type_strip(self) -> Strip:
        assert self._paint is not None
        style = self._paint.type
        return Strip(
            Segment(fit(display_type(column.type), width, column.numeric) + " ", style)
            for column, width in zip(self.columns, self.widths, strict=True)
        )

    def _row_strip(self, index: int) -> Strip:
        paint = self._paint
        assert paint is not None
        row = self.rows[index]
        on_cursor_row = index == self.cursor_row and self.has_focus
        row_style = paint.base + paint.cursor_row if on_cursor_row else paint.base
        null_style = paint.null
        cursor_style = paint.cursor
        changed = self.changed.get(row_identity(row), ()) if self.changed else ()
        segments = []
        for i, (column, width) in enumerate(zip(self.columns, self.widths, strict=True)):
            value = row.cells[i]
            style: Style = row_style + null_style if value is None else row_style
            if i in changed:
                style = style + paint.changed
            if on_cursor_row and i == self.cursor_column:
                style = style + cursor_style
            text = fit(cell_text(value, width + 1), width, column.numeric and value is not None)
            if row.truncated(i) and not text.endswith("…"):
                text = set_cell_size(text, width - 1) + "…"
            segments.append(Segment(text, style))
            segments.append(Segment(" ", row_style))
        return Strip(segments)

    def on_unmount(self) -> None:
        self._release_paint()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- movement --------------------------------------------------------------------------

    @property
    def current_row(self) -> Row | None:
        """The row under the cursor."""
        return self.rows[self.cursor_row] if self.rows else None

    @property
    def current_column(self) -> Column | None:
        """The column under the cursor."""
        return self.columns[self.cursor_column] if self.columns else None

    def _want(self, want: Want, row: Row | None) -> None:
        if self.pending is None:
            self.pending = want
            self._hold_paint()
            self.post_message(self.RowsWanted(self, want, row))

    def _hold_paint(self) -> None:
        """Hold the app's next paint until the rows asked for arrive, for at most
        PAINT_HOLD_SECONDS: from a near server they come within it, and the motion and its
        rows are painted once, not in two frames."""
        if self._hold is None and self.is_attached:
            batch = self.app.batch_update()
            batch.__enter__()
            self._hold = (batch, self.app.set_timer(PAINT_HOLD_SECONDS, self._release_paint))

    def _release_paint(self) -> None:
        if self._hold is not None:
            (batch, timer), self._hold = self._hold, None
            timer.stop()
            batch.__exit__(None, None, None)
            self.refresh()  # the screen went idle holding the motion: paint it now

    def _move_to(self, index: int) -> None:
        """Put the cursor on row `index` of the window; what lies beyond a window edge that
        has more rows behind it is owed until they arrive."""
        if not self.rows:
            return
        last = len(self.rows) - 1
        self.cursor_row = max(0, min(index, last))
        if index > last and self.more_after:
            self.owed = index - last
        elif index < 0 and self.more_before:
            self.owed = index
        else:
            self.owed = 0
        self._keep_cursor_visible()
        if self.more_after and self.cursor_row >= len(self.rows) - FETCH_MARGIN:
            self._want("after", self.rows[-1])
        elif self.more_before and self.cursor_row < FETCH_MARGIN:
            self._want("before", self.rows[0])

    def _move_by(self, delta: int) -> None:
        if self.pending is None:
            # Nothing is on its way (a fetch failed and only `pending` was reset): no debt.
            self.owed, self.jump = 0, None
        if self.jump is not None:  # Home or End is on its way: move from where it lands
            self.owed += delta
        else:
            self._move_to(self.cursor_row + self.owed + delta)

    def action_move(self, delta: int) -> None:
        """Move the cursor by rows, fetching ahead across page boundaries."""
        self._g_pending = False
        self._move_by(delta)

    def action_page(self, direction: int) -> None:
        """Move the cursor by a screenful."""
        self._g_pending = False
        self._move_by(direction * self._body_height())

    def action_column(self, delta: int) -> None:
        """Move the cursor to a neighbouring column."""
        if self.columns:
            self.cursor_column = max(0, min(self.cursor_column + delta, len(self.columns) - 1))
            self._keep_cursor_visible()

    def action_column_edge(self, direction: int) -> None:
        """First or last column."""
        if self.columns:
            self.cursor_column = 0 if direction < 0 else len(self.columns) - 1
            self._keep_cursor_visible()

    def action_g(self) -> None:
        """`gg` goes to the first row, as in vim."""
        if self._g_pending:
            self.action_first()
        else:
            self._g_pending = True
            self.set_timer(1.0, self._clear_g)

    def _clear_g(self) -> None:
        self._g_pending = False

    def action_first(self) -> None:
        """The first row: fetched again when the window does not start there."""
        self._g_pending = False
        self._jump("first", self.more_before or self.stale)

    def action_last(self) -> None:
        """The last row: the last page is fetched directly, at any depth."""
        self._g_pending = False
        self._jump("last", self.more_after)

    def _jump(self, edge: Literal["first", "last"], fetch: bool) -> None:
        self.owed = 0
        if fetch or self.jump is not None:  # a jump on its way lands in another window
            self.jump = edge
            self._want(edge, None)
        else:
            self._move_to(0 if edge == "first" else len(self.rows) - 1)

    def action_open_cell(self) -> None:
        """Ask to show the whole value under the cursor."""
        row, column = self.current_row, self.current_column
        if row is not None and column is not None:
            self.post_message(self.CellOpened(self, row, column))
