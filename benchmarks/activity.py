"""The live activity screen under a pgbench load: pgconsole against raw asyncpg, one run.

    .venv/bin/python -m benchmarks.activity [--clients 50] [--seconds 30]

Starts a throwaway server with pg_stat_statements, loads `pgbench -i -s 10` and runs
`pgbench -c CLIENTS -j 2 -n` (the TPC-B script) in the background for the whole run. Under that
load, four windows of SECONDS seconds each, one after the other (they share this process, so
none may run while another's CPU time is counted):

1. raw asyncpg sends the activity_*.sql statements once a second;
2. `pgconsole.db.activity.stats.sample` runs once a second;
3. pgconsole itself (in-process, headless, 120x40, every frame rendered to terminal bytes) shows
   the activity screen at its default 1 s interval;
4. for comparison, pgconsole idle on its main screen.

For each it counts the statements per refresh and their server time from pg_stat_statements
(the samplers log in as a role of their own), the client's time per refresh, and this
process's CPU time. Prints a markdown table and writes the full report to
`benchmarks/results/activity-latest.md`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import datetime
import os
import platform
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Literal

import asyncpg
from asyncpg.connection import LoggedQuery

from benchmarks import report
from benchmarks.activity_raw import (
    SAMPLER_ROLE,
    WARM_UP,
    Window,
    activity_sql,
    cpu_seconds,
    create_sampler_role,
    every_interval,
    raw_refresh,
    read_statements,
    reset_statements,
    sampler_connect,
    sampler_target,
)
from benchmarks.browse import commit, hermetic_home, machine
from benchmarks.data import Target, admin_connect, create_database, load_pgbench
from benchmarks.harness import MeasuredApp, painted
from benchmarks.load import PG_STAT_STATEMENTS, Load, cluster_settings
from pgconsole.config import Settings
from pgconsole.db.activity import stats
from pgconsole.db.connection.params import ConnectParams
from pgconsole.screens.activity import ActivityScreen
from pgconsole.throwaway.cluster import ThrowawayCluster
from pgconsole.widgets.schema_tree import SchemaTree

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results" / "activity-latest.md"
STARTED = time.monotonic()
SCALE = 10
"""pgbench scale: 10 branches, so 50 clients queue on each other's row locks (a lock tree)."""
SIZE = (120, 40)
INTERVAL = 1.0
"""Seconds between refreshes: the activity screen's default."""
STATEMENT_LIMIT = 3
SERVER_LIMIT = 0.005
CPU_LIMIT = 3.0
CAPABILITIES = "activity_capabilities.sql"
"""Read once per connection, not per refresh."""


def progress(text: str) -> None:
    """One line on stderr, with the time since the start."""
    print(f"[{time.monotonic() - STARTED:6.1f} s] {text}", file=sys.stderr, flush=True)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.activity", description=__doc__)
    parser.add_argument("--clients", type=int, default=50, help="pgbench clients (the load)")
    parser.add_argument("--seconds", type=int, default=30, help="length of each measured window")
    parser.add_argument(
        "--profile",
        type=Path,
        help="write cProfile stats of the app's window here (inflates its CPU time)",
    )
    parser.add_argument("--quick", action="store_true", help="for development: --seconds 10")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds = 10
    if not 1 <= args.clients <= 200 or args.seconds < 5:
        parser.error("--clients must be 1 to 200 and --seconds at least 5")
    return args


# -- what pgconsole sends ----------------------------------------------------------------------


@dataclass
class SentSql:
    """What `stats.sample` sent in one call, told apart from the activity_*.sql files."""

    files: list[str] = field(default_factory=list)
    """The files whose text it sent, in order."""
    others: list[str] = field(default_factory=list)
    """Statements that are none of the files' text (BEGIN, COMMIT, SET, ...)."""
    args: dict[str, tuple[object, ...]] = field(default_factory=dict)
    fallback: bool = False
    """None of the files' text was seen: `files` is every file but the capabilities one."""


