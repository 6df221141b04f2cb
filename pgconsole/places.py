"""Places: the browser, the activity screen, the SQL console and the diagnostics, one at a time.

Each is shown directly above the browser, never stacked on another: F3 always means the activity
screen, F4 the console, and each pressed again on its own screen the browser; `d` on the
activity screen opens the diagnostics. Esc on the activity screen, the diagnostics (and in the
console's editor) goes back one step, to the place shown before it.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from textual.app import App, ScreenStackError
from textual.screen import Screen

from pgconsole.db.connection.pool import Database
from pgconsole.messages import Place

if TYPE_CHECKING:
    from pgconsole.db.activity.sampler import FirstSample
    from pgconsole.db.console.connection import ConsoleConnection
    from pgconsole.db.diagnostics.waits import WaitHistory
    from pgconsole.db.recording.rewind import RewindBuffer
    from pgconsole.screens.console import ConsoleScreen

TRAIL_KEPT = 20
"""Places remembered for Esc (one step back each)."""


def place_of(screen: Screen[Any]) -> Place | None:
    """Which place `screen` is (its class's `PLACE`), None for any other screen.

    Read from the class, never by `isinstance`, which would import every place's screen (the
    console's alone loads the SQL grammar) to ask which one is shown.
    """
    place: Place | None = getattr(type(screen), "PLACE", None)
    return place


class Places:
    """Which place is shown, the way back, and the console kept while the pool it uses lives.

    The screens ask for a place by message (`PlaceRequested`); the app passes its pool in, since
    the activity screen and the console are opened on the pool open at the time.
    """

    def __init__(
        self,
        app: App[Any],
        *,
        target: str,
        idle_seconds: float,
        redact: bool = False,
        retention_warning: int = 1 << 30,
    ) -> None:
        """Args:
        app: Whose screen stack the places are shown on.
        target: `user@host:port/db`, for the console's history.
        idle_seconds: How long the console's cursor may idle before its transaction ends.
        redact: Incident snapshots replace query texts by their first keywords.
        retention_warning: WAL bytes past which the replication panel marks a slot.
        """
        self.app = app
        self.target = target
        self.idle_seconds = idle_seconds
        self.redact = redact
        self.retention_warning = retention_warning
        self.sql_console: ConsoleScreen | None = None
        """The SQL console, kept (text, results, session) while the pool it uses lives."""
        self.trail: list[Place] = []
        """The places shown before this one, for Esc (one step back)."""
        self._waits: WaitHistory | None = None
        self._rewind: RewindBuffer | None = None
        self.diagnostics_panel = "statements"
        """The diagnostics' panel shown last (shown again next time)."""

    @property
    def waits(self) -> WaitHistory:
        """What sessions waited on, second by second: the activity screen's samples and the
        diagnostics' wait sampler feed it, so neither starts from nothing. Made when first
        needed (off the start path)."""
        from pgconsole.db.diagnostics.waits import WaitHistory

        if self._waits is None:
            self._waits = WaitHistory()
        return self._waits

    @property
    def rewind(self) -> RewindBuffer:
        """The last minutes of the activity screen's samples, to step back through: kept
        while the screen comes and goes. Made when first needed (off the start path)."""
        from pgconsole.db.recording.rewind import RewindBuffer

        if self._rewind is None:
            self._rewind = RewindBuffer()
        return self._rewind

    def current(self) -> Place:
        """The place on screen now (a modal above it does not count)."""
        for screen in reversed(self.app.screen_stack):
            place = place_of(screen)
            if place is not None:
                return place
        return "browser"

    def show(self, place: Screen[Any] | None, *, remember: bool = True) -> None:
        """Show `place` (None: the browser) right above the browser."""
        top = self.app.screen_stack[-1] if self.app.screen_stack else None
        if top is not None and place_of(top) == "diagnostics":
            from pgconsole.screens.diagnostics import DiagnosticsScreen  # loaded: one is shown

            if isinstance(top, DiagnosticsScreen) and top.switcher.current:
                self.diagnostics_panel = top.switcher.current  # shown again next time
        if remember:
            self.trail.append(self.current())
            del self.trail[:-TRAIL_KEPT]
        while len(self.app.screen_stack) > 1:
            self.app.pop_screen()
        if place is not None:
            self.app.push_screen(place)

    def go(
        self,
        place: Place,
        database: Database | None,
        relation: str = "",
        *,
        text: str = "",
        panel: str = "",
    ) -> None:
        """Show `place` (or go one step back): the activity screen about `relation`, the
        console with `text` in its editor, the diagnostics' `panel`, if given."""
        if place == "back":
            self.back(database)
        elif place == "browser":
            self.browser()
        elif place == "activity":
            self.activity(database, relation)
        elif place == "diagnostics":
            self.diagnostics(database, panel=panel)
        else:
            self.console(database, text=text)

    def browser(self) -> None:
        """The browser (the tree and the grid)."""
        if self.current() != "browser":
            self.show(None)

    def back(self, database: Database | None) -> None:
        """One step back: the place shown before this one (the browser when none is left)."""
        place = self.trail.pop() if self.trail else "browser"
        if place == "activity":
            self.activity(database, remember=False)
        elif place == "console":
            self.console(database, remember=False)
        elif place == "diagnostics":
            self.diagnostics(database, remember=False)
        else:
            self.show(None, remember=False)

    def activity(
        self,
        database: Database | None,
        relation: str = "",
        *,
        remember: bool = True,
        first: FirstSample | None = None,
    ) -> None:
        """The live activity screen (F3 again: the browser; Esc: one step back), showing
        `first` (taken with `database`) before it samples itself."""
        from pgconsole.screens.activity import ActivityScreen  # loaded when first used

        database = self._opening("activity", database)
        if database is None:
            return
        screen = ActivityScreen(
            database,
            read_only=database.info.read_only,
            relation=relation,
            console=self.console_session,
            first=first,
            waits=self.waits,
            rewind=self.rewind,
            redact=self.redact,
        )
        self.show(screen, remember=remember)

    def diagnostics(
        self, database: Database | None, *, remember: bool = True, panel: str = ""
    ) -> None:
        """The diagnostics, on `panel` or the one shown last (Esc: one step back)."""
        from pgconsole.screens.diagnostics import DiagnosticsScreen  # loaded when first used

        database = self._opening("diagnostics", database)
        if database is None:
            return
        screen = DiagnosticsScreen(
            database,
            read_only=database.info.read_only,
            panel=panel or self.diagnostics_panel,
            waits=self.waits,
            redact=self.redact,
            retention_warning=self.retention_warning,
        )
        self.show(screen, remember=remember)

    def console(self, database: Database | None, *, remember: bool = True, text: str = "") -> None:
        """The SQL console (F4 again: the browser; its text and session are kept), with
        `text` in its editor instead if given."""
        from pgconsole.screens.console import ConsoleScreen  # loaded when first used

        database = self._opening("console", database)
        if database is None:
            return
        if self.sql_console is None:
            self.sql_console = ConsoleScreen(
                database,
                read_only=database.info.read_only,
                target=self.target,
                idle_seconds=self.idle_seconds,
            )
            # One name per console: a console left on screen by a reconnect stays installed.
            self.app.install_screen(self.sql_console, f"console-{id(self.sql_console)}")
        self.sql_console.arrive()
        self.show(self.sql_console, remember=remember)
        if text:
            self.sql_console.put_in_editor(text)

    def _opening(self, place: Place, database: Database | None) -> Database | None:
        """The pool to open `place` on; None when it is not to be opened: it is on screen
        already, or no pool is open yet (the user is told)."""
        if self.current() == place:
            return None
        if database is None:
            self.app.notify("Not connected yet.", severity="warning")
        return database

    def console_session(self) -> ConsoleConnection | None:
        """The console's connection, if there is a console (the activity screen marks it)."""
        return None if self.sql_console is None else self.sql_console.session

    def console_transaction(self) -> str | None:
        """The console's open transaction in words (the browser keeps it in sight), or None."""
        return None if self.sql_console is None else self.sql_console.transaction_text()

    def console_in_transaction(self) -> bool:
        """The console has a transaction open (quitting rolls it back)."""
        return self.sql_console is not None and self.sql_console.session.in_transaction

    async def drop_console(self) -> None:
        """Close the console's connection and forget it (its pool is going away)."""
        console, self.sql_console = self.sql_console, None
        if console is None:
            return
        await console.session.close()
        # ScreenStackError: the console is still on a stack (the app is exiting with it on
        # screen, or on the stack of a window not shown): it goes with its stack.
        with contextlib.suppress(KeyError, ScreenStackError):
            self.app.uninstall_screen(console)
