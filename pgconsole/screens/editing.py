"""Editing in the browse grid: the main screen's edit keys and its edit transaction.

`EditController` belongs to the main screen and talks to it through `EditHost`. It commits,
rolls back and settles the transaction before the table is closed, applies kept changes
again, rolls back an idle transaction before the server would end the session, and notices
a lost connection. Every database call runs in one of the screen's workers. Its neighbours:
`edit_state` (the transaction as the client holds it, and its status line), `row_edits`
(F2, insert, delete), `kept_changes` (applying again, through the conflict view) and
`edit_questions` (what editing asks and says).
"""

from __future__ import annotations

import time
from dataclasses import replace

from pgconsole.db.browse.catalog import RelationDetail
from pgconsole.db.browse.pages import BrowseSpec
from pgconsole.db.connection.errors import DB_ERRORS
from pgconsole.db.edit.transaction import (
    Change,
    EditRefused,
    EditTransaction,
    TransactionLost,
    tracking_for,
)
from pgconsole.idle import rollback_due
from pgconsole.screens.edit_questions import (
    COMMIT,
    DISCARD,
    ROLL_BACK,
    changes_text,
    commit_failed_text,
    commit_question,
    discard_question,
    idle_rollback_text,
    kept_changes_question,
    nothing_to_commit_text,
    open_transaction_question,
    rollback_question,
)
from pgconsole.screens.edit_state import EditHost, EditState
from pgconsole.screens.kept_changes import Reapplied, apply_again, reapplied_text
from pgconsole.screens.row_edits import RowEdits
from pgconsole.widgets.grid import DataGrid

# The SQL log is imported when first used: most sessions never open it.