async def observe_sample(conn: asyncpg.Connection) -> SentSql:
    """Call `stats.sample` with a query logger on the connection (after a first call that
    prepares its statements and introspects their types)."""
    await stats.sample(conn)
    logged: list[LoggedQuery] = []
    conn.add_query_logger(logged.append)
    try:
        await stats.sample(conn)
        await asyncio.sleep(0.1)  # asyncpg hands each query to the loggers with call_soon
    finally:
        conn.remove_query_logger(logged.append)
    by_text = {text.strip(): name for name, text in activity_sql().items()}
    sent = SentSql()
    for query in logged:
        name = by_text.get(query.query.strip())
        if name is None:
            sent.others.append(query.query.strip())
        else:
            sent.files.append(name)
            sent.args[name] = tuple(query.args)
    if not sent.files:
        # stats.sample has stopped sending the files' text verbatim: the baseline still
        # sends every per-refresh file, and the report says so.
        sent.files = [name for name in activity_sql() if name != CAPABILITIES]
        sent.fallback = True
    return sent


# -- the windows -------------------------------------------------------------------------------


@dataclass
class Results:
    """The windows, the load they ran under, and what was noticed."""

    sent: SentSql
    windows: dict[str, Window] = field(default_factory=dict)
    """By name: `raw`, `stats.sample`, `app`, `app idle`."""
    sessions: list[int] = field(default_factory=list)
    """Sessions in each `stats.sample` of its window."""
    waiting: list[int] = field(default_factory=list)
    """Of which waiting on another's lock."""
    tps: dict[str, float | None] = field(default_factory=dict)
    server: str = ""
    notes: list[str] = field(default_factory=list)

    def window(self, name: str) -> Window:
        """A window by name (empty if it never ran)."""
        return self.windows.get(name) or Window(name)

    @property
    def raw(self) -> Window:
        """Raw asyncpg sending the activity_*.sql text."""
        return self.window("raw")

    @property
    def sample(self) -> Window:
        """`pgconsole.db.activity.stats.sample`."""
        return self.window("stats.sample")

    @property
    def app(self) -> Window:
        """pgconsole with the activity screen open."""
        return self.window("app")


async def raw_window(
    target: Target, password: str, sent: SentSql, admin: asyncpg.Connection, seconds: float
) -> Window:
    """Raw asyncpg: the same files' text, with the same arguments, in the same order."""
    sql = activity_sql()
    statements = [(sql[name], sent.args.get(name, ())) for name in sent.files]
    conn = await sampler_connect(target, password)
    try:
        # The screen reads the role's capabilities once per connection, not per refresh.
        if CAPABILITIES in sql:
            await conn.fetch(sql[CAPABILITIES])
        return await every_interval(
            "raw", raw_refresh(conn, statements), admin, seconds=seconds, interval=INTERVAL
        )
    finally:
        await conn.close(timeout=10)


async def sample_window(
    target: Target, password: str, admin: asyncpg.Connection, seconds: float, results: Results
) -> Window:
    """`pgconsole.db.activity.stats.sample`, on the same kind of connection as the raw baseline."""
    conn = await sampler_connect(target, password)
    seen: list[tuple[int, int]] = []

    async def refresh() -> int:
        sample = await stats.sample(conn)
        seen.append((len(sample.backends), sum(bool(s.blocked_by) for s in sample.backends)))
        return sample.queries

    try:
        await stats.read_capabilities(conn)
        window = await every_interval(
            "stats.sample", refresh, admin, seconds=seconds, interval=INTERVAL
        )
    finally:
        await conn.close(timeout=10)
    results.sessions = [n for n, _ in seen[WARM_UP:]]
    results.waiting = [w for _, w in seen[WARM_UP:]]
    return window


class ActivityApp(MeasuredApp):
    """pgconsole as `MeasuredApp` runs it (each frame rendered to terminal bytes), opening
    the activity screen once connected, as `PgConsoleApp(..., activity=True)` does."""

    def __init__(self, params: ConnectParams, settings: Settings) -> None:
        super().__init__(params, settings)
        self.initial_activity = True  # MeasuredApp's constructor does not pass `activity` on


def activity_screen(app: ActivityApp) -> ActivityScreen | None:
    """The activity screen if it is the one shown."""
    screen = app.screen
    return screen if isinstance(screen, ActivityScreen) else None


