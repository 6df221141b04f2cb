"""A new row: one field per column; an empty field is the column's DEFAULT, `\\N` is NULL.

Identity (ALWAYS) and generated columns are left to the server and not offered. Like the cell
editor, the form stays open with what was typed until the insert succeeds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static
from textual.worker import Worker

from pgconsole.db.browse.catalog import RelationDetail
from pgconsole.db.edit.transaction import DEFAULT, EditPlan, Value
from pgconsole.failed_workers import ReportsFailedWorkers
from pgconsole.keys import one_key
from pgconsole.paths import STYLES
from pgconsole.text import visible
from pgconsole.widgets.ordered_keys import OrderedInput, after_typed_keys

NULL_MARK = "\\N"
"""Typed alone in a field, it means NULL (as in COPY's text format)."""

SaveRow = Callable[[Mapping[str, Value]], Awaitable[str | None]]


def field_value(text: str) -> Value:
    """What a field means: empty is DEFAULT, `\\N` is NULL, anything else is typed text."""
    if text == "":
        return DEFAULT
    if text == NULL_MARK:
        return None
    return text


class InsertScreen(ReportsFailedWorkers, ModalScreen[bool]):
    """Dismissed with True once the row is inserted, False when cancelled."""

    CSS_PATH = STYLES / "cell_editor.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Insert", priority=True),
        Binding("escape", "cancel", "Cancel", priority=True),
    ]

    def __init__(self, detail: RelationDetail, plan: EditPlan, save: SaveRow) -> None:
        super().__init__()
        self.detail = detail
        self.columns = [c for c in detail.columns if plan.column_reason(c.name) is None]
        self.save = save
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="editor-box"):
            yield Static(
                Text.assemble(
                    ("New row in ", "bold"),
                    (visible(f"{self.detail.schema}.{self.detail.name}"), "bold"),
                ),
                id="editor-title",
            )
            yield Static(
                Text("Empty: the column's DEFAULT · \\N: NULL", style="dim"), id="editor-note"
            )
            with VerticalScroll(id="insert-fields"):
                for number, column in enumerate(self.columns):
                    with Horizontal(classes="insert-row"):
                        yield Static(Text(visible(column.name)), classes="insert-label")
                        yield OrderedInput(
                            placeholder=visible(column.default or column.type)[:60],
                            id=f"field-{number}",
                        )
            yield Static(id="editor-error")
            yield Static(
                Text.assemble(
                    (one_key("ctrl+s"), "bold"),
                    " insert · ",
                    (one_key("escape"), "bold"),
                    " cancel",
                ),
                id="editor-keys",
            )

    def on_mount(self) -> None:
        fields = self.query(Input)
        if fields:
            fields.first().focus()

    def values(self) -> dict[str, Value]:
        """Column → value, from the fields as typed now."""
        return {
            column.name: field_value(self.query_one(f"#field-{number}", Input).value)
            for number, column in enumerate(self.columns)
        }

    def action_save(self) -> None:
        """Insert the row, once every key typed before ctrl+s is in its field."""
        after_typed_keys(self, lambda: self.apply(self.values()))

    def worker_failed(self, worker: Worker[object]) -> None:
        """The insert stopped on a bug: nothing is claimed, every field keeps its text."""
        if worker.group == "save":
            self.query_one("#editor-error", Static).update(
                Text("Not inserted: an unexpected error (see the notice).", style="red")
            )

    def action_cancel(self) -> None:
        """Close without inserting."""
        if not self.busy:
            self.dismiss(False)

    @work(exclusive=True, group="save", exit_on_error=False)
    async def apply(self, values: dict[str, Value]) -> None:
        """Run the insert; close on success, else show why and keep every field."""
        if self.busy:
            return
        self.busy = True
        try:
            error = await self.save(values)
        finally:
            self.busy = False
        if error is None:
            self.dismiss(True)
        else:
            self.query_one("#editor-error", Static).update(
                Text(visible(error, keep_newlines=True), style="red")
            )
