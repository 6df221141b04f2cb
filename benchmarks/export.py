"""Exporting pgbench_accounts as the grid shows it (ORDER BY aid) to CSV, beside psql and asyncpg.

    .venv/bin/python -m benchmarks.export [--scale N] [--repeat N] [--no-app]
                                          [--pgconsole REV|DIR] [--before REV|DIR]
    .venv/bin/python -m benchmarks.export --scale 10 --profile FILE [--profile-app]

Starts a throwaway server (verify-full TLS over loopback), loads `pgbench -i -s SCALE` and, in
the same run against that server, exports the grid's query for public.pgbench_accounts
(`spec_source(browse_spec(...)).csv`: every column, ORDER BY the key) to a CSV file with:

- `export()`: pgconsole's export function on an open pool, with a progress callback that only
  counts its calls (the seconds are `export()`'s own: connection, estimate, COPY, fsync, rename);
- the app: pgconsole headless at 80x24 with `--table public.pgbench_accounts`, `e`, the path,
  Enter, until the frame showing "Exported" (every frame rendered to terminal bytes, the
  progress bar and status line updated as a user sees them);
- raw asyncpg: `copy_from_query(query, output=PATH, format="csv", header=True)`;
- psql: `psql -X -c "\\copy (query) TO 'PATH' WITH (FORMAT csv, HEADER true)"`, password in
  PGPASSWORD; its time includes its start, TLS handshake and login (measured alone as well).

Each export runs in a process of its own, so each has its own peak RSS (VmHWM for Python,
GNU time's figure for psql); the series take turns in a rotating order, so whatever else
the machine does falls on all of them alike.

`--pgconsole REV` times pgconsole as of git revision REV (its `pgconsole/` and `styles/`
extracted with `git archive`, so edits in progress in the working tree stay out), or as found
in a directory holding those two; by default, the working tree. `--before REV|DIR` adds the
same two pgconsole series run on another version, in the same run.

Prints the table and writes the report to `benchmarks/results/export-latest.md`.
`--profile FILE` instead writes cProfile stats of one `export()` run, or with `--profile-app`
of the app's process from Enter to "Exported" (cProfile slows both down).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import asyncpg

from benchmarks.common import REPO, commit, extract, hermetic_home, machine
from benchmarks.data import (
    CLUSTER_SETTINGS,
    Target,
    admin_connect,
    create_database,
    load_pgbench,
)
from pgconsole.throwaway.cluster import ThrowawayCluster, find_bindir

RESULTS = REPO / "benchmarks" / "results" / "export-latest.md"
RELATION = ("public", "pgbench_accounts")
Samples = dict[str, list[dict[str, Any]]]
STARTED = time.monotonic()


# -- the parent imports only what pgconsole keeps stable (throwaway, params) and
# -- benchmarks.common, so that edits in progress elsewhere in the working tree cannot stop a
# -- run of committed versions (--pgconsole, --before).


def progress(text: str) -> None:
    """One line on stderr, with the time since the start."""
    print(f"[{time.monotonic() - STARTED:6.1f} s] {text}", file=sys.stderr, flush=True)


# -- the query --------------------------------------------------------------------------------


async def grid_spec(conn: Any) -> Any:
    """What the grid pages through for pgbench_accounts when it is opened (a `BrowseSpec`)."""
    from pgconsole.db.browse.catalog import describe_relation, resolve_relation
    from pgconsole.db.first_page import browse_spec

    oid = await resolve_relation(conn, *RELATION)
    assert oid is not None
    return browse_spec(await describe_relation(conn, oid))


async def grid_query(conn: Any) -> str:
    """The CSV SELECT pgconsole's export sends for pgbench_accounts as the grid shows it."""
    from pgconsole.db.browse.export import spec_source

    return spec_source(await grid_spec(conn)).csv


# -- children: one export each, in a process of its own ---------------------------------------


