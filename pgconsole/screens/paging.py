"""Paging a screen's grid: the fetch worker, and the idle cursor closed on time.

The browser and the console page their grid the same way. The grid asks for rows
(`DataGrid.RowsWanted`); the screen hands the request to its `GridPaging`, which reads the
page from a `Pages` source (`Pager` for a relation, `ResultPager` for a console query) in a
worker of the screen and gives it to the grid. A source that streams through a cursor holds
a transaction open between pages: the controller keeps one timer at the cursor's idle
deadline and closes it then, so no snapshot holds back VACUUM while the user looks away.

The screen keeps what is shown and what is said about it; the controller only moves pages
and tells the screen through three callbacks (`paged`, `failed`, `idle_closed`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker

from pgconsole.db.browse.pages import IdleCursor, Pages, Row
from pgconsole.db.connection.errors import DB_ERRORS
from pgconsole.widgets.grid import DataGrid, Want

RETRY_SECONDS = 0.05
"""When the cursor could not be closed at its deadline (a fetch holds it, or it was used
since the timer was set), it is looked at again this much later. Also the shortest timer set:
Textual's one-shot timer divides by its delay, so a zero delay (a deadline already passed)
would end the timer without a call and leave the cursor open."""


def _ignore(*_args: object) -> None:
    pass


class GridPaging:
    """The fetch worker and the idle-cursor timer of one screen's grid.

    Owned by the screen, built in its `__init__` (the grid and the source are read when
    needed, so both may come and go)::

        self.paging = GridPaging(
            self, lambda: self.grid, lambda: self.pager,
            paged=lambda pages: self.show_position(),
            failed=lambda error: self.say(describe_error(error), error=True),
            idle_closed=lambda: self.show_position(" · cursor closed while idle"),
        )

        @on(DataGrid.RowsWanted)
        def rows_wanted(self, event: DataGrid.RowsWanted) -> None:
            self.paging.fetch(event.want, event.row)

    The screen calls `arm_idle_close` after anything else that used the cursor (a first
    page it read itself, a statement on the same connection).
    """

    def __init__(
        self,
        screen: Screen[Any],
        grid: Callable[[], DataGrid],
        pages: Callable[[], Pages | None],
        *,
        cursor: Callable[[], IdleCursor | None] | None = None,
        group: str = "fetch",
        paged: Callable[[Pages], None] = _ignore,
        failed: Callable[[BaseException], None] = _ignore,
        idle_closed: Callable[[], None] = _ignore,
    ) -> None:
        """Args:
        screen: Runs the fetch worker and the idle timer (both end with it).
        grid: The grid the pages go to.
        pages: What the grid pages through now; None when there is nothing to page.
        cursor: What holds the transaction to close when idle, when not `pages` itself
            (the console: its session's one cursor transaction, whichever result holds it).
        group: The fetch worker's group: a new request cancels the one before it. The
            screen's `worker_failed` sees it when the fetch fails with a bug.
        paged: A page reached the grid (from the source given).
        failed: A page could not be read (a database error); the grid has stopped waiting.
        idle_closed: The cursor was closed for idling.
        """
        self.screen = screen
        self.group = group
        self._grid = grid
        self._pages = pages
        self._cursor = cursor or pages
        self._paged = paged
        self._failed = failed
        self._idle_closed = idle_closed
        self._timer: Timer | None = None

    def fetch(self, want: Want, row: Row | None) -> Worker[None] | None:
        """Read the page the grid asked for (`DataGrid.RowsWanted`) in an exclusive worker.

        With nothing to page the grid stops waiting, and no worker runs (None).
        """
        pages = self._pages()
        if pages is None:
            self._grid().fetch_failed()
            return None
        return self.screen.run_worker(
            self._fetch(pages, want, row),
            name="fetch",
            group=self.group,
            exclusive=True,
            exit_on_error=False,
        )

    async def _fetch(self, pages: Pages, want: Want, row: Row | None) -> None:
        grid = self._grid()
        try:
            if want == "first":
                grid.show_page(await pages.first())
            elif want == "last":
                grid.show_page(await pages.last(), at_end=True)
            elif want == "after" and row is not None:
                grid.add_after(await pages.after(row))
            elif want == "before" and row is not None:
                grid.add_before(await pages.before(row))
        except DB_ERRORS as error:
            grid.fetch_failed()
            self._failed(error)
            return
        finally:
            self.arm_idle_close()
        self._paged(pages)

    def arm_idle_close(self, at_least: float = 0.0) -> None:
        """One timer, at the cursor's idle deadline (none when no cursor is open)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        cursor = self._cursor()
        deadline = cursor.idle_deadline if cursor is not None else None
        if deadline is not None:
            delay = max(at_least, deadline - time.monotonic(), RETRY_SECONDS)
            self._timer = self.screen.set_timer(delay, self.close_idle_cursor)

    async def close_idle_cursor(self) -> None:
        """The timer's call: close the cursor if it idled long enough, else look again."""
        self._timer = None
        cursor = self._cursor()
        if cursor is not None and await cursor.close_if_idle():
            self._idle_closed()
        else:
            # A fetch holds the cursor right now (its end sets a new deadline), or the cursor
            # was used since the timer was set: look again a little later.
            self.arm_idle_close(at_least=RETRY_SECONDS)
