"""Wait sampling: what active sessions wait on, as a share of time, without a server extension.

PostgreSQL shows only the wait event of this instant. Sampling `pg_stat_activity` often
(`read_waits`: one cheap statement, 10 times a second while the waits are shown) and counting
gives, per second, the average number of sessions in each wait: `CPU` is active with no wait
event. `WaitHistory` keeps those seconds (a few minutes, a small fixed budget) and breaks the
last minute down by event, by session and by statement (queryid). The activity screen's
samples feed it too, once a second, at no extra cost.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pgconsole.db.activity import stats
from pgconsole.db.connection.pool import Conn
from pgconsole.db.sqlfiles import load_sql

CPU = "CPU"
KEPT_SECONDS = 600
"""Seconds of totals per wait type kept for the history chart."""
DETAIL_SECONDS = 60
"""Seconds broken down by session, statement and event: the breakdown's window."""
TEXTS_KEPT = 500
"""Query texts kept (one per queryid seen in the breakdown's window, at most)."""
Group = Literal["event", "session", "statement"]
GROUPS: tuple[Group, ...] = ("event", "session", "statement")


@dataclass(frozen=True)
class Waiting:
    """One active session at one sample."""

    pid: int
    wait_type: str
    """`CPU` when it waits on nothing."""
    wait_event: str
    query_id: int | None
    query: str | None = None


async def read_waits(conn: Conn) -> tuple[Waiting, ...]:
    """What every active session but ours waits on now: one statement."""
    sql = load_sql(__name__, "wait_sample.sql")
    if conn.get_server_version().major < 14:  # no query_id before 14
        sql = sql.replace("       query_id,", "       NULL::bigint AS query_id,")
    rows = await conn.fetch(sql)
    return tuple(
        Waiting(r["pid"], r["wait_type"], r["wait_event"], r["query_id"], r["query"]) for r in rows
    )


def from_backends(backends: Iterable[stats.Backend]) -> tuple[Waiting, ...]:
    """The activity screen's sample as a wait sample (the same rule as `wait_sample.sql`)."""
    return tuple(
        Waiting(b.pid, b.wait_event_type or CPU, b.wait_event or CPU, None, b.query)
        for b in backends
        if b.state == "active" and not b.is_self and b.backend_type != "walsender"
    )


@dataclass
class Second:
    """The samples of one clock second."""

    start: int
    """`int(time.time())`."""
    samples: int = 0
    counts: Counter[tuple[int, int | None, str, str]] = field(default_factory=Counter)
    """(pid, queryid, wait type, wait event) → samples it was seen in."""

    def compact(self) -> None:
        """Keep only the totals per wait type (what the history chart reads)."""
        totals: Counter[tuple[int, int | None, str, str]] = Counter()
        for (_pid, _query, wait_type, _event), n in self.counts.items():
            totals[(0, None, wait_type, "")] += n
        self.counts = totals

    def by_type(self) -> dict[str, float]:
        """Average active sessions per wait type over the second."""
        totals: Counter[str] = Counter()
        for (_pid, _query, wait_type, _event), n in self.counts.items():
            totals[wait_type] += n
        return {t: n / self.samples for t, n in totals.items()} if self.samples else {}


@dataclass(frozen=True)
class Share:
    """One line of the breakdown: an event, a session or a statement."""

    label: str
    """`Lock:transactionid`, a pid, a queryid (`-` when unknown)."""
    sessions: float
    """Average active sessions over the window (1.0: one session all the time)."""
    share: float
    """Of all active time in the window."""
    top_event: str
    """Its main wait (for a session or statement), or its type (for an event)."""
    query: str | None = None


@dataclass
class WaitHistory:
    """Per-second wait totals of one server, within a fixed budget."""

    seconds: deque[Second] = field(default_factory=lambda: deque(maxlen=KEPT_SECONDS))
    """Closed seconds, oldest first (only totals are read from those past `DETAIL_SECONDS`)."""
    current: Second | None = None
    texts: dict[int, str] = field(default_factory=dict)
    """queryid → the last text seen for it."""
    cost: float = 0.0
    """Seconds the last sample took (the round trip), for the sampler's own cost."""

    def add(self, sample: Sequence[Waiting], at: float | None = None) -> bool:
        """Count one sample taken at `at` (`time.time()`); True when it closed a second."""
        second = int(time.time() if at is None else at)
        closed = False
        if self.current is not None and self.current.start != second:
            self._close(self.current)
            closed = True
            self.current = None
        if self.current is None:
            self.current = Second(second)
        self.current.samples += 1
        for w in sample:
            self.current.counts[(w.pid, w.query_id, w.wait_type, w.wait_event)] += 1
            if w.query_id is not None and w.query:
                self.texts[w.query_id] = w.query
        return closed

    def _close(self, second: Second) -> None:
        self.seconds.append(second)
        # Only the breakdown's window keeps its detail: older seconds keep their totals.
        if len(self.seconds) > DETAIL_SECONDS:
            self.seconds[-DETAIL_SECONDS - 1].compact()
        if len(self.texts) > TEXTS_KEPT:
            recent = {k[1] for s in self.recent() for k in s.counts}
            self.texts = {q: t for q, t in self.texts.items() if q in recent}

    def recent(self, seconds: int = DETAIL_SECONDS) -> list[Second]:
        """The closed seconds of the last `seconds`."""
        if not self.seconds:
            return []
        newest = self.seconds[-1].start
        return [s for s in self.seconds if newest - s.start < seconds]

    def rate(self) -> int:
        """Samples in the last closed second."""
        return self.seconds[-1].samples if self.seconds else 0

    def history(self, width: int) -> list[dict[str, float] | None]:
        """Average active sessions per wait type for each of the last `width` seconds up to
        the last closed one, oldest first; None for a second with no sample."""
        if not self.seconds:
            return []
        by_start = {s.start: s for s in self.seconds}
        newest = self.seconds[-1].start
        return [
            by_start[t].by_type() if t in by_start else None
            for t in range(newest - width + 1, newest + 1)
        ]

    def breakdown(self, group: Group, seconds: int = DETAIL_SECONDS) -> list[Share]:
        """The window's active time by event, session or statement, largest first."""
        window = self.recent(seconds)
        samples = sum(s.samples for s in window)
        if not samples:
            return []
        totals: Counter[str] = Counter()
        events: dict[str, Counter[str]] = {}
        queries: dict[str, str | None] = {}
        for second in window:
            for (pid, query_id, wait_type, event), n in second.counts.items():
                name = f"{wait_type}:{event}" if wait_type != CPU else CPU
                if group == "event":
                    label, top = name, wait_type
                elif group == "session":
                    label, top = str(pid), name
                else:
                    label, top = ("-" if query_id is None else str(query_id)), name
                    queries[label] = None if query_id is None else self.texts.get(query_id)
                totals[label] += n
                events.setdefault(label, Counter())[top] += n
        active = sum(totals.values())
        return [
            Share(
                label,
                n / samples,
                n / active if active else 0.0,
                events[label].most_common(1)[0][0],
                queries.get(label),
            )
            for label, n in totals.most_common()
        ]
