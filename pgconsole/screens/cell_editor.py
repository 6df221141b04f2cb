"""The cell editor: type a value as psql would read it, or set NULL or DEFAULT.

The editor does not write anything itself: it hands the value to a `save` callback (the
main screen runs it inside the open transaction) and stays open, with the typed text and the
server's error, until the save succeeds or the user gives up with Esc.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea
from textual.worker import Worker

from pgconsole.db.edit.transaction import DEFAULT, Value
from pgconsole.failed_workers import ReportsFailedWorkers
from pgconsole.keys import one_key
from pgconsole.paths import STYLES
from pgconsole.text import visible
from pgconsole.widgets.ordered_keys import OrderedTextArea, after_typed_keys

Save = Callable[[Value], Awaitable[str | None]]
"""Applies a value; returns None when it was saved, else the error to show."""


def editable_text(value: str | None) -> str | None:
    """Why a value cannot be edited as text here (None when it can).

    A terminal text area would send escape and control characters to the terminal raw.
    """
    if value is None:
        return None
    if any((ord(c) < 32 and c not in "\n\t") or 127 <= ord(c) < 160 for c in value):
        return "the value holds control characters: edit it with SQL instead"
    return None


class CellEditorScreen(ReportsFailedWorkers, ModalScreen[bool]):
    """Edits one value; dismissed with True once saved, False when cancelled."""

    CSS_PATH = STYLES / "cell_editor.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("ctrl+n", "set_null", "Set NULL", priority=True),
        Binding("ctrl+t", "set_default", "Set DEFAULT", priority=True),
        Binding("escape", "cancel", "Cancel", priority=True),
    ]

    def __init__(
        self, title: str, type_name: str, value: str | None, save: Save, *, note: str = ""
    ) -> None:
        """Args:
        title: What is edited (`column` of `schema.table`, or a new row's column).
        type_name: The column's type, as `format_type` prints it.
        value: The current value (None: NULL), in full.
        save: Applies the value; see `Save`.
        note: A line under the title (a default expression, a reason).
        """
        super().__init__()
        self.title_text = title
        self.type_name = type_name
        self.value = value
        self.save = save
        self.note = note
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="editor-box"):
            yield Static(
                Text.assemble((visible(self.title_text), "bold"), f"  {visible(self.type_name)}"),
                id="editor-title",
            )
            if self.note:
                yield Static(Text(visible(self.note), style="dim"), id="editor-note")
            yield OrderedTextArea(
                self.value or "", id="editor-text", soft_wrap=True, tab_behavior="indent"
            )
            yield Static(id="editor-error")
            yield Static(
                Text.assemble(
                    (one_key("ctrl+s"), "bold"),
                    " save · ",
                    (one_key("ctrl+n"), "bold"),
                    " NULL · ",
                    (one_key("ctrl+t"), "bold"),
                    " DEFAULT · ",
                    (one_key("escape"), "bold"),
                    " cancel",
                    "   (was NULL)" if self.value is None else "",
                ),
                id="editor-keys",
            )

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.select_all()  # typing replaces the value; an arrow key keeps it to edit

    @property
    def typed(self) -> str:
        """The text in the editor now."""
        return self.query_one(TextArea).text

    def action_save(self) -> None:
        """Save the typed text (cast on the server to the column's type), once every key
        typed before ctrl+s is in it."""
        after_typed_keys(self, lambda: self.apply(self.typed))

    def action_set_null(self) -> None:
        """Save NULL (the typed text stays, should the server refuse)."""
        self.apply(None)

    def action_set_default(self) -> None:
        """Save the column's DEFAULT."""
        self.apply(DEFAULT)

    def action_cancel(self) -> None:
        """Close without saving anything."""
        if not self.busy:
            self.dismiss(False)

    @work(exclusive=True, group="save", exit_on_error=False)
    async def apply(self, value: Value) -> None:
        """Run the save; close on success, else show why and keep the typed text."""
        if self.busy:
            return
        self.busy = True
        self.show_error("saving…", style="dim")
        try:
            error = await self.save(value)
        finally:
            self.busy = False
        if error is None:
            self.dismiss(True)
        else:
            self.show_error(error)

    def worker_failed(self, worker: Worker[object]) -> None:
        """The save stopped on a bug: nothing is claimed, the typed text stays."""
        if worker.group == "save":
            self.show_error("Not saved: an unexpected error (see the notice). Your text is here.")

    def show_error(self, text: str, *, style: str = "red") -> None:
        """Show a message under the editor (database text shown literally)."""
        self.query_one("#editor-error", Static).update(
            Text(visible(text, keep_newlines=True), style=style)
        )
