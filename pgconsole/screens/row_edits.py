"""Changing rows in the browse grid: F2 on a cell, insert and delete, each a change inside
the open edit transaction.

`RowEdits` checks first that the relation can be edited (not read-only, a key or the user's
opt-in to physical rows, privileges), then asks through the cell editor, the insert form or a
confirmation, writes through `EditState.transaction()`, and shows in the grid what the server
stored. A changed or deleted row opens the conflict view.
"""

from __future__ import annotations

from collections.abc import Mapping

from pgconsole.db.browse.pages import Row
from pgconsole.db.connection.errors import DB_ERRORS
from pgconsole.db.edit.transaction import (
    Conflict,
    EditPlan,
    EditRefused,
    TransactionLost,
    Value,
    plan_edits,
    read_edit_facts,
)
from pgconsole.screens.edit_questions import delete_question, edit_error, physical_row_question
from pgconsole.screens.edit_state import EditHost, EditState
from pgconsole.screens.kept_changes import Declined, write_or_ask
from pgconsole.widgets.grid import DataGrid

# The editor, insert form and conflict view are imported when first used: the text area
# alone adds 20 ms to every start, and most sessions only browse.


class RowEdits:
    """The keys that change rows, and what they check before they do."""

    def __init__(self, screen: EditHost, state: EditState) -> None:
        self.screen = screen
        self.state = state
        self.plan: EditPlan | None = None
        """What the open relation lets be changed; read again for a new relation."""
        self.physical: set[int] = set()
        """Relations (oids) the user opted in to edit by physical row."""

    @property
    def grid(self) -> DataGrid:
        """The screen's data grid."""
        return self.screen.grid

    def refuse_read_only(self) -> bool:
        """Says so and True when the session is read-only."""
        database = self.screen.database
        if database is not None and database.info.read_only:
            self.screen.notify(
                "Read-only mode: editing is off (start without --read-only to edit).",
                severity="warning",
            )
            return True
        return False

    async def _ensure_plan(self) -> EditPlan | None:
        """The relation's edit plan, read once per relation; None (and why said) without one."""
        screen = self.screen
        detail, database = screen.detail, screen.database
        if detail is None or database is None or screen.spec is None:
            screen.say("Open a table first (pick one in the tree).")
            return None
        if self.plan is None:
            try:
                async with database.transaction(readonly=True) as conn:
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
        if self.refuse_read_only():
            return None
        plan = await self._ensure_plan()
        if plan is None:
            return None
        if plan.editable:
            return plan
        detail = self.screen.detail
        assert detail is not None
        if plan.physical_possible and not self.state.is_open:
            if await self.screen.app.push_screen_wait(physical_row_question(detail)):
                self.physical.add(detail.oid)
                self.plan = None
                await self.screen.reopen_for_editing()
                self.screen.say("Editing by physical row (ctid + xmin): press the key again.")
            return None
        self.screen.say(f"Read-only: {plan.read_only_reason}", error=True)
        return None

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
        tx = self.state.transaction()
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
            return self.state.lost(error)
        except DB_ERRORS as error:
            self.state.after_statement()
            return edit_error(error)
        if isinstance(new, Declined):
            if new.choice == "reload":
                self._show_theirs(row, new.conflict.current)
                if new.conflict.current is not None:
                    target["row"] = new.conflict.current
                await self.state.end_if_empty()
                return "Reloaded their row: your text is still here to save or cancel."
            await self.state.end_if_empty()
            return "Cancelled: nothing was written."
        self.grid.replace_row(row, new, {index})
        self.state.after_statement()
        return None

    def _show_theirs(self, row: Row, current: Row | None) -> None:
        if current is None:
            self.grid.remove_row(row)
        else:
            self.grid.replace_row(row, current, set())

    async def insert_row(self) -> None:
        """Ask for a new row's values (empty: DEFAULT) and insert it."""
        plan = await self._editable()
        detail = self.screen.detail
        if plan is None or detail is None:
            return

        async def save(values: Mapping[str, Value]) -> str | None:
            tx = self.state.transaction()
            try:
                row = await tx.insert(values)
            except TransactionLost as error:
                return self.state.lost(error)
            except (*DB_ERRORS, EditRefused) as error:
                self.state.after_statement()
                return edit_error(error)
            self.grid.insert_row(row)
            self.state.after_statement()
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

        tx = self.state.transaction()
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
            await self.state.end_if_empty()
            return
        except TransactionLost as error:
            self.screen.say(self.state.lost(error), error=True)
            return
        except (*DB_ERRORS, EditRefused) as error:
            self.screen.say(edit_error(error), error=True)
            self.state.after_statement()
            return
        self.grid.remove_row(row)
        self.state.after_statement()
        self.screen.say("Row deleted inside the transaction: ctrl+s commits, ctrl+r rolls back.")
