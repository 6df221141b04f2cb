"""The fleet view: one row per server, worst first, refreshed concurrently.

Rows are painted as each server answers (a dead one never holds the others back) and put in
order once all have: down, blocked, horizon, lag, load (see `pgconsole.db.fleet.score`).
The name and the verdict stay put while ←/→ scroll the other columns a column at a time; both
grow with the terminal. The line below the table tells everything about the highlighted server,
its problems first. Enter opens its browser and
`a` its activity, in a window of its own (F10 comes back here, as it was).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, ClassVar, Literal

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Static

from pgconsole.db.fleet import FleetRow, Level, worst_first
from pgconsole.failed_workers import ReportsFailedWorkers
from pgconsole.messages import ServerRequested
from pgconsole.paths import STYLES
from pgconsole.server_list import ServerList
from pgconsole.text import visible
from pgconsole.widgets.key_bar import KeyBar
from pgconsole.widgets.replication_view import size
from pgconsole.widgets.sparkline import duration, human
from pgconsole.words import counted

if TYPE_CHECKING:
    from pgconsole.fleet import FleetReading

COLUMNS = (
    ("name", "server", 14),
    ("worst", "state", 13),
    ("role", "role", 7),
    ("conn", "conn", 8),
    ("sessions", "act/iit/wait", 12),
    ("blocked", "blk", 4),
    ("xact", "long tx", 7),
    ("xmin", "xmin age", 8),
    ("lag", "lag", 8),
    ("tps", "tps", 6),
    ("hit", "hit", 5),
    ("version", "version", 7),
    ("tls", "tls", 7),
)
"""Key, heading and (least) width of each column; the first two stay while the others scroll."""

WIDEST_NAME = 40
"""The name column grows with the longest name, up to this, on a terminal wide enough."""

LEVEL_STYLES = {
    Level.DOWN: "bold red",
    Level.BLOCKED: "bold red",
    Level.HORIZON: "bold yellow",
    Level.LAG: "yellow",
    Level.LOAD: "cyan",
    Level.OK: "green",
}


def cells(row: FleetRow) -> list[Text]:
    """The row's cells, in COLUMNS' order: `-` where the server did not say."""
    name = Text(visible(row.name), style=f"bold {row.color}" if row.color else "")
    worst = Text(visible(row.worst), style=LEVEL_STYLES[row.score.level])
    if not row.reachable:
        return [name, worst, *(Text("-") for _ in COLUMNS[2:])]
    conn = f"{row.connections}/{row.max_connections}"
    sessions = f"{row.active}/{row.idle_in_transaction}/{row.waiting}"
    hit = "-" if row.cache_hit is None else f"{row.cache_hit * 100:.0f}%"
    lag = "-" if row.lag_bytes is None else size(row.lag_bytes)
    if row.lag_seconds is not None and row.lag_seconds >= 1:
        lag = duration(row.lag_seconds)
    texts = [
        row.role or "-",
        conn,
        sessions,
        str(row.blocked),
        duration(row.longest_transaction),
        human(row.xmin_age),
        lag,
        "-" if row.tps is None else human(row.tps),
        hit,
        row.version or "-",
        row.tls or "-",
    ]
    return [name, worst, *(Text(visible(text)) for text in texts)]


def detail(row: FleetRow, where: str | None = None) -> Text:
    """Everything about one server, its problems first, then where it is (`where`: its
    target, `… via bastion` through a tunnel), on one line (wrapped if need be)."""
    name = Text(visible(row.name), style=f"bold {row.color}" if row.color else "bold")
    at = f" · {visible(where)}" if where and where != row.name else ""
    if not row.reachable:
        return Text.assemble(name, " is down: ", (visible(row.reason or "?"), "red"), at)
    return Text.assemble(name, ": ", *problems(row), visible(" · ".join(facts(row))), at)


def problems(row: FleetRow) -> list[tuple[str, str]]:
    """What is wrong on a server that answered, each followed by ` · `, in its level's style."""
    found: list[tuple[str, Level]] = []
    if row.blocked:
        found.append((f"{row.blocked} blocked", Level.BLOCKED))
    if row.waiting:
        found.append((f"{row.waiting} waiting", Level.BLOCKED))
    if row.longest_transaction is not None and row.longest_transaction >= 60:
        found.append((f"longest transaction {duration(row.longest_transaction)}", Level.HORIZON))
    if row.idle_in_transaction_age:
        age = duration(row.idle_in_transaction_age)
        found.append((f"idle in transaction for {age}", Level.HORIZON))
    if row.xmin_age is not None and row.xmin_age >= 1_000_000:
        found.append((f"oldest xmin {human(row.xmin_age)} transactions old", Level.HORIZON))
    if row.lag_bytes or (row.lag_seconds is not None and row.lag_seconds >= 1):
        lag = " ".join(
            text
            for text in (
                size(row.lag_bytes) if row.lag_bytes else "",
                duration(row.lag_seconds) if row.lag_seconds else "",
            )
            if text
        )
        found.append((f"lag {lag}", Level.LAG))
    return [(f"{text} · ", LEVEL_STYLES[level]) for text, level in found]


