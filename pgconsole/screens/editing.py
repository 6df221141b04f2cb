"""Editing in the browse grid: the main screen's edit keys and its transaction.

`EditController` belongs to the main screen. It owns the `EditTransaction`, asks the user
(editor, conflict, confirmations) through modal screens, and keeps the grid and the status
bar in step; it rolls back an idle transaction before the server would end the session, and
keeps the changes of one that ended without a commit. Every database call runs in one of the
screen's workers. What it asks and says is worded in `edit_questions`; `kept_changes` applies
the kept changes again and carries a write through the conflict view.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Protocol

from textual.app import App
from textual.notifications import SeverityLevel

from pgconsole.db.browse.catalog import RelationDetail
from pgconsole.db.browse.pages import BrowseSpec, Pager, Row
from pgconsole.db.connection.errors import DB_ERRORS
from pgconsole.db.connection.pool import Database
from pgconsole.db.edit.transaction import (
    Change,
    Conflict,
    EditPlan,
    EditRefused,
    EditTransaction,
    Statement,
    TransactionLost,
    Value,
    plan_edits,
    read_edit_facts,
    tracking_for,
)
from pgconsole.screens.edit_questions import (
    COMMIT,
    DISCARD,
    ROLL_BACK,
    changes_text,
    commit_failed_text,
    commit_question,
    delete_question,
    discard_question,
    edit_error,
    idle_rollback_text,
    kept_changes_question,
    lost_text,
    nothing_to_commit_text,
    open_transaction_question,
    physical_row_question,
    rollback_question,
    summary_text,
)
from pgconsole.screens.kept_changes import (
    Declined,
    Reapplied,
    apply_again,
    reapplied_text,
    write_or_ask,
)
from pgconsole.widgets.grid import DataGrid

# The editor, insert form, conflict view and SQL log are imported when first used: the text
# area alone adds 20 ms to every start, and most sessions only browse.


class EditHost(Protocol):
    """What the controller needs of the screen it edits in (the main screen has it)."""

    database: Database | None
    detail: RelationDetail | None
    pager: Pager | None
    spec: BrowseSpec | None

    @property
    def app(self) -> App[Any]: ...

    @property
    def grid(self) -> DataGrid: ...

    def say(self, text: str, *, error: bool = False) -> None: ...

    def notify(self, message: str, *, severity: SeverityLevel = "information") -> None: ...

    def show_transaction(self, text: str | None) -> None: ...

    def idle_in_transaction_seconds(self) -> float | None: ...

    async def reload_grid(self) -> None: ...

    def reload_grid_later(self) -> None: ...

    async def reopen_for_editing(self) -> None: ...


WARN_BEFORE_SECONDS = 30.0
"""The status bar counts down this long before the server's idle-in-transaction limit."""
ROLLBACK_BEFORE_SECONDS = 3.0
"""pgconsole rolls back itself this long before the server would end the session."""


