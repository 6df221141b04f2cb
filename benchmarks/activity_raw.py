"""The activity benchmark's measuring parts: the samplers, pg_stat_statements, CPU time.

Both samplers run once a second on a connection of their own, logged in as `SAMPLER_ROLE`, a
superuser that nothing else uses: pg_stat_statements keys its counters by role, so the
statements the sampler sent (and only those) are the role's entries. The raw baseline sends
the text of `pgconsole/db/activity/sql/activity_*.sql` itself; the pgconsole side calls
`pgconsole.db.activity.stats.sample`. Neither is timed through anything but `time.perf_counter`.
"""

from __future__ import annotations

import asyncio
import resource
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from importlib.resources import files

import asyncpg

from benchmarks.data import Target
from pgconsole.db.sqlfiles import load_sql
from pgconsole.throwaway.cluster import scram_verifier

SAMPLER_ROLE = "bench_sampler"
"""The role every sampler logs in as (raw asyncpg, `stats.sample` and the app alike)."""
SAMPLER_APP_NAME = "pgconsole-bench-sampler"
"""application_name of the benchmark's own sampler connections (the app keeps its own)."""
WARM_UP = 3
"""Refreshes before a window opens: statements prepared, types introspected, caches warm."""

Refresh = Callable[[], Awaitable[int]]
"""One refresh; returns how many statements it sent (as its sampler counts them)."""


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far (every thread)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def activity_sql() -> dict[str, str]:
    """Every `pgconsole/db/activity/sql/activity_*.sql`, by file name, as pgconsole reads them."""
    names = sorted(
        entry.name
        for entry in (files("pgconsole.db.activity") / "sql").iterdir()
        if entry.name.startswith("activity_") and entry.name.endswith(".sql")
    )
    return {name: load_sql("pgconsole.db.activity.stats", name) for name in names}


# -- the sampler role and pg_stat_statements -------------------------------------------------


async def create_sampler_role(admin: asyncpg.Connection) -> str:
    """CREATE ROLE SAMPLER_ROLE (a superuser, as the app's user is); returns its password.

    The statement carries a SCRAM verifier, never the password itself.
    """
    password = secrets.token_urlsafe(24)
    verifier = scram_verifier(password).replace("'", "''")
    await admin.execute(f"CREATE ROLE {SAMPLER_ROLE} LOGIN SUPERUSER PASSWORD '{verifier}'")
    return password


def sampler_target(target: Target) -> Target:
    """The benchmark's server, logged in as the sampler role."""
    return replace(target, user=SAMPLER_ROLE)


async def sampler_connect(target: Target, password: str) -> asyncpg.Connection:
    """A plain asyncpg connection as the sampler role (the statement cache left at its
    default, as pgconsole leaves it when no pooler is in the way)."""
    return await asyncpg.connect(
        sampler_target(target).dsn(password),
        server_settings={"application_name": SAMPLER_APP_NAME},
        timeout=30,
        command_timeout=30,
    )


@dataclass(frozen=True)
class Statement:
    """One pg_stat_statements entry of the sampler role."""

    query: str
    calls: int
    exec_ms: float
    plan_ms: float

    @property
    def label(self) -> str:
        """The statement's first line (the `--` line naming an activity_*.sql file)."""
        first = self.query.strip().splitlines()[0] if self.query.strip() else "?"
        return first if len(first) <= 90 else first[:89] + "…"


STATEMENTS_SQL = """
SELECT s.query, s.calls, s.total_exec_time, s.total_plan_time
FROM pg_stat_statements AS s
WHERE s.userid = $1::regrole AND s.toplevel
ORDER BY s.total_exec_time DESC
"""


async def reset_statements(admin: asyncpg.Connection) -> None:
    """Forget the sampler role's statements (pgbench's are kept)."""
    await admin.execute(
        "SELECT pg_stat_statements_reset($1::regrole::oid)", SAMPLER_ROLE, timeout=30
    )


async def read_statements(admin: asyncpg.Connection) -> list[Statement]:
    """The sampler role's statements since the last reset (top-level ones only: with
    `track = all` a function's own statements are tracked too, and counted in its time)."""
    rows = await admin.fetch(STATEMENTS_SQL, SAMPLER_ROLE, timeout=30)
    return [
        Statement(str(r["query"]), int(r["calls"]), float(r[2]), float(r[3] or 0.0)) for r in rows
    ]


# -- one measured window ---------------------------------------------------------------------


@dataclass
class Window:
    """What one side did during one measured window."""

    name: str
    refreshes: int = 0
    client: list[float] = field(default_factory=list)
    """Seconds per refresh, as the client waited for it."""
    sent: list[int] = field(default_factory=list)
    """Statements per refresh, as the sampler counted them (`Sample.queries` for pgconsole)."""
    cpu: float = 0.0
    """CPU seconds this process used during the window."""
    wall: float = 0.0
    statements: list[Statement] = field(default_factory=list)
    frames: int = 0
    """Frames the app rendered during the window (the app's window only)."""
    errors: list[str] = field(default_factory=list)

    @property
    def cpu_percent(self) -> float | None:
        """CPU time over wall time, in percent of one core."""
        return 100 * self.cpu / self.wall if self.wall else None

    @property
    def calls_per_refresh(self) -> float | None:
        """Statements per refresh as the server counted them."""
        if not self.refreshes:
            return None
        return sum(s.calls for s in self.statements) / self.refreshes

    @property
    def exec_per_refresh(self) -> float | None:
        """Server execution seconds per refresh."""
        if not self.refreshes:
            return None
        return sum(s.exec_ms for s in self.statements) / 1000 / self.refreshes

    @property
    def plan_per_refresh(self) -> float | None:
        """Server planning seconds per refresh (`track_planning`)."""
        if not self.refreshes:
            return None
        return sum(s.plan_ms for s in self.statements) / 1000 / self.refreshes


async def every_interval(
    name: str,
    refresh: Refresh,
    admin: asyncpg.Connection,
    *,
    seconds: float,
    interval: float = 1.0,
) -> Window:
    """Refresh once every `interval` for `seconds` (after `WARM_UP` refreshes): client time
    per refresh, statements, CPU, and the server's own counts for the window."""
    for _ in range(WARM_UP):
        await refresh()
    await asyncio.sleep(interval)
    window = Window(name)
    count = max(1, round(seconds / interval))
    await reset_statements(admin)
    cpu, started = cpu_seconds(), time.perf_counter()
    for tick in range(1, count + 1):
        before = time.perf_counter()
        window.sent.append(await refresh())
        window.client.append(time.perf_counter() - before)
        window.refreshes += 1
        # Ticks on a fixed grid, as a sampler that sleeps `interval - elapsed` does.
        await asyncio.sleep(max(0.0, started + tick * interval - time.perf_counter()))
    window.cpu, window.wall = cpu_seconds() - cpu, time.perf_counter() - started
    window.statements = await read_statements(admin)
    return window


def raw_refresh(
    conn: asyncpg.Connection, statements: list[tuple[str, tuple[object, ...]]]
) -> Refresh:
    """The raw baseline: each statement's text and arguments, fetched in turn."""

    async def refresh() -> int:
        for text, args in statements:
            await conn.fetch(text, *args)
        return len(statements)

    return refresh
