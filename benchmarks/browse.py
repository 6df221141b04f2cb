"""Browsing pgbench_accounts (10M rows at scale 100): pgconsole against raw asyncpg, one run.

    .venv/bin/python -m benchmarks.browse [--scale N] [--repeat N] [--pages N]

Starts a throwaway server, loads `pgbench -i -s SCALE` and a wide mixed-type table, then
measures raw asyncpg and pgconsole (headless, keys sent as a terminal sends them) doing the
same work: start, launch, open, PgDn/PgUp at several depths, End, Home, a sort no index
supports, memory after PAGES pages, and how long any pgconsole session sits idle in a
transaction. Prints a markdown table of medians with ratios and writes the full report to
`benchmarks/results/browse-latest.md`. `--scale 1` is a quick smoke run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

from benchmarks import launch, report
from benchmarks.common import commit, hermetic_home, machine
from benchmarks.data import (
    CLUSTER_SETTINGS,
    ROWS_PER_SCALE,
    WIDE_ROWS_PER_SCALE,
    Target,
    admin_connect,
    create_database,
    create_wide,
    load_pgbench,
)
from benchmarks.raw import Samples, measure_raw
from benchmarks.sql import PAGE_SIZE, BrowseSql, describe
from benchmarks.ui import (
    CURSOR_IDLE_SECONDS,
    UiResults,
    browsing,
    large_flips,
    launches,
    sorting,
)
from pgconsole.config import Settings
from pgconsole.db.first_page import PAGE_SIZE as PGCONSOLE_PAGE_SIZE
from pgconsole.throwaway.cluster import ThrowawayCluster
from pgconsole.widgets.grid import FETCH_MARGIN

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results" / "browse-latest.md"
STARTED = time.monotonic()


def progress(text: str) -> None:
    """One line on stderr, with the time since the start."""
    print(f"[{time.monotonic() - STARTED:6.1f} s] {text}", file=sys.stderr, flush=True)


FETCHING = {
    "small": ("pgdn_start", "pgdn_middle", "pgdn_end", "pgup_end"),
    "large": ("pgdn_start_large", "pgdn_middle_large"),
}
"""The series of keyset presses that fetched, at 80x24 and at 200x50, for their p95."""


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.browse", description=__doc__)
    parser.add_argument("--scale", type=int, default=100, help="pgbench scale (100: 10M rows)")
    parser.add_argument(
        "--repeat", type=int, default=5, help="repeats of launches, opens, End and Home"
    )
    parser.add_argument("--pages", type=int, default=10_000, help="pages paged for the RSS run")
    parser.add_argument(
        "--quick", action="store_true", help="for development: --scale 10 --repeat 1 --pages 1000"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.scale, args.repeat, args.pages = 10, 1, 1_000
    if args.scale < 1 or args.repeat < 1 or args.pages < 1_000:
        parser.error("--scale and --repeat must be at least 1, --pages at least 1000")
    return args


class Monitor:
    """The pg_stat_activity poller, a child process stopped by closing its stdin."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.children", "monitor"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=REPO,
        )

    def stop(self) -> dict[str, Any]:
        """Stop polling; the episodes seen."""
        out, _ = self.process.communicate(timeout=30)
        return dict(json.loads(out.decode().strip().splitlines()[-1]))

    def kill(self) -> None:
        """Make sure the poller is gone (after an error)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def run_child(args: list[str], env: dict[str, str], timeout: float = 1200) -> dict[str, Any]:
    """`python -m benchmarks.children ARGS`; its last stdout line as JSON."""
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.children", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"benchmarks.children {args[0]} failed:\n{result.stderr[-3000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def idle_summary(
    monitor: dict[str, Any], cursor_windows: list[tuple[float, float]], pg: Samples
) -> dict[str, str]:
    """Longest idle-in-transaction episode in keyset and in cursor browsing."""
    keyset: list[float] = []
    cursor: list[float] = []
    for episode in monitor["episodes"]:
        in_cursor = any(start <= episode["since"] <= end for start, end in cursor_windows)
        (cursor if in_cursor else keyset).append(episode["longest"])
    pg["idle_keyset"] = [max(keyset, default=0.0)]
    pg["idle_cursor"] = [max(cursor, default=0.0)]
    poll = monitor["poll_seconds"]
    return {
        "polls": f"{monitor['polls']:,}, one every {poll} s (durations are as seen at a poll: "
        f"the true longest is at most {poll} s more)",
        "keyset browsing": f"{len(keyset)} episodes seen, longest {max(keyset, default=0):.3f} s",
        "cursor browsing": f"{len(cursor)} episodes seen, longest {max(cursor, default=0):.3f} s"
        f" (cursor_idle_seconds = {CURSOR_IDLE_SECONDS:g})",
    }


async def server_facts(target: Target, password: str) -> tuple[str, BrowseSql]:
    """The server's version, and the statements pgconsole sends for pgbench_accounts."""
    conn = await admin_connect(target, password)
    try:
        server = str(await conn.fetchval("SHOW server_version"))
        return server, BrowseSql(await describe(conn, "public", "pgbench_accounts"))
    finally:
        await conn.close()


