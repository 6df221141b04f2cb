"""The activity screen's sessions: a table drawn line by line, cheap to refresh every second.

Textual's DataTable renders every visible cell again whenever one cell changes, and ages
change every second: at one refresh a second that alone cost several percent of a core.
This table formats only the lines on screen, from plain strings, and keeps the cursor on
the same pid across refreshes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from pgconsole.widgets.session_rows import SessionRow, column_widths, line_text


class SessionTable(ScrollView, can_focus=True):
    """Sessions, one per line, a header, and a row cursor that follows its pid."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "sessiontable--header",
        "sessiontable--cursor",
        "sessiontable--own",
        "sessiontable--idle-tx",
        "sessiontable--long",
        "sessiontable--waiting",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("home", "edge(-1)", "First", show=False),
        Binding("end", "edge(1)", "Last", show=False),
    ]
    DEFAULT_CSS = """
    SessionTable { height: 1fr; }
    SessionTable > .sessiontable--header { text-style: bold; background: $panel; }
    SessionTable > .sessiontable--cursor { background: $accent; }
    SessionTable > .sessiontable--own { text-style: dim; }
    SessionTable > .sessiontable--idle-tx { color: $warning; }
    SessionTable > .sessiontable--long { color: $error; text-style: bold; }
    SessionTable > .sessiontable--waiting { color: $secondary; text-style: bold; }
    """

    def __init__(self, headers: Sequence[str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.headers = tuple(headers)
        self.rows: list[SessionRow] = []
        self.widths = [len(h) for h in self.headers]
        self.cursor = 0
        self._line_styles: dict[tuple[str | None, bool], Style] = {}

    # -- data --------------------------------------------------------------------------------

    def show(self, rows: Sequence[SessionRow], headers: Sequence[str] | None = None) -> None:
        """Replace the rows (and the columns, given `headers`); the cursor stays on its pid
        when that pid is still there."""
        pid = self.selected_pid
        if headers is not None:
            self.headers = tuple(headers)
        self.rows = list(rows)
        self.widths = column_widths(self.headers, self.rows)
        index = self._index_of(pid)
        if index is not None and index != self.cursor:
            self._move_to(index, refresh=False)  # refreshed below
        self.cursor = max(0, min(self.cursor, len(self.rows) - 1))
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)
        self.refresh()

    @property
    def selected_pid(self) -> int | None:
        """The pid under the cursor."""
        return self.rows[self.cursor].pid if self.rows else None

    def select_pid(self, pid: int) -> bool:
        """Put the cursor on `pid`; False when it is not listed."""
        index = self._index_of(pid)
        if index is None:
            return False
        self._move_to(index)
        return True

    def _index_of(self, pid: int | None) -> int | None:
        if pid is None:
            return None
        return next((i for i, row in enumerate(self.rows) if row.pid == pid), None)

    # -- drawing -----------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            return self._strip(self.headers, self._line_style("header"), width)
        index = int(self.scroll_y) + y - 1
        if index >= len(self.rows):
            return Strip.blank(width, self._line_style(None))
        row = self.rows[index]
        cursor = index == self.cursor and self.has_focus
        return self._strip(row.cells, self._line_style(row.mark, cursor), width)

    def _line_style(self, component: str | None, cursor: bool = False) -> Style:
        """The widget's style with a line's component's and the cursor's over it: combined
        once, not for every line of every refresh (until the styles change)."""
        key = (component, cursor)
        style = self._line_styles.get(key)
        if style is None:
            style = self.rich_style
            if component:
                style = style + self.get_component_rich_style(f"sessiontable--{component}")
            if cursor:
                style = style + self.get_component_rich_style("sessiontable--cursor")
            self._line_styles[key] = style
        return style

    def notify_style_update(self) -> None:
        self._line_styles.clear()
        super().notify_style_update()

    def _strip(self, cells: Sequence[str], style: Style, width: int) -> Strip:
        # The query is cut with an ellipsis (Enter shows it whole) where the scrollbar, drawn
        # over the line, begins.
        shown = min(width, self.scrollable_content_region.width)
        line = line_text(cells, self.widths, shown)
        return Strip([Segment(line + " " * (width - max(shown, 0)), style)], width)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- movement ----------------------------------------------------------------------------

    def _move_to(self, index: int, *, refresh: bool = True) -> None:
        if not self.rows:
            return
        self.cursor = max(0, min(index, len(self.rows) - 1))
        height = max(1, self.size.height - 1)
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)
        if refresh:
            self.refresh()

    def action_move(self, delta: int) -> None:
        """A row up or down."""
        self._move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        """A screenful up or down."""
        self._move_to(self.cursor + direction * max(1, self.size.height - 1))

    def action_edge(self, direction: int) -> None:
        """First or last row."""
        self._move_to(0 if direction < 0 else len(self.rows) - 1)