def cpu_seconds() -> float:
    """User and system CPU time of this process so far, every thread included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def memory_mb() -> tuple[float, float]:
    """Peak (VmHWM) and current (VmRSS) resident set of this process, in MiB."""
    values: dict[str, float] = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("VmHWM:", "VmRSS:")):
                values[line[:5]] = int(line.split()[1]) / 1024
    return round(values["VmHWM"], 1), round(values["VmRSS"], 1)


async def child_function(path: Path, profile: Path | None) -> dict[str, Any]:
    """pgconsole's `export()` on an open pool (the app's settings), timed alone."""
    from pgconsole.config import Settings
    from pgconsole.db.browse.export import ExportFormat, export, spec_source
    from pgconsole.db.connection.pool import open_database

    target, password = Target.from_env()
    settings = Settings()
    database = await open_database(target.params(password), settings.session(), settings.pool())
    try:
        # Database.session() is Database.transaction() since 1a86376: time either version.
        transaction = getattr(database, "transaction", None) or database.session
        async with transaction() as conn:
            spec = await grid_spec(conn)
        query = spec_source(spec).csv
        calls = 0
        last = 0

        def counted(written: int, estimate: int | None) -> None:
            nonlocal calls, last
            calls += 1
            last = written

        _, before = memory_mb()
        profiler = cProfile.Profile() if profile else None
        cpu = cpu_seconds()
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        result = await export(database, spec, path, ExportFormat.CSV, progress=counted)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)
        seconds = time.perf_counter() - started
        cpu = cpu_seconds() - cpu
    finally:
        await database.close()
    peak, _ = memory_mb()
    return {
        "seconds": seconds,
        "cpu": cpu,
        "rows": result.rows,
        "bytes": result.bytes,
        "rss_before": before,
        "peak": peak,
        "progress_calls": calls,
        "query": query,
        "mode": oct(os.stat(path).st_mode & 0o777),
    }


async def child_app(path: Path, profile: Path | None) -> dict[str, Any]:
    """pgconsole headless: `--table`, `e`, the path, Enter → the frame showing "Exported"."""
    from textual.widgets import Input, Static

    from benchmarks.harness import SIZE, MeasuredApp, painted
    from pgconsole.config import Settings
    from pgconsole.screens.export import ExportScreen

    target, password = Target.from_env()
    app = MeasuredApp(target.params(password), Settings(), table=".".join(RELATION))
    async with app.run_test(size=SIZE) as pilot:
        grid = app.main_screen.grid
        await painted(app, lambda: bool(grid.rows) and grid.pending is None)
        await pilot.pause(0.2)
        app.send_key("e")
        await painted(app, lambda: isinstance(app.screen, ExportScreen))
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        screen.query_one("#export-path", Input).value = str(path)
        await pilot.pause(0.2)
        _, before = memory_mb()
        frames = app.frames

        def status() -> str:
            return str(screen.query_one("#export-status", Static).content)

        profiler = cProfile.Profile() if profile else None
        if profiler is not None:
            profiler.enable()
        cpu = cpu_seconds()
        sent = app.send_key("enter")
        shown = await painted(app, lambda: "Exported" in status() or "failed" in status(), 3600)
        cpu = cpu_seconds() - cpu
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)
        text = status()
        if "Exported" not in text:
            raise RuntimeError(f"the export did not finish: {text!r}")
        frames = app.frames - frames
        query = screen.source.csv
    peak, _ = memory_mb()
    return {
        "seconds": shown - sent,
        "cpu": cpu,
        "bytes": os.stat(path).st_size,
        "rss_before": before,
        "peak": peak,
        "frames": frames,
        "status": text,
        "query": query,
    }


async def child_raw(path: Path, query: str) -> dict[str, Any]:
    """asyncpg's own `copy_from_query` to a path (its writes go through run_in_executor)."""
    target, password = Target.from_env()
    conn = await asyncpg.connect(target.dsn(password))
    try:
        _, before = memory_mb()
        cpu = cpu_seconds()
        started = time.perf_counter()
        status = await conn.copy_from_query(query, output=path, format="csv", header=True)
        seconds = time.perf_counter() - started
        cpu = cpu_seconds() - cpu
    finally:
        await conn.close()
    rows = int(status.rsplit(" ", 1)[-1])
    size = os.stat(path).st_size
    return {"seconds": seconds, "cpu": cpu, "rows": rows, "bytes": size, "rss_before": before}


