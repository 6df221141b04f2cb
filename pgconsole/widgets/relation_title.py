"""The line over the browse grid: the open relation, its estimate, order, mode and filters.

Before a relation is open it says where the session stands (`connecting to …`, the target).
It draws itself for its own width, again whenever that width changes (the tree pane beside it
shown, hidden or resized, a terminal resized): the filter gets what the rest leaves.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual import events
from textual.reactive import reactive
from textual.widgets import Static

from pgconsole.db.browse.pages import Sort
from pgconsole.text import visible
from pgconsole.widgets.schema_tree import human_rows

MIN_FILTER_CELLS = 8
"""The filter keeps at least this many cells, however long the rest of the title."""


@dataclass(frozen=True)
class Heading:
    """What the title says of the open relation."""

    schema: str
    name: str
    estimated_rows: int | None
    """The planner's estimate (None: never analyzed, or the catalog is not in yet)."""
    sort: Sort | None
    keyed: bool
    """Paged by its key; without one, by a cursor (said in yellow)."""
    filters: str
    """The active filters on one line (empty: none)."""


def cut_to(text: str, cells: int) -> str:
    """`text` in at most `cells` terminal cells, ending in `…` when cut."""
    if cell_len(text) <= cells:
        return text
    if cells < 1:
        return ""
    return set_cell_size(text, cells - 1).rstrip() + "…"


def heading_text(heading: Heading, width: int) -> Text:
    """The title at `width` cells (its padding included): `shop.item ≈2.0M rows ↑name`, then
    ` where …` cut to what is left, the order and a keyless mode after it."""
    title = Text.assemble(
        (visible(f"{heading.schema}.{heading.name}"), "bold"),
        f" {human_rows(heading.estimated_rows)} {'row' if heading.estimated_rows == 1 else 'rows'}",
    )
    tail = Text()
    if heading.sort:
        arrow = "↓" if heading.sort.descending else "↑"
        tail.append(f" {arrow}{visible(heading.sort.column)}", style="cyan")
    if not heading.keyed:
        tail.append(" no key: cursor", style="yellow")
    summary = visible(heading.filters)
    if summary:
        # The expression gets what the rest leaves of the width (padding: 2 cells).
        room = width - 2 - title.cell_len - tail.cell_len - len(" where ")
        title.append(" where ", style="bold magenta")
        title.append(cut_to(summary, max(room, MIN_FILTER_CELLS)), style="magenta")
    return title + tail


class RelationTitle(Static):
    """`heading_text` of the heading it is given, at its own width; or a line of text."""

    heading: reactive[Heading | Text] = reactive(Text, init=False, always_update=True)
    """The open relation, or what to say before there is one (`connecting to …`)."""

    def __init__(self, text: Text, *, id: str | None = None) -> None:
        """Args:
        text: What to say until `heading` is set.
        id: The widget's id.
        """
        super().__init__(text, id=id)
        self.set_reactive(RelationTitle.heading, text)

    def watch_heading(self, heading: Heading | Text) -> None:
        if isinstance(heading, Text):
            self.update(heading)
        else:
            self._draw(heading)

    def on_resize(self, event: events.Resize) -> None:
        if isinstance(self.heading, Heading):  # the filter is cut to the width
            self._draw(self.heading)

    def _draw(self, heading: Heading) -> None:
        # Before its first layout the title has no width: the screen's is the best guess.
        self.update(heading_text(heading, self.size.width or self.screen.size.width))