async def next_sample(app: ActivityApp, screen: ActivityScreen, within: float = 30) -> None:
    """Until the frame showing the screen's next sample has been rendered."""
    seen = screen.samples
    await painted(app, lambda: screen.samples > seen, within)


async def app_window(
    target: Target,
    password: str,
    admin: asyncpg.Connection,
    seconds: float,
    profile: Path | None = None,
) -> Window:
    """pgconsole with the activity screen open: the window runs from just after one sample
    is painted to just after the one about SECONDS later, so it holds whole refreshes."""
    window = Window("app")
    app = ActivityApp(sampler_target(target).params(password), Settings())
    profiler = cProfile.Profile() if profile else None
    async with app.run_test(size=SIZE):
        await painted(
            app, lambda: (s := activity_screen(app)) is not None and s.samples >= WARM_UP, 90
        )
        screen = activity_screen(app)
        assert screen is not None
        if screen.interval != INTERVAL:
            window.errors.append(f"the screen's interval is {screen.interval} s, not {INTERVAL}")
        await next_sample(app, screen)
        await reset_statements(admin)
        samples, frames, reconnects = screen.samples, app.frames, screen.reconnects
        if profiler:
            profiler.enable()
        cpu, started = cpu_seconds(), time.perf_counter()
        await asyncio.sleep(max(0.0, seconds - INTERVAL / 2))
        await next_sample(app, screen)
        window.cpu, window.wall = cpu_seconds() - cpu, time.perf_counter() - started
        if profiler:
            profiler.disable()
        window.refreshes = screen.samples - samples
        window.frames = app.frames - frames
        window.statements = await read_statements(admin)
        if screen.reconnects != reconnects:
            window.errors.append(f"the screen reconnected {screen.reconnects - reconnects} times")
    if profiler and profile:
        profiler.dump_stats(profile)
        window.errors.append(f"profiled with cProfile ({profile}): its CPU time is inflated")
    return window


async def idle_app_window(
    target: Target, password: str, admin: asyncpg.Connection, seconds: float
) -> Window:
    """pgconsole on its main screen (schema tree loaded, nothing open), for comparison: what
    the app costs with no activity screen."""
    window = Window("app idle")
    app = MeasuredApp(sampler_target(target).params(password), Settings())
    async with app.run_test(size=SIZE):
        await painted(app, lambda: bool(app.main_screen.query_one(SchemaTree).root.children), 90)
        await asyncio.sleep(2 * INTERVAL)  # whatever the start left to do
        await reset_statements(admin)
        frames = app.frames
        cpu, started = cpu_seconds(), time.perf_counter()
        await asyncio.sleep(seconds)
        window.cpu, window.wall = cpu_seconds() - cpu, time.perf_counter() - started
        window.frames = app.frames - frames
        window.statements = await read_statements(admin)
    return window


async def prepare(target: Target, password: str) -> str:
    """pg_stat_statements in the database, and the samplers' role; returns its password."""
    admin = await admin_connect(target, password)
    try:
        await admin.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        return await create_sampler_role(admin)
    finally:
        await admin.close()


async def measure(
    target: Target,
    password: str,
    sampler_password: str,
    load: Load,
    seconds: float,
    profile: Path | None = None,
) -> Results:
    """Wait for the load, then the windows, one after the other."""
    admin = await admin_connect(target, password)
    try:
        server = str(await admin.fetchval("SHOW server_version", timeout=10))
        progress(f"waiting for {load.clients} pgbench clients")
        await load.ready(admin)
        probe = await sampler_connect(target, sampler_password)
        try:
            await asyncio.wait_for(stats.read_capabilities(probe), 30)
            sent = await asyncio.wait_for(observe_sample(probe), 60)
        finally:
            await probe.close(timeout=10)
        results = Results(sent=sent, server=server)
        steps: list[tuple[str, str, Callable[[], Awaitable[Window]]]] = [
            (
                "raw",
                "raw asyncpg: activity_*.sql once a second",
                lambda: raw_window(target, sampler_password, sent, admin, seconds),
            ),
            (
                "stats.sample",
                "pgconsole.db.activity.stats.sample once a second",
                lambda: sample_window(target, sampler_password, admin, seconds, results),
            ),
            (
                "app",
                f"pgconsole, activity screen open at {SIZE[0]}x{SIZE[1]}",
                lambda: app_window(target, sampler_password, admin, seconds, profile),
            ),
            (
                "app idle",
                "pgconsole on its main screen, no activity screen (for comparison)",
                lambda: idle_app_window(target, sampler_password, admin, seconds),
            ),
        ]
        for name, what, run in steps:
            load.check()
            progress(f"{what}, {seconds:g} s")
            begin = time.monotonic()
            results.windows[name] = await asyncio.wait_for(run(), seconds + 180)
            results.tps[name] = load.tps(begin, time.monotonic())
        load.check()
        return results
    finally:
        await admin.close(timeout=10)


