"""`pgconsole snapshot`: an incident snapshot of a server, written as JSON (for tools) and
Markdown (for a ticket), without the UI.

It connects as `pgconsole` and `pgconsole doctor` do (the same settings, password sources,
timeouts and TLS), watches the server for the window (`take_snapshot`) on one connection,
and writes both files readable by their owner only.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from dataclasses import replace
from pathlib import Path
from typing import TextIO

import asyncpg

from pgconsole.db.connection.failures import (
    ConnectFailure,
    classify,
    describe_error,
    password_failure,
)
from pgconsole.db.connection.passwords import PasswordSource
from pgconsole.db.diagnostics.snapshot import (
    Bundle,
    BundleExists,
    snapshot_name,
    take_snapshot,
    write_bundle,
)
from pgconsole.db.opening import Opening, open_pool
from pgconsole.target import Target
from pgconsole.text import visible

PREFIX = "pgconsole snapshot: "
_PROMPTED_AFTER = (PasswordSource.NONE, PasswordSource.KEYRING, PasswordSource.PASSFILE)
"""Password sources whose refusal a person at a terminal may answer by typing one."""
_FAILED = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)
"""What a snapshot may fail with once connected: the server refused a reading, or the
connection broke."""


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
    if out is not None:
        out = out.with_name(out.name.removesuffix(".json") or out.name)
        for suffix in (".json", ".md"):
            existing = out.with_name(out.name + suffix)
            if existing.exists():  # before watching the server for nothing
                return _fail(stderr, f"{existing} exists already: a snapshot never overwrites")
    try:
        bundle = asyncio.run(_take(target, window, stderr, interactive))
    except KeyboardInterrupt:
        return _fail(stderr, "interrupted: nothing written")
    if bundle is None:
        return 1
    try:
        paths = write_bundle(bundle, out or Path.cwd() / snapshot_name(bundle))
    except BundleExists as error:
        return _fail(stderr, str(error))
    except OSError as error:
        return _fail(stderr, f"cannot write the snapshot: {error}")
    for path in paths:
        print(path, file=stdout)
    return 0


async def _take(target: Target, window: float, err: TextIO, interactive: bool) -> Bundle | None:
    settings = replace(target.settings, pool_min_size=1, pool_max_size=1)
    opening = await open_pool(target.params, settings, target.password_query)
    choice = opening.choice
    if _ask_password(opening, interactive) and choice is not None:
        typed = getpass.getpass(f"Password for {target.params.target}: ")
        opening = await open_pool(target.params, settings, target.password_query, typed)
    database = opening.database
    if database is None:
        failure = _connect_failure(opening, target)
        _report(err, failure.summary, [f"{label}: {value}" for label, value in failure.details])
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
    except _FAILED as error:
        first, *details = describe_error(error).splitlines() or [type(error).__name__]
        _report(err, f"the snapshot failed: {first}", details)
        return None
    finally:
        await database.close()


def _ask_password(opening: Opening, interactive: bool) -> bool:
    """The server refused the password of a source a person may stand in for."""
    return (
        interactive
        and isinstance(opening.error, asyncpg.InvalidPasswordError)
        and opening.choice is not None
        and opening.choice.source in _PROMPTED_AFTER
    )


def _connect_failure(opening: Opening, target: Target) -> ConnectFailure:
    error = opening.error
    assert error is not None  # no database, so an error
    choice = opening.choice
    if choice is None:  # the password command failed
        return password_failure(str(error), target.params)
    if isinstance(error, asyncpg.InvalidPasswordError) and choice.source is PasswordSource.NONE:
        return password_failure("the server asks for one and no source had it", target.params)
    return classify(error, target.params, password_from=choice.described)


def _report(err: TextIO, summary: str, details: list[str]) -> None:
    """What failed in one line, then its details indented."""
    print(PREFIX + visible(summary), file=err)
    for line in details:
        print("  " + visible(line), file=err)


def _fail(err: TextIO, message: str) -> int:
    _report(err, message, [])
    return 1
