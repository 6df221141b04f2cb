"""Opening a session: the password, the pool and, for `--table`, the first page.

None of this needs the UI, so `pgconsole` starts it before Textual has even been imported:
the TLS handshake, authentication and the first page's round trips overlap the imports,
and the app finds them done (or failed) when it mounts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import asyncpg

from pgconsole.db.connection.params import ConnectParams, PoolSettings, SessionSettings
from pgconsole.db.connection.passwords import (
    PasswordChoice,
    PasswordCommandError,
    PasswordQuery,
    PasswordSource,
    find_password,
)
from pgconsole.db.connection.pool import Database, FirstRead, open_database

if TYPE_CHECKING:  # loaded by `open_early` only for what it is asked to open
    from pgconsole.db.activity.sampler import EarlySample, FirstSample
    from pgconsole.db.first_page import FirstPage


class OpeningSettings(Protocol):
    """What opening needs of the user's settings (`pgconsole.config.Settings` has it)."""

    @property
    def cursor_idle_seconds(self) -> float: ...

    def session(self) -> SessionSettings: ...

    def pool(self) -> PoolSettings: ...


@dataclass
class Opening:
    """How one attempt to open the pool ended: `database` or `error`, never both."""

    choice: PasswordChoice | None
    """The password tried; None when the password command itself failed."""
    database: Database | None = None
    error: BaseException | None = None
    first: FirstPage | None = None
    """The `--table` relation's first page, when it was asked for and could be read."""
    first_error: str | None = None
    """Why that relation could not be shown."""
    first_sample: FirstSample | None = None
    """For `--activity`: the activity screen's connection and its first sample."""

    async def discard(self) -> None:
        """Close what was opened (the app never took it)."""
        if self.first is not None:
            await self.first.pager.close()
        if self.first_sample is not None:
            await self.first_sample.sampler.close()
        if self.database is not None:
            await self.database.close()


async def choose_password(
    params: ConnectParams, query: PasswordQuery | None, typed: str | None
) -> PasswordChoice:
    """The password to try: the one just typed, else the first source that has one.

    Raises:
        PasswordCommandError: The configured password command failed.
    """
    if typed is not None:
        return PasswordChoice(typed, PasswordSource.PROMPT)
    if query is None:
        source = PasswordSource.NONE if params.password is None else PasswordSource.CONNINFO
        return PasswordChoice(params.password, source)
    return await find_password(query)


async def open_pool(
    params: ConnectParams,
    settings: OpeningSettings,
    query: PasswordQuery | None,
    typed: str | None = None,
    first_read: FirstRead | None = None,
) -> Opening:
    """Find the password and open the pool; every failure is returned, never raised.

    An SSH tunnel is opened while the password is looked for: ssh's login needs no password
    of the database, and it is the longest wait of a tunnelled start. `first_read` is
    `open_database`'s.
    """
    tunnel = None
    if params.tunnel is not None:
        tunnel = asyncio.create_task(params.tunnel.local(params.host, params.port))
    try:
        try:
            choice = await choose_password(params, query, typed)
        except PasswordCommandError as error:
            return Opening(None, error=error)
        try:
            if tunnel is not None:
                await tunnel  # its failure is the attempt's, as a connection would meet it
            database = await open_database(
                params.with_password(choice.password),
                settings.session(),
                settings.pool(),
                first_read,
            )
        except Exception as error:  # the app turns each into a screen, never a traceback
            return Opening(choice, error=error)
        return Opening(choice, database)
    finally:
        if tunnel is not None:  # stopped if still opening; its outcome taken either way
            tunnel.cancel()
            with contextlib.suppress(BaseException):
                await tunnel


async def open_early(
    params: ConnectParams,
    settings: OpeningSettings,
    query: PasswordQuery | None,
    table: str | None,
    activity: bool = False,
    on_sample: Callable[[EarlySample], None] | None = None,
) -> Opening:
    """`open_pool`, then the first page of `table` when one is named, and the activity
    screen's first sample when it is to be shown.

    That sample is read before the pool opens, on the connection that reads the server's
    limits, and handed to `on_sample` at once (`pgconsole --activity` draws it as text while
    the pool opens and Textual loads); behind a pooler it is taken once the pool is open.
    """
    early: list[EarlySample] = []

    async def first_read(conn: asyncpg.Connection, target: str) -> None:
        from pgconsole.db.activity.sampler import read_early

        sample = await read_early(conn, target)
        if sample is not None:
            early.append(sample)
            if on_sample is not None:
                on_sample(sample)

    opening = await open_pool(params, settings, query, first_read=first_read if activity else None)
    if opening.database is not None and table:
        from pgconsole.db.first_page import open_first_page

        try:
            opening.first = await open_first_page(
                opening.database, table, settings.cursor_idle_seconds
            )
        except LookupError as error:
            opening.first_error = str(error)
    if opening.database is not None and activity:
        from pgconsole.db.activity.sampler import sample_early

        opening.first_sample = await sample_early(opening.database, early[0] if early else None)
    return opening