# -- the report --------------------------------------------------------------------------------

Unit = Literal["count", "time", "percent"]


def fmt(value: float | None, unit: Unit) -> str:
    """`2.00`, `1.2 ms`, `0.85 %`, or `-`."""
    if value is None:
        return "-"
    if unit == "count":
        return f"{value:.2f}"
    if unit == "percent":
        return f"{value:.2f} %"
    return report.fmt(value, "time")


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    label: str
    raw: float | None
    pg: float | None
    unit: Unit
    limit: float | None = None
    target: str = "-"


def rows(r: Results) -> list[Row]:
    """The table's lines."""
    client_p90 = report.p90(r.sample.client) if r.sample.client else None
    raw_p90 = report.p90(r.raw.client) if r.raw.client else None

    def server(window: Window) -> float | None:
        if window.exec_per_refresh is None or window.plan_per_refresh is None:
            return None
        return window.exec_per_refresh + window.plan_per_refresh

    limit = f"≤ {SERVER_LIMIT * 1000:.0f} ms"
    return [
        Row("queries per refresh (pg_stat_statements calls ÷ refreshes), `stats.sample`",
            r.raw.calls_per_refresh, r.sample.calls_per_refresh, "count", STATEMENT_LIMIT,
            f"≤ {STATEMENT_LIMIT}"),
        Row("queries per refresh (pg_stat_statements calls ÷ refreshes), activity screen",
            r.raw.calls_per_refresh, r.app.calls_per_refresh, "count", STATEMENT_LIMIT,
            f"≤ {STATEMENT_LIMIT}"),
        Row("client time per refresh (median), `stats.sample`",
            report.median(r.raw.client), report.median(r.sample.client), "time"),
        Row("client time per refresh (p90), `stats.sample`", raw_p90, client_p90, "time"),
        Row("server time per refresh (pg_stat_statements exec time), `stats.sample`",
            r.raw.exec_per_refresh, r.sample.exec_per_refresh, "time", SERVER_LIMIT, limit),
        Row("server time per refresh (pg_stat_statements exec time), activity screen",
            r.raw.exec_per_refresh, r.app.exec_per_refresh, "time", SERVER_LIMIT, limit),
        Row("server time per refresh (exec + planning), activity screen",
            server(r.raw), server(r.app), "time", SERVER_LIMIT, limit),
        Row("CPU % of one core at a 1 s interval (raw: the sampling loop; pgconsole: the app)",
            r.raw.cpu_percent, r.app.cpu_percent, "percent", CPU_LIMIT, f"≤ {CPU_LIMIT:g} %"),
        Row("CPU % of one core, the app idle on its main screen (no activity screen)",
            None, r.window("app idle").cpu_percent, "percent"),
    ]  # fmt: skip


def main_table(r: Results, clients: int) -> list[str]:
    """The markdown table: raw asyncpg, pgconsole, ratio, target, result."""
    lines = [
        f"| operation ({clients} pgbench clients) | raw asyncpg median | pgconsole median "
        "| ratio | target | result |",
        "|---|---:|---:|---:|---|---|",
    ]
    for row in rows(r):
        ratio = f"{row.pg / row.raw:.1f}x" if row.pg is not None and row.raw else "-"
        if row.limit is None or row.pg is None:
            verdict = "-"
        else:
            verdict = "pass" if row.pg <= row.limit else "**FAIL**"
        lines.append(
            f"| {row.label} | {fmt(row.raw, row.unit)} | {fmt(row.pg, row.unit)} | {ratio} "
            f"| {row.target} | {verdict} |"
        )
    return lines


