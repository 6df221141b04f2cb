"""Editing in the browse grid: the main screen's edit keys, its transaction and its questions.

`EditController` belongs to the main screen. It owns the `EditTransaction`, asks the user
(editor, conflict, confirmations) through modal screens, and keeps the grid and the status
bar in step. Every database call runs in one of the screen's workers.
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
from pgconsole.db.connection.failures import describe_error
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
    blocking_pids,
    plan_edits,
    read_edit_facts,
    tracking_for,
)
from pgconsole.screens.confirm import ChoiceScreen, ConfirmScreen
from pgconsole.widgets.grid import DataGrid, row_identity

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


def edit_error(error: BaseException) -> str:
    """One readable line and the server's details; who blocked a lock wait, when known."""
    text = describe_error(error)
    pids = blocking_pids(error)
    if pids:
        text += "\nBlocked by pid " + ", ".join(str(p) for p in pids)
    return text


def changes_text(count: int) -> str:
    """`1 change`, `3 changes`."""
    return f"{count} change{'' if count == 1 else 's'}"


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
        assert self.screen.detail is not None
        if plan.physical_possible and not self.is_open:
            detail = self.screen.detail
            answer = await self.screen.app.push_screen_wait(
                ConfirmScreen(
                    f"{detail.schema}.{detail.name} has no key: edit by physical row?",
                    "Rows are found by ctid and checked against xmin: a change touches exactly "
                    "the row you see, or is refused. The rows are read again now.",
                )
            )
            if answer:
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
        from pgconsole.screens.conflict import ConflictScreen

        tx = self._transaction()
        row = target["row"]
        values = {name: value}
        expected: Row | None = None
        while True:
            try:
                new = await tx.update(row, values, expected=expected)
            except Conflict as conflict:
                choice = await self.screen.app.push_screen_wait(
                    ConflictScreen(conflict, self.grid.columns, "overwrite")
                )
                if choice == "overwrite" and conflict.current is not None:
                    expected = conflict.current
                    continue
                if choice == "reload":
                    self._show_theirs(row, conflict.current)
                    if conflict.current is not None:
                        target["row"] = conflict.current
                    await self._end_if_empty()
                    return "Reloaded their row: your text is still here to save or cancel."
                await self._end_if_empty()
                return "Cancelled: nothing was written."
            except EditRefused as error:
                return str(error)
            except TransactionLost as error:
                return self._lost(error)
            except DB_ERRORS as error:
                self._after_statement()
                return edit_error(error)
            break
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
        shown = ", ".join(
            f"{c.name}={'NULL' if v is None else v[:40]}"
            for c, v in zip(self.grid.columns, row.cells, strict=True)
        )
        if not await self.screen.app.push_screen_wait(
            ConfirmScreen("Delete this row? (inside the open transaction)", shown[:600])
        ):
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
        if tx is None:
            return "no changes"
        counts: dict[str, int] = {}
        for change in tx.changes:
            counts[change.kind] = counts.get(change.kind, 0) + 1
        parts = [f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in counts.items()]
        return (", ".join(parts) or "no changes") + f" in {tx.spec.schema}.{tx.spec.name}"

    async def commit(self, *, ask: bool = True) -> bool:
        """COMMIT after a confirmation; True when the changes are the server's."""
        if not self.is_open:
            if self.kept:
                self.screen.say(
                    f"Nothing to commit: {changes_text(len(self.kept))} not applied "
                    "(A applies again, ctrl+r discards)."
                )
            else:
                self.screen.say("No open transaction.")
            return True
        assert self.tx is not None
        if ask and not await self.screen.app.push_screen_wait(
            ConfirmScreen("Commit?", self.summary())
        ):
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
            self.screen.say(
                "COMMIT failed, nothing was committed: "
                + edit_error(error)
                + f"\n{changes_text(kept)} kept (A applies again, ctrl+r discards).",
                error=True,
            )
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
        spec = self.tx.spec
        question = (
            ConfirmScreen("Roll back?", self.summary() + " will be undone.")
            if self.tx.changes
            else ConfirmScreen(
                "End the transaction?",
                f"Nothing to roll back: no change was made in {spec.schema}.{spec.name}.",
            )
        )
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
        if not await self.screen.app.push_screen_wait(
            ConfirmScreen(
                f"Discard {changes_text(count)} not applied?",
                "They were never committed; once discarded they cannot be applied again.",
            )
        ):
            return False
        self.kept = []
        self.screen.show_transaction(self.status_text())
        self.screen.say(f"Discarded {changes_text(count)} that had not been applied.")
        return True

    async def settle(self) -> bool:
        """Before closing the table or quitting: commit, roll back or stay; then the kept
        changes: discard or stay. True to go on."""
        if self.is_open:
            choice = await self.screen.app.push_screen_wait(
                ChoiceScreen(
                    "A transaction is open: " + self.summary(),
                    [("c", "commit"), ("r", "roll back"), ("escape", "cancel")],
                )
            )
            if choice == "commit":
                if not await self.commit(ask=False):
                    return False
            elif choice == "roll back":
                if not await self.rollback(ask=False):
                    return False
            else:
                return False
        if not self.kept:
            return True
        choice = await self.screen.app.push_screen_wait(
            ChoiceScreen(
                f"{changes_text(len(self.kept))} not applied (kept after a lost connection "
                "or an idle rollback): they are lost if you go on.",
                [("d", "discard them"), ("escape", "cancel")],
            )
        )
        if choice != "discard them":
            return False
        self.kept = []
        self.screen.show_transaction(self.status_text())
        return True

    async def reapply(self) -> None:
        """Apply again, in order, the changes of transactions that ended without a commit.

        Each applied change leaves the kept list and shows in the grid as the server stored
        it; a change that meets a changed or deleted row opens the conflict view, as a first
        save does. What is not applied stays kept.
        """
        if not self.kept:
            self.screen.say("No changes kept to apply again.")
            return
        if self._refuse_read_only():
            return
        tx = self._transaction()
        applied = 0
        while self.kept:
            change = self.kept[0]
            try:
                outcome = await self._apply_kept(tx, change)
            except TransactionLost as error:
                self.screen.say(self._lost(error), error=True)
                return
            except (EditRefused, *DB_ERRORS) as error:
                self._after_statement()
                await self._end_if_empty()
                self.screen.say(
                    f"A change could not be applied again: {edit_error(error)}\n"
                    f"{changes_text(len(self.kept))} still not applied "
                    "(A tries again, ctrl+r discards).",
                    error=True,
                )
                return
            if outcome == "cancelled":
                self._after_statement()
                await self._end_if_empty()
                self.screen.say(
                    f"Stopped at a conflict: {changes_text(len(self.kept))} still not applied "
                    "(A tries again, ctrl+r discards).",
                    error=True,
                )
                return
            self.kept.pop(0)
            applied += outcome == "applied"
        self._after_statement()
        await self._end_if_empty()
        if self.is_open:
            self.screen.say(f"Applied {changes_text(applied)} again: ctrl+s commits.")
        else:
            self.screen.say("Nothing was applied: every kept change met a newer row.")

    async def _apply_kept(self, tx: EditTransaction, change: Change) -> str:
        """Apply one kept change: `applied`, `discarded` (theirs kept) or `cancelled`."""
        from pgconsole.screens.conflict import ConflictScreen

        expected: Row | None = None
        while True:
            try:
                if change.kind == "insert":
                    self.grid.insert_row(await tx.insert(dict(change.values)))
                elif change.original is None:
                    raise EditRefused(f"a kept {change.kind} has no row to find")
                elif change.kind == "update":
                    new = await tx.update(change.original, dict(change.values), expected=expected)
                    names = [name for name, _ in change.values]
                    changed = {i for i, c in enumerate(self.grid.columns) if c.name in names}
                    self._show_stored(change.original, new, changed)
                else:
                    await tx.delete(expected or change.original)
                    self._show_stored(change.original, None, set())
                return "applied"
            except Conflict as conflict:
                action = "delete" if change.kind == "delete" else "overwrite"
                choice = await self.screen.app.push_screen_wait(
                    ConflictScreen(conflict, self.grid.columns, action)
                )
                if choice == "overwrite" and conflict.current is not None:
                    expected = conflict.current
                    continue
                if choice == "reload":
                    self._show_stored(change.original or conflict.original, conflict.current)
                    return "discarded"
                return "cancelled"

    def _show_stored(
        self, original: Row, stored: Row | None, changed: set[int] | None = None
    ) -> None:
        """Show a row as it is now wherever the grid holds it (found by its identity: the
        grid's rows were read again since the change was first made)."""
        identity = row_identity(original)
        shown = next((r for r in self.grid.rows if row_identity(r) == identity), None)
        if shown is None:
            return
        if stored is None:
            self.grid.remove_row(shown)
        else:
            self.grid.replace_row(shown, stored, changed or set())

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
            self.screen.say(
                "The transaction sat idle too long and was rolled back before the server's "
                f"idle_in_transaction_session_timeout: {changes_text(len(self.kept))} kept, "
                "A applies again, ctrl+r discards.",
                error=True,
            )
        self.screen.show_transaction(self.status_text())

    def _lost(self, error: BaseException | str) -> str:
        """The transaction died on the server: its changes join the kept ones."""
        kept = self._keep_uncommitted()
        self.grid.clear_changes()
        self.screen.show_transaction(self.status_text())
        self.screen.reload_grid_later()
        return (
            f"Connection lost: {error}. Nothing was committed; "
            f"{changes_text(kept)} kept (A applies again, ctrl+r discards)."
        )

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