class EditController:
    """The edit transaction of the main screen, and the keys that drive it."""

    def __init__(self, screen: EditHost) -> None:
        self.screen = screen
        self.state = EditState(screen)
        """The open transaction, the kept changes and the SQL sent."""
        self.rows = RowEdits(screen, self.state)
        """F2, insert and delete, and the relation's edit plan."""

    # -- state -------------------------------------------------------------------------------

    @property
    def grid(self) -> DataGrid:
        """The screen's data grid."""
        return self.screen.grid

    @property
    def tx(self) -> EditTransaction | None:
        """The transaction, open or just ended, or None."""
        return self.state.tx

    @property
    def kept(self) -> list[Change]:
        """Changes of transactions that ended without a commit, oldest first."""
        return self.state.kept

    @property
    def physical(self) -> set[int]:
        """Relations (oids) the user opted in to edit by physical row."""
        return self.rows.physical

    @property
    def is_open(self) -> bool:
        """A transaction with changes is open on the server."""
        return self.state.is_open

    @property
    def unsettled(self) -> bool:
        """An open transaction or kept changes: quitting or leaving the table must ask."""
        return self.is_open or bool(self.kept)

    def relation_changed(self) -> None:
        """A new relation (or a reload with another spec): the plan is read again."""
        self.rows.plan = None

    def status_text(self) -> str | None:
        """`TX open 01:42 · 3 changes`, the idle countdown when near, or None."""
        return self.state.status_text()

    # -- change rows -------------------------------------------------------------------------

    async def edit_cell(self) -> None:
        """F2: the editor on the cell under the cursor."""
        await self.rows.edit_cell()

    async def insert_row(self) -> None:
        """Insert a row, its values asked in a form."""
        await self.rows.insert_row()

    async def delete_row(self) -> None:
        """Delete the row under the cursor, after a confirmation."""
        await self.rows.delete_row()

    # -- commit, rollback, re-apply ----------------------------------------------------------

    async def commit(self, *, ask: bool = True) -> bool:
        """COMMIT after a confirmation; True when the changes are the server's."""
        if not self.is_open:
            self.screen.say(nothing_to_commit_text(len(self.kept)))
            return True
        tx = self.tx
        assert tx is not None
        if ask and not await self.screen.app.push_screen_wait(
            commit_question(self.state.summary())
        ):
            return False
        if self.tx is not tx or not self.is_open:
            # Lost or rolled back while the question was up: its alert says what was kept.
            return False
        summary = self.state.summary()
        try:
            await tx.commit()
        except TransactionLost as error:
            self.screen.say(self.state.lost(error), error=True)
            return False
        except DB_ERRORS as error:
            kept = self.state.keep_uncommitted()
            self.grid.clear_changes()
            self.state.after_statement()
            self.screen.say(commit_failed_text(error, kept), error=True)
            await self.screen.reload_grid()
            return False
        self.state.forget()
        self.grid.clear_changes()
        self.state.after_statement()
        self.screen.say(f"Committed: {summary}. The grid shows what the server stored.")
        return True

    async def rollback(self, *, ask: bool = True, keep: bool = False) -> bool:
        """ROLLBACK after a confirmation; the grid reads the rows again.

        With no transaction open, ctrl+r offers to discard the kept changes instead.
        """
        if not self.is_open:
            if self.kept and ask:
                return await self.discard_kept()
            self.screen.say("No open transaction.")
            return True
        assert self.tx is not None
        question = rollback_question(self.state.summary(), self.tx.spec, bool(self.tx.changes))
        tx = self.tx
        if ask and not await self.screen.app.push_screen_wait(question):
            return False
        if self.tx is not tx or not self.is_open:
            return False  # ended while the question was up: its alert says how
        if keep:  # kept before the first await: the transaction is never seen closed without them
            self.kept.extend(tx.changes)
        tx.changes.clear()
        await tx.rollback()
        self.state.forget()
        self.grid.clear_changes()
        self.state.after_statement()
        await self.screen.reload_grid()
        return True

    async def discard_kept(self) -> bool:
        """Forget the kept changes, after a confirmation. True when they are gone."""
        count = len(self.kept)
        if not await self.screen.app.push_screen_wait(discard_question(count)):
            return False
        self.kept.clear()
        self.screen.show_transaction(self.status_text())
        self.screen.say(f"Discarded {changes_text(count)} that had not been applied.")
        return True

    async def settle(self) -> bool:
        """Before closing the table or quitting: commit, roll back or stay; then the kept
        changes: discard or stay. True to go on."""
        if self.is_open:
            choice = await self.screen.app.push_screen_wait(
                open_transaction_question(self.state.summary())
            )
            if choice == COMMIT:
                if not await self.commit(ask=False):
                    return False
            elif choice == ROLL_BACK:
                if not await self.rollback(ask=False):
                    return False
            else:
                return False
        if not self.kept:
            return True
        question = kept_changes_question(len(self.kept))
        if await self.screen.app.push_screen_wait(question) != DISCARD:
            return False
        self.kept.clear()
        self.screen.show_transaction(self.status_text())
        return True

    async def reapply(self) -> None:
        """Apply again, in order, the changes of transactions that ended without a commit
        (see `kept_changes.apply_again`); what is not applied stays kept."""
        if not self.kept:
            self.screen.say("No changes kept to apply again.")
            return
        if self.rows.refuse_read_only():
            return
        tx = self.state.transaction()
        result: Reapplied | BaseException
        try:
            result = await apply_again(self.kept, tx, self.grid, self.screen.app)
        except TransactionLost as error:
            self.screen.say(self.state.lost(error), error=True)
            return
        except (EditRefused, *DB_ERRORS) as error:
            result = error
        self.state.after_statement()
        await self.state.end_if_empty()
        text, failed = reapplied_text(result, len(self.kept), self.is_open)
        self.screen.say(text, error=failed)

    def show_log(self) -> None:
        """The SQL sent for edits, with parameters."""
        from pgconsole.screens.sql_log import SqlLogScreen

        self.screen.app.push_screen(SqlLogScreen(self.state.statements()))

    # -- time and loss -----------------------------------------------------------------------

    async def tick(self) -> None:
        """Every second: the status, a rollback before the server's idle limit, and the
        loss of an idle transaction's connection noticed when it happens."""
        tx = self.tx
        if tx is not None and tx.connection_closed:
            await tx.lost()
            self.screen.say(
                self.state.lost("closed while idle, by a terminate or a server restart"),
                error=True,
            )
        left = self.state.idle_left(time.monotonic())
        if rollback_due(left) and self.is_open:
            await self.rollback(ask=False, keep=True)
            self.screen.say(idle_rollback_text(len(self.kept)), error=True)
        self.screen.show_transaction(self.status_text())

    def with_tracking(self, spec: BrowseSpec, detail: RelationDetail) -> BrowseSpec:
        """`spec` with the identity and version columns editing needs."""
        return replace(spec, tracking=tracking_for(detail, physical=detail.oid in self.physical))