def window_section(window: Window, tps: float | None) -> list[str]:
    """One window: refreshes, CPU, client spread and the server's statements."""
    lines = [
        f"### {window.name}",
        "",
        f"- refreshes counted: {window.refreshes or 'none (no sampler)'} over "
        f"{window.wall:.1f} s; pgbench ≈ {fmt(tps, 'count')} tps meanwhile",
        f"- CPU: {window.cpu:.2f} s user+system of this process = "
        f"{fmt(window.cpu_percent, 'percent')}",
    ]
    if window.frames:
        lines.append(f"- frames rendered (to terminal bytes): {window.frames}")
    if window.sent:
        lines.append(
            f"- statements per refresh as the sampler counts them: {min(window.sent)} to "
            f"{max(window.sent)}"
        )
    if window.client:
        c = window.client
        shown = " / ".join(
            report.fmt(v, "time") for v in (min(c), report.median(c) or 0.0, report.p90(c), max(c))
        )
        lines.append(f"- client time per refresh, min / median / p90 / max: {shown}")
    lines += [*(f"- error: {e}" for e in window.errors), ""]
    lines += [
        "| statement (first line) | calls | calls ÷ refreshes | mean exec | mean plan |",
        "|---|---:|---:|---:|---:|",
    ]
    for s in window.statements:
        per = s.calls / window.refreshes if window.refreshes else None
        lines.append(
            f"| `{s.label.replace('|', '/')}` | {s.calls} | {fmt(per, 'count')} "
            f"| {report.fmt(s.exec_ms / 1000 / max(s.calls, 1), 'time')} "
            f"| {report.fmt(s.plan_ms / 1000 / max(s.calls, 1), 'time')} |"
        )
    if not window.statements:
        lines.append("| (none recorded) | | | | |")
    return [*lines, ""]


def markdown(r: Results, facts: dict[str, str], load: dict[str, str], clients: int) -> str:
    """The whole report."""
    sections: list[str] = []
    for name, window in r.windows.items():
        sections += window_section(window, r.tps.get(name))
    return "\n".join(
        [
            "# Activity benchmark: the live activity screen under pgbench",
            "",
            *(f"- {k}: {v}" for k, v in facts.items()),
            "",
            *main_table(r, clients),
            "",
            "## Load",
            "",
            *(f"- {k}: {v}" for k, v in load.items()),
            "",
            "## Windows",
            "",
            *sections,
            "## Notes",
            "",
            *(f"- {n}" for n in r.notes),
            "",
        ]
    )


def notes(r: Results) -> list[str]:
    """What the table does not say."""
    sent = r.sent
    out = [
        "Each window ran on its own, one after the other, under the same pgbench run; the "
        "samplers and the app share this process, so the CPU time of one window is its own.",
        f"`stats.sample` sent, per refresh: {', '.join(sent.files) or 'no activity_*.sql file'}"
        + (
            f", and {len(sent.others)} other statements: "
            + "; ".join(f"`{o.splitlines()[0][:60]}`" for o in sent.others)
            if sent.others
            else ""
        )
        + ". The raw baseline sends the same files' text with the same arguments in the same "
        "order, on a plain asyncpg connection (statement cache on, as pgconsole's).",
        *(
            [
                "**`stats.sample` sent none of the files' text verbatim**: the raw baseline "
                "sends every activity_*.sql file but activity_capabilities.sql."
            ]
            if sent.fallback
            else []
        ),
        "The activity_capabilities.sql statement runs once per connection (not per refresh) "
        "on every side, before the window.",
        "Server time is pg_stat_statements' total for the samplers' role in the window "
        "divided by the refreshes (a mean, not a median), top-level statements only; "
        "pg_stat_statements' counters were reset for that role just before each window.",
        "Client time per refresh is from the call to its return in this process; the app's "
        "window has no client time of its own (its sampler is `stats.sample`).",
        f"App CPU %: `getrusage(RUSAGE_SELF)` user+system seconds over the window's wall time "
        f"(the app alone runs in this process then; the server and pgbench are other "
        f"processes), at {SIZE[0]}x{SIZE[1]}, each frame rendered to terminal bytes.",
    ]
    if r.sessions:
        out.append(
            f"Sessions per `stats.sample` refresh: median {report.median(r.sessions):.0f}, "
            f"of which waiting on another's lock: median {report.median(r.waiting):.0f}, "
            f"max {max(r.waiting)}."
        )
    out.append(
        "pg_activity is measured beside pgconsole, as processes in tmux, by `benchmarks.peers "
        "--only activity` (`make benchmark-activity` prints that table first); here the "
        f"server-time target is the absolute {SERVER_LIMIT * 1000:.0f} ms per refresh."
    )
    for window in r.windows.values():
        out += [f"{window.name}: {e}" for e in window.errors]
    return out


