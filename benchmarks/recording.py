"""The flight recorder against issue 19's targets: one run, one report.

    .venv/bin/python -m benchmarks.recording [--quick] [--minutes 10] [--clients 50]
                                              [--idle 150] [--hours 24]

1. **Record.** A throwaway server with pg_stat_statements, `pgbench -i -s 10` and `pgbench -c
   CLIENTS -j 2 -n` in the background; beside it a crowd of IDLE connections opened by the
   benchmark (a third of them idle in transaction, a few changing their query every second,
   and every two minutes one of them holding branch 1's row for 15 s, so that pgbench's
   clients queue behind it: a lock chain forming and clearing). pgconsole's own `record`
   coroutine (`pgconsole record`'s loop: `stats.sample`, then `Writer.add`) runs for MINUTES
   at 1 s on a connection of the samplers' role, in this process's main thread; the crowd
   runs in a thread of its own, so the recorder's CPU time is its thread's.
2. **A day.** A synthetic recording of HOURS at 1 s is made from the real samples: replayed in
   order with their instants (and the server's counters) shifted by a whole recording each
   round, and a share of the crowd's sessions varied every sample (query texts, states and
   ages, pids leaving and others arriving), written with the real `Writer`.
3. **Seek.** That file opened (`Recording.open` + `moments()`), 200 random instants read
   (`at`), 2000 steps to the next sample (`rec[i + 1]` after `rec[i]`).
4. **Rewind.** `RewindBuffer` fed 30 minutes of those samples: its `memory()`, what
   tracemalloc sees it hold, and the time per `add`.
5. **For comparison,** the same samples as JSON lines (one object per refresh with the whole
   sample, as pg_glimpse appends them), plain and gzip'd.

Prints the table and writes the whole report to `benchmarks/results/recording-latest.md`
(a `--quick` run too: its command line says so).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime
import gc
import itertools
import json
import os
import platform
import random
import signal
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from importlib.metadata import version
from pathlib import Path
from typing import Literal

import asyncpg

from benchmarks import report
from benchmarks.activity import SCALE, fmt, prepare, progress, stop_on_signals
from benchmarks.activity_raw import (
    SAMPLER_ROLE,
    Statement,
    read_statements,
    reset_statements,
    sampler_connect,
)
from benchmarks.common import commit, hermetic_home, machine
from benchmarks.data import Target, admin_connect, create_database, load_pgbench
from benchmarks.load import PG_STAT_STATEMENTS, Load, cluster_settings
from pgconsole.db.activity import stats
from pgconsole.db.activity.stats import Backend, Sample
from pgconsole.db.recording import BLOCK_SIZE, Encoder, Meta, Recording, Writer
from pgconsole.db.recording.codec import COUNTERS
from pgconsole.db.recording.rewind import BUDGET, MINUTES, RewindBuffer
from pgconsole.record import record
from pgconsole.throwaway.cluster import ThrowawayCluster

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results" / "recording-latest.md"
INTERVAL = 1.0
"""Seconds between samples: `pgconsole record`'s default, the activity screen's refresh."""
CROWD_APP = "bench-crowd"
"""application_name of the crowd's connections."""
WARM_UP = 3
"""Samples before the recording (the statement prepared, asyncpg's types introspected)."""
INCIDENT_EVERY = 120.0
"""Seconds between two incidents (a crowd session holding branch 1's row)."""
INCIDENT_HOLD = 15.0
CHURN = 4
"""Crowd sessions that run a new statement every second."""
SIZE_LIMIT = 100e6
CPU_LIMIT = 1.0
SEEK_LIMIT = 0.1
STEP_LIMIT = 0.016
MEMORY_LIMIT = 20e6
"""Issue 19 says 20 MB; `RewindBuffer`'s own budget is 20 MiB (`BUDGET`)."""
SEEKS = 200
STEP_RUNS, STEP_RUN = 20, 100
"""Steps: 20 runs of 100 steps each from a random sample (each crosses a block's start)."""
REWIND_SAMPLES = 1800
"""Samples fed to the rewind buffer: twice its 15 minutes, so that it drops blocks."""
VARY = 1 / 120
"""Chance, per sample, that a crowd session starts a variant (a new query, maybe a new
state) lasting 30 to 300 samples: about one variant begun and one ended a second."""
MOVE = 1 / 1200
"""Chance, per sample, that an idle crowd session leaves and another pid takes its place."""
SEED = 19

Unit = Literal["time", "count", "percent", "bytes"]