async def measure(
    target: Target, password: str, args: argparse.Namespace, home: Path
) -> report.Report:
    """Everything after the load: raw, pgconsole in-process, launches, memory, idle."""
    env = target.child_env(password, home)
    fetches = max(10, 4 * args.repeat)
    sorts = min(args.repeat, 3)
    server, sql = await server_facts(target, password)
    monitor = Monitor(env)
    try:
        progress("raw asyncpg baselines")
        raw = await measure_raw(
            target, password, scale=args.scale, repeat=args.repeat, samples=fetches, sorts=sorts
        )
        ui = UiResults()
        progress("pgconsole: app start and --table, in-process")
        await launches(target, password, args.repeat, ui)
        progress("pgconsole: open, PgDn/PgUp at every depth, End, Home")
        await browsing(
            target, password, scale=args.scale, repeat=args.repeat, fetches=fetches, results=ui
        )
        progress("pgconsole: PgDn at the start and in the middle at 200x50")
        await large_flips(target, password, scale=args.scale, fetches=fetches, results=ui)
        progress(f"pgconsole: sort by a column without an index ({sorts} times)")
        await sorting(target, password, sorts=sorts, fetches=fetches, results=ui)
        progress("launches in new processes (pgconsole on a pty, raw asyncpg)")
        pg = ui.samples
        raw_launch: list[float] = []
        imports: list[float] = []
        argv = [*launch.pgconsole_command(), target.dsn(), "--table", "public.pgbench_accounts"]
        for _ in range(args.repeat):
            pg.setdefault("launch_process", []).append(launch.launch_pgconsole(argv, env))
            raw_launch.append(launch.launch_raw(sql.first, target.dsn(), env))
            imports.append(launch.import_seconds(env))
        raw["launch_process"] = raw_launch
        pg["press_any"] = [p.feedback for p in ui.presses]
        pg["press_any_p90"] = [report.p90(pg["press_any"])] if ui.presses else []
        for size, keys in FETCHING.items():
            for series, suffix in (("fetch", ""), ("fetch_shown", "_shown")):
                fetching = [v for k in keys for v in pg.get(k + suffix, [])]
                pg[f"{series}_p95_{size}"] = [report.p95(fetching)] if fetching else []
        progress(f"memory: raw asyncpg through {args.pages:,} pages")
        rss_raw = run_child(["rss-raw", str(args.pages)], env)["samples"]
        progress(f"memory: pgconsole through {args.pages:,} pages (PgDn held)")
        rss_pg = run_child(["rss-pgconsole", str(args.pages)], env)["samples"]
        for side, samples in ((pg, rss_pg), (raw, rss_raw)):
            side["rss_peak"] = [max(s["peak_mb"] for s in samples)]
            at_1000 = next((s for s in samples if s["pages"] >= 1000), samples[0])
            side["rss_growth"] = [samples[-1]["rss_mb"] - at_1000["rss_mb"]]
        idle = idle_summary(monitor.stop(), ui.cursor_windows, pg)
    finally:
        monitor.kill()

    notes = [
        "Times run from the key being sent (as Textual's terminal driver sends keys) to the end "
        "of the frame that shows its result, each frame rendered to terminal bytes; "
        f"keys are pressed at a human pace (after {0.05 * 1000:.0f} ms without a frame).",
        "'Every press' is the time to the frame showing the cursor's new position: the grid asks "
        f"for the next page {FETCH_MARGIN} rows before its window's edge, so the rows under the "
        "cursor are already there. A press 'that fetches' is timed on until the page it asked "
        "for is in the grid and painted (it lies below the visible rows when it arrives).",
        "Row 5,000,000 and the last rows are reached by asking pgconsole's Pager for the page "
        "after that key and showing it in the grid; every press after that is a real key.",
        f"Launch in a new process: Python start and imports alone take "
        f"{fmt_median(imports)} (`python -c 'import pgconsole.__main__, pgconsole.app'`).",
        f"Raw asyncpg with a typed `SELECT *` (no text cells) for the row-1 page: "
        f"{fmt_median(raw.get('typed_after_start'))}.",
        "The sort session runs with cursor_idle_seconds = 1; the sort alternates ascending and "
        "descending as `s` does (both sort all rows).",
    ]
    slowest = max([*pg.get("sort", []), *pg.get("cursor_reopen", [])], default=0.0)
    notes.append(
        f"The slowest pgconsole sort statement took {slowest:.1f} s; pgconsole's default "
        f"statement_timeout is {Settings().statement_timeout} (a cursor's sort runs in the "
        "first FETCH, and a cursor cannot use parallel workers)."
    )
    if ui.keyset_sql and ui.keyset_sql != sql.after:
        notes.append(
            f"pgconsole's keyset statement differs from the raw baseline's: `{ui.keyset_sql}`"
        )
    notes += [f"Error: {e}" for e in ui.errors]
    facts = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "PostgreSQL": server,
        "scale": f"{args.scale} ({args.scale * ROWS_PER_SCALE:,} rows in pgbench_accounts, "
        f"{args.scale * WIDE_ROWS_PER_SCALE:,} in wide)",
        "software": f"Python {platform.python_version()}, textual {version('textual')}, "
        f"asyncpg {version('asyncpg')}, pgconsole {commit()}",
        "repeats": f"{args.repeat} launches/opens/End/Home, {fetches} fetching presses per "
        f"depth, {sorts} sorts, {args.pages:,} pages for memory",
        "command": f"`python -m benchmarks.browse --scale {args.scale} --repeat {args.repeat}"
        f" --pages {args.pages}`",
    }
    middle = args.scale * ROWS_PER_SCALE // 2
    return report.Report(facts, {}, pg, raw, args.pages, middle, rss_pg, rss_raw, idle, notes)


