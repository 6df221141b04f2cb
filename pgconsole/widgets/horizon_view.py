"""The diagnostics' horizon panel: a line per holder (drawn by `SessionTable`), a summary
above, and what the horizon costs below. Mostly plain functions of a `Horizon`, tested
without an app."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from pgconsole.db.connection.pool import Conn
from pgconsole.db.diagnostics.horizon import FreezeAge, Holder, Horizon, read_horizon
from pgconsole.text import visible
from pgconsole.widgets.diagnostics_panel import Panel
from pgconsole.widgets.session_rows import SessionRow, one_line
from pgconsole.widgets.session_table import SessionTable
from pgconsole.widgets.sparkline import duration

HEADERS = ("holder", "kind", "age xacts", "held", "dead kept", "where · state · query")
"""The holders' columns: the last takes what is left of the line."""
OLD_XACTS = 10_000_000
"""A horizon this many transactions old is marked as a problem (autovacuum_freeze_max_age
is 200 million by default: this is 5% of the way)."""
OLD_SECONDS = 3600.0
"""Held this long (where the server knows since when), marked as a problem too."""
KIND_WORDS = {
    "backend": "session",
    "prepared": "prepared",
    "slot": "slot",
    "catalog": "slot catalog",
    "standby": "standby",
}
REMEDY_WORDS = {
    "terminate": "x terminates the session",
    "rollback": "x rolls the prepared transaction back",
    "drop slot": "x drops the inactive slot",
}


def holder_name(holder: Holder) -> str:
    """The first column: who, in a few characters."""
    if holder.kind == "backend":
        return f"pid {holder.pid}" + (f" {holder.role}" if holder.role else "")
    return visible(holder.name)


def where(holder: Holder) -> str:
    """The last column: its scope, state, and a session's query."""
    parts = [holder.scope]
    if holder.kind in ("slot", "catalog"):
        parts.append("active" if holder.active else "inactive")
        if holder.detail:
            parts.append(holder.detail)
    elif holder.state:
        parts.append(holder.state)
    if holder.query:
        parts.append(one_line(holder.query))
    return visible(" · ".join(parts))


def holder_row(key: int, holder: Holder, horizon: Horizon) -> SessionRow:
    """One line of the holders' table; `key` follows the holder across refreshes."""
    keeps = holder.keeps(horizon.totals)
    old = holder.xmin_age >= OLD_XACTS or (holder.seconds or 0) >= OLD_SECONDS
    mark = "long" if old else ("idle-tx" if holder.remedy else "")
    return SessionRow(
        key,
        (
            holder_name(holder),
            KIND_WORDS[holder.kind],
            f"{holder.xmin_age:,}",
            duration(holder.seconds),
            "other db" if keeps is None else f"{keeps:,}",
            where(holder),
        ),
        mark,
    )


def summary(horizon: Horizon) -> Text:
    """The line above the table: the oldest holder, or that nothing holds the horizon."""
    if not horizon.holders:
        return Text("Nothing holds the xmin horizon: VACUUM can remove every dead row.")
    oldest = horizon.holders[0]
    text = Text.assemble(
        ("Oldest xmin: ", "bold"),
        f"{oldest.xmin_age:,} transactions",
        f" ({duration(oldest.seconds)})" if oldest.seconds is not None else "",
        " held by ",
        (f"{KIND_WORDS[oldest.kind]} {holder_name(oldest)}", "bold"),
        f" · {len(horizon.holders)} holder{'s' if len(horizon.holders) != 1 else ''}",
    )
    return text


def costs(horizon: Horizon, now: datetime.datetime, width: int) -> Text:
    """Below the table: this database's dead tuples and the oldest freeze ages."""
    text = Text()
    totals = horizon.totals
    text.append("Dead tuples here: ", "bold")
    text.append(f"{totals.user:,} in tables, {totals.catalog:,} in catalogs\n")
    for table in horizon.dead_tables[:3]:
        vacuumed = "never vacuumed"
        if table.vacuumed is not None:
            vacuumed = f"vacuumed {duration((now - table.vacuumed).total_seconds())} ago"
        line = (
            f"  {visible(table.schema)}.{visible(table.name)}: {table.dead:,} dead, "
            f"{table.live:,} live, {vacuumed}"
        )
        text.append(line[:width] + "\n")
    text.append("Nearest to wraparound: ", "bold")
    text.append(
        "; ".join(_freeze(entry) for entry in (*horizon.databases[:1], *horizon.wraparound[:2]))
    )
    return text