def stop_on_signals(stack: contextlib.ExitStack) -> None:
    """On Ctrl-C or SIGTERM, stop pgbench and the server and exit at once.

    Unwinding through asyncio is not enough: a cancelled window can be inside the headless
    app, which does not always let the cancellation through. Everything the stack holds
    stops synchronously (pgbench is signalled, the server stopped with pg_ctl).
    """

    def stop(signum: int, _frame: object) -> None:
        progress(f"{signal.Signals(signum).name}: stopping pgbench and the server")
        with contextlib.suppress(Exception):
            stack.close()
        os._exit(128 + signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the table; write the report."""
    args = parse(argv)
    if not Path(PG_STAT_STATEMENTS).exists():
        print(f"pg_stat_statements is missing ({PG_STAT_STATEMENTS})", file=sys.stderr)
        return 2
    settings = cluster_settings(args.clients)
    busy = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    # One pgbench run covers the four windows, their warm-ups and the app's start.
    duration = 4 * (args.seconds + 15) + 90
    with contextlib.ExitStack() as stack:
        stop_on_signals(stack)
        stack.enter_context(hermetic_home())
        cluster = stack.enter_context(ThrowawayCluster(settings=settings))
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="pgconsole-bench-load-"))
        password = cluster.password
        asyncio.run(create_database(cluster))
        target = Target.of(cluster)
        sampler_password = asyncio.run(prepare(target, password))
        progress(f"pgbench -i -s {SCALE} -q")
        loaded, detail = load_pgbench(target, password, SCALE)
        progress(f"loaded in {loaded:.1f} s; pgbench -c {args.clients} -j 2 -T {duration} -n")
        load = Load(target, password, args.clients, duration, Path(scratch) / "pgbench.log")
        stack.callback(load.stop)
        result = asyncio.run(
            measure(target, password, sampler_password, load, float(args.seconds), args.profile)
        )
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    result.notes = notes(result)
    facts = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load average before the run (1 / 5 / 15 min)": busy,
        "PostgreSQL": result.server,
        "load": f"{args.clients} pgbench clients (`-j 2 -n`, TPC-B), scale {SCALE}",
        "windows": f"{args.seconds} s each, one refresh every {INTERVAL:g} s",
        "software": f"Python {platform.python_version()}, textual {version('textual')}, "
        f"asyncpg {version('asyncpg')}, pgconsole {commit()}",
        "command": f"`python -m benchmarks.activity --clients {args.clients} "
        f"--seconds {args.seconds}`",
    }
    load_facts = {
        "pgbench -i -s": f"{SCALE} -q: {loaded:.1f} s ({detail})",
        "pgbench": f"-c {args.clients} -j 2 -T {duration} -n -P 1 (stopped after the last "
        "window), as the benchmark's superuser",
        "tps per window (pgbench -P 1, mean)": ", ".join(
            f"{name} {fmt(tps, 'count')}" for name, tps in result.tps.items()
        ),
        "samplers' role": f"`{SAMPLER_ROLE}` (superuser, used by nothing else)",
        "server settings": ", ".join(f"{k}={v}" for k, v in settings.items()),
    }
    print("\n".join(main_table(result, args.clients)))
    if args.profile:
        # A profiled app's CPU time is not its own: keep the latest real report.
        progress(f"done; profile in {args.profile}; {RESULTS.name} left as it was")
        return 0
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(markdown(result, facts, load_facts, args.clients))
    progress(f"done; the full report is in {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
