"""Export the open relation (filtered and sorted as shown), or a console query's result, with
COPY, with progress and cancel."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import ClassVar

import asyncpg
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, ProgressBar, Static
from textual.worker import Worker, WorkerState

from pgconsole.db.browse.export import (
    ExportFormat,
    ExportSource,
    Sessions,
    default_folder,
    export,
    file_name,
    spec_source,
)
from pgconsole.db.browse.pages import BrowseSpec
from pgconsole.db.connection.errors import DB_ERRORS
from pgconsole.db.connection.failures import describe_error
from pgconsole.db.console.connection import ConsoleRefused
from pgconsole.failed_workers import ReportsFailedWorkers
from pgconsole.paths import STYLES
from pgconsole.text import visible
from pgconsole.widgets.ordered_keys import OrderedInput
from pgconsole.widgets.schema_tree import human_size
from pgconsole.words import counted

PROGRESS_SECONDS = 0.25
"""How often the status line shows the bytes written so far. The export reports each chunk from
the server (thousands a second); painting each one made the export take 1.6 times as long."""


def format_for(path: Path) -> ExportFormat | None:
    """CSV for `.csv`, JSON lines for `.json`/`.jsonl`/`.ndjson`; None for anything else."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return ExportFormat.CSV
    if suffix in (".json", ".jsonl", ".ndjson"):
        return ExportFormat.JSON
    return None


class ExportScreen(ReportsFailedWorkers, ModalScreen[None]):
    """Asks for a file, streams the rows into it, and can be cancelled half way."""

    CSS_PATH = STYLES / "export.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel / close"),
    ]

    def __init__(
        self,
        database: Sessions,
        spec: BrowseSpec | ExportSource,
        estimated_rows: int | None,
        *,
        file_stem: str | None = None,
        cancel: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        """Args:
        database: The pool (the export runs on a connection of its own, READ ONLY), or the
            console's session for a console query (it runs there, READ ONLY, rolled back).
        spec: The grid's relation and view of it, or a console query (`query_source`).
        estimated_rows: The planner's estimate, if known.
        file_stem: The suggested file name without suffix (default: the source's label).
        cancel: Stops the running COPY on the server, for a connection that must stay usable
            (the console's session); by default Esc cancels the task and the pool drops the
            connection.
        """
        super().__init__()
        self.database = database
        self.source = spec if isinstance(spec, ExportSource) else spec_source(spec)
        self.file_stem = file_stem or self.source.label
        self.note = (
            "the statement runs again in the console's session, READ ONLY. .csv or .jsonl"
            if isinstance(spec, ExportSource)
            else "as shown: same columns, filter and order. .csv or .jsonl"
        )
        self.estimated_rows = estimated_rows
        self.running: Worker[None] | None = None
        self.cancel_on_server = cancel
        self.cancelled = False
        self.written: tuple[int, int | None] | None = None
        """The latest progress of the running export: bytes written, estimated rows."""

    def compose(self) -> ComposeResult:
        # A name from the database may hold a slash or a line break: neither may reach the path.
        default = default_folder() / file_name(self.file_stem, ".csv")
        with Vertical(id="export-box"):
            yield Static(Text(f"Export {visible(self.source.label)}", style="bold"))
            yield Static(Text(self.note, style="dim"))
            yield OrderedInput(str(default), id="export-path")
            # No total: COPY streams without counting rows until it ends (indeterminate bar).
            yield ProgressBar(total=None, show_eta=False, id="export-progress")
            yield Static(id="export-status")
            yield Static(
                Text.assemble(("Enter", "bold"), " exports · ", ("Esc", "bold"), " cancels"),
                id="export-keys",
            )

    def on_mount(self) -> None:
        self.query_one(ProgressBar).display = False
        self.query_one(Input).focus()

    def worker_failed(self, worker: Worker[object]) -> None:
        """The export stopped on a bug: say that no file was finished."""
        if worker.group == "export":
            self.say("Export failed on an unexpected error (see the notice).", "red")

    def say(self, text: str, style: str = "") -> None:
        """A line of status under the progress bar."""
        self.query_one("#export-status", Static).update(
            Text(visible(text, keep_newlines=True), style=style)
        )

    @on(Input.Submitted)
    def start(self, event: Input.Submitted) -> None:
        """Check the path and start streaming."""
        if self.running is not None and self.running.state is WorkerState.RUNNING:
            return
        path = Path(event.value).expanduser()
        fmt = format_for(path)
        if fmt is None:
            self.say("Name the file .csv, or .jsonl for one JSON object per line.", "red")
            return
        if path.exists():
            self.say(f"{path} exists: choose another name (nothing is overwritten).", "red")
            return
        self.query_one(ProgressBar).display = True
        self.running = self.run_export(path, fmt)

    @work(exclusive=True, group="export", exit_on_error=False)
    async def run_export(self, path: Path, fmt: ExportFormat) -> None:
        """COPY … TO STDOUT into the file; a cancelled export leaves no file behind."""
        started = time.monotonic()
        bar = self.query_one(ProgressBar)

        def progress(written: int, estimate: int | None) -> None:
            # Called between chunks, on the loop the COPY is read on: only note the numbers.
            self.written = (written, estimate)

        self.say("starting…")
        self.cancelled = False
        self.written = None
        ticker = self.set_interval(PROGRESS_SECONDS, self.show_progress)
        try:
            result = await export(self.database, self.source, path, fmt, progress=progress)
        except asyncpg.QueryCanceledError as error:
            if self.cancelled:
                self.say("Cancelled: no file was written.", "yellow")
            else:
                self.say(f"Export failed, nothing written: {describe_error(error)}", "red")
            return
        except (*DB_ERRORS, FileExistsError, ConsoleRefused) as error:
            self.say(f"Export failed, nothing written: {describe_error(error)}", "red")
            return
        finally:
            # No await since the outcome was said: no progress line can replace it.
            ticker.stop()
        seconds = time.monotonic() - started
        bar.update(total=max(result.rows, 1), progress=result.rows)
        self.say(
            f"Exported {counted(result.rows, 'row')} ({human_size(result.bytes)}) to {result.path} "
            f"in {seconds:.1f} s. Esc closes.",
            "green",
        )

    def show_progress(self) -> None:
        """The bytes written so far, against the planner's estimate of the rows (COPY counts
        no rows until it ends). The bar beside it moves on its own (its total is unknown)."""
        if self.written is None or self.cancelled:
            return
        written, estimate = self.written
        about = f" of ≈{counted(estimate, 'row')}" if estimate is not None else ""
        self.say(f"{human_size(written)} written{about}… (Esc cancels)")

    def action_cancel(self) -> None:
        """Cancel a running export (the partial file is removed), or close."""
        if self.running is not None and self.running.state is WorkerState.RUNNING:
            self.cancelled = True  # and no more progress lines
            if self.cancel_on_server is not None:
                self.say("Cancelling…", "yellow")
                self.stop_on_server(self.cancel_on_server)
                return
            self.running.cancel()
            self.say("Cancelled: no file was written.", "yellow")
            return
        self.dismiss(None)

    @work(group="export-cancel", exit_on_error=False)
    async def stop_on_server(self, cancel: Callable[[], Awaitable[object]]) -> None:
        """Ask the server to stop the COPY; the export then ends with 'cancelled'."""
        try:
            await cancel()
        except DB_ERRORS as error:
            self.say(f"Could not cancel: {describe_error(error)}", "red")