def _freeze(entry: FreezeAge) -> str:
    name = visible(entry.name) if entry.schema is None else f"{visible(entry.schema)}."
    if entry.schema is not None:
        name += visible(entry.name)
    kind = "db " if entry.schema is None else ""
    return f"{kind}{name} {entry.age:,} ({entry.share:.0%} of freeze max age)"


def details(holder: Holder, horizon: Horizon) -> str:
    """Everything about one holder, for Enter: what it is, what it keeps, what to do."""
    lines = [
        f"{KIND_WORDS[holder.kind]} {holder_name(holder)}",
        f"xmin age: {holder.xmin_age:,} transactions",
        f"held for: {duration(holder.seconds)}",
        f"holds back: {holder.scope}",
    ]
    keeps = holder.keeps(horizon.totals)
    lines.append(
        "dead tuples kept here: "
        + ("unknown (another database)" if keeps is None else f"up to {keeps:,}")
    )
    for label, value in (
        ("pid", holder.pid),
        ("role", holder.role),
        ("database", holder.database),
        ("application / plugin", holder.detail),
        ("state", holder.state),
        ("connected", holder.backend_start),
    ):
        if value is not None and value != "":
            lines.append(f"{label}: {value}")
    remedy = holder.remedy
    lines.append("remedy: " + (REMEDY_WORDS[remedy] if remedy else no_remedy(holder)))
    if holder.query:
        lines.extend(("", holder.query))
    return visible("\n".join(lines), keep_newlines=True)


def no_remedy(holder: Holder) -> str:
    """Why there is no key for this holder, and what ends it."""
    if holder.kind == "standby":
        return (
            "none here: the standby's feedback ends with its long query (cancel it on the "
            "standby) or with hot_standby_feedback off there"
        )
    return "none while the slot is in use: stop its consumer first"


def rows(horizon: Horizon, keys: dict[tuple[str, str], int]) -> Sequence[SessionRow]:
    """Every holder's line; `keys` gives each holder a number that stays while it is listed."""
    return [
        holder_row(keys.setdefault((h.kind, h.name), len(keys)), h, horizon)
        for h in horizon.holders
    ]


class HorizonPanel(Panel):
    """The holders of the xmin horizon, oldest first, and what the horizon costs."""

    TITLE = "Horizon"
    INTERVAL = 2.0
    """A horizon moves slowly, and this panel is read, not watched."""
    ACTIONS = frozenset({"remedy", "details"})

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.horizon: Horizon | None = None
        self.keys: dict[tuple[str, str], int] = {}
        """A number per holder, stable while it is listed (the table's cursor follows it)."""

    def compose(self) -> ComposeResult:
        yield Static("reading…", id="horizon-summary")
        yield SessionTable(HEADERS, id="holders")
        yield Static(id="horizon-costs")

    async def read(self, conn: Conn) -> Horizon:
        return await read_horizon(conn)

    def show(self, reading: Horizon) -> None:
        """The summary, the holders (cursor kept), the costs."""
        self.horizon = reading
        listed = {(h.kind, h.name) for h in reading.holders}
        self.keys = {key: n for key, n in self.keys.items() if key in listed}
        self.query_one("#horizon-summary", Static).update(summary(reading))
        self.query_one("#holders", SessionTable).show(rows(reading, self.keys))
        now = datetime.datetime.now(datetime.UTC)
        self.query_one("#horizon-costs", Static).update(costs(reading, now, self.size.width))
        self.readings += 1

    def selected(self) -> Holder | None:
        """The holder under the cursor."""
        key = self.query_one("#holders", SessionTable).selected_pid
        if key is None or self.horizon is None:
            return None
        by_key = {n: k for k, n in self.keys.items()}
        wanted = by_key.get(key)
        return next((h for h in self.horizon.holders if (h.kind, h.name) == wanted), None)
