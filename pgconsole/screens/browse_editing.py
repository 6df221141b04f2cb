"""The browser's editing side: its edit keys, and what `EditController` asks of its screen.

Mixed into `MainScreen`, whose bindings name these actions (F2, a, D, ctrl+s, ctrl+r, A, L).
Each key runs one of the controller's jobs in the screen's `edit` worker, one at a time, and
only on the grid in sight. The controller reads the rows again through the screen (after a
rollback, or to edit by physical row) and shows the transaction's badge in the status bar;
while the browser has no transaction open, the badge keeps the SQL console's in sight.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from textual import work
from textual.css.query import NoMatches
from textual.message import Message
from textual.widgets import ContentSwitcher
from textual.worker import Worker

from pgconsole.db.browse.catalog import RelationDetail
from pgconsole.db.browse.pages import BrowseSpec
from pgconsole.db.connection.pool import Database
from pgconsole.messages import QuitRequested
from pgconsole.screens.editing import EditController
from pgconsole.screens.relation_reader import RelationReader
from pgconsole.widgets.status_bar import StatusBar

Job = Callable[[], Coroutine[Any, Any, object]]
"""One of the edit controller's jobs (`edit_cell`, `commit`, ...)."""


class EditingScreen(Protocol):
    """What the editing side needs of the screen it is mixed into."""

    database: Database | None
    detail: RelationDetail | None
    spec: BrowseSpec | None
    editor: EditController
    reader: RelationReader
    console_transaction: Callable[[], str | None]

    @property
    def switcher(self) -> ContentSwitcher: ...

    @property
    def status_bar(self) -> StatusBar: ...

    def require_relation(self) -> bool: ...

    def say(self, text: str, *, error: bool = False) -> None: ...

    def show_transaction(self, text: str | None) -> None: ...

    async def reload_grid(self) -> None: ...

    def post_message(self, message: Message) -> bool: ...

    def run_worker(
        self,
        work: Coroutine[Any, Any, Any],
        name: str | None = "",
        group: str = "default",
        description: str = "",
        exit_on_error: bool = True,
        start: bool = True,
        exclusive: bool = False,
        thread: bool = False,
    ) -> Worker[Any]: ...


def run_edit(screen: EditingScreen, job: Job) -> None:
    """Run `job` in the `edit` worker, on the open relation's grid in sight."""
    if not screen.require_relation():
        return
    if screen.switcher.current != "grid":
        # An edit acts on the row under the grid's cursor: never on a grid out of sight.
        screen.say("The grid is hidden behind the session overview: ctrl+o shows it again.")
        return
    screen.run_worker(job(), group="edit", exclusive=True, exit_on_error=False)


class BrowseEditing:
    """The browser's edit keys and its side of `EditHost` (mixed into `MainScreen`)."""

    async def tick_transaction(self: EditingScreen) -> None:
        """The transaction's age and idle countdown (no I/O unless a rollback is due)."""
        with contextlib.suppress(NoMatches):  # a tick while the app exits and empties the DOM
            await self.editor.tick()
            if self.editor.status_text() is None:
                text = self.console_transaction()  # kept in sight from the browser
                self.show_transaction(None if text is None else f"SQL console (F4): {text}")

    def action_edit_cell(self: EditingScreen) -> None:
        """Edit the cell under the cursor (inside the edit transaction)."""
        run_edit(self, self.editor.edit_cell)

    def action_insert_row(self: EditingScreen) -> None:
        """Insert a row (inside the edit transaction)."""
        run_edit(self, self.editor.insert_row)

    def action_delete_row(self: EditingScreen) -> None:
        """Delete the row under the cursor (inside the edit transaction)."""
        run_edit(self, self.editor.delete_row)

    def action_commit(self: EditingScreen) -> None:
        """Commit the edit transaction, after a confirmation."""
        run_edit(self, self.editor.commit)

    def action_rollback(self: EditingScreen) -> None:
        """Roll back the edit transaction, after a confirmation."""
        run_edit(self, self.editor.rollback)

    def action_reapply(self: EditingScreen) -> None:
        """Apply again the changes of a transaction that was lost or rolled back for idling."""
        run_edit(self, self.editor.reapply)

    def action_sql_log(self: EditingScreen) -> None:
        """Show the SQL sent for edits, with parameters."""
        self.editor.show_log()

    @work(group="edit", exclusive=True, exit_on_error=False)
    async def quit_when_settled(self: EditingScreen) -> None:
        """Quit, once an open transaction is committed or rolled back (or stay)."""
        if await self.editor.settle():
            self.post_message(QuitRequested())

    # -- what the edit controller asks of its screen (EditHost) -----------------------------

    async def reopen_for_editing(self: EditingScreen) -> None:
        """Read the rows again with the identity columns editing now needs."""
        await self.reader.reload_for_editing()

    async def reload_grid(self: EditingScreen) -> None:
        """Read the rows again from the first page (after a rollback)."""
        if self.spec is not None and self.database is not None:
            await self.reader.reload()

    def reload_grid_later(self: EditingScreen) -> None:
        """`reload_grid` in a worker of its own."""
        self.run_worker(self.reload_grid(), group="reload", exit_on_error=False)

    def show_transaction(self: EditingScreen, text: str | None) -> None:
        """The edit transaction's badge in the status bar."""
        self.status_bar.show_transaction(text)

    def idle_in_transaction_seconds(self: EditingScreen) -> float | None:
        """The session's idle_in_transaction_session_timeout in effect (pgconsole's or the
        server's, the stricter), None when there is none."""
        return None if self.database is None else self.database.info.idle_in_transaction_seconds
