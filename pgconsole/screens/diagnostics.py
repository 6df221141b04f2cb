"""Incident diagnostics: what costs the server now, what sessions wait on, who holds the vacuum
horizon back, how far running operations are, how far behind the standbys are.

One panel at a time (1-5 or Tab), each read on a connection of the screen's own (`Sampler`,
as the activity screen) at its own pace, only while it is shown. A remedy goes through the
pool, behind a confirmation, and reaches only the holder listed (`horizon.apply_remedy`).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import getters, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Static
from textual.worker import Worker

from pgconsole.db.activity.sampler import Sampler
from pgconsole.db.connection.errors import DB_ERRORS
from pgconsole.db.connection.failures import describe_error
from pgconsole.db.connection.pool import Database
from pgconsole.db.diagnostics.horizon import Holder, Horizon, RemedyRefused, apply_remedy
from pgconsole.db.diagnostics.replication import RETENTION_WARNING
from pgconsole.db.diagnostics.waits import WaitHistory
from pgconsole.failed_workers import ReportsFailedWorkers
from pgconsole.messages import Place, PlaceRequested
from pgconsole.paths import STYLES
from pgconsole.screens.confirm import ConfirmScreen
from pgconsole.screens.value import ValueScreen
from pgconsole.text import visible
from pgconsole.widgets import horizon_view, progress_view, statements_view
from pgconsole.widgets.diagnostics_panel import Panel
from pgconsole.widgets.horizon_view import HorizonPanel
from pgconsole.widgets.key_bar import KeyBar
from pgconsole.widgets.progress_view import ProgressPanel
from pgconsole.widgets.replication_view import ReplicationPanel
from pgconsole.widgets.session_table import SessionTable
from pgconsole.widgets.statements_view import StatementsPanel
from pgconsole.widgets.waits_view import WaitsPanel

SNAPSHOT_WINDOW = 10.0
"""Seconds an incident snapshot samples the waits and measures the statements over."""
PANELS = ("statements", "waits", "horizon", "progress", "replication")
"""In the order of their keys (1, 2, 3...) and of the tab line."""
PANEL_ACTIONS = frozenset().union(
    *(kind.ACTIONS for kind in (StatementsPanel, WaitsPanel, HorizonPanel, ProgressPanel))
)
"""The actions some panel has: each is offered only while its panel is shown."""
UNSEEN = (
    "other roles' sessions are hidden without pg_read_all_stats (or pg_monitor): "
    "the figures may be short of the truth"
)


class DiagnosticsScreen(ReportsFailedWorkers, Screen[None]):
    """The diagnostics' panels, one at a time, and the tab line that names them."""

    PLACE: ClassVar[Place] = "diagnostics"
    """Which place this screen is (`pgconsole.places.place_of`)."""

    CSS_PATH = STYLES / "diagnostics.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("x", "remedy", "Remedy"),
        Binding("enter", "details", "Details"),
        Binding("o", "sort", "Sort"),
        Binding("w", "window", "Window"),
        Binding("c", "to_console", "To console"),
        Binding("g", "group", "Group by"),
        Binding("s", "snapshot", "Snapshot"),
        Binding("tab", "next_panel", "Next panel", show=False),
        *(
            Binding(str(n), f"panel('{name}')", name.capitalize(), show=False)
            for n, name in enumerate(PANELS, 1)
        ),
        Binding("space", "pause", "Pause"),
        Binding("f3", "activity", "Activity"),
    ]

    tabs = getters.query_one("#diagnostics-tabs", Static)
    switcher = getters.query_one("#panels", ContentSwitcher)
    status_line = getters.query_one("#diagnostics-status", Static)

    def __init__(
        self,
        database: Database,
        *,
        read_only: bool,
        panel: str = "statements",
        waits: WaitHistory | None = None,
        redact: bool = False,
        retention_warning: int = RETENTION_WARNING,
    ) -> None:
        """Args:
        database: The app's pool (remedies go through it; the sampler takes its settings).
        read_only: Remedies are refused.
        panel: The panel shown first.
        waits: The app's wait history (the activity screen feeds it too); a new one if None.
        redact: Incident snapshots replace query texts by their first keywords.
        retention_warning: WAL bytes past which a slot (or a standby's lag) is marked.
        """
        super().__init__()
        self.database = database
        self.read_only = read_only
        self.first_panel = panel if panel in PANELS else PANELS[0]
        self.waits = waits if waits is not None else WaitHistory()
        self.sampler = Sampler(database)
        self.redact = redact
        self.retention_warning = retention_warning
        self.snapshot_files: tuple[Path, Path] | None = None
        """The last incident snapshot written from here (tests wait on it)."""
        self.paused = False
        self.state_text = "reading…"
        self.last_refresh: float | None = None
        self.samples = 0
        """Readings shown so far, of any panel (tests wait on it)."""

    def compose(self) -> ComposeResult:
        yield Static(id="diagnostics-tabs")
        with ContentSwitcher(id="panels", initial=self.first_panel):
            yield StatementsPanel(id="statements")
            yield WaitsPanel(self.waits, id="waits")
            yield HorizonPanel(id="horizon")
            yield ProgressPanel(id="progress")
            yield ReplicationPanel(limit=self.retention_warning, id="replication")
        yield Static(id="diagnostics-status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.show_panel(self.first_panel)

    async def on_unmount(self) -> None:
        await self.sampler.close()

    # -- panels --------------------------------------------------------------------------------

    @property
    def panel(self) -> Panel:
        """The panel shown."""
        return self.query_one(f"#{self.switcher.current}", Panel)

    @property
    def horizon(self) -> Horizon | None:
        """The horizon panel's last reading."""
        return self.query_one(HorizonPanel).horizon

    def show_panel(self, name: str) -> None:
        """Show panel `name`, read it at once and then at its pace."""
        self.switcher.current = name
        self.query_one(f"#{name}").query(SessionTable).first().focus()
        self.tabs.update(self.tab_line())
        self.refresh_bindings()
        self._show_status()
        self.poll()

    def tab_line(self) -> Text:
        text = Text()
        for n, name in enumerate(PANELS, 1):
            title = self.query_one(f"#{name}", Panel).TITLE
            style = "reverse bold" if name == self.switcher.current else ""
            text.append(f" {n} {title} ", style)
            text.append(" ")
        return text

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A panel's keys only while it is shown."""
        if action in PANEL_ACTIONS and self.is_mounted:
            return action in self.panel.ACTIONS
        return True

    # -- polling -------------------------------------------------------------------------------

    @work(exclusive=True, group="diagnostics", exit_on_error=False)
    async def poll(self) -> None:
        """Read the panel shown, render, sleep; a lost connection is opened again at the next
        read. Showing another panel starts this again (the old loop is cancelled)."""
        while True:
            if self.paused:
                await asyncio.sleep(0.2)
                continue
            panel = self.panel
            started = time.monotonic()
            try:
                reading = await self.sampler.read(panel.read)
            except DB_ERRORS as error:
                for each in self.query(Panel):
                    each.forget_connection()
                self.state_text = f"reconnecting… ({describe_error(error).splitlines()[0]})"
                self._show_status()
            else:
                if self.state_text:
                    self.state_text = ""
                self.last_refresh = time.time()
                panel.show(reading)
                self.samples += 1
                if panel.INTERVAL >= 1 or self.samples % 10 == 0:
                    self._show_status()
            await asyncio.sleep(max(0.02, panel.INTERVAL - (time.monotonic() - started)))

    def worker_failed(self, worker: Worker[object]) -> None:
        """Sampling stopped on a bug: the status line says so instead of a stale time."""
        if worker.group == "diagnostics":
            self.state_text = "sampling stopped on an unexpected error (see the notice)"
            self._show_status()

    def _show_status(self) -> None:
        parts = [self.state_text] if self.state_text else []
        if self.last_refresh is not None:
            parts.append(time.strftime("read %H:%M:%S", time.localtime(self.last_refresh)))
        interval = self.panel.INTERVAL
        if self.paused:
            parts.append("paused")
        elif interval >= 1:
            parts.append(f"every {interval:g} s")
        if extra := self.panel.status():
            parts.append(extra)
        capabilities = self.sampler.capabilities
        if capabilities is not None and not capabilities.read_all_stats:
            parts.append(UNSEEN)
        self.status_line.update(Text(" · ".join(parts)))

    # -- keys ----------------------------------------------------------------------------------

    def selected(self) -> Holder | None:
        """The holder under the cursor of the horizon panel."""
        return self.query_one(HorizonPanel).selected()

    def action_panel(self, name: str) -> None:
        """Show panel `name`."""
        if name != self.switcher.current:
            self.show_panel(name)

    def action_next_panel(self) -> None:
        """The next panel (after the last, the first)."""
        current = self.switcher.current or PANELS[0]
        self.show_panel(PANELS[(PANELS.index(current) + 1) % len(PANELS)])

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
        """Everything about the selected holder, statement or operation, its query in full."""
        if self.switcher.current == "progress":
            operation = self.query_one(ProgressPanel).selected()
            if operation is not None:
                text = progress_view.details(*operation)
                self.app.push_screen(ValueScreen("operation", "details", text))
            return
        if self.switcher.current == "statements":
            entry = self.query_one(StatementsPanel).selected()
            if entry is not None:
                text = statements_view.details(*entry)
                self.app.push_screen(ValueScreen("statement", "details", text))
            return
        holder = self.selected()
        if holder is not None and self.horizon is not None:
            self.app.push_screen(
                ValueScreen("holder", "details", horizon_view.details(holder, self.horizon))
            )

    def action_sort(self) -> None:
        """The statements by the next figure (time, calls, mean, read, temp, WAL)."""
        self.query_one(StatementsPanel).next_sort()

    def action_window(self) -> None:
        """The statements over the next window (last refresh, 10 s, 1 min, 5 min)."""
        self.query_one(StatementsPanel).next_window()

    def action_group(self) -> None:
        """The waits by the next grouping (event, session, statement)."""
        self.query_one(WaitsPanel).next_group()

    @work(group="snapshot", exclusive=True, exit_on_error=False)
    async def action_snapshot(self) -> None:
        """An incident snapshot: the waits and statements over `SNAPSHOT_WINDOW` seconds and
        everything else once, written as JSON and Markdown (mode 0600) to the export folder,
        on a connection of its own (the panel shown keeps refreshing)."""
        from pgconsole.db.browse.export import default_folder
        from pgconsole.db.diagnostics import snapshot

        self.notify(
            f"Taking an incident snapshot: {SNAPSHOT_WINDOW:g} s of waits and statements…",
            timeout=SNAPSHOT_WINDOW,
        )
        try:
            conn = await self.database.dedicated()
            try:
                bundle = await snapshot.take_snapshot(
                    conn, window=SNAPSHOT_WINDOW, redact=self.redact
                )
            finally:
                await conn.close()
            folder = default_folder()
            files = snapshot.write_bundle(bundle, folder / snapshot.snapshot_name(bundle))
        except (*DB_ERRORS, OSError) as error:
            reason = visible(describe_error(error), keep_newlines=True)
            self.notify(
                f"Snapshot not written: {reason}", severity="error", timeout=30, markup=False
            )
            return
        self.snapshot_files = files
        self.notify(
            f"Snapshot written: {visible(str(files[0]))} and {files[1].name}",
            timeout=30,
            markup=False,
        )

    def action_to_console(self) -> None:
        """The selected statement's text into the SQL console's editor (not run)."""
        entry = self.query_one(StatementsPanel).selected()
        if entry is not None and entry[1]:
            self.post_message(PlaceRequested("console", text=entry[1]))

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
                done = await apply_remedy(conn, holder)
        except RemedyRefused as refused:
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
