"""What the commands without the UI share (`pgconsole snapshot`, `pgconsole record`): opening
the pool as the app does (the same settings, password sources, timeouts and TLS, and a typed
password when a person at a terminal may give one), and saying what failed in one line."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, replace
from typing import TextIO

import asyncpg

from pgconsole.db.connection.failures import (
    ConnectFailure,
    classify,
    describe_error,
    password_failure,
)
from pgconsole.db.connection.passwords import PasswordSource
from pgconsole.db.connection.pool import Database
from pgconsole.db.opening import Opening, open_pool
from pgconsole.target import Target
from pgconsole.text import visible

PROMPTED_AFTER = (PasswordSource.NONE, PasswordSource.KEYRING, PasswordSource.PASSFILE)
"""Password sources whose refusal a person at a terminal may answer by typing one."""
FAILED = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)
"""What a command may fail with once connected: the server refused a reading, or the
connection broke."""


@dataclass(frozen=True)
class Reporter:
    """Writes a command's failures to a stream: `<prefix>summary`, then details indented."""

    prefix: str
    """`pgconsole snapshot: `."""
    err: TextIO

    def report(self, summary: str, details: list[str] | tuple[str, ...] = ()) -> None:
        """What failed in one line, then its details indented (terminal-safe)."""
        print(self.prefix + visible(summary), file=self.err)
        for line in details:
            print("  " + visible(line), file=self.err)

    def fail(self, message: str) -> int:
        """Report `message` alone; returns 1, the exit status of a command that failed."""
        self.report(message)
        return 1

    def failed(self, what: str, error: BaseException) -> None:
        """`<what>: <the error's first line>`, then its SQLSTATE, DETAIL and HINT."""
        first, *details = describe_error(error).splitlines() or [type(error).__name__]
        self.report(f"{what}: {first}", details)


async def open_single(target: Target, reporter: Reporter, interactive: bool) -> Database | None:
    """The pool of one connection, or None once the failure is reported.

    Args:
        target: Where to connect, with the settings.
        reporter: Where a failure is said.
        interactive: Ask for a password the server wants and no source had.
    """
    settings = replace(target.settings, pool_min_size=1, pool_max_size=1)
    opening = await open_pool(target.params, settings, target.password_query)
    if _ask_password(opening, interactive) and opening.choice is not None:
        typed = getpass.getpass(f"Password for {target.params.target}: ")
        opening = await open_pool(target.params, settings, target.password_query, typed)
    if opening.database is None:
        failure = _connect_failure(opening, target)
        reporter.report(failure.summary, [f"{label}: {value}" for label, value in failure.details])
    return opening.database


def _ask_password(opening: Opening, interactive: bool) -> bool:
    """The server refused the password of a source a person may stand in for."""
    return (
        interactive
        and isinstance(opening.error, asyncpg.InvalidPasswordError)
        and opening.choice is not None
        and opening.choice.source in PROMPTED_AFTER
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