def facts(row: FleetRow) -> list[str]:
    """The rest about a server that answered."""
    parts = [f"PostgreSQL {row.version}"]
    if row.role == "standby":
        upstream = f" of {row.upstream}" if row.upstream else ""
        streaming = "" if row.streaming else ", NOT streaming"
        parts.append(f"standby{upstream}{streaming}")
    else:
        parts.append(f"primary feeding {counted(row.standbys or 0, 'standby', 'standbys')}")
    parts.append(f"{row.connections} of {row.max_connections} connections")
    if row.tps is not None:
        hit = f", cache hit {row.cache_hit * 100:.1f}%" if row.cache_hit is not None else ""
        parts.append(f"{human(row.tps)} tps{hit}")
    if row.sees_all is False:
        parts.append("the role sees only its own sessions (grant pg_monitor)")
    parts.append(f"TLS {row.tls}" if row.tls else "no TLS")
    parts.append(f"read in {row.elapsed * 1000:.0f} ms")
    return parts


class FleetScreen(ReportsFailedWorkers, Screen[None]):
    """Every server of the config (or of `--profiles`), the worst first."""

    CSS_PATH = STYLES / "fleet.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open('browser')", "Open", priority=True),
        Binding("a", "open('activity')", "Activity"),
        Binding("r", "refresh_now", "Refresh"),
        Binding("right", "columns(1)", "Columns", key_display="←→", priority=True),
        Binding("left", "columns(-1)", "Columns", show=False, priority=True),
    ]

    def __init__(self, servers: ServerList, early: FleetReading | None = None) -> None:
        """Args:
        servers: The servers to read.
        early: The first reading, if it started before the screen (`pgconsole fleet`).
        """
        super().__init__()
        self.servers = servers
        self.early = early
        self.targets = {
            entry.name: entry.target.params.target
            for entry in servers.entries
            if entry.target is not None
        }
        """Where each server is (`user@host:port/db via bastion`), by name."""
        self.rows: dict[str, FleetRow] = {}
        self.refreshed_at: float | None = None
        self.sorted_once = False
        self.cursor_moved = False
        self._wake = asyncio.Event()

    def compose(self) -> ComposeResult:
        yield Static(Text("Fleet: reading…"), id="fleet-title")
        table: DataTable[Text] = DataTable(
            id="fleet-table", cursor_type="row", fixed_columns=2, zebra_stripes=False
        )
        for key, heading, width in COLUMNS:
            table.add_column(heading, key=key, width=width)
        self.widths = tuple(width for _, _, width in COLUMNS)
        yield table
        yield Static(id="fleet-detail")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.watch_fleet()

    @work(group="fleet", exclusive=True, exit_on_error=False)
    async def watch_fleet(self) -> None:
        """Read the fleet every `interval` seconds (or at once on `r`) while the app runs; the
        first reading may have started before the screen (`early`)."""
        from pgconsole.fleet import FleetReading

        options = self.servers.options
        reading, self.early = self.early or FleetReading(self.servers), None
        fleet, rows, broken = await reading.take(self.show_row)
        self.refreshed_at = reading.elapsed
        try:
            while True:
                self.show_sorted(worst_first([*rows, *broken]))
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), options.interval)
                started = time.monotonic()
                rows = await fleet.refresh(on_row=self.show_row)
                self.refreshed_at = time.monotonic() - started
        finally:
            await fleet.close()

    def show_row(self, row: FleetRow) -> None:
        """Paint one server's row as soon as it is read (in place, or added at the end)."""
        table: DataTable[Text] = self.query_one(DataTable)
        known = row.name in self.rows
        self.rows[row.name] = row
        values = cells(row)
        if known:
            for (key, _, _), value in zip(COLUMNS, values, strict=True):
                table.update_cell(row.name, key, value)
        else:
            table.add_row(*values, key=row.name)
        self.show_title()
        self.show_detail()

    def show_sorted(self, rows: list[FleetRow]) -> None:
        """Put the rows worst first, the cursor staying on the server it was on and the
        columns scrolled as they were."""
        table: DataTable[Text] = self.query_one(DataTable)
        # The first time on the worst server, unless the user moved already; then on the
        # server the user chose.
        current = self.highlighted() if self.sorted_once or self.cursor_moved else None
        self.sorted_once = True
        scrolled = table.scroll_x
        widths = self.fitting_widths(rows)
        if widths != self.widths:
            self.widths = widths
            table.clear(columns=True)
            for (key, heading, _), width in zip(COLUMNS, widths, strict=True):
                table.add_column(heading, key=key, width=width)
        else:
            table.clear()
        for row in rows:
            table.add_row(*cells(row), key=row.name)
        if current is not None and current in self.rows:
            table.move_cursor(row=table.get_row_index(current))
        if scrolled:
            self.call_after_refresh(table.scroll_to, x=scrolled, animate=False)
        self.show_title()
        self.show_detail()

    def fitting_widths(self, rows: list[FleetRow]) -> tuple[int, ...]:
        """COLUMNS' widths, with the name and the state as wide as their longest (the name
        up to WIDEST_NAME) while the two take at most half the terminal."""
        least = [width for _, _, width in COLUMNS]
        room = max(self.app.size.width // 2 - 8, least[0] + least[1])
        name = max([least[0], *(len(visible(row.name)) for row in rows)])
        state = max([least[1], *(len(visible(row.worst)) for row in rows)])
        name = min(name, WIDEST_NAME, max(least[0], room - least[1]))
        state = min(state, max(least[1], room - name))
        return (name, state, *least[2:])

    def on_resize(self) -> None:
        if self.sorted_once:
            self.show_sorted(worst_first(list(self.rows.values())))

    def action_columns(self, step: int) -> None:
        """Scroll the columns right of the state by one column (←/→), the name and the state
        staying put."""
        table: DataTable[Text] = self.query_one(DataTable)
        starts, x = [], 0
        for column in list(table.columns.values())[2:]:
            starts.append(x)
            x += column.get_render_width(table)
        now = round(table.scroll_x)
        if step > 0:
            later = [start for start in starts if start > now and now < table.max_scroll_x]
            target = min(later[0], round(table.max_scroll_x)) if later else None
        else:
            earlier = [start for start in starts if start < now]
            target = earlier[-1] if earlier else None
        if target is None:
            self.app.bell()
            return
        table.scroll_to(x=target, animate=False)

    def show_title(self) -> None:
        """`Fleet · 30 servers · 2 down · 3 blocked · read in 1.4 s`."""
        rows = list(self.rows.values())
        down = sum(1 for row in rows if not row.reachable)
        blocked = sum(1 for row in rows if row.score.level is Level.BLOCKED)
        total = len(self.servers.entries)
        shown = f"{len(rows)} of " if len(rows) < total else ""
        parts = [f"Fleet · {shown}{counted(total, 'server')}"]
        if down:
            parts.append(f"{down} down")
        if blocked:
            parts.append(f"{blocked} blocked")
        if self.refreshed_at is not None:
            every = self.servers.options.interval
            parts.append(f"read in {self.refreshed_at:.1f} s (every {every:g} s)")
        self.query_one("#fleet-title", Static).update(Text(" · ".join(parts), style="bold"))

    def highlighted(self) -> str | None:
        """The name of the server under the cursor."""
        table: DataTable[Text] = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return None if key.value is None else str(key.value)

    def on_data_table_row_highlighted(self) -> None:
        self.show_detail()

    def on_key(self, event: events.Key) -> None:
        if event.key in ("up", "down", "pageup", "pagedown", "home", "end"):
            self.cursor_moved = True

    def show_detail(self) -> None:
        """Everything about the highlighted server, below the table."""
        name = self.highlighted()
        row = self.rows.get(name) if name is not None else None
        where = self.targets.get(name) if name is not None else None
        self.query_one("#fleet-detail", Static).update(detail(row, where) if row else Text(""))

    def action_refresh_now(self) -> None:
        """Read every server now (the next refresh waits its interval from then)."""
        self._wake.set()

    def action_open(self, place: Literal["browser", "activity"]) -> None:
        """Open the highlighted server in its window: its browser, or its activity."""
        name = self.highlighted()
        if name is not None:
            self.app.post_message(ServerRequested(name, place))
