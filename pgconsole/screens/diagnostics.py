"""Incident diagnostics: who holds the vacuum horizon back, what it costs, and the remedy.

Sampled on a connection of its own (`Sampler`, as the activity screen), two statements per
refresh, only while the screen is shown. A remedy goes through the pool, behind a
confirmation, and reaches only the holder listed (`horizon.apply_remedy`).
"""

from __future__ import annotations

import asyncio
import datetime
import time
from typing import ClassVar

from rich.text import Text
from textual import getters, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker

from pgconsole.db.activity.sampler import Sampler
from pgconsole.db.connection.errors import DB_ERRORS
from pgconsole.db.connection.failures import describe_error
from pgconsole.db.connection.pool import Database
from pgconsole.db.diagnostics import horizon
from pgconsole.failed_workers import ReportsFailedWorkers
from pgconsole.messages import PlaceRequested
from pgconsole.paths import STYLES
from pgconsole.screens.confirm import ConfirmScreen
from pgconsole.screens.value import ValueScreen
from pgconsole.text import visible
from pgconsole.widgets import horizon_view
from pgconsole.widgets.key_bar import KeyBar
from pgconsole.widgets.session_table import SessionTable

INTERVAL = 2.0
"""Seconds between refreshes: a horizon moves slowly, and this screen is read, not watched."""
UNSEEN = (
    "other roles' snapshots are hidden without pg_read_all_stats (or pg_monitor): "
    "the horizon may be older than shown"
)


