"""Opening a session: the password, the pool and, for `--table`, the first page.

None of this needs the UI, so `pgconsole` starts it before Textual has even been imported:
the TLS handshake, authentication and the first page's round trips overlap the imports,
and the app finds them done (or failed) when it mounts.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import asyncpg

from pgconsole.db.browse.catalog import (
    RelationDetail,
    describe_relation,
    parse_qualified_name,
    resolve_relation,
)
from pgconsole.db.browse.pages import BrowseSpec, Column, Page, Pager
from pgconsole.db.connection.failures import describe_error
from pgconsole.db.connection.params import ConnectParams, PoolSettings, SessionSettings
from pgconsole.db.connection.passwords import (
    PasswordChoice,
    PasswordCommandError,
    PasswordQuery,
    PasswordSource,
    find_password,
)
from pgconsole.db.connection.pool import Database, open_database
from pgconsole.db.edit.transaction import tracking_for

if TYPE_CHECKING:  # loaded only for `--activity`, by `open_early`
    from pgconsole.db.activity.sampler import FirstSample

PAGE_SIZE = 100


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


@dataclass
class FirstPage:
    """A relation described, its pager open and its first page read."""

    detail: RelationDetail
    spec: BrowseSpec
    pager: Pager
    page: Page


def to_columns(detail: RelationDetail) -> tuple[Column, ...]:
    """The grid's columns for a described relation."""
    return tuple(
        Column(
            c.name, c.type, numeric=c.category == "N", not_null=c.not_null, base_type=c.base_type
        )
        for c in detail.columns
    )


def browse_spec(detail: RelationDetail, *, physical: bool = False) -> BrowseSpec:
    """What the grid pages through for `detail`: all columns, key order, edit tracking."""
    return BrowseSpec(
        detail.schema,
        detail.name,
        to_columns(detail),
        key=detail.key,
        tracking=tracking_for(detail, physical=physical),
    )


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
) -> Opening:
    """Find the password and open the pool; every failure is returned, never raised.

    An SSH tunnel is opened while the password is looked for: ssh's login needs no password
    of the database, and it is the longest wait of a tunnelled start.
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
                params.with_password(choice.password), settings.session(), settings.pool()
            )
        except Exception as error:  # the app turns each into a screen, never a traceback
            return Opening(choice, error=error)
        return Opening(choice, database)
    finally:
        if tunnel is not None:  # stopped if still opening; its outcome taken either way
            tunnel.cancel()
            with contextlib.suppress(BaseException):
                await tunnel


async def find_relation(database: Database, text: str) -> RelationDetail:
    """Describe the relation named `text` (`schema.name`, quoted parts keep their case).

    Raises:
        LookupError: With a message for the user, when it cannot be found or read.
    """
    try:
        schema, name = parse_qualified_name(text)
    except ValueError as error:
        raise LookupError(str(error)) from None
    try:
        async with database.transaction(readonly=True) as conn:
            oid = await resolve_relation(conn, schema, name)
            detail = None if oid is None else await describe_relation(conn, oid)
    except (asyncpg.PostgresError, OSError, LookupError) as error:
        raise LookupError(describe_error(error)) from None
    if detail is None:
        raise LookupError("no such table or view")
    return detail


async def open_first_page(database: Database, text: str, idle_seconds: float) -> FirstPage:
    """Describe `text` and read its first page through a new pager.

    Raises:
        LookupError: With a message for the user.
    """
    detail = await find_relation(database, text)
    spec = browse_spec(detail)
    pager = Pager(database, spec, PAGE_SIZE, idle_seconds)
    try:
        page = await pager.first()
    except (asyncpg.PostgresError, OSError) as error:
        await pager.close()
        raise LookupError(describe_error(error)) from None
    return FirstPage(detail, spec, pager, page)


async def open_early(
    params: ConnectParams,
    settings: OpeningSettings,
    query: PasswordQuery | None,
    table: str | None,
    activity: bool = False,
) -> Opening:
    """`open_pool`, then the first page of `table` when one is named, and the activity
    screen's first sample when it is to be shown."""
    opening = await open_pool(params, settings, query)
    if opening.database is not None and table:
        try:
            opening.first = await open_first_page(
                opening.database, table, settings.cursor_idle_seconds
            )
        except LookupError as error:
            opening.first_error = str(error)
    if opening.database is not None and activity:
        from pgconsole.db.activity.sampler import sample_early

        opening.first_sample = await sample_early(opening.database)
    return opening
