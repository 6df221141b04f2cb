"""`pgconsole snapshot`: an incident snapshot of a server, written as JSON (for tools) and
Markdown (for a ticket), without the UI.

It connects as `pgconsole` and `pgconsole doctor` do (the same settings, password sources,
timeouts and TLS), watches the server for the window (`take_snapshot`) on one connection,
and writes both files readable by their owner only.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TextIO

from pgconsole.db.diagnostics.snapshot import (
    Bundle,
    BundleExists,
    snapshot_name,
    take_snapshot,
    write_bundle,
)
from pgconsole.headless import FAILED, Reporter, open_single
from pgconsole.target import Target

PREFIX = "pgconsole snapshot: "


def run_snapshot(
    target: Target,
    *,
    window: float,
    out: Path | None,
    stdout: TextIO = sys.stdout,
    stderr: TextIO = sys.stderr,
    interactive: bool | None = None,
) -> int:
    """Take the snapshot and write it; print the two paths.

    Args:
        target: Where to connect; `target.settings.redact_queries` says whether to redact.
        window: Seconds to watch the server for.
        out: The files' common path: `out.json` and `out.md` (a `.json` it ends with is
            dropped); None: the default name in the current directory.
        interactive: Ask for a password the server wants and no source had (default: when
            stdin is a terminal).

    Returns:
        0 when both files were written; 1 with a reason on `stderr` otherwise.
    """
    if interactive is None:
        interactive = sys.stdin.isatty()
    reporter = Reporter(PREFIX, stderr)
    if out is not None:
        out = _base(out)
        for suffix in (".json", ".md"):
            existing = out.with_name(out.name + suffix)
            if existing.exists():  # before watching the server for nothing
                return reporter.fail(f"{existing} exists already: a snapshot never overwrites")
    try:
        bundle = asyncio.run(_take(target, window, reporter, interactive))
    except KeyboardInterrupt:
        return reporter.fail("interrupted: nothing written")
    if bundle is None:
        return 1
    return _write(bundle, out, reporter, stdout)


def _base(out: Path) -> Path:
    """`--out`'s path without the `.json` it may end with: the files' common stem."""
    return out.with_name(out.name.removesuffix(".json") or out.name)


def _write(bundle: Bundle, out: Path | None, reporter: Reporter, stdout: TextIO) -> int:
    """Both files at `out` (the default name here when None); their paths printed."""
    try:
        paths = write_bundle(bundle, _base(out) if out else Path.cwd() / snapshot_name(bundle))
    except BundleExists as error:
        return reporter.fail(str(error))
    except OSError as error:
        return reporter.fail(f"cannot write the snapshot: {error}")
    for path in paths:
        print(path, file=stdout)
    return 0


def run_snapshot_from(
    path: Path,
    *,
    at: str | None,
    window: float,
    out: Path | None,
    redact: bool = False,
    stdout: TextIO = sys.stdout,
    stderr: TextIO = sys.stderr,
) -> int:
    """A snapshot of a recording at `at` (the last sample when None), its waits over the
    `window` seconds before; print the two paths. 1 with one line when the file cannot be
    read, `at` is not a time, or the files cannot be written."""
    from pgconsole.db.activity.moments import index_at
    from pgconsole.db.diagnostics.snapshot import from_samples
    from pgconsole.db.recording.playhead import outside, parse_moment
    from pgconsole.db.recording.store import Recording, RecordingError

    reporter = Reporter(PREFIX, stderr)
    fail = reporter.fail

    try:
        recording = Recording.open(path)
    except RecordingError as error:
        return fail(str(error))
    with recording:
        moments = recording.moments()
        if not moments:
            return fail(f"{path} holds no sample")
        index = len(moments) - 1
        if at is not None:
            try:
                when = parse_moment(at, moments[0].taken_at, moments[-1].taken_at)
            except ValueError as error:
                return fail(f"--at: {error}")
            why = outside(when, moments[0].taken_at, moments[-1].taken_at)
            if why is not None:
                return fail(f"--at: {why}")
            index = index_at(moments, when)
        start = index_at(moments, moments[index].taken_at - window)
        meta = recording.meta
        bundle = from_samples(
            [recording[i] for i in range(start, index + 1)],
            source=f"recording {path.name}",
            host=meta.host,
            port=meta.port,
            database=meta.database,
            version=meta.server_version,
            redact=redact,
        )
    return _write(bundle, out, reporter, stdout)


async def _take(
    target: Target, window: float, reporter: Reporter, interactive: bool
) -> Bundle | None:
    database = await open_single(target, reporter, interactive)
    if database is None:
        return None
    params = target.params
    try:
        async with database.pool.acquire() as conn:
            return await take_snapshot(
                conn,
                window=window,
                redact=target.settings.redact_queries,
                endpoint=(params.host, params.port),
            )
    except FAILED as error:
        reporter.failed("the snapshot failed", error)
        return None
    finally:
        await database.close()