CROWD_QUERIES = (
    "SELECT abalance FROM pgbench_accounts WHERE aid = {n}",
    "SELECT tbalance FROM pgbench_tellers WHERE tid = {m}",
    "SELECT bid, bbalance FROM pgbench_branches ORDER BY bid LIMIT {m}",
    "SELECT aid, abalance FROM pgbench_accounts WHERE bid = {b} ORDER BY aid LIMIT {m}",
    "SELECT count(*) FROM pgbench_tellers WHERE bid = {b} /* report {n} */",
)
"""What the crowd runs: literals in the text, as an application without bind parameters."""


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.recording", description=__doc__)
    parser.add_argument("--minutes", type=float, default=10, help="length of the real recording")
    parser.add_argument("--clients", type=int, default=50, help="pgbench clients (the load)")
    parser.add_argument("--idle", type=int, default=150, help="the crowd's extra connections")
    parser.add_argument("--hours", type=float, default=24, help="length of the synthetic one")
    parser.add_argument(
        "--quick", action="store_true", help="for development: 1 minute recorded, 2 h made"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.minutes, args.hours = 1.0, 2.0
    if not 1 <= args.clients <= 200 or not 10 <= args.idle <= 400 or args.minutes < 0.5:
        parser.error("--clients 1 to 200, --idle 10 to 400, --minutes at least 0.5")
    return args


def query_text(rng: random.Random) -> str:
    """One of the crowd's statements, with new literals."""
    return rng.choice(CROWD_QUERIES).format(
        n=rng.randint(1, SCALE * 100_000), m=rng.randint(1, 100), b=rng.randint(1, SCALE)
    )


# -- the crowd: idle and idle-in-transaction sessions, and the incidents ----------------------


@dataclass
class Crowd:
    """`count` connections in a thread of their own (its own event loop): idle, a third idle
    in transaction, `CHURN` of them running a new statement every second, and every
    `incident_every` seconds the first one holding branch 1's row for `INCIDENT_HOLD`."""

    target: Target
    password: str
    count: int
    incident_every: float
    stop: threading.Event = field(default_factory=threading.Event)
    ready: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    incidents: int = 0
    statements: int = 0
    thread: threading.Thread | None = None

    def start(self) -> None:
        """Connect everyone; return once the crowd is in place."""
        self.thread = threading.Thread(target=self._main, name="crowd", daemon=True)
        self.thread.start()
        self.ready.wait(300)
        self.check()
        if not self.ready.is_set():
            raise TimeoutError("the crowd did not connect within 300 s")

    def check(self) -> None:
        """Raise what stopped the crowd, if anything did."""
        if self.error is not None:
            raise RuntimeError(f"the crowd failed: {self.error!r}") from self.error

    def close(self) -> None:
        """Stop and disconnect the crowd."""
        self.stop.set()
        if self.thread is not None:
            self.thread.join(60)

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as error:
            self.error = error
        finally:
            self.ready.set()

    async def _connect(self, gate: asyncio.Semaphore) -> asyncpg.Connection:
        async with gate:
            return await asyncpg.connect(
                self.target.dsn(self.password),
                server_settings={"application_name": CROWD_APP},
                timeout=60,
            )

    async def _run(self) -> None:
        rng = random.Random(SEED)
        gate = asyncio.Semaphore(10)
        conns = await asyncio.gather(*(self._connect(gate) for _ in range(self.count)))
        holder, others = conns[0], conns[1:]
        in_transaction = [False] * len(others)
        try:
            for index, conn in enumerate(others):
                if index % 3 == 0:
                    await conn.execute("BEGIN")
                    in_transaction[index] = True
                await conn.execute(query_text(rng))
            self.ready.set()
            next_incident = time.monotonic() + min(self.incident_every / 2, 30.0)
            release: float | None = None
            while not self.stop.is_set():
                now = time.monotonic()
                if release is None and now >= next_incident:
                    await holder.execute("BEGIN")
                    await holder.execute("SELECT * FROM pgbench_branches WHERE bid = 1 FOR UPDATE")
                    release, next_incident = now + INCIDENT_HOLD, now + self.incident_every
                    self.incidents += 1
                elif release is not None and now >= release:
                    await holder.execute("COMMIT")
                    release = None
                for index in rng.sample(range(len(others)), CHURN):
                    conn = others[index]
                    if in_transaction[index] and rng.random() < 0.5:
                        await conn.execute("COMMIT")
                        in_transaction[index] = False
                    elif not in_transaction[index] and rng.random() < 0.25:
                        await conn.execute("BEGIN")
                        in_transaction[index] = True
                    await conn.execute(query_text(rng))
                    self.statements += 1
                await asyncio.sleep(1.0)
        finally:
            await asyncio.gather(*(c.close(timeout=10) for c in conns), return_exceptions=True)


# -- 1. the real recording --------------------------------------------------------------------


class TimedWriter(Writer):
    """The real `Writer`, its `add` timed (CPU of this thread, and wall) and its samples
    kept for the rest of the benchmark."""

    def __init__(
        self,
        path: Path,
        descriptor: int,
        conn: sqlite3.Connection,
        meta: Meta,
        *,
        block_size: int,
        max_bytes: int | None,
    ) -> None:
        super().__init__(path, descriptor, conn, meta, block_size=block_size, max_bytes=max_bytes)
        self.ticks: list[tuple[float, float]] = []
        """(thread CPU, perf_counter) as each `add` began: the recording loop's ticks."""
        self.add_cpu: list[float] = []
        self.add_wall: list[float] = []
        self.samples: list[Sample] = []

    def add(self, sample: Sample) -> None:
        """`Writer.add`, timed."""
        cpu, at = time.thread_time(), time.perf_counter()
        super().add(sample)
        self.add_cpu.append(time.thread_time() - cpu)
        self.add_wall.append(time.perf_counter() - at)
        self.ticks.append((cpu, at))
        self.samples.append(sample)


@dataclass
class Recorded:
    """What the real recording measured."""

    samples: list[Sample]
    seconds: float
    cpu: float
    """The main thread's CPU seconds over the whole `record` call."""
    wall: float
    tick_cpu: list[float]
    """% of one core, from one `add` to the next: the whole loop's cost per sample."""
    tick_wall: list[float]
    add_cpu: list[float]
    add_wall: list[float]
    statements: list[Statement]
    calls: float
    file_bytes: int
    blocks: dict[str, float]
    """Bytes per sample in the `blocks` table: data, moments, times."""
    keyframe: int
    """Bytes of a keyframe before compression (the mean of the blocks' first frames)."""
    delta: float
    """Mean bytes of a delta before compression."""
    server: str
    tps: float | None
    incidents: int
    crowd_statements: int


async def record_real(
    target: Target,
    password: str,
    sampler_password: str,
    load: Load,
    crowd: Crowd,
    seconds: float,
    path: Path,
) -> Recorded:
    """`pgconsole.record.record` for `seconds` into `path`, as `pgconsole record` runs it."""
    admin = await admin_connect(target, password)
    conn = await sampler_connect(target, sampler_password)
    try:
        await load.ready(admin)
        server = str(await admin.fetchval("SHOW server_version"))
        for _ in range(WARM_UP):
            await stats.sample(conn)
        await reset_statements(admin)
        meta = Meta(
            host=target.host,
            port=target.port,
            database=target.database,
            server_version=server,
            interval=INTERVAL,
            redacted=False,
        )
        writer = TimedWriter.open(path, meta)
        assert isinstance(writer, TimedWriter)
        loop = asyncio.get_running_loop()
        progress(f"recording {seconds / 60:g} min at {INTERVAL:g} s")
        with writer:
            begin = time.monotonic()
            cpu, wall = time.thread_time(), time.perf_counter()
            await record(conn, writer, interval=INTERVAL, deadline=loop.time() + seconds)
            cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
            tps = load.tps(begin, time.monotonic())
        statements = await read_statements(admin)
        load.check()
        crowd.check()
    finally:
        await conn.close(timeout=10)
        await admin.close(timeout=10)
    ticks = writer.ticks
    tick_cpu = [
        100 * (c1 - c0) / (w1 - w0) for (c0, w0), (c1, w1) in itertools.pairwise(ticks) if w1 > w0
    ]
    tick_wall = [w1 - w0 for (_, w0), (_, w1) in itertools.pairwise(ticks)]
    count = len(writer.samples)
    keyframe, delta = frame_sizes(writer.samples)
    return Recorded(
        samples=writer.samples,
        seconds=seconds,
        cpu=cpu,
        wall=wall,
        tick_cpu=tick_cpu,
        tick_wall=tick_wall,
        add_cpu=writer.add_cpu,
        add_wall=writer.add_wall,
        statements=statements,
        calls=sum(s.calls for s in statements) / count if count else 0.0,
        file_bytes=on_disk(path),
        blocks=block_bytes(path, count),
        keyframe=keyframe,
        delta=delta,
        server=server,
        tps=tps,
        incidents=crowd.incidents,
        crowd_statements=crowd.statements,
    )


def on_disk(path: Path) -> int:
    """The recording's bytes: the file and whatever `-wal` is left beside it."""
    return sum(
        p.stat().st_size
        for p in (path, path.with_name(path.name + "-wal"))
        if p.exists()  # the WAL is truncated (gone) after a clean close
    )


def block_bytes(path: Path, count: int) -> dict[str, float]:
    """Bytes per sample of each column of `blocks` that grows with the samples."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        row = db.execute(
            "SELECT sum(length(data)), sum(length(moments)), sum(length(times)) FROM blocks"
        ).fetchone()
    names = ("data (xz'd frames)", "moments", "times")
    return {name: (value or 0) / max(1, count) for name, value in zip(names, row, strict=True)}


def frame_sizes(samples: Sequence[Sample]) -> tuple[int, float]:
    """A keyframe's and a delta's size before compression, as the writer encodes them (a keyframe
    every `BLOCK_SIZE` samples)."""
    encoder = Encoder()
    keyframes: list[int] = []
    deltas: list[int] = []
    for index, sample in enumerate(samples):
        if index % BLOCK_SIZE == 0:
            encoder.reset()
        frame = encoder.encode(sample)
        (keyframes if frame.keyframe else deltas).append(len(frame.data))
    return round(statistics.mean(keyframes)) if keyframes else 0, (
        statistics.mean(deltas) if deltas else 0.0
    )


# -- 2. a synthetic day -----------------------------------------------------------------------


@dataclass
class Variant:
    """A crowd session's values while it is varied."""

    query: str
    state: str | None
    since: float
    """When the variant's query (and state) started: its ages count from here."""
    until: int
    """The synthetic sample it ends at."""


def synthetic(real: Sequence[Sample], count: int, seed: int = SEED) -> Iterator[Sample]:
    """`count` samples at the real ones' pace: the real ones replayed in order, round after
    round, their instants and counters shifted by a whole recording each round; the crowd's
    sessions varied (`VARY`, `MOVE`), the same way in every run."""
    rng = random.Random(seed)
    first, last = real[0].server, real[-1].server
    span = last.taken_at - first.taken_at + INTERVAL
    growth = {name: getattr(last, name) - getattr(first, name) for name in COUNTERS}
    variants: dict[int, Variant] = {}
    moved: dict[int, int] = {}
    next_pid = 5_000_000  # above Linux's pid_max: never a real pid of the recording
    for index in range(count):
        round_, source = divmod(index, len(real))
        sample = real[source]
        at = sample.server.taken_at + round_ * span
        backends: list[Backend] = []
        for backend in sample.backends:
            if backend.application == CROWD_APP and not backend.blocked_by:
                pid = backend.pid
                variant = variants.get(pid)
                if variant is not None and variant.until <= index:
                    del variants[pid]
                    variant = None
                if variant is None and rng.random() < VARY:
                    state = rng.choice(("idle", "active", backend.state))
                    variant = variants[pid] = Variant(
                        query_text(rng), state, at, index + rng.randint(30, 300)
                    )
                if backend.state == "idle" and rng.random() < MOVE:
                    moved[pid] = next_pid
                    next_pid += 1
                if variant is not None:
                    backend = replace(
                        backend,
                        query=variant.query,
                        state=variant.state,
                        query_age=at - variant.since,
                        state_age=at - variant.since,
                    )
                if pid in moved:
                    backend = replace(backend, pid=moved[pid])
            backends.append(backend)
        counters = {name: getattr(sample.server, name) + round_ * growth[name] for name in COUNTERS}
        server = replace(sample.server, taken_at=at, **counters)
        yield Sample(tuple(sorted(backends, key=lambda b: b.pid)), server, sample.queries)


def json_line(sample: Sample) -> bytes:
    """The sample as one JSON line: every field by name, as a JSON-lines recorder keeps it."""
    doc = {
        "server": dataclasses.asdict(sample.server),
        "backends": [vars(b) for b in sample.backends],
        "queries": sample.queries,
    }
    return json.dumps(doc, separators=(",", ":")).encode() + b"\n"


class JsonLines:
    """The size of samples written as JSON lines, plain and gzip'd (level 6, as `gzip`)."""

    def __init__(self) -> None:
        self.samples = 0
        self.plain = 0
        self.gzipped = 0
        self._gzip = zlib.compressobj(6, zlib.DEFLATED, 31)

    def add(self, sample: Sample) -> None:
        """One more line."""
        line = json_line(sample)
        self.samples += 1
        self.plain += len(line)
        self.gzipped += len(self._gzip.compress(line))

    def close(self) -> None:
        """The gzip stream's end."""
        self.gzipped += len(self._gzip.flush())


@dataclass
class Day:
    """The synthetic recording as written."""

    count: int
    hours: float
    file_bytes: int
    add_wall: list[float]
    wall: float
    """Seconds of the whole pass (making the samples and the JSON lines included)."""
    json: JsonLines
    sessions: list[int]


def write_day(real: Sequence[Sample], hours: float, path: Path, meta: Meta) -> Day:
    """`hours` of synthetic samples into `path` with the real `Writer`; and as JSON lines."""
    count = round(hours * 3600 / INTERVAL)
    lines = JsonLines()
    add_wall: list[float] = []
    sessions: list[int] = []
    started = time.perf_counter()
    with Writer.open(path, meta) as writer:
        for index, sample in enumerate(synthetic(real, count)):
            at = time.perf_counter()
            writer.add(sample)
            add_wall.append(time.perf_counter() - at)
            lines.add(sample)
            sessions.append(len(sample.backends))
            if index % 7200 == 0:
                progress(f"synthetic: {index:,} of {count:,} samples")
    lines.close()
    return Day(
        count, hours, on_disk(path), add_wall, time.perf_counter() - started, lines, sessions
    )


# -- 3. seeking -------------------------------------------------------------------------------


@dataclass
class Seeks:
    """Reading the synthetic file back."""

    open: float
    moments: float
    at: list[float]
    steps: list[float]
    boundary_steps: list[float]
    """The steps whose sample starts a block (each decompresses the block)."""
    inside_steps: list[float]


def seek(path: Path) -> Seeks:
    """Open, timeline, `at` for random instants, steps to the next sample."""
    rng = random.Random(SEED)
    started = time.perf_counter()
    with Recording.open(path) as rec:
        opened = time.perf_counter()
        rec.moments()
        moments = time.perf_counter() - opened
        first, last = rec.first, rec.last
        assert first is not None and last is not None
        at: list[float] = []
        for _ in range(SEEKS):
            instant = rng.uniform(first, last)
            before = time.perf_counter()
            rec.at(instant)
            at.append(time.perf_counter() - before)
        steps: list[float] = []
        boundary: list[float] = []
        inside: list[float] = []
        for _ in range(STEP_RUNS):
            index = rng.randrange(0, len(rec) - STEP_RUN - 1)
            rec[index]
            for step in range(index + 1, index + STEP_RUN + 1):
                before = time.perf_counter()
                rec[step]
                took = time.perf_counter() - before
                steps.append(took)
                # One writer, never reopened: every block holds BLOCK_SIZE samples.
                (boundary if step % BLOCK_SIZE == 0 else inside).append(took)
    return Seeks(opened - started, moments, at, steps, boundary, inside)


# -- 4. the rewind buffer ---------------------------------------------------------------------


@dataclass
class Rewind:
    """The rewind buffer fed `REWIND_SAMPLES` samples."""

    add: list[float]
    memory: list[int]
    """`memory()` after each add."""
    span: float
    kept: int
    traced: int
    """Bytes tracemalloc sees the buffer hold at the end (the samples fed to it aside)."""
    traced_peak: int
    traced_rewinding: int
    """The same once `sample(i)` has decoded a block (kept for the next step)."""
    sample: list[float]
    """Seconds per `sample(i)` at random indexes (rewind's step back)."""


def rewind(samples: Sequence[Sample]) -> Rewind:
    """Time the adds; then, on another buffer, measure what it holds with tracemalloc."""
    buffer = RewindBuffer()
    adds: list[float] = []
    memory: list[int] = []
    for sample in samples:
        before = time.perf_counter()
        buffer.add(sample)
        adds.append(time.perf_counter() - before)
        memory.append(buffer.memory())
    rng = random.Random(SEED)
    reads: list[float] = []
    for _ in range(100):
        index = rng.randrange(len(buffer))
        before = time.perf_counter()
        buffer.sample(index)
        reads.append(time.perf_counter() - before)
    span, kept = buffer.span(), len(buffer)
    del buffer
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        traced_buffer = RewindBuffer()
        for sample in samples:
            traced_buffer.add(sample)
        gc.collect()
        now, peak = tracemalloc.get_traced_memory()
        traced_buffer.sample(len(traced_buffer) // 2)  # a step back: a block decoded, kept
        gc.collect()
        rewinding = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del traced_buffer
    return Rewind(adds, memory, span, kept, now - base, peak - base, rewinding - base, reads)


# -- the report -------------------------------------------------------------------------------


def show(value: float | None, unit: Unit) -> str:
    """`fmt`, and sizes in kB/MB/GB."""
    if unit != "bytes" or value is None:
        return fmt(value, "time" if unit == "bytes" else unit)
    for suffix, factor in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if value >= factor:
            return f"{value / factor:.1f} {suffix}"
    return f"{value:.0f} bytes"


def spread(values: Sequence[float], unit: Unit) -> str:
    """`min / median / p90 / max (n)`."""
    if not values:
        return "-"
    points = (min(values), statistics.median(values), report.p90(values), max(values))
    return " / ".join(show(v, unit) for v in points) + f" ({len(values):,})"


def three(values: Sequence[float]) -> str:
    """`median / p90 / max` of times."""
    if not values:
        return "-"
    points = (statistics.median(values), report.p90(values), max(values))
    return " / ".join(show(v, "time") for v in points)


@dataclass
class Results:
    """Everything measured."""

    real: Recorded
    day: Day
    seeks: Seeks
    rewind: Rewind
    real_json: JsonLines
    per_day: float
    """Samples in a day at `INTERVAL`; the day's file scaled to it when `--hours` is not 24."""

    @property
    def day_bytes(self) -> float:
        """The synthetic file's size, for 24 hours."""
        return self.day.file_bytes * self.per_day / self.day.count


def verdict(ok: bool | None) -> str:
    """`pass`, `**FAIL**` or `-`."""
    return "-" if ok is None else "pass" if ok else "**FAIL**"


def rows(r: Results) -> list[tuple[str, str, str, str]]:
    """(what, target, measured, result) of the main table."""
    real, day, seeks, rw = r.real, r.day, r.seeks, r.rewind
    count = len(real.samples)
    loop_cpu = 100 * real.cpu / real.wall if real.wall else None
    add_cpu = 100 * sum(real.add_cpu) / real.wall if real.wall else None
    scale = r.per_day / day.count
    scaled = "" if scale == 1 else f" (from {day.hours:g} h: {show(day.file_bytes, 'bytes')})"
    sessions = statistics.median(day.sessions)
    real_sessions = statistics.median(len(s.backends) for s in real.samples)
    per_sample = real.file_bytes / max(1, count)
    in_blocks = sum(real.blocks.values())
    rewind_traced = rw.traced
    return [
        (f"24 h at {INTERVAL:g} s, {sessions:.0f} sessions a sample (synthetic from the real "
         "recording): file on disk", "≤ 100 MB", show(r.day_bytes, "bytes") + scaled,
         verdict(r.day_bytes <= SIZE_LIMIT)),
        ("recording at 1 s: CPU % of one core, the whole loop (`record`: the sample statement, "
         "its rows decoded, encoding, writing)", "≤ 1 %", fmt(loop_cpu, "percent"),
         verdict(loop_cpu is not None and loop_cpu <= CPU_LIMIT)),
        ("same, encoding + writing alone (`Writer.add`, committed each sample)", "-",
         fmt(add_cpu, "percent"), "-"),
        ("statements per sample (pg_stat_statements, the recorder's role)",
         "= one activity refresh (1)", fmt(real.calls, "count"),
         verdict(round(real.calls, 2) <= 1.0)),
        (f"seek: `Recording.at(t)` at {SEEKS} random instants of the {day.hours:g} h file "
         "(median / p90 / max)", "≤ 100 ms (max)", three(seeks.at),
         verdict(max(seeks.at) <= SEEK_LIMIT)),
        (f"step to the next sample: `rec[i + 1]` after `rec[i]`, {len(seeks.steps):,} steps, "
         f"{len(seeks.boundary_steps)} of them onto a block's first sample (median / p90 / max)",
         "≤ 16 ms (max)", three(seeks.steps), verdict(max(seeks.steps) <= STEP_LIMIT)),
        ("same, only the steps onto a block's first sample (median / p90 / max)", "≤ 16 ms",
         three(seeks.boundary_steps), verdict(max(seeks.boundary_steps) <= STEP_LIMIT)),
        (f"open the {day.hours:g} h file + its timeline (`Recording.open` + `moments()`)", "-",
         f"{show(seeks.open + seeks.moments, 'time')} ({show(seeks.open, 'time')} + "
         f"{show(seeks.moments, 'time')})", "-"),
        (f"rewind buffer, {MINUTES:g} min at {INTERVAL:g} s ({rw.kept} samples kept, "
         f"{rw.span / 60:.1f} min): `memory()`, the most after any add", "≤ 20 MB",
         show(max(rw.memory), "bytes"), verdict(max(rw.memory) <= MEMORY_LIMIT)),
        ("same, what tracemalloc sees the buffer hold (peak while adding)", "≤ 20 MB",
         f"{show(rewind_traced, 'bytes')} (peak {show(rw.traced_peak, 'bytes')})",
         verdict(rewind_traced <= MEMORY_LIMIT)),
        ("same, rewinding: once `sample(i)` has read into a block, which the buffer keeps "
         "(its text counted in `memory()`)", "≤ 20 MB", show(rw.traced_rewinding, "bytes"),
         verdict(rw.traced_rewinding <= MEMORY_LIMIT)),
        ("rewind `add` (median / p90 / max)", "-", three(rw.add), "-"),
        ("rewind `sample(i)`, a step back at a random index (median / p90 / max)", "-",
         three(rw.sample), "-"),
        (f"real recording ({count} samples, {real_sessions:.0f} sessions a sample): bytes per "
         "sample in its blocks (data, moments, times)", "-",
         f"{show(in_blocks, 'bytes')} ({show(in_blocks * r.per_day, 'bytes')} a day)", "-"),
        ("same, the file on disk (closed; SQLite's pages, the pending table's freed pages)", "-",
         f"{show(real.file_bytes, 'bytes')} ({show(per_sample, 'bytes')} a sample)", "-"),
        ("JSON lines of the same 24 h (one object per sample), plain", "-",
         f"{show(day.json.plain * scale, 'bytes')} "
         f"({day.json.plain / max(1, day.file_bytes):.0f}x the recording)", "-"),
        ("same, gzip'd (level 6)", "-",
         f"{show(day.json.gzipped * scale, 'bytes')} "
         f"({day.json.gzipped / max(1, day.file_bytes):.1f}x the recording)", "-"),
    ]  # fmt: skip


def main_table(r: Results) -> list[str]:
    """Target, measured, result."""
    out = ["| what | target | measured | result |", "|---|---|---:|---|"]
    out += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows(r)]
    return out


def spread_table(r: Results) -> list[str]:
    """Every series."""
    real, day, seeks, rw = r.real, r.day, r.seeks, r.rewind
    series: list[tuple[str, Sequence[float], Unit]] = [
        ("real: CPU % of one core per tick (`add` to `add`: sample, decode, encode, write)",
         real.tick_cpu, "percent"),
        ("real: seconds between ticks", real.tick_wall, "time"),
        ("real: `Writer.add` CPU time", real.add_cpu, "time"),
        ("real: `Writer.add` wall time (a commit each: fsync)", real.add_wall, "time"),
        ("real: sessions per sample", [len(s.backends) for s in real.samples], "count"),
        ("real: sessions blocked per sample",
         [sum(1 for b in s.backends if b.blocked_by) for s in real.samples], "count"),
        ("real: JSON line per sample", [len(json_line(s)) for s in real.samples], "bytes"),
        ("synthetic: `Writer.add` wall time", day.add_wall, "time"),
        ("synthetic: sessions per sample", day.sessions, "count"),
        ("seek: `Recording.at(t)`", seeks.at, "time"),
        ("step: `rec[i + 1]`, every step", seeks.steps, "time"),
        ("step: onto a block's first sample", seeks.boundary_steps, "time"),
        ("step: inside a block", seeks.inside_steps, "time"),
        ("rewind: `add`", rw.add, "time"),
        ("rewind: `memory()` after each add", rw.memory, "bytes"),
        ("rewind: `sample(i)`", rw.sample, "time"),
    ]  # fmt: skip
    out = ["| series | min / median / p90 / max (n) |", "|---|---|"]
    out += [f"| {name} | {spread(values, unit)} |" for name, values, unit in series]
    return out


def sizes_table(r: Results) -> list[str]:
    """Where the bytes go, per sample."""
    real, day, lines = r.real, r.day, r.real_json
    count = max(1, len(real.samples))
    cells: list[tuple[str, float]] = [
        ("real recording, the file on disk (closed, WAL checkpointed)", real.file_bytes / count),
        *((f"real recording, `blocks.{name}`", value) for name, value in real.blocks.items()),
        ("a keyframe before compression (mean of the blocks' first frames)", real.keyframe),
        ("a delta before compression (mean)", real.delta),
        (f"synthetic {day.hours:g} h, the file on disk", day.file_bytes / day.count),
        ("real recording as JSON lines, plain", lines.plain / max(1, lines.samples)),
        ("real recording as JSON lines, gzip'd", lines.gzipped / max(1, lines.samples)),
        ("synthetic as JSON lines, plain", day.json.plain / day.count),
        ("synthetic as JSON lines, gzip'd", day.json.gzipped / day.count),
    ]
    return ["| per sample | bytes |", "|---|---:|", *(f"| {a} | {b:,.0f} |" for a, b in cells)]


def notes(r: Results, args: argparse.Namespace) -> list[str]:
    """What the tables do not say."""
    real = r.real
    sent = "; ".join(f"`{s.label}` x {s.calls}" for s in real.statements) or "nothing"
    out = [
        "The machine is shared and noisy (2 cores, other work of other sessions on them; "
        "pgbench's clients and the server take most of them during the recording): read "
        "each spread before its median, and the load averages above. The "
        "synthetic day, the seeks and the rewind buffer ran after pgbench had stopped.",
        "The recorder is pgconsole's own `record` coroutine (what `pgconsole record` runs), "
        f"with the real `Writer` (blocks of {BLOCK_SIZE}, WAL, `synchronous = FULL`, a "
        f"commit per sample) and `stats.sample`, on a connection of `{SAMPLER_ROLE}` over "
        "verify-full TLS on 127.0.0.1, in this process's main thread. Its CPU % is that "
        "thread's CPU time (`time.thread_time`) over wall time for the whole `record` call; "
        "the crowd's connections run in a thread of their own with their own event loop, "
        "so their CPU time is not counted (Python's garbage collector may run in either "
        "thread). The per-tick series is the same clock between two `Writer.add` calls.",
        f"Statements: the role's pg_stat_statements entries were reset after {WARM_UP} "
        f"warm-up samples; during the recording it sent {sent}.",
        f"The synthetic day replays the {len(real.samples)} real samples in order, round "
        "after round, their instants and cumulative counters shifted by the length of the "
        f"recording each round. Every sample, each crowd session (idle or idle in "
        f"transaction, blocking no one) starts a variant with a chance of 1/{round(1 / VARY)}: "
        "a new query text, maybe a new state, its query and state ages counted from then, "
        f"for 30 to 300 samples; an idle one leaves with a chance of 1/{round(1 / MOVE)} and "
        "another pid takes its place (a session gone and one new in the frame). pgbench's "
        "sessions change by themselves. Seeded: every run makes the same day.",
        "Seeks read the file just written (the OS cache is warm, as it is for a replay of a "
        "file opened a second time); `at` and the steps go through the reader's cache of the "
        f"last two blocks decoded, as replay does. Steps are {STEP_RUNS} runs of {STEP_RUN} "
        "from random samples, the first sample of each run read untimed.",
        "The rewind buffer is fed the synthetic day's first samples (the real ones with the "
        f"crowd varied), {REWIND_SAMPLES} of them at 1 s, so it drops its oldest blocks "
        f"after {MINUTES:g} minutes; tracemalloc measures a second buffer fed the same "
        "samples (the samples themselves allocated before tracing started), after a "
        f"collection. `memory()` is the buffer's own estimate; its budget is "
        f"{BUDGET / 2**20:g} MiB ({BUDGET / 1e6:.1f} MB).",
        "JSON lines: each sample as one JSON object (`server`, `backends` with every field "
        "by name, `queries`) and a newline, as a recorder that appends the whole refresh "
        "every refresh keeps it (pg_glimpse, per the issue); gzip'd as one stream at level 6 "
        "(what `gzip` does by default).",
    ]
    if args.hours != 24:
        out.append(
            f"The synthetic recording holds {args.hours:g} h: the 24 h figures are its size "
            f"scaled by {r.per_day / r.day.count:g}."
        )
    return out


def markdown(
    r: Results, facts: dict[str, str], load: dict[str, str], args: argparse.Namespace
) -> str:
    """The whole report."""
    doc = ["# Recording benchmark: the flight recorder against issue 19's targets", ""]
    doc += [f"- {k}: {v}" for k, v in facts.items()]
    doc += [
        "",
        *main_table(r),
        "",
        "## Spread: min / median / p90 / max (count) of every series",
        "",
    ]
    doc += [*spread_table(r), "", "## Bytes per sample", "", *sizes_table(r), "", "## Load", ""]
    doc += [f"- {k}: {v}" for k, v in load.items()]
    doc += ["", "## Notes", "", *(f"- {n}" for n in notes(r, args)), ""]
    return "\n".join(doc)  # fmt: skip


# -- the command ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the table; write the report."""
    args = parse(argv)
    if not Path(PG_STAT_STATEMENTS).exists():
        print(f"pg_stat_statements is missing ({PG_STAT_STATEMENTS})", file=sys.stderr)
        return 2
    busy = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    seconds = args.minutes * 60
    # The crowd, pgbench, the sampler, the admin and a few to spare.
    settings = {
        **cluster_settings(args.clients),
        "max_connections": str(args.clients + args.idle + 40),
    }
    duration = round(seconds) + 180
    incident_every = INCIDENT_EVERY if seconds >= 4 * INCIDENT_EVERY else seconds / 2
    with contextlib.ExitStack() as stack:
        stop_on_signals(stack)
        stack.enter_context(hermetic_home())
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pgconsole-rec-")))
        cluster = stack.enter_context(ThrowawayCluster(settings=settings))
        password = cluster.password
        asyncio.run(create_database(cluster))
        target = Target.of(cluster)
        sampler_password = asyncio.run(prepare(target, password))
        progress(f"pgbench -i -s {SCALE} -q")
        loaded, detail = load_pgbench(target, password, SCALE)
        progress(f"loaded in {loaded:.1f} s; {args.idle} crowd connections")
        crowd = Crowd(target, password, args.idle, incident_every)
        stack.callback(crowd.close)
        crowd.start()
        progress(f"pgbench -c {args.clients} -j 2 -T {duration} -n")
        load = Load(target, password, args.clients, duration, scratch / "pgbench.log")
        stack.callback(load.stop)
        real = asyncio.run(
            record_real(
                target, password, sampler_password, load, crowd, seconds, scratch / "real.rec"
            )
        )
        load.stop()
        crowd.close()
        progress(f"{len(real.samples)} samples recorded; the synthetic {args.hours:g} h")
        meta = Meta(target.host, target.port, target.database, real.server, INTERVAL, False)
        day = write_day(real.samples, args.hours, scratch / "day.rec", meta)
        progress(f"{day.count:,} samples, {show(day.file_bytes, 'bytes')}; seeking")
        seeks = seek(scratch / "day.rec")
        progress("the rewind buffer")
        fed = list(itertools.islice(synthetic(real.samples, REWIND_SAMPLES), REWIND_SAMPLES))
        rewound = rewind(fed)
        del fed
        real_json = JsonLines()
        for sample in real.samples:
            real_json.add(sample)
        real_json.close()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    result = Results(real, day, seeks, rewound, real_json, 24 * 3600 / INTERVAL)
    command = (
        f"python -m benchmarks.recording --minutes {args.minutes:g} --clients {args.clients} "
        f"--idle {args.idle} --hours {args.hours:g}"
    )
    facts = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine() + " (shared, noisy)",
        "load average before the run (1 / 5 / 15 min)": busy,
        "load average at the end": " / ".join(f"{v:.2f}" for v in os.getloadavg()),
        "PostgreSQL": real.server,
        "software": f"Python {platform.python_version()}, asyncpg {version('asyncpg')}, "
        f"SQLite {sqlite3.sqlite_version}, pgconsole {commit()}",
        "command": f"`{command}`" + (" (`--quick`)" if args.quick else ""),
    }
    load_facts = {
        "pgbench -i -s": f"{SCALE} -q: {loaded:.1f} s ({detail})",
        "pgbench": f"-c {args.clients} -j 2 -T {duration} -n -P 1 (stopped after the "
        f"recording), as the benchmark's superuser; {fmt(real.tps, 'count')} tps (mean, "
        "pgbench -P 1) during the recording",
        "the crowd": f"{args.idle} connections (`{CROWD_APP}`, verify-full TLS), a third "
        f"idle in transaction; {CHURN} of them ran a new statement every second "
        f"({real.crowd_statements} in all), the rest idle; {real.incidents} incidents: one "
        f"held `pgbench_branches` row 1 `FOR UPDATE` for {INCIDENT_HOLD:g} s every "
        f"{incident_every:g} s, pgbench's clients queueing behind it",
        "recording": f"{real.seconds / 60:g} min at {INTERVAL:g} s: {len(real.samples)} "
        f"samples, {show(real.file_bytes, 'bytes')} on disk",
        "samplers' role": f"`{SAMPLER_ROLE}` (superuser, used by nothing else)",
        "server settings": ", ".join(f"{k}={v}" for k, v in settings.items()),
    }
    print("\n".join(main_table(result)))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(markdown(result, facts, load_facts, args))
    progress(f"done; the full report is in {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