class DiagnosticsScreen(ReportsFailedWorkers, Screen[None]):
    """The vacuum horizon's holders, oldest first, with what they cost and their remedy."""

    CSS_PATH = STYLES / "diagnostics.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("x", "remedy", "Remedy"),
        Binding("enter", "details", "Details"),
        Binding("space", "pause", "Pause"),
        Binding("f3", "activity", "Activity"),
    ]

    summary = getters.query_one("#horizon-summary", Static)
    table = getters.query_one("#holders", SessionTable)
    costs = getters.query_one("#horizon-costs", Static)
    status_line = getters.query_one("#diagnostics-status", Static)

    def __init__(self, database: Database, *, read_only: bool) -> None:
        """Args:
        database: The app's pool (remedies go through it; the sampler takes its settings).
        read_only: Remedies are refused.
        """
        super().__init__()
        self.database = database
        self.read_only = read_only
        self.sampler = Sampler(database)
        self.horizon: horizon.Horizon | None = None
        self.keys: dict[tuple[str, str], int] = {}
        """A number per holder, stable while it is listed (the table's cursor follows it)."""
        self.paused = False
        self.state_text = "reading…"
        self.last_refresh: float | None = None
        self.samples = 0
        """Refreshes shown so far (tests wait on it)."""

    def compose(self) -> ComposeResult:
        yield Static(id="horizon-summary")
        yield SessionTable(horizon_view.HEADERS, id="holders")
        yield Static(id="horizon-costs")
        yield Static(id="diagnostics-status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.table.focus()
        self._show_status()
        self.poll()

    async def on_unmount(self) -> None:
        await self.sampler.close()

    # -- polling -------------------------------------------------------------------------------

    @work(exclusive=True, group="diagnostics", exit_on_error=False)
    async def poll(self) -> None:
        """Read, render, sleep; a lost connection is opened again at the next read."""
        while True:
            if self.paused:
                await asyncio.sleep(0.2)
                continue
            started = time.monotonic()
            try:
                read = await self.sampler.read(horizon.read_horizon)
            except DB_ERRORS as error:
                self.state_text = f"reconnecting… ({describe_error(error).splitlines()[0]})"
                self._show_status()
            else:
                self.state_text = ""
                self.last_refresh = time.time()
                self.show(read)
                self.samples += 1
            await asyncio.sleep(max(0.05, INTERVAL - (time.monotonic() - started)))

    def worker_failed(self, worker: Worker[object]) -> None:
        """Sampling stopped on a bug: the status line says so instead of a stale time."""
        if worker.group == "diagnostics":
            self.state_text = "sampling stopped on an unexpected error (see the notice)"
            self._show_status()

    def show(self, read: horizon.Horizon) -> None:
        """Render one reading: the summary, the holders (cursor kept), the costs."""
        self.horizon = read
        listed = {(h.kind, h.name) for h in read.holders}
        self.keys = {key: n for key, n in self.keys.items() if key in listed}
        self.summary.update(horizon_view.summary(read))
        self.table.show(horizon_view.rows(read, self.keys))
        now = datetime.datetime.now(datetime.UTC)
        self.costs.update(horizon_view.costs(read, now, self.size.width))
        self._show_status()

    def _show_status(self) -> None:
        parts = [self.state_text] if self.state_text else []
        if self.last_refresh is not None:
            parts.append(time.strftime("refreshed %H:%M:%S", time.localtime(self.last_refresh)))
        parts.append("paused" if self.paused else f"every {INTERVAL:g} s")
        capabilities = self.sampler.capabilities
        if capabilities is not None and not capabilities.read_all_stats:
            parts.append(UNSEEN)
        self.status_line.update(Text(" · ".join(parts)))

    # -- keys ----------------------------------------------------------------------------------

    def selected(self) -> horizon.Holder | None:
        """The holder under the cursor."""
        key = self.table.selected_pid
        if key is None or self.horizon is None:
            return None
        by_key = {n: k for k, n in self.keys.items()}
        wanted = by_key.get(key)
        return next((h for h in self.horizon.holders if (h.kind, h.name) == wanted), None)

    def action_back(self) -> None:
        """One step back: the place shown before this one."""
        self.post_message(PlaceRequested("back"))

    def action_activity(self) -> None:
        """The activity screen."""
        self.post_message(PlaceRequested("activity"))

    def action_pause(self) -> None:
        """Stop (or resume) refreshing."""
        self.paused = not self.paused
        self._show_status()

    def action_details(self) -> None:
        """Everything about the selected holder, its query in full."""
        holder = self.selected()
        if holder is not None and self.horizon is not None:
            self.app.push_screen(
                ValueScreen("holder", "details", horizon_view.details(holder, self.horizon))
            )

    @work(group="remedy", exclusive=True, exit_on_error=False)
    async def action_remedy(self) -> None:
        """End what the selected holder holds, after a confirmation."""
        holder = self.selected()
        if holder is None:
            return
        remedy = holder.remedy
        if remedy is None:
            self.notify(horizon_view.no_remedy(holder), severity="warning", markup=False)
            return
        if self.read_only:
            self.notify(f"Read-only mode: {remedy} is refused.", severity="warning")
            return
        question = {
            "terminate": f"Terminate session pid {holder.pid} ({holder.role or '?'})?",
            "rollback": f"Roll back prepared transaction {holder.name!r}?",
            "drop slot": f"Drop replication slot {holder.name}?",
        }[remedy]
        detail = horizon_view.where(holder)
        if not await self.app.push_screen_wait(ConfirmScreen(question, detail)):
            return
        try:
            # Through the pool, never the sampler's connection; outside a transaction, which
            # ROLLBACK PREPARED refuses to run in.
            async with self.database.pool.acquire() as conn:
                done = await horizon.apply_remedy(conn, holder)
        except horizon.RemedyRefused as refused:
            self.notify(str(refused), severity="warning", timeout=10, markup=False)
            return
        except DB_ERRORS as error:
            reason = visible(describe_error(error), keep_newlines=True)
            self.notify(f"{remedy} failed: {reason}", severity="error", timeout=10, markup=False)
            return
        name = horizon_view.holder_name(holder)
        self.notify(
            f"{name}: done" if done else f"{name}: gone already, nothing done",
            severity="information" if done else "warning",
            markup=False,
        )
        self.poll()  # show the horizon as it is now
