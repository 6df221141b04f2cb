"""A panel of the diagnostics screen: what it reads, how often, and how it shows it.

The screen shows one panel at a time and runs only that panel's reading, on its own
connection (`Sampler`): a panel out of sight costs the server nothing.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.containers import Vertical

from pgconsole.db.connection.pool import Conn


class Panel(Vertical):
    """One panel: a title for the tab line, a refresh interval, a read and a show."""

    TITLE: ClassVar[str] = ""
    INTERVAL: ClassVar[float] = 2.0
    """Seconds between readings."""
    ACTIONS: ClassVar[frozenset[str]] = frozenset()
    """The screen's actions that apply to this panel (the others are hidden meanwhile)."""

    readings = 0
    """Readings shown so far (tests wait on it)."""

    async def read(self, conn: Conn) -> Any:
        """One reading, on the screen's connection."""
        raise NotImplementedError

    def show(self, reading: Any) -> None:
        """Render a reading."""
        raise NotImplementedError

    def status(self) -> str:
        """What the status line adds for this panel (its own cost, what it cannot see)."""
        return ""

    def forget_connection(self) -> None:
        """The connection was lost: anything read once per connection is read again."""
