"""The message line under a grid: a sticky alert, the last note, and the routine position.

It draws itself for its own width, again whenever that width changes (the tree pane beside it
sized to its labels, a terminal resized), so the right-aligned position never wraps onto a
second line drawn for an older width.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widgets import Static

from pgconsole.text import visible


def message_text(
    alert: str, note: str, position: str, width: int, note_style: str = "dim"
) -> tuple[Text, int]:
    """The message line and its height at `width` cells.

    A sticky `alert` (red) over the last `note` (dim by default); the routine `position`
    right-aligned on the last line when it fits there, else on a line of its own. Text is
    shown literally.
    """
    lines = [
        Text(line, style=style)
        for message, style in ((alert, "red"), (note, note_style))
        if message
        for line in visible(message, keep_newlines=True).split("\n")
    ]
    if position:
        gap = width - cell_len(position) - (cell_len(lines[-1].plain) if lines else 0)
        if lines and gap >= 2:
            lines[-1].append(" " * gap + position, style="dim")
        else:
            lines.append(Text(" " * max(0, width - cell_len(position)) + position, style="dim"))
    height = sum(max(1, -(-cell_len(line.plain) // max(1, width))) for line in lines)
    return Text("\n").join(lines), height


class MessageLine(Static):
    """`message_text` shown at the widget's own width."""

    def __init__(self, *, note_style: str = "dim", id: str | None = None) -> None:
        super().__init__(id=id)
        self._parts = ("", "", "")
        self._note_style = note_style

    def show(self, alert: str, note: str, position: str) -> None:
        """Show these three parts (an empty one is left out)."""
        self._parts = (alert, note, position)
        self._draw()

    def _draw(self) -> None:
        text, height = message_text(*self._parts, self.content_region.width, self._note_style)
        # A new layout only when the height is not the one laid out (a layout costs a frame on
        # every cursor move); the laid-out height, not the last one asked for: a layout run at
        # another width may have wrapped the text onto more lines.
        self.update(text, layout=height != self.size.height)

    def on_resize(self, event: events.Resize) -> None:
        self._draw()
