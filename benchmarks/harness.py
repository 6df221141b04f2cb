"""Driving pgconsole headless and timing what reaches the screen.

Pilot's `press()` and `pause()` wait for the process to look idle (at least 20 ms each, on
purpose, for tests), so a benchmark cannot time through them. Here a key is sent the way the
terminal driver sends one (`driver.send_message(Key)`), and the clock stops when Textual has
rendered the frame that shows the key's effect: `MeasuredApp` checks the waiting conditions
right after each frame is composed, and turns each frame into the bytes a terminal would get
(headless runs skip that step), so a frame costs what it costs in a real terminal.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import RenderableType
from textual import events
from textual._compositor import CompositorUpdate
from textual.app import App
from textual.screen import Screen

from pgconsole.app import PgConsoleApp
from pgconsole.config import Settings
from pgconsole.db.connection.params import ConnectParams
from pgconsole.screens.main import MainScreen
from pgconsole.widgets.grid import DataGrid

SIZE = (80, 24)
"""Terminal size for every in-process run, as in the UI tests."""
QUIET = 0.05
"""Seconds without a new frame (and no fetch in flight) before the next key is sent."""


class MeasuredApp(PgConsoleApp):
    """pgconsole, noting when each frame is rendered and which conditions it satisfied."""

    def __init__(self, params: ConnectParams, settings: Settings, table: str | None = None):
        super().__init__(params, settings, table=table)
        self.frames = 0
        self.last_frame = 0.0
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[float]]] = []

    def _display(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        if (
            renderable is not None
            and self.is_headless
            and not self._batch_count
            and isinstance(renderable, CompositorUpdate)
        ):
            renderable.render_segments(self.console)  # what a real driver would write
        super()._display(screen, renderable)
        if renderable is None:
            return
        now = time.perf_counter()
        self.frames += 1
        self.last_frame = now
        for waiter in list(self._waiters):
            predicate, future = waiter
            if future.done():
                self._waiters.remove(waiter)
            elif _holds(predicate):
                future.set_result(now)
                self._waiters.remove(waiter)

    def painted_when(self, predicate: Callable[[], bool]) -> asyncio.Future[float]:
        """A future set to the time of the first frame rendered from now on where `predicate`
        holds (checked right after the frame, so against the state the frame shows)."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        return future

    def send_key(self, key: str) -> float:
        """Deliver a key as the terminal driver does; returns the time it was sent."""
        return send_key(self, key)


def send_key(app: App[Any], key: str) -> float:
    """Deliver a key to `app` as its terminal driver does; returns the time it was sent."""
    assert app._driver is not None
    event = events.Key(key, key if len(key) == 1 else None)
    event.set_sender(app)
    sent = time.perf_counter()
    app._driver.send_message(event)
    return sent


def _holds(predicate: Callable[[], bool]) -> bool:
    try:
        return predicate()
    except Exception:  # widgets not mounted yet, no relation open yet...
        return False


async def painted(app: MeasuredApp, predicate: Callable[[], bool], within: float = 60) -> float:
    """Wait for a frame in which `predicate` holds; returns that frame's time."""
    return await asyncio.wait_for(app.painted_when(predicate), within)


async def settle(app: MeasuredApp, within: float = 120) -> None:
    """Until no fetch is in flight and no frame has been rendered for `QUIET` seconds."""
    deadline = time.monotonic() + within
    grid = app.main_screen.grid
    while time.monotonic() < deadline:
        frames = app.frames
        await asyncio.sleep(QUIET)
        if frames == app.frames and grid.pending is None:
            return
    raise TimeoutError("the app did not settle")


def screen_of(app: PgConsoleApp) -> MainScreen:
    """The main screen."""
    return app.main_screen


@dataclass(frozen=True)
class Press:
    """One key press: seconds to the first frame showing it, and to the frame with its rows."""

    feedback: float
    complete: float
    fetched: bool
    """The press made the grid fetch a page (so `complete` includes a round trip)."""
    owed: bool = False
    """The first frame could not show the page asked for: part of the motion waited for
    the fetched rows (typed ahead of them). Otherwise the fetched rows lie beyond the
    screen, and the first frame shows what was asked for."""


def _grid_state(grid: DataGrid) -> tuple[int, int, int]:
    return grid.cursor_row, grid.rows_seen, id(grid.rows)


async def timed_press(app: MeasuredApp, key: str, within: float = 120) -> Press:
    """Send `key` to a settled app; time the first frame that shows it and the frame that
    shows any page it asked for."""
    grid = app.main_screen.grid
    before = _grid_state(grid)
    seen = grid.rows_seen
    owed: list[int] = []

    def shows_the_press() -> bool:
        if _grid_state(grid) != before or grid.pending is not None:
            owed.append(grid.owed)
            return True
        return False

    feedback = app.painted_when(shows_the_press)
    complete = app.painted_when(lambda: _grid_state(grid) != before and grid.pending is None)
    sent = app.send_key(key)
    done = await asyncio.wait_for(complete, within)
    first = await asyncio.wait_for(feedback, within)
    return Press(first - sent, done - sent, fetched=grid.rows_seen != seen, owed=any(owed))


def _at_edge(grid: DataGrid, key: str) -> bool:
    """Whether `key` would do nothing: the cursor is on the relation's first or last row."""
    if key == "pageup":
        return not grid.more_before and grid.cursor_row == 0
    return not grid.more_after and grid.cursor_row >= len(grid.rows) - 1


async def presses_until(
    app: MeasuredApp, key: str, fetches: int, *, warm_up: int = 0, max_presses: int = 400
) -> list[Press]:
    """Press `key` at a human pace until `fetches` presses have fetched a page (or the cursor
    reaches the relation's edge). The first `warm_up` fetching presses are not returned."""
    grid = app.main_screen.grid
    presses: list[Press] = []
    skipped = 0
    while sum(p.fetched for p in presses) < fetches and len(presses) < max_presses:
        if _at_edge(grid, key):
            break
        await settle(app)
        press = await timed_press(app, key)
        if press.fetched and skipped < warm_up:
            skipped += 1
            continue
        presses.append(press)
    await settle(app)
    return presses


async def until(predicate: Callable[[], bool], within: float = 60, poll: float = 0.0005) -> None:
    """Let the loop run until `predicate()` holds (checked every `poll` seconds)."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"still waiting after {within} s")
        await asyncio.sleep(poll)
