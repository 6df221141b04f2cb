"""Top statements: what each pg_stat_statements entry cost the server over the last refresh
or a window (10 s, 1 min, 5 min), not over its lifetime.

pg_stat_statements keeps lifetime totals. `StatementWatch` reads every entry's counters
(one statement, no texts: `statements_counters.sql`), keeps a few earlier readings, and
gives each entry's difference against the reading that starts the window. A reset of all
entries, an entry evicted and made again, or one new since the window began count from zero:
never a negative number. Texts are read only for the entries shown, once each
(`statements_texts.sql`).
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pgconsole.db.connection.pool import Conn
from pgconsole.db.quoting import quote_ident
from pgconsole.db.sqlfiles import load_sql

Key = tuple[int, int, int, bool]
"""An entry: userid, dbid, queryid, toplevel (as pg_stat_statements keys its entries)."""
Counters = tuple[float, float, float, float, float, float, float]
"""calls, time (ms, planning and execution), rows, shared blocks hit, shared blocks read,
temp blocks (read and written), WAL bytes."""
ZERO: Counters = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
WINDOWS: tuple[float | None, ...] = (None, 10.0, 60.0, 300.0)
"""None: since the previous refresh; else seconds."""
Sort = Literal["time", "calls", "mean", "read", "temp", "wal"]
SORTS: tuple[Sort, ...] = ("time", "calls", "mean", "read", "temp", "wal")
MIN_VERSION = (1, 9)
"""pg_stat_statements_info and the toplevel column (PostgreSQL 14)."""
SETUP = (
    "add pg_stat_statements to shared_preload_libraries and restart the server, then run "
    "CREATE EXTENSION pg_stat_statements in this database"
)
COST = (
    "it costs shared memory for pg_stat_statements.max entries (5000 by default, a few MB) "
    "and a few percent of throughput on very short statements"
)
RECENT = 8
"""Readings kept one by one (the window of the last refresh, and 10 s at a 2 s refresh);
older ones are thinned to one per `THIN` seconds, up to the longest window."""
THIN = ((60.0, 10.0), (WINDOWS[-1] or 300.0, 30.0))
"""(up to this age, keep one reading per so many seconds)."""


class StatementsUnavailable(Exception):
    """pg_stat_statements cannot be read here; the message says what to do, and what it costs."""


@dataclass(frozen=True)
class Reading:
    """Every entry's lifetime counters at one moment."""

    taken: float
    """`time.monotonic()`."""
    reset: datetime.datetime | None
    """The last reset of all entries."""
    entries: dict[Key, Counters]
    hidden: int = 0
    """Entries of other roles this role may not see (a null queryid)."""


@dataclass(frozen=True)
class Text:
    """What an entry is: its normalised text, role and database."""

    query: str
    role: str | None
    database: str | None


@dataclass(frozen=True)
class Delta:
    """An entry's cost over a span of time."""

    key: Key
    counters: Counters
    """Over the span (never negative)."""
    lifetime: Counters
    seconds: float
    """The span: the window, or less when the history is shorter."""

    @property
    def calls(self) -> float:
        return self.counters[0]

    @property
    def time_ms(self) -> float:
        return self.counters[1]

    @property
    def rows(self) -> float:
        return self.counters[2]

    @property
    def hit(self) -> float:
        return self.counters[3]

    @property
    def read(self) -> float:
        return self.counters[4]

    @property
    def temp(self) -> float:
        return self.counters[5]

    @property
    def wal_bytes(self) -> float:
        return self.counters[6]

    @property
    def calls_per_second(self) -> float:
        return self.calls / self.seconds if self.seconds > 0 else 0.0

    @property
    def mean_ms(self) -> float | None:
        """Time per call over the span; None without a call."""
        return self.time_ms / self.calls if self.calls else None

    @property
    def hit_share(self) -> float | None:
        """Shared blocks found in the buffer cache, as a part of those asked for."""
        asked = self.hit + self.read
        return self.hit / asked if asked else None

    def sort_value(self, sort: Sort) -> float:
        """The figure `sort` orders by (largest first)."""
        if sort == "mean":
            return self.mean_ms or 0.0
        index = {"time": 1, "calls": 0, "read": 4, "temp": 5, "wal": 6}[sort]
        return self.counters[index]