def clock(seconds: float) -> str:
    """`01:42`, or `1:02:03` past an hour."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes:02}:{secs:02}"


class EditController:
    """The edit transaction of the main screen, and the keys that drive it."""

    def __init__(self, screen: EditHost) -> None:
        self.screen = screen
        self.tx: EditTransaction | None = None
        self.plan: EditPlan | None = None
        self.physical: set[int] = set()
        """Relations (oids) the user opted in to edit by physical row."""
        self.kept: list[Change] = []
        """Changes of transactions that ended without a commit, oldest first: they live until
        the user applies them again (A) or discards them (ctrl+r, or when asked on quit)."""
        self.log: list[Statement] = []
        """Every statement sent for edits in this session, for the SQL log."""

    # -- state -------------------------------------------------------------------------------

    @property
    def grid(self) -> DataGrid:
        return self.screen.grid

    @property
    def is_open(self) -> bool:
        """A transaction with changes is open on the server."""
        return self.tx is not None and self.tx.is_open

    @property
    def unsettled(self) -> bool:
        """An open transaction or kept changes: quitting or leaving the table must ask."""
        return self.is_open or bool(self.kept)

    def relation_changed(self) -> None:
        """A new relation (or a reload with another spec): the plan is read again."""
        self.plan = None

    def status_text(self) -> str | None:
        """`TX open 01:42 · 3 changes`, the idle countdown when near, or None."""
        tx = self.tx
        if tx is None or tx.started_at is None:
            if self.kept:
                return f"{changes_text(len(self.kept))} not applied · A applies again"
            return None
        now = time.monotonic()
        text = f"TX open {clock(now - tx.started_at)} · {changes_text(len(tx.changes))}"
        if self.kept:
            text += f" · {len(self.kept)} not applied"
        left = self.idle_left(now)
        if left is not None and left <= WARN_BEFORE_SECONDS:
            text += f" · idle: rolled back in {max(0, int(left))} s"
        return text

    def idle_left(self, now: float) -> float | None:
        """Seconds before pgconsole rolls back an idle transaction, or None (no limit)."""
        limit = self.screen.idle_in_transaction_seconds()
        if self.tx is None or self.tx.started_at is None or not limit:
            return None
        return self.tx.last_used + limit - ROLLBACK_BEFORE_SECONDS - now

    # -- guards ------------------------------------------------------------------------------

    def _refuse_read_only(self) -> bool:
        database = self.screen.database
        if database is not None and database.info.read_only:
            self.screen.notify(
                "Read-only mode: editing is off (start without --read-only to edit).",
                severity="warning",
            )
            return True
        return False

    async def _ensure_plan(self) -> EditPlan | None:
        screen = self.screen
        detail, database = screen.detail, screen.database
        if detail is None or database is None or screen.spec is None:
            screen.say("Open a table first (pick one in the tree).")
            return None
        if self.plan is None:
            try:
                async with database.session(readonly=True) as conn:
                    updatable, columns, privileges = await read_edit_facts(conn, detail.oid)
            except DB_ERRORS as error:
                screen.say(edit_error(error), error=True)
                return None
            self.plan = plan_edits(
                detail,
                physical=detail.oid in self.physical,
                view_updatable=updatable,
                updatable_columns=columns,
                privileges=privileges,
            )
        return self.plan

    async def _editable(self) -> EditPlan | None:
        """The plan when rows can be changed; otherwise says why (or offers ctid) and None."""
        if self._refuse_read_only():
            return None
        plan = await self._ensure_plan()
        if plan is None:
            return None
        if plan.editable:
            return plan
        detail = self.screen.detail
        assert detail is not None
        if plan.physical_possible and not self.is_open:
            if await self.screen.app.push_screen_wait(physical_row_question(detail)):
                self.physical.add(detail.oid)
                self.plan = None
                await self.screen.reopen_for_editing()
                self.screen.say("Editing by physical row (ctid + xmin): press the key again.")
            return None
        self.screen.say(f"Read-only: {plan.read_only_reason}", error=True)
        return None

    def _transaction(self) -> EditTransaction:
        """The open transaction, or a new one: an ended one never carries changes over."""
        screen = self.screen
        assert screen.database is not None and screen.spec is not None
        if self.tx is None or not self.tx.is_open:
            self._forget_transaction()
            self.tx = EditTransaction(screen.database, screen.spec)
        return self.tx

    def _forget_transaction(self) -> None:
        """The transaction ended on the server: its SQL goes to the log, the object away."""
        if self.tx is not None:
            self.log.extend(self.tx.statements)
            self.tx.statements.clear()
        self.tx = None

    def _keep_uncommitted(self) -> int:
        """The transaction ended without a commit: its changes join the kept ones."""
        if self.tx is not None:
            self.kept.extend(self.tx.changes)
            self.tx.changes.clear()
        self._forget_transaction()
        return len(self.kept)

    async def _end_if_empty(self) -> None:
        """A transaction left with no change (a cancelled conflict) ends at once: it would
        otherwise sit idle in transaction until the user rolls back."""
        tx = self.tx
        if tx is not None and tx.is_open and not tx.changes:
            with contextlib.suppress(*DB_ERRORS, TransactionLost):
                await tx.rollback()
            self._forget_transaction()
            self.screen.show_transaction(self.status_text())

    # -- edit a cell -------------------------------------------------------------------------

    async def edit_cell(self) -> None:
        """Open the editor on the cell under the cursor."""
        plan = await self._editable()
        grid = self.grid
        row, column = grid.current_row, grid.current_column
        if plan is None or row is None or column is None:
            return
        reason = plan.column_reason(column.name)
        if reason:
            self.screen.say(f"{column.name}: read-only, {reason}", error=True)
            return
        index = grid.columns.index(column)
        value = row.cells[index]
        if row.truncated(index) and self.screen.pager is not None:
            try:
                value = await self.screen.pager.full_value(row, column.name)
            except (*DB_ERRORS, LookupError) as error:
                self.screen.say(edit_error(error), error=True)
                return
        from pgconsole.screens.cell_editor import CellEditorScreen, editable_text

        why = editable_text(value)
        if why:
            self.screen.say(why, error=True)
            return
        target = {"row": row}

        async def save(new: Value) -> str | None:
            return await self._save_update(target, column.name, index, new)

        detail = self.screen.detail
        assert detail is not None
        default = next((c.default for c in detail.columns if c.name == column.name), None)
        await self.screen.app.push_screen_wait(
            CellEditorScreen(
                f"{column.name} of {detail.schema}.{detail.name}",
                column.type,
                value,
                save,
                note=f"default: {default}" if default else "",
            )
        )

    async def _save_update(
        self, target: dict[str, Row], name: str, index: int, value: Value
    ) -> str | None:
        """Apply one cell; None when saved, else what to show in the editor."""
        tx = self._transaction()
        row = target["row"]
        try:
            new = await write_or_ask(
                self.screen.app,
                self.grid.columns,
                "overwrite",
                lambda expected: tx.update(row, {name: value}, expected=expected),
            )
        except EditRefused as error:
            return str(error)
        except TransactionLost as error:
            return self._lost(error)
        except DB_ERRORS as error:
            self._after_statement()
            return edit_error(error)
        if isinstance(new, Declined):
            if new.choice == "reload":
                self._show_theirs(row, new.conflict.current)
                if new.conflict.current is not None:
                    target["row"] = new.conflict.current
                await self._end_if_empty()
                return "Reloaded their row: your text is still here to save or cancel."
            await self._end_if_empty()
            return "Cancelled: nothing was written."
        self.grid.replace_row(row, new, {index})
        self._after_statement()
        return None

    def _show_theirs(self, row: Row, current: Row | None) -> None:
        if current is None:
            self.grid.remove_row(row)
        else:
            self.grid.replace_row(row, current, set())

    # -- insert and delete -------------------------------------------------------------------

    async def insert_row(self) -> None:
        """Ask for a new row's values (empty: DEFAULT) and insert it."""
        plan = await self._editable()
        detail = self.screen.detail
        if plan is None or detail is None:
            return

        async def save(values: Mapping[str, Value]) -> str | None:
            tx = self._transaction()
            try:
                row = await tx.insert(values)
            except TransactionLost as error:
                return self._lost(error)
            except (*DB_ERRORS, EditRefused) as error:
                self._after_statement()
                return edit_error(error)
            self.grid.insert_row(row)
            self._after_statement()
            return None

        from pgconsole.screens.insert import InsertScreen

        await self.screen.app.push_screen_wait(InsertScreen(detail, plan, save))

    async def delete_row(self) -> None:
        """Delete the row under the cursor, after a confirmation that shows it."""
        plan = await self._editable()
        row = self.grid.current_row
        if plan is None or row is None:
            return
        if not await self.screen.app.push_screen_wait(delete_question(self.grid.columns, row)):
            return
        from pgconsole.screens.conflict import ConflictScreen

        tx = self._transaction()
        try:
            await tx.delete(row)
        except Conflict as conflict:
            choice = await self.screen.app.push_screen_wait(
                ConflictScreen(conflict, self.grid.columns, "delete")
            )
            if choice == "overwrite" and conflict.current is not None:
                self.grid.replace_row(row, conflict.current, set())
                self.screen.say("Their row is shown now: press D again to delete it.")
            elif choice == "reload":
                self._show_theirs(row, conflict.current)
            await self._end_if_empty()
            return
        except TransactionLost as error:
            self.screen.say(self._lost(error), error=True)
            return
        except (*DB_ERRORS, EditRefused) as error:
            self.screen.say(edit_error(error), error=True)
            self._after_statement()
            return
        self.grid.remove_row(row)
        self._after_statement()
        self.screen.say("Row deleted inside the transaction: ctrl+s commits, ctrl+r rolls back.")

    # -- commit, rollback, re-apply ----------------------------------------------------------

    def summary(self) -> str:
        """`2 updates, 1 insert, 1 delete in schema.table`."""
        tx = self.tx
        return "no changes" if tx is None else summary_text(tx.changes, tx.spec)

    async def commit(self, *, ask: bool = True) -> bool:
        """COMMIT after a confirmation; True when the changes are the server's."""
        if not self.is_open:
            self.screen.say(nothing_to_commit_text(len(self.kept)))
            return True
        assert self.tx is not None
        if ask and not await self.screen.app.push_screen_wait(commit_question(self.summary())):
            return False
        summary = self.summary()
        try:
            await self.tx.commit()
        except TransactionLost as error:
            self.screen.say(self._lost(error), error=True)
            return False
        except DB_ERRORS as error:
            kept = self._keep_uncommitted()
            self.grid.clear_changes()
            self._after_statement()
            self.screen.say(commit_failed_text(error, kept), error=True)
            await self.screen.reload_grid()
            return False
        self._forget_transaction()
        self.grid.clear_changes()
        self._after_statement()
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
        question = rollback_question(self.summary(), self.tx.spec, bool(self.tx.changes))
        if ask and not await self.screen.app.push_screen_wait(question):
            return False
        tx = self.tx
        if keep:  # kept before the first await: the transaction is never seen closed without them
            self.kept.extend(tx.changes)
        tx.changes.clear()
        await tx.rollback()
        self._forget_transaction()
        self.grid.clear_changes()
        self._after_statement()
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
                open_transaction_question(self.summary())
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
        if self._refuse_read_only():
            return
        tx = self._transaction()
        result: Reapplied | BaseException
        try:
            result = await apply_again(self.kept, tx, self.grid, self.screen.app)
        except TransactionLost as error:
            self.screen.say(self._lost(error), error=True)
            return
        except (EditRefused, *DB_ERRORS) as error:
            result = error
        self._after_statement()
        await self._end_if_empty()
        text, failed = reapplied_text(result, len(self.kept), self.is_open)
        self.screen.say(text, error=failed)

    def show_log(self) -> None:
        """The SQL sent for edits, with parameters."""
        from pgconsole.screens.sql_log import SqlLogScreen

        self.screen.app.push_screen(SqlLogScreen(self._statements()))

    # -- time and loss -----------------------------------------------------------------------

    async def tick(self) -> None:
        """Every second: the status, a rollback before the server's idle limit, and the
        loss of an idle transaction's connection noticed when it happens."""
        tx = self.tx
        if tx is not None and tx.connection_closed:
            await tx.lost()
            self.screen.say(
                self._lost("closed while idle, by a terminate or a server restart"),
                error=True,
            )
        left = self.idle_left(time.monotonic())
        if left is not None and left <= 0 and self.is_open:
            await self.rollback(ask=False, keep=True)
            self.screen.say(idle_rollback_text(len(self.kept)), error=True)
        self.screen.show_transaction(self.status_text())

    def _lost(self, error: BaseException | str) -> str:
        """The transaction died on the server: its changes join the kept ones."""
        kept = self._keep_uncommitted()
        self.grid.clear_changes()
        self.screen.show_transaction(self.status_text())
        self.screen.reload_grid_later()
        return lost_text(error, kept)

    def _after_statement(self) -> None:
        if self.tx is not None:
            self.log.extend(self.tx.statements)
            self.tx.statements.clear()
        self.screen.show_transaction(self.status_text())

    def _statements(self) -> list[Statement]:
        pending = self.tx.statements if self.tx is not None else []
        return [*self.log, *pending]

    def with_tracking(self, spec: BrowseSpec, detail: RelationDetail) -> BrowseSpec:
        """`spec` with the identity and version columns editing needs."""
        return replace(spec, tracking=tracking_for(detail, physical=detail.oid in self.physical))
