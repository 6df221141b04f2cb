"""The diagnostics' statements panel: what each pg_stat_statements entry cost over the last
refresh or a window, the costliest first (`StatementWatch` does the arithmetic)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from pgconsole.db.connection.pool import Conn
from pgconsole.db.diagnostics.statements import (
    SORTS,
    WINDOWS,
    Delta,
    Key,
    Sort,
    StatementsUnavailable,
    StatementWatch,
)
from pgconsole.text import visible
from pgconsole.widgets.diagnostics_panel import Panel
from pgconsole.widgets.session_rows import SessionRow, one_line
from pgconsole.widgets.session_table import SessionTable
from pgconsole.widgets.sparkline import duration, human

SHOWN = 40
"""Entries listed (their texts are read once each)."""
WIDE = 110
"""From this width on, the temp and WAL columns show too."""
SORT_WORDS = {
    "time": "time spent",
    "calls": "calls",
    "mean": "mean time",
    "read": "blocks read",
    "temp": "temp blocks",
    "wal": "WAL bytes",
}


def window_words(window: float | None) -> str:
    return "last refresh" if window is None else duration(window)


def headers(wide: bool) -> tuple[str, ...]:
    base = ("ms/s", "calls/s", "mean ms", "rows/s", "hit%", "read/s")
    return (*base, "temp/s", "wal/s", "query") if wide else (*base, "query")


def ms(value: float | None) -> str:
    """Milliseconds: two decimals below one (a key lookup's 0.03), else as `human`."""
    if value is not None and 0 < value < 1:
        return f"{value:.2f}"
    return human(value)


def statement_row(number: int, delta: Delta, query: str, wide: bool) -> SessionRow:
    """One line; `number` follows the entry across refreshes (the table's cursor)."""
    per = delta.seconds or 1.0
    hit = delta.hit_share
    cells = [
        ms(delta.time_ms / per),
        human(delta.calls_per_second),
        ms(delta.mean_ms),
        human(delta.rows / per),
        "-" if hit is None else f"{hit:.0%}",
        human(delta.read / per),
    ]
    if wide:
        cells += [human(delta.temp / per), human(delta.wal_bytes / per, "B")]
    busy = delta.time_ms / per >= 500  # half a core's worth
    return SessionRow(number, (*cells, one_line(query)), "long" if busy else "")


def details(delta: Delta, query: str, role: str | None, database: str | None) -> str:
    """Enter: the normalised text, and its figures over the window and over its lifetime."""
    calls, time_ms, rows, hit, read, temp, wal = delta.lifetime
    lines = [
        f"queryid {delta.key[2]} · role {role or '?'} · database {database or '?'}"
        + ("" if delta.key[3] else " · nested"),
        f"over {duration(delta.seconds)}: {delta.calls:,.0f} calls, {delta.time_ms:,.1f} ms, "
        f"{delta.rows:,.0f} rows, {delta.read:,.0f} blocks read, {delta.temp:,.0f} temp blocks",
        f"lifetime: {calls:,.0f} calls, {time_ms / 1000:,.1f} s, "
        f"mean {time_ms / calls if calls else 0:,.2f} ms, {rows:,.0f} rows, "
        f"{hit:,.0f} hit / {read:,.0f} read, {temp:,.0f} temp blocks, {wal:,.0f} WAL bytes",
        "",
        query,
    ]
    return visible("\n".join(lines), keep_newlines=True)


class StatementsPanel(Panel):
    """The statements that cost the server most over a window."""

    TITLE = "Statements"
    INTERVAL = 2.0
    ACTIONS = frozenset({"details", "sort", "window", "to_console"})

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tracker = StatementWatch()
        self.window: float | None = None
        self.sort: Sort = "time"
        self.numbers: dict[Key, int] = {}
        self.listed: dict[int, Delta] = {}
        self.unavailable: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("reading…", id="statements-summary")
        yield Static(id="statements-unavailable")
        yield SessionTable(headers(False), id="statements-rows")

    def on_resize(self) -> None:
        if self.tracker.readings and self.unavailable is None:
            self.render_table()  # the temp and WAL columns come and go with the width

    async def read(self, conn: Conn) -> StatementWatch | StatementsUnavailable:
        try:
            await self.tracker.refresh(conn, SHOWN, self.sort, self.window)
        except StatementsUnavailable as reason:
            return reason
        return self.tracker

    def show(self, reading: StatementWatch | StatementsUnavailable) -> None:
        self.readings += 1
        unavailable = self.query_one("#statements-unavailable", Static)
        if isinstance(reading, StatementsUnavailable):
            self.unavailable = str(reading)
            self.query_one("#statements-summary", Static).update("No statement figures:")
            unavailable.update(Text(self.unavailable, style="bold"))
            unavailable.display = True
            return
        self.unavailable = None
        unavailable.display = False
        self.render_table()

    def render_table(self) -> None:
        """The table and its summary, from the readings held (also after a key)."""
        tracker = self.tracker
        top = tracker.top(self.window, self.sort, SHOWN)
        alive = {d.key for d in top}
        self.numbers = {k: n for k, n in self.numbers.items() if k in alive}
        wide = self.size.width >= WIDE
        rows = []
        self.listed = {}
        for delta in top:
            number = self.numbers.setdefault(delta.key, max(self.numbers.values(), default=0) + 1)
            text = tracker.texts.get(delta.key)
            rows.append(statement_row(number, delta, text.query if text else "…", wide))
            self.listed[number] = delta
        self.query_one("#statements-rows", SessionTable).show(rows, headers(wide))
        self.query_one("#statements-summary", Static).update(self.summary(top))

    def summary(self, top: list[Delta]) -> Text:
        span = self.tracker.span(self.window)
        active = self.tracker.deltas(self.window)
        total = sum(d.time_ms for d in active)
        text = Text.assemble(
            ("w ", "bold"),
            f"window {window_words(self.window)}",
        )
        if span is not None and (self.window is None or span + 1 < self.window):
            text.append(f" ({duration(span)} so far)" if self.window else f" ({duration(span)})")
        text.append(" · ")
        text.append("o ", "bold")
        text.append(f"by {SORT_WORDS[self.sort]}")
        if span:
            text.append(f" · {human(total / span)} ms/s in {len(active)} statements")
        elif span is None:
            text.append(" · first reading: figures from the next refresh")
        return text

    def status(self) -> str:
        hidden = self.tracker.readings[-1].hidden if self.tracker.readings else 0
        if hidden:
            return (
                f"{hidden} entries of other roles hidden without pg_read_all_stats (or pg_monitor)"
            )
        return ""

    def forget_connection(self) -> None:
        self.tracker.forget_connection()

    # -- keys (the screen's actions call these) -----------------------------------------------

    def selected(self) -> tuple[Delta, str, str | None, str | None] | None:
        """The entry under the cursor: its delta, text, role and database."""
        number = self.query_one("#statements-rows", SessionTable).selected_pid
        delta = self.listed.get(number) if number is not None else None
        if delta is None:
            return None
        text = self.tracker.texts.get(delta.key)
        if text is None:
            return delta, "", None, None
        return delta, text.query, text.role, text.database

    def next_window(self) -> None:
        self.window = WINDOWS[(WINDOWS.index(self.window) + 1) % len(WINDOWS)]
        self.render_table()

    def next_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.render_table()