def difference(now: Counters, then: Counters | None, reset: bool) -> Counters:
    """What an entry did between two readings, never negative.

    From zero when all entries were reset in between (`reset`), when the entry is new (no
    `then`), or when it was evicted and made again (fewer calls than before).
    """
    if reset or then is None or now[0] < then[0]:
        return now
    return tuple(max(0.0, a - b) for a, b in zip(now, then, strict=True))  # type: ignore[return-value]


@dataclass
class StatementWatch:
    """The readings of one server's pg_stat_statements, and each entry's cost over a window.

    Holds at most `RECENT` + a dozen readings whatever the refresh rate; an entry that did
    not change shares its counters with the reading before.
    """

    readings: list[Reading] = field(default_factory=list)
    texts: dict[Key, Text] = field(default_factory=dict)
    schema: str | None = None
    """The extension's schema, once checked on this connection."""
    max_entries: str | None = None
    """pg_stat_statements.max, as the server says it."""

    # -- reading ---------------------------------------------------------------------------

    async def check(self, conn: Conn) -> str:
        """The extension's schema; read once per connection.

        Raises:
            StatementsUnavailable: Not preloaded, not created here, or too old.
        """
        row = await conn.fetchrow(load_sql(__name__, "statements_check.sql"))
        assert row is not None  # one row, whatever the server has
        self.max_entries = row["max_entries"]
        if row["schema"] is None:
            where = "on the primary" if row["standby"] else "here"
            create = f"run CREATE EXTENSION pg_stat_statements in this database {where}"
            if row["preloaded"]:
                raise StatementsUnavailable(
                    f"pg_stat_statements is preloaded but not installed in this database: {create}"
                )
            raise StatementsUnavailable(
                f"pg_stat_statements is not installed in this database: {SETUP} ({COST})"
            )
        if not row["preloaded"]:
            raise StatementsUnavailable(
                f"pg_stat_statements is installed but not preloaded: {SETUP} ({COST})"
            )
        version = tuple(int(p) for p in row["version"].split(".")[:2] if p.isdigit())
        if version < MIN_VERSION:
            raise StatementsUnavailable(
                f"pg_stat_statements {row['version']} is too old: pgconsole needs 1.9 "
                f"(PostgreSQL 14) or later; ALTER EXTENSION pg_stat_statements UPDATE"
            )
        return str(row["schema"])

    async def refresh(
        self, conn: Conn, shown: int = 0, sort: Sort = "time", window: float | None = None
    ) -> Reading:
        """Read every entry's counters (one statement), and the texts of the top `shown`
        entries over `window` not read before (a second statement, only then).

        Raises:
            StatementsUnavailable: As `check` (checked at the first refresh on `conn`).
            One of `DB_ERRORS`.
        """
        if self.schema is None:
            self.schema = await self.check(conn)
        sql = load_sql(__name__, "statements_counters.sql").format(schema=quote_ident(self.schema))
        rows = await conn.fetch(sql)
        reading = self._reading(rows)
        self.add(reading)
        if shown:
            wanted = [d.key for d in self.top(window, sort, shown) if d.key not in self.texts]
            await self.read_texts(conn, wanted)
        return reading

    def forget_connection(self) -> None:
        """The connection was lost: check the extension again on the next."""
        self.schema = None

    def _reading(self, rows: Sequence[Any]) -> Reading:
        previous = self.readings[-1].entries if self.readings else {}
        entries: dict[Key, Counters] = {}
        hidden = 0
        reset = None
        for row in rows:
            reset = row["stats_reset"]
            if row["userid"] is None:
                continue  # no entry at all: the row of the info alone
            if row["queryid"] is None:
                hidden += 1
                continue
            key: Key = (row["userid"], row["dbid"], row["queryid"], row["toplevel"])
            counters: Counters = (
                float(row["calls"]),
                float(row["time_ms"]),
                float(row["rows"]),
                float(row["hit"]),
                float(row["read"]),
                float(row["temp"]),
                float(row["wal_bytes"] or 0),
            )
            before = previous.get(key)
            # An unchanged entry keeps the tuple of the reading before: the readings kept
            # for the windows cost a pointer per entry, not a copy.
            entries[key] = before if before == counters else counters
        return Reading(time.monotonic(), reset, entries, hidden)

    async def read_texts(self, conn: Conn, keys: Iterable[Key]) -> None:
        """Read the texts of `keys` (one statement; none when `keys` is empty)."""
        wanted = set(keys)
        if not wanted or self.schema is None:
            return
        sql = load_sql(__name__, "statements_texts.sql").format(schema=quote_ident(self.schema))
        rows = await conn.fetch(sql, sorted({k[2] for k in wanted}))
        for row in rows:
            key: Key = (row["userid"], row["dbid"], row["queryid"], row["toplevel"])
            if key in wanted:
                self.texts[key] = Text(row["query"] or "", row["role"], row["database"])

    # -- the history -----------------------------------------------------------------------

    def add(self, reading: Reading) -> None:
        """Keep `reading`, thin the older ones, and forget texts of entries gone."""
        self.readings.append(reading)
        self.readings = thinned(self.readings, reading.taken)
        for key in [k for k in self.texts if k not in reading.entries]:
            del self.texts[key]

    def baseline(self, window: float | None) -> Reading | None:
        """The reading a window starts at: the one before the last (None: the last refresh),
        else the newest at least `window` seconds old, else the oldest kept."""
        if len(self.readings) < 2:
            return None
        if window is None:
            return self.readings[-2]
        now = self.readings[-1].taken
        older = [r for r in self.readings[:-1] if now - r.taken >= window]
        return older[-1] if older else self.readings[0]

    def deltas(self, window: float | None) -> list[Delta]:
        """Every entry that did something over the window (the last reading's entries)."""
        base = self.baseline(window)
        if base is None:
            return []
        last = self.readings[-1]
        reset = last.reset != base.reset
        seconds = last.taken - base.taken
        found = []
        for key, now in last.entries.items():
            then = base.entries.get(key)
            if then is now:
                continue  # unchanged: the same tuple
            counters = difference(now, then, reset)
            if counters[0] or counters[1]:
                found.append(Delta(key, counters, now, seconds))
        return found

    def top(self, window: float | None, sort: Sort, limit: int) -> list[Delta]:
        """The `limit` entries that cost most over the window by `sort`, largest first."""
        found = self.deltas(window)
        found.sort(key=lambda d: d.sort_value(sort), reverse=True)
        return found[:limit]

    def span(self, window: float | None) -> float | None:
        """The seconds a window covers now (less than asked while the history is short)."""
        base = self.baseline(window)
        return None if base is None else self.readings[-1].taken - base.taken


def thinned(readings: list[Reading], now: float) -> list[Reading]:
    """The readings worth keeping: the last `RECENT` all, older ones one per `THIN` step
    (the first of each step), and one older than the longest window."""
    recent = readings[-RECENT:]
    older = readings[:-RECENT]
    kept: list[Reading] = []
    seen: set[tuple[int, int]] = set()
    beyond: Reading | None = None
    for reading in older:
        age = now - reading.taken
        step = next((s for limit, s in THIN if age <= limit), None)
        if step is None:
            beyond = reading  # the newest older than every window
            continue
        slot = (int(step), int(reading.taken // step))
        if slot not in seen:
            seen.add(slot)
            kept.append(reading)
    return ([beyond] if beyond is not None else []) + kept + recent
