"""The SQL console against raw asyncpg, in the same run on the same server.

`python -m benchmarks.console [--scale 10] [--repeat 5]` starts a throwaway server, loads
`pgbench -i -s SCALE` and measures, for `SELECT * FROM pgbench_accounts`:

- raw asyncpg: `BEGIN; DECLARE … SCROLL CURSOR; FETCH 101` (the first page), the next page,
  `MOVE FORWARD ALL` and the last page, and a `pg_sleep(60)` cancelled with
  `pg_cancel_backend` from a second connection (until the error arrives);
- pgconsole, in-process at 80x24: F5 → first page painted, End → last row painted, and
  ctrl+c on a running `pg_sleep(60)` → "Cancelled" painted (and the server's session idle).

Times are medians; the report goes to benchmarks/results/console-latest.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import asyncpg
from textual.widgets import Static

from benchmarks.browse import hermetic_home, machine, progress
from benchmarks.data import ROWS_PER_SCALE, Target, admin_connect, create_database, load_pgbench
from benchmarks.harness import SIZE, MeasuredApp, painted
from pgconsole.config import Settings
from pgconsole.screens.console import ConsoleScreen
from pgconsole.throwaway.cluster import ThrowawayCluster

QUERY = "SELECT * FROM pgbench_accounts"
RESULTS = Path(__file__).parent / "results" / "console-latest.md"
Samples = dict[str, list[float]]
NOTE = (
    "End: the console's cursor returns each cell as text cut to 201 characters "
    "(`left(col::text, 201)` around the user's query), so running it to the end converts "
    "every row's values to text on the server; raw asyncpg's `MOVE FORWARD ALL` skips that."
)


async def measure_raw(target: Target, password: str, repeat: int, total: int) -> Samples:
    """The same work on one plain asyncpg connection."""
    out: Samples = {}
    conn = await admin_connect(target, password)
    other = await admin_connect(target, password)
    try:
        for _ in range(repeat):
            started = time.perf_counter()
            transaction = conn.transaction(readonly=True)
            await transaction.start()
            await conn.execute(f"DECLARE c SCROLL CURSOR FOR {QUERY}")
            await conn.fetch("FETCH FORWARD 101 FROM c")
            out.setdefault("first", []).append(time.perf_counter() - started)
            started = time.perf_counter()
            await conn.fetch("FETCH FORWARD 101 FROM c")
            out.setdefault("next", []).append(time.perf_counter() - started)
            started = time.perf_counter()
            await conn.execute("MOVE FORWARD ALL IN c")
            await conn.execute(f"MOVE ABSOLUTE {total - 100} IN c")
            await conn.fetch("FETCH FORWARD 101 FROM c")
            out.setdefault("end", []).append(time.perf_counter() - started)
            await transaction.rollback()
            sleeping = asyncio.create_task(conn.fetch("SELECT pg_sleep(60)"))
            await _reaches(other, conn.get_server_pid(), "active")
            started = time.perf_counter()
            await other.fetchval("SELECT pg_cancel_backend($1)", conn.get_server_pid())
            with contextlib.suppress(asyncpg.QueryCanceledError):
                await sleeping
            out.setdefault("cancel", []).append(time.perf_counter() - started)
    finally:
        await conn.close()
        await other.close()
    return out


async def _reaches(conn: asyncpg.Connection, pid: int, state: str) -> float:
    """Poll pg_stat_activity until backend `pid` is in `state`; the time it was seen so."""
    while True:
        seen = await conn.fetchval("SELECT state FROM pg_stat_activity WHERE pid = $1", pid)
        if seen == state:
            return time.perf_counter()
        await asyncio.sleep(0.002)


async def measure_console(target: Target, password: str, repeat: int, total: int) -> Samples:
    """The console, driven by keys as a terminal sends them; each time to the painted frame."""
    out: Samples = {}
    app = MeasuredApp(target.params(password), Settings())
    admin = await admin_connect(target, password)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await painted(app, lambda: app.database is not None)
            app.send_key("f4")
            await painted(app, lambda: isinstance(app.screen, ConsoleScreen))
            console = app.screen
            assert isinstance(console, ConsoleScreen)
            while console.session.pid is None:
                await pilot.pause(0.01)
            pid = console.session.pid
            last = str(total)
            for _ in range(repeat):
                console.editor.text = QUERY
                console.editor.focus()
                await pilot.pause(0.2)
                before = console.current
                sent = app.send_key("f5")
                shown = await painted(
                    app,
                    lambda b=before: (  # type: ignore[misc]
                        # A new run empties the grid and sets no result until it has one.
                        console.current is not None
                        and console.current is not b
                        and bool(console.grid.rows)
                    ),
                )
                out.setdefault("first", []).append(shown - sent)
                console.grid.focus()
                await pilot.pause(0.2)
                sent = app.send_key("end")
                shown = await painted(
                    app, lambda: bool(console.grid.rows) and console.grid.rows[-1].cells[0] == last
                )
                out.setdefault("end", []).append(shown - sent)
                console.editor.text = "SELECT pg_sleep(60)"
                console.editor.focus()
                await pilot.pause(0.2)
                app.send_key("f5")
                await _reaches(admin, pid, "active")
                sent = app.send_key("ctrl+c")
                server_idle = asyncio.create_task(_reaches(admin, pid, "idle"))
                try:
                    shown = await painted(app, lambda: "Cancelled" in _message(console))
                except TimeoutError:
                    shown_text = _message(console)
                    raise RuntimeError(f"no 'Cancelled' on screen: {shown_text!r}") from None
                out.setdefault("cancel", []).append(shown - sent)
                out.setdefault("cancel_server", []).append(await server_idle - sent)
                await pilot.pause(0.3)
    finally:
        await admin.close()
    return out


def _message(console: ConsoleScreen) -> str:
    return str(console.query_one("#console-message", Static).content)


OPS = (
    ("F5 on `SELECT * FROM pgbench_accounts` → first page painted", "first", "first"),
    ("End → last row painted (the cursor runs through every row)", "end", "end"),
    ("ctrl+c on `SELECT pg_sleep(60)` → 'Cancelled' painted", "cancel", "cancel"),
    ("ctrl+c → the server's session idle again", "cancel_server", "cancel"),
)


def _fmt(values: list[float] | None) -> str:
    if not values:
        return "-"
    median = statistics.median(values)
    return f"{median * 1000:,.1f} ms" if median < 10 else f"{median:,.2f} s"


def table(pg: Samples, raw: Samples) -> list[str]:
    """The report's main table: medians and ratios."""
    lines = [
        "| operation | raw asyncpg median | pgconsole median | ratio |",
        "|---|---:|---:|---:|",
    ]
    for label, pg_key, raw_key in OPS:
        pg_values, raw_values = pg.get(pg_key), raw.get(raw_key)
        ratio = "-"
        if pg_values and raw_values:
            ratio = f"{statistics.median(pg_values) / statistics.median(raw_values):.1f}x"
        lines.append(f"| {label} | {_fmt(raw_values)} | {_fmt(pg_values)} | {ratio} |")
    next_page = raw.get("next")
    lines.append(f"| (raw only) the next page: FETCH 101 | {_fmt(next_page)} | - | - |")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Run it; print the table; write the report."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.console", description=__doc__)
    parser.add_argument("--scale", type=int, default=10, help="pgbench scale (10: 1M rows)")
    parser.add_argument("--repeat", type=int, default=5, help="repeats of every measurement")
    parser.add_argument(
        "--quick", action="store_true", help="for development: --scale 10 --repeat 1"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.scale, args.repeat = 10, 1
    total = args.scale * ROWS_PER_SCALE
    with hermetic_home(), ThrowawayCluster() as cluster:
        password = cluster.password
        asyncio.run(create_database(cluster))
        target = Target.of(cluster)
        progress(f"pgbench -i -s {args.scale} -q")
        load_pgbench(target, password, args.scale)
        progress("raw asyncpg")
        raw = asyncio.run(measure_raw(target, password, args.repeat, total))
        progress("pgconsole's console")
        pg = asyncio.run(measure_console(target, password, args.repeat, total))
    lines = table(pg, raw)
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    spread = [
        f"- pgconsole `{key}`: " + ", ".join(f"{v * 1000:.1f}" for v in values) + " ms"
        for key, values in pg.items()
    ] + [
        f"- raw `{key}`: " + ", ".join(f"{v * 1000:.1f}" for v in values) + " ms"
        for key, values in raw.items()
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        "# Console benchmark: pgbench_accounts\n\n"
        f"- date: {date}\n- machine: {machine()}\n- scale: {args.scale} ({total:,} rows)\n"
        f"- repeats: {args.repeat}\n"
        f"- command: `python -m benchmarks.console --scale {args.scale} --repeat {args.repeat}`\n\n"
        + "\n".join(lines)
        + "\n\n"
        + NOTE
        + "\n\n## Every sample\n\n"
        + "\n".join(spread)
        + "\n"
    )
    print("\n".join(lines))
    progress(f"done; the report is in {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
