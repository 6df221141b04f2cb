"""The first page of a relation named by the user (`--table`, the F2 prompt): found by name,
described, and read through a pager of its own.

Kept apart from `pgconsole.db.opening` so that a start that opens no table (`--activity`, the
plain browser) does not import the browse modules before connecting.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from pgconsole.db.browse.catalog import RelationDetail, describe_relation, resolve_relation
from pgconsole.db.browse.pages import BrowseSpec, Column, Page, Pager
from pgconsole.db.connection.failures import describe_error
from pgconsole.db.connection.pool import Database
from pgconsole.db.edit.transaction import tracking_for
from pgconsole.db.quoting import parse_qualified_name

PAGE_SIZE = 100


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
