"""Child processes of the browse benchmark, each run as `python -m benchmarks.children MODE`.

- `monitor`: polls pg_stat_activity every `POLL_SECONDS` from its own connection until its
  stdin closes, then prints (as JSON) every `idle in transaction` episode of a pgconsole
  session it saw, with the longest duration observed.
- `rss-pgconsole PAGES`: pgconsole headless at 80x24, PgDn held through PAGES pages of
  pgbench_accounts; prints RSS samples. A process of its own, so that nothing else the
  benchmark did counts towards its peak.
- `rss-raw PAGES`: the same pages with raw asyncpg, keeping the same 300-row window.

The server's address comes in `BENCH_TARGET`, the password in `PGPASSWORD`.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import asyncpg

from benchmarks.data import ADMIN_APP_NAME, Target, admin_connect
from benchmarks.sql import BrowseSql, describe

if TYPE_CHECKING:
    from pgconsole.widgets.grid import DataGrid, Want

POLL_SECONDS = 0.1
SAMPLE_EVERY = 1_000
"""Pages between two RSS samples."""
WINDOW_ROWS = 300
"""Rows the raw client keeps, as many as pgconsole's grid (`DataGrid.max_rows`)."""

IDLE_SQL = """
SELECT pid, extract(epoch FROM state_change)::float8 AS since,
       extract(epoch FROM clock_timestamp() - state_change)::float8 AS idle
FROM pg_stat_activity
WHERE application_name = $1 AND state LIKE 'idle in transaction%'
"""


@dataclass(frozen=True)
class RssSample:
    """Memory after `pages` pages: peak so far and current resident set, in MiB."""

    pages: int
    peak_mb: float
    rss_mb: float
    seconds: float


def rss_sample(pages: int, started: float) -> RssSample:
    """Peak (VmHWM) and current resident set (/proc/self/statm) of this process.

    Not `getrusage().ru_maxrss`: on Linux a child started by fork/vfork + exec reports its
    parent's peak there until it grows past it (the benchmark's parent is the larger).
    """
    with open("/proc/self/status") as status:
        peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    with open("/proc/self/statm") as statm:
        resident = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    elapsed = round(time.monotonic() - started, 1)
    return RssSample(pages, round(peak_kib / 1024, 1), round(resident, 1), elapsed)


# -- monitor ----------------------------------------------------------------------------------


async def monitor() -> dict[str, Any]:
    """Poll until stdin reaches EOF; return the idle-in-transaction episodes seen."""
    target, password = Target.from_env()
    stop = threading.Event()

    def wait_for_eof() -> None:
        while sys.stdin.buffer.read(4096):
            pass
        stop.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()
    longest: dict[tuple[int, float], float] = {}
    polls = 0
    conn = await admin_connect(target, password)
    try:
        while not stop.is_set():
            for row in await conn.fetch(IDLE_SQL, "pgconsole"):
                key = (int(row["pid"]), float(row["since"]))
                longest[key] = max(longest.get(key, 0.0), float(row["idle"]))
            polls += 1
            await asyncio.sleep(POLL_SECONDS)
    finally:
        await conn.close()
    episodes = [{"pid": p, "since": s, "longest": d} for (p, s), d in longest.items()]
    return {"polls": polls, "poll_seconds": POLL_SECONDS, "episodes": episodes}


# -- memory -----------------------------------------------------------------------------------


async def rss_pgconsole(pages: int) -> dict[str, Any]:
    """Hold PgDn through `pages` pages in pgconsole (Home at the end of a small table)."""
    from benchmarks.harness import SIZE, send_key, until
    from pgconsole.app import PgConsoleApp
    from pgconsole.config import Settings
    from pgconsole.db.first_page import PAGE_SIZE

    target, password = Target.from_env()
    app = PgConsoleApp(target.params(password), Settings(), table="public.pgbench_accounts")
    samples: list[RssSample] = []
    keys = 0
    async with app.run_test(size=SIZE):
        grid = app.main_screen.grid
        await until(lambda: bool(grid.rows) and grid.pending is None)
        started = time.monotonic()
        first_seen = grid.rows_seen
        samples.append(rss_sample(0, started))
        done = 0
        while done < pages:
            before = (grid.cursor_row, grid.rows_seen, grid.pending)
            at_end = not grid.more_after and grid.cursor_row >= len(grid.rows) - 1
            send_key(app, "home" if at_end else "pagedown")
            keys += 1
            # The next key goes once this one is handled and its page (if any) has arrived,
            # as fast as the app takes them: key repeat with no pause.
            await until(_changed(grid, before))
            await until(lambda: grid.pending is None)
            now = (grid.rows_seen - first_seen) // PAGE_SIZE
            if now // SAMPLE_EVERY > done // SAMPLE_EVERY:
                samples.append(rss_sample(now, started))
            done = now
        window = len(grid.rows)
    return {"samples": [asdict(s) for s in samples], "keys": keys, "window_rows": window}


def _changed(grid: DataGrid, before: tuple[int, int, Want | None]) -> Callable[[], bool]:
    return lambda: (grid.cursor_row, grid.rows_seen, grid.pending) != before


async def rss_raw(pages: int) -> dict[str, Any]:
    """The same pages with raw asyncpg and pgconsole's SQL, keeping a 300-row window."""
    target, password = Target.from_env()
    conn = await asyncpg.connect(
        target.dsn(password), server_settings={"application_name": ADMIN_APP_NAME}
    )
    try:
        sql = BrowseSql(await describe(conn, "public", "pgbench_accounts"))
        started = time.monotonic()
        samples = [rss_sample(0, started)]
        rows = await conn.fetch(sql.first, sql.limit)
        window: list[asyncpg.Record] = list(rows[: sql.page_size])
        for page in range(1, pages + 1):
            if len(rows) > sql.page_size:
                rows = await conn.fetch(sql.after, window[-1][0], sql.limit)
            else:  # the end of a small table: start again from the top, as Home does
                rows = await conn.fetch(sql.first, sql.limit)
                window.clear()
            window.extend(rows[: sql.page_size])
            del window[:-WINDOW_ROWS]
            if page % SAMPLE_EVERY == 0:
                samples.append(rss_sample(page, started))
    finally:
        await conn.close()
    return {"samples": [asdict(s) for s in samples], "window_rows": len(window)}


def main(argv: list[str]) -> int:
    """Run one mode; print its JSON result as the last line of stdout."""
    mode = argv[0]
    if mode == "monitor":
        result = asyncio.run(monitor())
    elif mode == "rss-pgconsole":
        result = asyncio.run(rss_pgconsole(int(argv[1])))
    elif mode == "rss-raw":
        result = asyncio.run(rss_raw(int(argv[1])))
    else:
        print(f"unknown mode {mode}", file=sys.stderr)
        return 2
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