def fmt_median(values: list[float] | None) -> str:
    """A median as `12.3 ms`."""
    return report.fmt(report.median(values), "time")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the table; write the report."""
    args = parse(argv)
    if PAGE_SIZE != PGCONSOLE_PAGE_SIZE:
        print(f"benchmarks.sql.PAGE_SIZE must be {PGCONSOLE_PAGE_SIZE}", file=sys.stderr)
        return 2
    with hermetic_home() as home, ThrowawayCluster(settings=CLUSTER_SETTINGS) as cluster:
        password = cluster.password
        asyncio.run(create_database(cluster))
        target = Target.of(cluster)
        progress(f"pgbench -i -s {args.scale} -q")
        pgbench, pgbench_detail = load_pgbench(target, password, args.scale)
        progress(f"loaded in {pgbench:.1f} s; the wide table")
        filled, analyzed = asyncio.run(
            create_wide(target, password, args.scale * WIDE_ROWS_PER_SCALE)
        )
        result = asyncio.run(measure(target, password, args, home))
        result.load = {
            "pgbench -i -s": f"{args.scale} -q: {pgbench:.1f} s ({pgbench_detail})",
            "wide table": f"filled in {filled:.1f} s, VACUUM (FREEZE, ANALYZE) in {analyzed:.1f} s",
            "server settings": ", ".join(f"{k}={v}" for k, v in CLUSTER_SETTINGS.items()),
        }
    text = result.markdown()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print("\n".join(report.main_table(result.pg, result.raw, result.pages, result.middle)))
    progress(f"done; the full report is in {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
