"""The diagnostics' waits panel: average active sessions per wait type, second by second as a
stacked chart, and the last minute broken down by event, session or statement."""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from pgconsole.db.connection.pool import Conn
from pgconsole.db.diagnostics.waits import (
    CPU,
    DETAIL_SECONDS,
    GROUPS,
    Group,
    Share,
    WaitHistory,
    Waiting,
    read_waits,
)
from pgconsole.widgets.diagnostics_panel import Panel
from pgconsole.widgets.session_rows import SessionRow, one_line
from pgconsole.widgets.session_table import SessionTable
from pgconsole.widgets.sparkline import human

CHART_LINES = 6
COLOURS = {
    CPU: "green",
    "Lock": "red",
    "LWLock": "magenta",
    "IO": "blue",
    "IPC": "cyan",
    "Client": "yellow",
    "Timeout": "bright_black",
    "BufferPin": "bright_red",
    "Activity": "white",
    "Extension": "bright_magenta",
}
"""Each wait type's colour (of the 16 every terminal has)."""
ORDER = tuple(COLOURS)
"""Bottom to top in the chart."""
GROUP_HEADERS = {
    "event": ("wait event", "sessions", "share", "type"),
    "session": ("pid", "sessions", "share", "mostly"),
    "statement": ("queryid", "sessions", "share", "mostly · query"),
}


def chart(history: Sequence[dict[str, float] | None], lines: int = CHART_LINES) -> Text:
    """A stacked column per second: each wait type's sessions in its colour, bottom up, scaled
    to the busiest second shown; a gap (no sample) is blank."""
    top = max((sum(s.values()) for s in history if s), default=0.0)
    scale = max(top, 1.0) / lines
    text = Text()
    for line in range(lines, 0, -1):
        floor = (line - 1) * scale  # the cell covers (floor, floor + scale]
        for second in history:
            if not second:
                text.append(" ")
                continue
            level = 0.0
            cell_type = None
            for wait_type in (*ORDER, *sorted(set(second) - set(ORDER))):
                level += second.get(wait_type, 0.0)
                if level > floor + scale / 2:
                    cell_type = wait_type
                    break
            if cell_type is None:
                text.append("·" if line == 1 else " ", "dim")  # sampled: nothing active
            else:
                text.append("█", COLOURS.get(cell_type, "white"))
        if line > 1:
            text.append("\n")
    return text


def legend(history: Sequence[dict[str, float] | None]) -> Text:
    """Each wait type seen, in its colour, with its average over the seconds shown."""
    seen = [s for s in history if s is not None]
    totals: dict[str, float] = {}
    for second in seen:
        for wait_type, n in second.items():
            totals[wait_type] = totals.get(wait_type, 0.0) + n
    text = Text()
    for wait_type, total in sorted(totals.items(), key=lambda item: -item[1]):
        text.append("█ ", COLOURS.get(wait_type, "white"))
        text.append(f"{wait_type} {human(total / len(seen))}  ")
    return text


def share_row(number: int, share: Share, group: Group) -> SessionRow:
    last = share.top_event
    if group == "statement" and share.query:
        last = f"{share.top_event} · {one_line(share.query)}"
    return SessionRow(
        number, (share.label, human(share.sessions), f"{share.share:.0%}", one_line(last))
    )


class WaitsPanel(Panel):
    """What active sessions wait on, sampled ten times a second while shown."""

    TITLE = "Waits"
    INTERVAL = 0.1
    ACTIONS = frozenset({"group"})

    def __init__(self, history: WaitHistory, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.history = history
        self.group: Group = "event"
        self.cpu_mark: tuple[float, float] = (time.monotonic(), time.process_time())
        self.cpu_share = 0.0
        """pgconsole's own CPU over the last second, as a part of one core."""

    def compose(self) -> ComposeResult:
        yield Static("sampling…", id="waits-summary")
        yield Static(id="waits-chart")
        yield Static(id="waits-legend")
        yield SessionTable(GROUP_HEADERS["event"], id="waits-rows")

    def on_resize(self) -> None:
        if self.history.seconds:
            self.render_all()  # a column per second, as many as fit

    async def read(self, conn: Conn) -> tuple[Waiting, ...]:
        started = time.perf_counter()
        sample = await read_waits(conn)
        self.history.cost = time.perf_counter() - started
        return sample

    def show(self, reading: tuple[Waiting, ...]) -> None:
        """Count the sample; draw once a second, when a second closes."""
        if self.history.add(reading):
            self.readings += 1
            now, cpu = time.monotonic(), time.process_time()
            wall = now - self.cpu_mark[0]
            self.cpu_share = (cpu - self.cpu_mark[1]) / wall if wall > 0 else 0.0
            self.cpu_mark = (now, cpu)
            self.render_all()

    def render_all(self) -> None:
        width = max(10, self.size.width - 2)
        history = self.history.history(width)
        self.query_one("#waits-chart", Static).update(chart(history))
        self.query_one("#waits-legend", Static).update(legend(history))
        self.render_table()

    def render_table(self) -> None:
        shares = self.history.breakdown(self.group)
        rows = [share_row(n, s, self.group) for n, s in enumerate(shares)]
        self.query_one("#waits-rows", SessionTable).show(rows, GROUP_HEADERS[self.group])
        summary = Text.assemble(
            ("g ", "bold"),
            f"by {self.group} over the last {DETAIL_SECONDS} s",
            " · average active sessions" if shares else " · no session was active",
        )
        self.query_one("#waits-summary", Static).update(summary)

    def status(self) -> str:
        return (
            f"{self.history.rate()} samples/s, {self.history.cost * 1000:.1f} ms each, "
            f"pgconsole {self.cpu_share:.0%} CPU"
        )

    def next_group(self) -> None:
        self.group = GROUPS[(GROUPS.index(self.group) + 1) % len(GROUPS)]
        self.render_table()