WAITS_SQL = """
SELECT coalesce(wait_event_type || ':' || wait_event, 'on CPU')
FROM pg_stat_activity
WHERE state = 'active' AND query LIKE 'COPY%' AND pid <> pg_backend_pid()
"""
"""What the backend running the COPY does: working ('on CPU', which also counts waiting for a
core), or waiting, e.g. `Client:ClientWrite` when the client does not read fast enough."""
SAMPLE_SECONDS = 0.02


async def child_waits() -> dict[str, dict[str, int]]:
    """`child waits`: samples the COPY's backend every `SAMPLE_SECONDS`, tallied under the
    label last read from stdin (a series' name, or `-` between exports), until stdin closes."""
    target, password = Target.from_env()
    label = ["-"]
    done = threading.Event()

    def read_labels() -> None:
        for line in sys.stdin:
            label[0] = line.strip()
        done.set()

    threading.Thread(target=read_labels, daemon=True).start()
    tally: dict[str, dict[str, int]] = {}
    conn = await admin_connect(target, password)
    try:
        while not done.is_set():
            current = label[0]
            for (wait,) in await conn.fetch(WAITS_SQL):
                counts = tally.setdefault(current, {})
                counts[wait] = counts.get(wait, 0) + 1
            await asyncio.sleep(SAMPLE_SECONDS)
    finally:
        await conn.close()
    tally.pop("-", None)
    return tally


def child(argv: list[str]) -> int:
    """`child MODE PATH [ARG]`: one export; its figures as JSON on stdout's last line."""
    if argv[0] == "waits":
        print(json.dumps(asyncio.run(child_waits())), flush=True)
        return 0
    mode, path = argv[0], Path(argv[1])
    profile = Path(argv[2]) if len(argv) > 2 and mode != "raw" else None
    if mode == "function":
        result = asyncio.run(child_function(path, profile))
    elif mode == "app":
        result = asyncio.run(child_app(path, profile))
    elif mode == "raw":
        result = asyncio.run(child_raw(path, argv[2]))
        result["peak"] = memory_mb()[0]
    else:
        print(f"unknown mode {mode}", file=sys.stderr)
        return 2
    print(json.dumps(result), flush=True)
    return 0


# -- the parent -------------------------------------------------------------------------------


