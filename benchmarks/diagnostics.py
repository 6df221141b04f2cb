"""The incident diagnostics under a pgbench load: pgconsole against raw asyncpg, one run.

    .venv/bin/python -m benchmarks.diagnostics [--quick] [--clients 50] [--seconds 25]

The same server, load and sampler role as `benchmarks.activity` (whose helpers it imports):
a throwaway server with pg_stat_statements, `pgbench -i -s 10`, and `pgbench -c CLIENTS -j 2
-n` in the background for the whole run. Under that load, windows of SECONDS each, one after
the other (they share this process and its CPU time):

1. every panel visible, once a second: raw asyncpg sends the statements one such refresh is
   seen to send; then pgconsole's readers as the activity screen runs them: the activity
   sample, whose sessions feed the waits' history (`from_backends`, no statement), the
   progress read only when the sample shows something that may report progress
   (`may_be_running`), then the statements, horizon and replication panels' `read`;
2. each panel alone at its own interval (statements, horizon, progress, replication);
3. the wait sampler at 10 Hz: raw asyncpg sending wait_sample.sql, then `read_waits` +
   `WaitHistory.add` (the waits panel's `read`);
4. pgconsole itself (headless, 120x40, every frame rendered to terminal bytes) showing the
   diagnostics screen on the waits panel.

Every window's statements and server time come from pg_stat_statements, per refresh (per
second at 10 Hz), read from the benchmark's superuser connection between refreshes and left
out of the client and CPU times. Prints the table and writes the whole report to
`benchmarks/results/diagnostics-latest.md` (a `--quick` run too: its command line says so).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import os
import platform
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import asyncpg
from asyncpg.connection import LoggedQuery

from benchmarks import report
from benchmarks.activity import (
    SCALE,
    SIZE,
    Row,
    Unit,
    fmt,
    prepare,
    progress,
    stop_on_signals,
    window_section,
)
from benchmarks.activity_raw import (
    SAMPLER_ROLE,
    WARM_UP,
    Refresh,
    Statement,
    Window,
    cpu_seconds,
    every_interval,
    raw_refresh,
    read_statements,
    reset_statements,
    sampler_connect,
    sampler_target,
)
from benchmarks.common import commit, hermetic_home, machine
from benchmarks.data import Target, admin_connect, create_database, load_pgbench
from benchmarks.harness import MeasuredApp, painted
from benchmarks.load import PG_STAT_STATEMENTS, Load, cluster_settings
from pgconsole.config import Settings
from pgconsole.db.activity import stats
from pgconsole.db.diagnostics.progress import may_be_running
from pgconsole.db.diagnostics.waits import WaitHistory, from_backends
from pgconsole.db.sqlfiles import load_sql
from pgconsole.messages import PlaceRequested
from pgconsole.screens.diagnostics import DiagnosticsScreen
from pgconsole.throwaway.cluster import ThrowawayCluster
from pgconsole.widgets.diagnostics_panel import Panel
from pgconsole.widgets.horizon_view import HorizonPanel
from pgconsole.widgets.progress_view import ProgressPanel
from pgconsole.widgets.replication_view import ReplicationPanel
from pgconsole.widgets.schema_tree import SchemaTree
from pgconsole.widgets.statements_view import StatementsPanel
from pgconsole.widgets.waits_view import WaitsPanel

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
PEERS = RESULTS / "peers-latest.md"
"""Where pg_activity's figures come from (measured by `benchmarks.peers`, not here)."""
EVERY_PANEL = 1.0
"""Seconds between refreshes with every panel visible (the activity screen's pace)."""
WAITS = WaitsPanel.INTERVAL
STATEMENT_LIMIT = 5
SERVER_LIMIT = 0.005
WAIT_SERVER_LIMIT = 0.001
WAIT_CPU_LIMIT = 2.0
APP_SETTLE = 20
"""Wait samples the app shows before its window opens."""
SETTLE = 3
"""Refreshes between the reset of the role's statements and a window's first reading: the
reset makes the sampler's own entries vanish and come back (the texts statement's a refresh
after the counters'), which `StatementWatch` answers by reading their texts again; a server
nobody resets never shows that."""


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.diagnostics", description=__doc__)
    parser.add_argument("--clients", type=int, default=50, help="pgbench clients (the load)")
    parser.add_argument("--seconds", type=int, default=25, help="length of each window")
    parser.add_argument("--no-app", action="store_true", help="skip the app's window")
    parser.add_argument(
        "--quick", action="store_true", help="for development: 10 clients, 8 s windows"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.seconds = 10, 8
    if not 1 <= args.clients <= 200 or args.seconds < 5:
        parser.error("--clients must be 1 to 200 and --seconds at least 5")
    return args


# -- pg_stat_statements between refreshes ----------------------------------------------------

TOTALS_SQL = """
SELECT coalesce(sum(s.calls), 0)::float8,
       coalesce(sum(s.total_exec_time + s.total_plan_time), 0)::float8
FROM pg_stat_statements AS s
WHERE s.userid = $1::regrole AND s.toplevel
"""


@dataclass(frozen=True)
class Slice:
    """A stretch of a window between two readings of the sampler role's totals."""

    refreshes: int
    calls: float
    server: float
    """Seconds of execution + planning."""
    cpu: float
    """This process's CPU seconds, the readings themselves left out."""
    wall: float


@dataclass
class Slicer:
    """The sampler role's statements and server time, and this process's CPU, every `every`
    refreshes of a window: the series behind the window's totals.

    Each reading goes through the admin connection (another role: never counted as the
    sampler's) and its CPU time is set aside in `overhead`.
    """

    admin: asyncpg.Connection
    every: int = 1
    client: list[float] = field(default_factory=list)
    """Seconds per refresh, warm-up included, the readings left out."""
    slices: list[Slice] = field(default_factory=list)
    overhead: float = 0.0
    calls: int = 0
    last: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    """calls, server ms, CPU without overhead, perf_counter: at the last reading."""
    pending: int = 0
    before: list[Statement] = field(default_factory=list)
    """The role's statements at the window's first reading."""

    async def read(self) -> tuple[float, float, float, float]:
        """The totals now, and the clean CPU and clock at the moment they were asked for."""
        cpu, at = cpu_seconds(), time.perf_counter()
        row = await self.admin.fetchrow(TOTALS_SQL, SAMPLER_ROLE, timeout=30)
        assert row is not None  # an aggregate
        clean = cpu - self.overhead
        self.overhead += cpu_seconds() - cpu
        return float(row[0]), float(row[1]), clean, at

    async def start(self) -> None:
        """The window opens (the role's statements were just reset)."""
        self.last = await self.read()

    async def cut(self, refreshes: int) -> None:
        """Close the slice of the last `refreshes` refreshes."""
        now = await self.read()
        calls, ms, cpu, at = (a - b for a, b in zip(now, self.last, strict=True))
        self.slices.append(Slice(refreshes, calls, ms / 1000, cpu, at))
        self.last = now

    async def settle(self, refresh: Refresh) -> None:
        """`SETTLE` refreshes after the reset, then the window's first reading; their CPU
        time is set aside with the readings'."""
        cpu = cpu_seconds()
        for _ in range(SETTLE):
            await refresh()
        self.before = await read_statements(self.admin)
        self.overhead += cpu_seconds() - cpu
        await self.start()

    def wrap(self, refresh: Refresh) -> Refresh:
        """`refresh` timed on its own, with a slice closed every `every` refreshes of the
        window: `every_interval` resets the role's statements after `WARM_UP` refreshes."""

        async def sliced() -> int:
            self.calls += 1
            if self.calls == WARM_UP + 1:
                await self.settle(refresh)
            before = time.perf_counter()
            sent = await refresh()
            self.client.append(time.perf_counter() - before)
            if self.calls > WARM_UP:
                self.pending += 1
                if self.pending == self.every:
                    await self.cut(self.pending)
                    self.pending = 0
            return sent

        return sliced


@dataclass
class Measured:
    """One window with its slices."""

    window: Window
    interval: float
    slices: list[Slice] = field(default_factory=list)
    short_first: bool = False
    """The first slice starts just before its refresh (no wait of an interval before it):
    left out of the CPU series, where it would read high."""

    def series(self, what: str) -> list[float]:
        """Per refresh over each slice: `calls`, `server` (seconds) or `cpu` (% of a core)."""
        if what == "cpu":
            slices = self.slices[1:] if self.short_first else self.slices
            return [100 * s.cpu / s.wall for s in slices if s.wall > 0]
        if what == "calls":
            return [s.calls / s.refreshes for s in self.slices if s.refreshes]
        return [s.server / s.refreshes for s in self.slices if s.refreshes]

    def median(self, what: str) -> float | None:
        """The median of a series (`client`: seconds per refresh)."""
        values = self.window.client if what == "client" else self.series(what)
        return report.median(values)

    def per_refresh(self, what: str) -> float | None:
        """Statements (`calls`) or server seconds (`server`) per refresh over the window."""
        refreshes = sum(s.refreshes for s in self.slices)
        if not refreshes:
            return None
        return sum(s.calls if what == "calls" else s.server for s in self.slices) / refreshes

    def per_second(self, what: str) -> float | None:
        """Statements (`calls`) or server seconds (`server`) per second of the window."""
        per, window = self.per_refresh(what), self.window
        return None if per is None or not window.wall else per * window.refreshes / window.wall


def since(now: list[Statement], before: list[Statement]) -> list[Statement]:
    """What each statement did between two readings of the role's statements."""
    start = {s.query: s for s in before}
    zero = Statement("", 0, 0.0, 0.0)
    done = [
        Statement(s.query, s.calls - b.calls, s.exec_ms - b.exec_ms, s.plan_ms - b.plan_ms)
        for s in now
        if (b := start.get(s.query, zero)).calls != s.calls
    ]
    return sorted(done, key=lambda s: s.exec_ms, reverse=True)


async def sliced_window(
    name: str,
    conn: asyncpg.Connection,
    refresh: Refresh,
    admin: asyncpg.Connection,
    seconds: float,
    interval: float,
) -> Measured:
    """`every_interval` over `refresh`, read in slices of one refresh (of a second when the
    interval is shorter); closes `conn`."""
    slicer = Slicer(admin, every=max(1, round(1 / interval)))
    try:
        window = await every_interval(
            name, slicer.wrap(refresh), admin, seconds=seconds, interval=interval
        )
    finally:
        await conn.close(timeout=10)
    window.client = slicer.client[WARM_UP:]
    window.statements = since(window.statements, slicer.before)
    window.cpu -= slicer.overhead
    window.sent = [round(s.calls) for s in slicer.slices] if slicer.every == 1 else []
    return Measured(window, interval, slicer.slices, short_first=True)


# -- what pgconsole reads --------------------------------------------------------------------


@dataclass
class Readers:
    """The diagnostics' panels, as the screen holds them, reading on one connection."""

    history: WaitHistory = field(default_factory=WaitHistory)
    statements: StatementsPanel = field(default_factory=StatementsPanel)
    horizon: HorizonPanel = field(default_factory=HorizonPanel)
    progress: ProgressPanel = field(default_factory=ProgressPanel)
    replication: ReplicationPanel = field(default_factory=ReplicationPanel)
    waits: WaitsPanel = field(init=False)

    def __post_init__(self) -> None:
        self.waits = WaitsPanel(self.history)

    def panel(self, name: str) -> Panel:
        """A panel by the screen's name for it."""
        panel: Panel = getattr(self, name)
        return panel

    async def wait_sample(self, conn: asyncpg.Connection) -> int:
        """The waits panel's read, counted as its `show` counts it."""
        self.history.add(await self.waits.read(conn))
        return 1

    def alone(self, name: str, conn: asyncpg.Connection) -> Refresh:
        """One panel's read."""
        if name == "waits":
            return lambda: self.wait_sample(conn)
        panel = self.panel(name)

        async def read() -> int:
            await panel.read(conn)
            return 0

        return read

    def every_panel(self, conn: asyncpg.Connection) -> Refresh:
        """The activity sample, feeding the waits and (when something may run) progress, as
        the activity screen does; then each other panel's read, in the order of the tabs."""

        async def refresh() -> int:
            sample = await stats.sample(conn)
            self.history.add(from_backends(sample.backends))
            if may_be_running(sample.backends):
                await self.progress.read(conn)
            for name in ("statements", "horizon", "replication"):
                await self.panel(name).read(conn)
            return sample.queries

        return refresh


async def connected(target: Target, password: str) -> asyncpg.Connection:
    """A sampler connection with the role's capabilities read, as `Sampler` opens one."""
    conn = await sampler_connect(target, password)
    await stats.read_capabilities(conn)
    return conn


async def observe(conn: asyncpg.Connection, refresh: Refresh) -> list[LoggedQuery]:
    """What one refresh sends after `WARM_UP` (statements prepared, texts read)."""
    for _ in range(WARM_UP):
        await refresh()
    logged: list[LoggedQuery] = []
    conn.add_query_logger(logged.append)
    try:
        await refresh()
        await asyncio.sleep(0.1)  # asyncpg hands each query to the loggers with call_soon
    finally:
        conn.remove_query_logger(logged.append)
    return logged


def first_line(query: str) -> str:
    """A statement's `--` line, up to its colon (`activity_sessions`), else its first 40."""
    line = query.strip().splitlines()[0] if query.strip() else "?"
    return line[3:].split(":")[0] if line.startswith("-- ") else line[:40]


# -- the windows -----------------------------------------------------------------------------


@dataclass
class Results:
    """The windows, the load they ran under, and what was noticed."""

    measured: dict[str, Measured] = field(default_factory=dict)
    tps: dict[str, float | None] = field(default_factory=dict)
    sent: list[str] = field(default_factory=list)
    """What one refresh with every panel visible sent (raw asyncpg replays it)."""
    server: str = ""
    app_skipped: str = ""
    notes: list[str] = field(default_factory=list)

    def get(self, name: str) -> Measured:
        """A window by name (empty if it never ran)."""
        return self.measured.get(name) or Measured(Window(name), 1.0)


def diagnostics_screen(app: MeasuredApp) -> DiagnosticsScreen | None:
    """The diagnostics screen if it is the one shown."""
    screen = app.screen
    return screen if isinstance(screen, DiagnosticsScreen) else None


async def app_window(
    target: Target, password: str, admin: asyncpg.Connection, seconds: float
) -> Measured:
    """pgconsole showing the diagnostics' waits panel, read in slices of a second."""
    window = Window("app, waits panel")
    app = MeasuredApp(sampler_target(target).params(password), Settings())
    async with app.run_test(size=SIZE):
        await painted(app, lambda: bool(app.main_screen.query_one(SchemaTree).root.children), 90)
        app.post_message(PlaceRequested("diagnostics", panel="waits"))
        await painted(
            app, lambda: (s := diagnostics_screen(app)) is not None and s.samples >= APP_SETTLE, 90
        )
        screen = diagnostics_screen(app)
        assert screen is not None
        if screen.switcher.current != "waits" or screen.panel.INTERVAL != WAITS:
            window.errors.append(f"the screen shows {screen.switcher.current}, not waits at 10 Hz")
        await asyncio.sleep(1.0)
        await reset_statements(admin)
        slicer = Slicer(admin)
        await slicer.start()
        samples, frames, started = screen.samples, app.frames, slicer.last[3]
        seen = samples
        for tick in range(1, round(seconds) + 1):
            await asyncio.sleep(max(0.0, started + tick - time.perf_counter()))
            now = screen.samples
            await slicer.cut(now - seen)
            seen = now
        window.refreshes = screen.samples - samples
        window.frames = app.frames - frames
        window.cpu = sum(s.cpu for s in slicer.slices)
        window.wall = sum(s.wall for s in slicer.slices)
        window.statements = await read_statements(admin)
    return Measured(window, WAITS, slicer.slices)


Step = tuple[str, str, float, Callable[[], Awaitable[Measured]]]


async def measure(
    target: Target, sampler_password: str, admin: asyncpg.Connection, seconds: float, app: bool
) -> tuple[Results, list[Step]]:
    """The refresh raw asyncpg replays, and the windows to run."""
    probe = await connected(target, sampler_password)
    try:
        logged = await asyncio.wait_for(observe(probe, Readers().every_panel(probe)), 120)
    finally:
        await probe.close(timeout=10)
    replay = [(q.query, tuple(q.args)) for q in logged]
    results = Results(sent=[first_line(q.query) for q in logged])
    # The activity sample feeds the waits in a refresh; the 10 Hz sampler sends this.
    wait_text: list[tuple[str, tuple[object, ...]]] = [
        (load_sql("pgconsole.db.diagnostics.waits", "wait_sample.sql"), ())
    ]

    async def raw(
        name: str, statements: list[tuple[str, tuple[object, ...]]], every: float
    ) -> Measured:
        conn = await connected(target, sampler_password)
        return await sliced_window(name, conn, raw_refresh(conn, statements), admin, seconds, every)

    async def pgconsole(name: str, panel: str, every: float) -> Measured:
        conn, readers = await connected(target, sampler_password), Readers()
        refresh = readers.every_panel(conn) if panel == "all" else readers.alone(panel, conn)
        return await sliced_window(name, conn, refresh, admin, seconds, every)

    def alone(name: str, every: float) -> Callable[[], Awaitable[Measured]]:
        return lambda: pgconsole(name, name, every)

    steps: list[Step] = [
        ("every panel, raw", "raw asyncpg: one refresh's statements", EVERY_PANEL,
         lambda: raw("every panel, raw", replay, EVERY_PANEL)),
        ("every panel", "pgconsole: the activity sample and every panel's read", EVERY_PANEL,
         lambda: pgconsole("every panel", "all", EVERY_PANEL)),
    ]  # fmt: skip
    for name in ("statements", "horizon", "progress", "replication"):
        every = Readers().panel(name).INTERVAL
        what = f"pgconsole: the {name} panel's read alone"
        steps.append((name, what, every, alone(name, every)))
    steps += [
        ("waits 10 Hz, raw", "raw asyncpg: wait_sample.sql", WAITS,
         lambda: raw("waits 10 Hz, raw", wait_text, WAITS)),
        ("waits 10 Hz", "pgconsole: read_waits + WaitHistory.add", WAITS,
         lambda: pgconsole("waits 10 Hz", "waits", WAITS)),
    ]  # fmt: skip
    if app:
        steps.append(
            ("app", f"pgconsole, the diagnostics' waits panel at {SIZE[0]}x{SIZE[1]}", WAITS,
             lambda: app_window(target, sampler_password, admin, seconds))
        )  # fmt: skip
    return results, steps


async def run(
    target: Target, password: str, sampler_password: str, load: Load, seconds: float, app: bool
) -> Results:
    """Every pgbench client connected, then the windows, one after the other."""
    admin = await admin_connect(target, password)
    try:
        progress(f"waiting for the {load.clients} pgbench clients")
        await load.ready(admin)
        results, steps = await measure(target, sampler_password, admin, seconds, app)
        results.server = str(await admin.fetchval("SHOW server_version", timeout=10))
        for name, what, every, step in steps:
            progress(f"{what}, every {every:g} s, {seconds:g} s")
            results.measured[name], results.tps[name] = await under(load, step, seconds + 180)
    finally:
        await admin.close(timeout=10)
    load.check()
    return results


async def under(
    load: Load, step: Callable[[], Awaitable[Measured]], within: float
) -> tuple[Measured, float | None]:
    """One window, with pgbench's throughput meanwhile (it must still be running)."""
    load.check()
    begin = time.monotonic()
    measured = await asyncio.wait_for(step(), within)
    return measured, load.tps(begin, time.monotonic())


# -- the report ------------------------------------------------------------------------------


def verdict(row: Row) -> tuple[str, str]:
    """The ratio to raw asyncpg and the result against the target."""
    ratio = "-" if row.pg is None or not row.raw else f"{row.pg / row.raw:.1f}x"
    if row.limit is None or row.pg is None:
        return ratio, "-"
    return ratio, "pass" if row.pg <= row.limit else "**FAIL**"


def rows(r: Results) -> list[Row]:
    """The main table's lines."""
    raw, pg, wraw, wpg, app = (
        r.get(n)
        for n in ("every panel, raw", "every panel", "waits 10 Hz, raw", "waits 10 Hz", "app")
    )
    ms = f"≤ {SERVER_LIMIT * 1000:g} ms"
    cpu = f"≤ {WAIT_CPU_LIMIT:g} %"
    return [
        Row("every panel visible: statements per refresh (pg_stat_statements, mean)",
            raw.per_refresh("calls"), pg.per_refresh("calls"), "count",
            STATEMENT_LIMIT, f"≤ {STATEMENT_LIMIT}"),
        Row("every panel visible: server time per refresh (exec + plan, median)",
            raw.median("server"), pg.median("server"), "time", SERVER_LIMIT, ms),
        Row("every panel visible: client time per refresh (median)",
            raw.median("client"), pg.median("client"), "time"),
        Row("every panel visible: CPU % of one core at one refresh a second",
            raw.window.cpu_percent, pg.window.cpu_percent, "percent"),
        Row("wait sampler at 10 Hz: server time per sample (exec + plan, median of 1 s slices)",
            wraw.median("server"), wpg.median("server"), "time", WAIT_SERVER_LIMIT,
            f"≤ {WAIT_SERVER_LIMIT * 1000:g} ms"),
        Row("wait sampler at 10 Hz: client time per sample (median)",
            wraw.median("client"), wpg.median("client"), "time"),
        Row("wait sampler at 10 Hz: CPU % of one core (raw: the loop; pgconsole: read_waits + "
            "WaitHistory.add)", wraw.window.cpu_percent, wpg.window.cpu_percent, "percent",
            WAIT_CPU_LIMIT, cpu),
        Row("the app on the waits panel (10 Hz): CPU % of one core (raw: its 10 Hz loop)",
            wraw.window.cpu_percent, app.window.cpu_percent, "percent"),
        Row("the app on the waits panel: server time per sample (exec + plan, median)",
            wraw.median("server"), app.median("server"), "time", WAIT_SERVER_LIMIT,
            f"≤ {WAIT_SERVER_LIMIT * 1000:g} ms"),
    ]  # fmt: skip


def main_table(r: Results, clients: int) -> list[str]:
    """Raw asyncpg, pgconsole, ratio, target, result."""
    out = [
        f"| operation ({clients} pgbench clients) | raw asyncpg | pgconsole | ratio | target "
        "| result |",
        "|---|---:|---:|---:|---|---|",
    ]
    shown = [row for row in rows(r) if "app" in r.measured or not row.label.startswith("the app")]
    for row in shown:
        ratio, result = verdict(row)
        cells = (
            row.label,
            fmt(row.raw, row.unit),
            fmt(row.pg, row.unit),
            ratio,
            row.target,
            result,
        )
        out.append("| " + " | ".join(cells) + " |")
    return out


def panel_table(r: Results) -> list[str]:
    """Each panel alone at its own interval: where the cost is."""
    out = [
        "| read alone (pgconsole) | every | statements per read | statements/s "
        "| server time per read (median) | server time per second | client time per read "
        "(median) | CPU % |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in ("statements", "horizon", "progress", "replication", "waits 10 Hz"):
        m = r.get(name)
        server = m.per_second("server")
        out.append(
            f"| {name} | {m.interval:g} s | {fmt(m.per_refresh('calls'), 'count')} "
            f"| {fmt(m.per_second('calls'), 'count')} | {fmt(m.median('server'), 'time')} "
            f"| {fmt(server, 'time')} | {fmt(m.median('client'), 'time')} "
            f"| {fmt(m.window.cpu_percent, 'percent')} |"
        )
    return out


def spread(values: Sequence[float], unit: Unit) -> str:
    """`min / median / p90 / max (n)`."""
    if not values:
        return "-"
    points = (min(values), report.median(values), report.p90(values), max(values))
    return " / ".join(fmt(v, unit) for v in points) + f" ({len(values)})"


def spread_table(r: Results) -> list[str]:
    """Every series of every window."""
    out = [
        "| window | every | client time per refresh | statements per refresh "
        "| server time per refresh | CPU % of one core per slice |",
        "|---|---:|---|---|---|---|",
    ]
    for name, m in r.measured.items():
        out.append(
            f"| {name} | {m.interval:g} s | {spread(m.window.client, 'time')} "
            f"| {spread(m.series('calls'), 'count')} | {spread(m.series('server'), 'time')} "
            f"| {spread(m.series('cpu'), 'percent')} |"
        )
    return out


def pg_activity() -> str:
    """pg_activity's statements and server time per refresh from the peers' latest report."""
    try:
        lines = PEERS.read_text().splitlines()
    except OSError:
        return f"pg_activity: `{PEERS.relative_to(REPO)}` is missing"
    cells = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
    header = next((c for c in cells if c[0] == "what" and "pg_activity" in c), None)
    date = next((line[8:] for line in lines if line.startswith("- date: ")), "?")
    found: dict[str, str] = {}
    for row in cells if header else []:
        for key in ("statements per refresh", "server time per refresh"):
            if row[0].startswith(f"same: {key}") and len(row) == len(header or []):
                found[key] = row[(header or []).index("pg_activity")].split(" · ")[0]
    return (
        f"pg_activity (not measured here): {found.get('statements per refresh', '?')} statements "
        f"and {found.get('server time per refresh', '?')} server time (exec + plan) per refresh "
        f"at `--refresh 1` under 50 pgbench clients, from `{PEERS.relative_to(REPO)}` ({date}; "
        "there a refresh is a second of the window, so a refresh that takes longer than 1 s "
        "lowers the count)"
    )


def notes(r: Results, clients: int) -> list[str]:
    """What the tables do not say."""
    out = [
        "Each window ran on its own, one after the other, under the same pgbench run, on a new "
        "connection as `bench_sampler` (used by nothing else), with the role's capabilities "
        f"read first as the screens' `Sampler` does. {WARM_UP} refreshes came before each "
        "window (statements prepared, asyncpg's type introspection done), then the role's "
        "pg_stat_statements entries were reset.",
        "A refresh with every panel visible sent, when observed after its warm-up: "
        + ", ".join(f"`{s}`" for s in r.sent)
        + ". Raw asyncpg replays those statements' text and arguments in that order on a plain "
        "asyncpg connection (statement cache on, as pgconsole's); pgconsole runs "
        "`stats.sample`, whose sessions feed the waits' `WaitHistory` (`from_backends`, no "
        "statement, as on the activity screen), the ProgressPanel's `read` only when the "
        "sample shows something that may report progress (`may_be_running`: an autovacuum "
        "worker or an active VACUUM, ANALYZE, CREATE INDEX, CLUSTER, COPY...), then the other "
        "panels' own `read` (StatementsPanel: `StatementWatch.refresh` with the texts of "
        "entries new to the top 40; HorizonPanel, ReplicationPanel). The waits panel's own 10 Hz "
        "sampler, which runs only while that panel is shown, is measured on its own below.",
        "Statements and server time per refresh are pg_stat_statements' calls and total "
        "exec + plan time of the role (top-level statements only), read from the benchmark's "
        "superuser connection after every refresh (every 10 samples at 10 Hz, so those series "
        "are per sample over 1 s slices); those readings are another role's statements and "
        "their CPU time is taken out of the window's. The main table's statement counts are "
        "the window's calls ÷ refreshes (a mean, so a text read now and then shows).",
        "Resetting the role's entries before a window makes `StatementWatch` see its own "
        f"entries vanish and come back, and read their texts once more: {SETTLE} refreshes "
        "after the reset, outside the window (their CPU time set aside), let that pass. The "
        "per-statement tables are the differences between the readings at the window's "
        "start and end.",
        "CPU % is `getrusage(RUSAGE_SELF)` user+system seconds over wall time; the slices' "
        "spread is per refresh (1-2 s intervals) or per second (10 Hz), so short slices are "
        "coarse (a clock tick is 10 ms); a window's first slice, which starts right before "
        "its refresh, is left out of it.",
        f"There is no standby, no replication slot and no operation in progress here: the "
        f"replication and progress panels read empty views; the horizon panel sees the "
        f"{clients} pgbench sessions' snapshots.",
        pg_activity(),
    ]
    if r.app_skipped:
        out.append(r.app_skipped)
    else:
        out.append(
            f"The app's window: pgconsole in-process at {SIZE[0]}x{SIZE[1]}, each frame "
            "rendered to terminal bytes (`benchmarks.harness.MeasuredApp`), on the diagnostics "
            "screen's waits panel (opened as `d` then `2` do), after it had shown "
            f"{APP_SETTLE} samples; its refreshes are the screen's samples, its slices seconds."
        )
    for m in r.measured.values():
        out += [f"{m.window.name}: {e}" for e in m.window.errors]
    return out


def markdown(r: Results, facts: dict[str, str], load: dict[str, str], clients: int) -> str:
    """The whole report."""
    doc = ["# Diagnostics benchmark: the incident diagnostics under pgbench", ""]
    doc += [f"- {k}: {v}" for k, v in facts.items()]
    doc += ["", *main_table(r, clients), "", f"For comparison, {pg_activity()}.", ""]
    doc += ["## Each panel alone, at its own interval", "", *panel_table(r), ""]
    doc += ["## Spread: min / median / p90 / max (count) of every series", ""]
    doc += [*spread_table(r), "", "## Load", ""]
    doc += [f"- {k}: {v}" for k, v in load.items()]
    doc += ["", "## Windows", ""]
    for name, m in r.measured.items():
        doc += window_section(m.window, r.tps.get(name))
    doc += ["## Notes", "", *(f"- {n}" for n in r.notes), ""]
    return "\n".join(doc)


# -- the command -----------------------------------------------------------------------------


@dataclass
class Server:
    """The throwaway server with pgbench loaded and running."""

    target: Target
    password: str
    sampler_password: str
    load: Load
    loaded: str
    settings: dict[str, str]


@contextlib.contextmanager
def loaded_server(clients: int, duration: int) -> Iterator[Server]:
    """A throwaway server with pg_stat_statements, the sampler role, pgbench's tables and
    `clients` pgbench clients for `duration` seconds; everything stops on exit or a signal."""
    settings = cluster_settings(clients)
    with contextlib.ExitStack() as stack:
        stop_on_signals(stack)
        stack.enter_context(hermetic_home())
        cluster = stack.enter_context(ThrowawayCluster(settings=settings))
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="pgconsole-bench-load-"))
        asyncio.run(create_database(cluster))
        target = Target.of(cluster)
        sampler_password = asyncio.run(prepare(target, cluster.password))
        progress(f"pgbench -i -s {SCALE} -q")
        seconds, detail = load_pgbench(target, cluster.password, SCALE)
        progress(f"loaded in {seconds:.1f} s; pgbench -c {clients} -j 2 -T {duration} -n")
        load = Load(target, cluster.password, clients, duration, Path(scratch) / "pgbench.log")
        stack.callback(load.stop)
        loaded = f"{SCALE} -q: {seconds:.1f} s ({detail})"
        yield Server(target, cluster.password, sampler_password, load, loaded, settings)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the table; write the report."""
    args = parse(argv)
    if not Path(PG_STAT_STATEMENTS).exists():
        print(f"pg_stat_statements is missing ({PG_STAT_STATEMENTS})", file=sys.stderr)
        return 2
    busy = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    windows = 8 + (not args.no_app)
    duration = windows * (args.seconds + 15) + 120
    with loaded_server(args.clients, duration) as server:
        result = asyncio.run(
            run(
                server.target,
                server.password,
                server.sampler_password,
                server.load,
                float(args.seconds),
                not args.no_app,
            )
        )
    if args.no_app:
        result.app_skipped = "The app's window was skipped (`--no-app`)."
    result.notes = notes(result, args.clients)
    command = f"python -m benchmarks.diagnostics --clients {args.clients} --seconds {args.seconds}"
    facts = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "PostgreSQL": result.server,
        "load average before the run (1 / 5 / 15 min)": busy,
        "load": f"{args.clients} pgbench clients (`-j 2 -n`, TPC-B), scale {SCALE}",
        "windows": f"{args.seconds} s each: every panel once every {EVERY_PANEL:g} s, each "
        f"panel at its own interval, the wait sampler every {WAITS:g} s",
        "software": f"Python {platform.python_version()}, textual {version('textual')}, "
        f"asyncpg {version('asyncpg')}, pgconsole {commit()}",
        "command": f"`{command}{' --no-app' if args.no_app else ''}`"
        + (" (`--quick`)" if args.quick else ""),
    }
    load_facts = {
        "pgbench -i -s": server.loaded,
        "pgbench": f"-c {args.clients} -j 2 -T {duration} -n -P 1 (stopped after the last "
        "window), as the benchmark's superuser",
        "tps per window (pgbench -P 1, mean)": ", ".join(
            f"{name} {fmt(tps, 'count')}" for name, tps in result.tps.items()
        ),
        "samplers' role": f"`{SAMPLER_ROLE}` (superuser, used by nothing else)",
        "server settings": ", ".join(f"{k}={v}" for k, v in server.settings.items()),
    }
    print("\n".join([*main_table(result, args.clients), "", *panel_table(result)]))
    report_file = RESULTS / "diagnostics-latest.md"
    report_file.write_text(markdown(result, facts, load_facts, args.clients))
    progress(f"done; the full report is in {report_file.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
