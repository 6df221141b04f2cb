"""`pgconsole record`: the activity screen's samples, every interval, into a recording file,
without the UI (safe under `nohup` or systemd).

It connects as `pgconsole snapshot` does, holds one connection for the whole run and sends
nothing on it per sample but the activity screen's own reading (`stats.sample`). Each
sample is committed to the file as it is taken (`pgconsole.db.recording.Writer`). SIGTERM and
SIGINT end the run after the sample being taken, with the file valid; so do `--for` and
`--max-size`. A lost connection is retried every interval, the recording going on.

An existing `--out` is appended to when it is a recording of this format of the same server,
database, interval and redaction; any other file is refused, never overwritten.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import sys
from pathlib import Path
from typing import TextIO

from pgconsole.db.activity import stats
from pgconsole.db.connection.errors import DB_ERRORS
from pgconsole.db.connection.params import duration_seconds
from pgconsole.db.connection.pool import Conn, Database
from pgconsole.db.recording import Meta, Recording, RecordingError, RecordingFull, Writer
from pgconsole.headless import Reporter, open_single
from pgconsole.target import Target

PREFIX = "pgconsole record: "
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(B|kB|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}  # fmt: skip
"""Decimal units as disks are sold (`200MB` is 200 000 000 bytes), binary ones when asked."""


def parse_duration(text: str) -> float:
    """`1s`, `500ms`, `10m` or `10min`, `24h`, `2d`, or plain seconds, as seconds (> 0).

    PostgreSQL's units (`pgconsole snapshot --window` takes them too), and `m` for minutes.

    Raises:
        ValueError: Not a duration, or not longer than 0.
    """
    seconds = duration_seconds(re.sub(r"(?<=\d)\s*m\s*\Z", "min", text), default_unit="s")
    if seconds <= 0:
        raise ValueError("it must be longer than 0")
    return seconds


def parse_size(text: str) -> int:
    """`200MB`, `1GB`, `64kB`, `512MiB` or plain bytes, as bytes (> 0).

    Raises:
        ValueError: Not a size, or 0.
    """
    match = _SIZE.fullmatch(text)
    if match is None:
        raise ValueError(f"not a size: {text!r}")
    size = int(float(match[1]) * _SIZE_UNITS[(match[2] or "b").lower()])
    if size <= 0:
        raise ValueError("it must be more than 0 bytes")
    return size


def run_record(
    target: Target,
    *,
    out: Path,
    interval: float,
    duration: float | None = None,
    max_bytes: int | None = None,
    stdout: TextIO = sys.stdout,
    stderr: TextIO = sys.stderr,
    interactive: bool | None = None,
) -> int:
    """Record until `duration` has passed, SIGTERM or SIGINT, or the size limit.

    Args:
        target: Where to connect; `target.settings.redact_queries` says whether to redact.
        out: The recording file (created 0600, or appended to).
        interval: Seconds between two samples.
        duration: Seconds to record for; None: until stopped.
        max_bytes: Stop when the file reaches this size.
        interactive: Ask for a password the server wants and no source had (default: when
            stdin is a terminal).

    Returns:
        0 when stopped by `duration` or a signal, with `N samples written to FILE` on
        `stdout`; 1 with one line on `stderr` when it could not start, or stopped at the size
        limit or a full disk (every sample before is in the file).
    """
    if interactive is None:
        interactive = sys.stdin.isatty()
    reporter = Reporter(PREFIX, stderr)
    if out.exists():  # before connecting for nothing
        try:
            Recording.open(out).close()
        except RecordingError as error:
            return reporter.fail(f"{error}; a recording never overwrites another file")
    try:
        return asyncio.run(
            _record(target, out, interval, duration, max_bytes, reporter, stdout, interactive)
        )
    except KeyboardInterrupt:  # while connecting, before the handlers were installed
        return reporter.fail("interrupted before the first sample")


async def _record(
    target: Target,
    out: Path,
    interval: float,
    duration: float | None,
    max_bytes: int | None,
    reporter: Reporter,
    stdout: TextIO,
    interactive: bool,
) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    database = await open_single(target, reporter, interactive)
    if database is None:
        return 1
    try:
        if stop.is_set():  # while connecting
            return reporter.fail("interrupted before the first sample")
        meta = Meta.of(database, interval=interval, redacted=target.settings.redact_queries)
        try:
            writer = Writer.open(out, meta, max_bytes=max_bytes)
        except RecordingError as error:
            return reporter.fail(str(error))
        with writer:
            deadline = None if duration is None else loop.time() + duration
            try:
                await _keep_recording(database, writer, interval, deadline, stop, reporter)
            except RecordingFull as error:
                return reporter.fail(f"{error} after {_samples(writer.added)}")
            except RecordingError as error:
                return reporter.fail(f"{error}; {_samples(writer.added)} written before")
        total = "" if writer.count == writer.added else f" (now {_samples(writer.count)})"
        print(f"{_samples(writer.added)} written to {out}{total}", file=stdout)
        return 0
    finally:
        await database.close()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(number)


async def _keep_recording(
    database: Database,
    writer: Writer,
    interval: float,
    deadline: float | None,
    stop: asyncio.Event,
    reporter: Reporter,
) -> None:
    """`record` on the pool's one connection, again on a new one after it is lost."""
    lost = False
    while not stop.is_set():
        try:
            # Held for the whole run: giving it back to the pool would send asyncpg's reset.
            async with database.pool.acquire() as conn:
                if lost:
                    reporter.report("connected again, recording")
                    lost = False
                await record(conn, writer, interval=interval, deadline=deadline, stop=stop)
                return
        except DB_ERRORS as error:
            if not lost:
                reporter.failed(f"lost the server, retrying every {interval:g} s", error)
                lost = True
        await _pause(stop, interval, deadline)
        if deadline is not None and asyncio.get_running_loop().time() >= deadline:
            return


async def record(
    conn: Conn,
    writer: Writer,
    *,
    interval: float,
    deadline: float | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Add a sample to `writer` every `interval` seconds (`stats.sample`: nothing else is
    sent) until `stop` is set or the loop's clock reaches `deadline`. A slow sample delays
    the next one; none is taken twice to catch up.

    Raises:
        One of `DB_ERRORS`: the connection failed.
        RecordingError: The writer failed (`RecordingFull`: the disk or the size limit).
    """
    loop = asyncio.get_running_loop()
    stop = stop or asyncio.Event()
    due = loop.time()
    while not stop.is_set() and (deadline is None or due < deadline):
        sample = await stats.sample(conn)
        with contextlib.suppress(ValueError):  # the server's clock went back: skipped
            writer.add(sample)
        due = max(due + interval, loop.time())
        await _pause(stop, due - loop.time(), deadline)


async def _pause(stop: asyncio.Event, seconds: float, deadline: float | None) -> None:
    """Until `seconds` have passed (or the deadline), or `stop` is set."""
    if deadline is not None:
        seconds = min(seconds, deadline - asyncio.get_running_loop().time())
    if seconds > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)


def _samples(count: int) -> str:
    return f"{count} sample{'' if count == 1 else 's'}"