@dataclass
class Runner:
    """Runs each series' exports into `folder` and keeps every sample."""

    target: Target
    password: str
    home: Path
    folder: Path
    query: str
    root: Path = REPO
    """Where the pgconsole series import pgconsole from (their working directory)."""
    before_root: Path | None = None
    samples: Samples = field(default_factory=dict)
    waits: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per series, how often its COPY's backend was seen on CPU or waiting on what."""
    _sampler: subprocess.Popen[str] | None = None

    def start_sampling(self) -> None:
        """Start the `child waits` process."""
        self._sampler = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.export", "child", "waits"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=self.env(),
            cwd=REPO,
            text=True,
        )

    def label(self, text: str) -> None:
        """Tally the samples from now on under `text` (`-`: not at all)."""
        if self._sampler is not None and self._sampler.stdin is not None:
            self._sampler.stdin.write(text + "\n")
            self._sampler.stdin.flush()

    def stop_sampling(self) -> None:
        """Stop the sampler and keep its tallies."""
        if self._sampler is None:
            return
        out, _ = self._sampler.communicate(timeout=60)
        self.waits = json.loads(out.strip().splitlines()[-1])
        self._sampler = None

    def env(self) -> dict[str, str]:
        """A child's environment: hermetic, the server in BENCH_TARGET, the password in
        PGPASSWORD."""
        return self.target.child_env(self.password, self.home)

    def python(self, series: str, args: list[str], cwd: Path = REPO) -> dict[str, Any]:
        """`python -m benchmarks.export child ARGS` (cwd decides which pgconsole it imports)."""
        result = subprocess.run(
            [sys.executable, "-m", "benchmarks.export", "child", *args],
            env=self.env(),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{series} failed:\n{result.stderr[-3000:]}")
        return dict(json.loads(result.stdout.strip().splitlines()[-1]))

    def psql(self, command: str) -> dict[str, Any]:
        """psql -X -c COMMAND: wall time, and CPU time and peak RSS as GNU time reports them.

        Not `ru_maxrss` from wait4: a child started from this (larger) process reports the
        parent's peak there until it grows past it.
        """
        psql = shutil.which("psql") or str(find_bindir() / "psql")
        rss = self.folder / "psql-rss"
        argv = [
            *(
                ["/usr/bin/time", "-f", "%M %U %S", "-o", str(rss)]
                if Path("/usr/bin/time").exists()
                else []
            ),
            *[psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.target.dsn(), "-c", command],
        ]
        env = {**self.env(), "PGAPPNAME": "psql-bench"}
        started = time.perf_counter()
        result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            raise RuntimeError(f"psql failed (exit {result.returncode}): {result.stderr}")
        sample: dict[str, Any] = {"seconds": seconds}
        if rss.exists():
            peak, user, system = rss.read_text().split()[-3:]
            sample["peak"] = round(int(peak) / 1024, 1)
            sample["cpu"] = float(user) + float(system)
            rss.unlink()
        return sample

    def run(self, series: str) -> None:
        """One export of `series`; the file is checked, then removed."""
        path = self.folder / f"{series.replace(' ', '_')}.csv"
        self.label(series)
        try:
            self._run(series, path)
        finally:
            self.label("-")

    def _run(self, series: str, path: Path) -> None:
        if series == "export()":
            sample = self.python(series, ["function", str(path)], cwd=self.root)
        elif series == "app":
            sample = self.python(series, ["app", str(path)], cwd=self.root)
        elif series == "export() before":
            assert self.before_root is not None
            sample = self.python(series, ["function", str(path)], cwd=self.before_root)
        elif series == "app before":
            assert self.before_root is not None
            sample = self.python(series, ["app", str(path)], cwd=self.before_root)
        elif series == "raw asyncpg":
            sample = self.python(series, ["raw", str(path), self.query])
        elif series == "psql \\copy":
            sample = self.psql(f"\\copy ({self.query}) TO '{path}' WITH (FORMAT csv, HEADER true)")
            sample["bytes"] = path.stat().st_size
        elif series == "psql connect":
            sample = self.psql("SELECT 1")
        else:
            raise ValueError(series)
        sample["load"] = os.getloadavg()[0]
        if series != "psql connect":
            sample.setdefault("bytes", path.stat().st_size)
            path.unlink()
        self.samples.setdefault(series, []).append(sample)
        progress(f"{series}: {sample['seconds']:.2f} s, peak RSS {sample.get('peak', 0):.0f} MB")


def median(samples: list[dict[str, Any]], key: str = "seconds") -> float:
    """The median of one figure over a series' samples."""
    return float(statistics.median(s[key] for s in samples))


def spread(samples: list[dict[str, Any]], key: str = "seconds") -> str:
    """`min-max` of one figure."""
    values = [s[key] for s in samples]
    unit = " s" if key == "seconds" else " MB"
    return f"{min(values):.2f}-{max(values):.2f}{unit}"


LABELS = {
    "export()": "pgconsole `export()` (pool open, progress counted)",
    "app": "pgconsole app: Enter → 'Exported' painted (80x24, progress bar)",
    "export() before": "pgconsole `export()`, before",
    "app before": "pgconsole app, before",
    "raw asyncpg": "raw asyncpg `copy_from_query(output=path)`",
    "psql \\copy": "psql `\\copy (query) TO file CSV HEADER` (start + login included)",
    "psql connect": "(psql start + TLS login + `SELECT 1` alone)",
}


def waiting_for_client(waits: dict[str, int] | None) -> str:
    """The share of samples in which the COPY's backend waited for the client to read."""
    if not waits:
        return "-"
    return f"{waits.get('Client:ClientWrite', 0) / sum(waits.values()):.0%}"


def table(samples: Samples, rows: int, waits: dict[str, dict[str, int]]) -> list[str]:
    """Medians with spread, rows/s, ratio to psql, CPU, server waiting, peak RSS."""
    psql = median(samples["psql \\copy"]) if "psql \\copy" in samples else None
    lines = [
        "| export of pgbench_accounts as shown, to CSV | median | spread (min-max) "
        "| rows/s | vs psql | client CPU | server waits for the client "
        "| peak RSS (before → peak) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for series, label in LABELS.items():
        if series not in samples:
            continue
        values = samples[series]
        seconds = median(values)
        rate = "-" if series == "psql connect" else f"{rows / seconds / 1e6:.2f}M"
        ratio = "-" if psql is None or series == "psql connect" else f"{seconds / psql:.2f}x"
        peak = f"{median(values, 'peak'):.0f} MB"
        if "rss_before" in values[0]:
            peak = f"{median(values, 'rss_before'):.0f} → {peak}"
        cpu = f"{median(values, 'cpu'):.2f} s" if "cpu" in values[0] else "-"
        waited = "-" if series == "psql connect" else waiting_for_client(waits.get(series))
        lines.append(
            f"| {label} | {seconds:.2f} s | {spread(values)} | {rate} | {ratio} | {cpu} "
            f"| {waited} | {peak} |"
        )
    return lines


def every_sample(samples: Samples, waits: dict[str, dict[str, int]]) -> list[str]:
    """Each series' seconds in run order, and what else its children said."""
    lines = []
    for series, values in samples.items():
        times = ", ".join(f"{s['seconds']:.2f}" for s in values) + " s"
        if "cpu" in values[0]:
            times += "; client CPU " + ", ".join(f"{s['cpu']:.2f}" for s in values) + " s"
        extra = ""
        if "progress_calls" in values[0]:
            calls = median(values, "progress_calls")
            size = median(values, "bytes") / max(calls, 1)
            extra = f"; {calls:,.0f} progress calls (one per chunk, {size / 1024:.0f} KiB each)"
        if "frames" in values[0]:
            extra = f"; {median(values, 'frames'):,.0f} frames painted during the export"
        seen = waits.get(series)
        if seen:
            total = sum(seen.values())
            shares = ", ".join(
                f"{w} {n / total:.0%}" for w, n in sorted(seen.items(), key=lambda x: -x[1])
            )
            extra += f"; the COPY's backend: {shares}"
        lines.append(f"- {series}: {times}{extra}")
    return lines


async def setup_query(target: Target, password: str) -> tuple[str, str, int]:
    """The grid's CSV query, the server's version, and the table's row count."""
    conn = await admin_connect(target, password)
    try:
        server = str(await conn.fetchval("SHOW server_version"))
        rows = int(await conn.fetchval("SELECT count(*) FROM pgbench_accounts"))
        return await grid_query(conn), server, rows
    finally:
        await conn.close()


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.export", description=__doc__)
    parser.add_argument("--scale", type=int, default=100, help="pgbench scale (100: 10M rows)")
    parser.add_argument("--repeat", type=int, default=5, help="exports per series")
    parser.add_argument(
        "--pgconsole", metavar="REV|DIR", help="time pgconsole as of REV (default: working tree)"
    )
    parser.add_argument("--before", metavar="REV|DIR", help="also time pgconsole as of REV")
    parser.add_argument("--no-app", action="store_true", help="leave out the app's series")
    parser.add_argument("--profile", type=Path, help="cProfile one export() into FILE, then stop")
    parser.add_argument("--profile-app", action="store_true", help="profile the app instead")
    parser.add_argument("--note", action="append", default=[], help="a paragraph for the report")
    args = parser.parse_args(argv)
    if args.scale < 1 or args.repeat < 1:
        parser.error("--scale and --repeat must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the table; write the report."""
    if argv is None and sys.argv[1:2] == ["child"]:
        return child(sys.argv[2:])
    args = parse(argv)
    series = ["export()", "raw asyncpg", "psql \\copy"]
    if not args.no_app:
        series.insert(1, "app")
    with (
        hermetic_home() as home,
        ThrowawayCluster(settings=CLUSTER_SETTINGS) as cluster,
        tempfile.TemporaryDirectory(prefix="pgconsole-export-", dir=home) as scratch,
    ):
        folder = Path(scratch)
        root = extract(args.pgconsole, folder, "pgconsole") if args.pgconsole else REPO
        before_root = extract(args.before, folder, "before") if args.before else None
        if before_root is not None:
            series += ["export() before"] + ([] if args.no_app else ["app before"])
        password = cluster.password
        asyncio.run(create_database(cluster))
        target = Target.of(cluster)
        progress(f"pgbench -i -s {args.scale} -q")
        seconds, detail = load_pgbench(target, password, args.scale)
        progress(f"loaded in {seconds:.1f} s ({detail})")
        query, server, rows = asyncio.run(setup_query(target, password))
        runner = Runner(target, password, home, folder, query, root, before_root)
        if args.profile:
            profile = args.profile.resolve()
            mode = "app" if args.profile_app else "function"
            runner.python("profile", [mode, str(folder / "profiled.csv"), str(profile)], root)
            progress(f"profile written to {profile}")
            return 0
        progress("warm-up: one raw export (the table into the server's and the OS's caches)")
        runner.run("raw asyncpg")
        runner.samples.clear()
        runner.start_sampling()
        try:
            for repetition in range(args.repeat):
                turn = series[repetition % len(series) :] + series[: repetition % len(series)]
                for name in turn:
                    runner.run(name)
                runner.run("psql connect")
        finally:
            runner.stop_sampling()
    lines = table(runner.samples, rows, runner.waits)
    write_report(args, runner, lines, server, rows)
    print("\n".join(lines))
    progress(f"done; the report is in {RESULTS.relative_to(REPO)}")
    return 0


def write_report(
    args: argparse.Namespace, runner: Runner, lines: list[str], server: str, rows: int
) -> None:
    """benchmarks/results/export-latest.md."""
    samples = runner.samples
    queries = {s["query"] for v in samples.values() for s in v if "query" in s}
    loads = [s["load"] for v in samples.values() for s in v]
    size = median(samples["psql \\copy"], "bytes")
    command = (
        f"python -m benchmarks.export --scale {args.scale} --repeat {args.repeat}"
        + (f" --pgconsole {args.pgconsole}" if args.pgconsole else "")
        + (f" --before {args.before}" if args.before else "")
    )
    facts = [
        f"- date: {datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {machine()}; 1-minute load average after each export: "
        f"{min(loads):.2f} to {max(loads):.2f} (median {statistics.median(loads):.2f})",
        f"- PostgreSQL {server}, verify-full TLS over loopback; Python {platform.python_version()},"
        f" asyncpg {version('asyncpg')}, textual {version('textual')},"
        f" pgconsole {args.pgconsole or commit()}"
        + (f" (before: {args.before})" if args.before else ""),
        f"- data: pgbench -i -s {args.scale}: {rows:,} rows, {size / 2**20:,.0f} MiB of CSV",
        f"- {args.repeat} exports per series, the series in a rotating order; files written to "
        "the same ext4 disk (pgconsole fsyncs before the rename; psql and asyncpg do not)",
        f"- command: `{command}`",
    ]
    notes = [
        "Noise: the machine has 2 cores and is shared: other engineers' tests may run at the "
        "same time, and the server, the client and the disk's writeback share those 2 cores. "
        "Read the medians, and the spread beside each (min-max of the runs). Client CPU "
        "(user + system time of the exporting process, every thread, during the export; "
        "psql's from GNU time, its start and login included) depends much less on that "
        "neighbourhood than wall time does.",
        f"Server waits for the client: the share of samples (every {SAMPLE_SECONDS * 1000:.0f} ms,"
        " from pg_stat_activity) in which the backend running the COPY waited on ClientWrite,"
        " its socket full because the client did not read fast enough. Near 0%, the client keeps"
        " up and the server's own work (reading the table in key order, printing CSV, TLS) sets"
        " the pace.",
        f"The query: `{runner.query}`"
        + ("" if queries <= {runner.query} else f" (a pgconsole series sent {queries})"),
    ]
    notes += args.note
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        "# Export benchmark: pgbench_accounts as shown, to CSV\n\n"
        + "\n".join(facts)
        + "\n\n"
        + "\n".join(lines)
        + "\n\n"
        + "\n\n".join(notes)
        + "\n\n## Every sample, in run order\n\n"
        + "\n".join(every_sample(samples, runner.waits))
        + "\n"
    )


if __name__ == "__main__":
    sys.exit(main())
