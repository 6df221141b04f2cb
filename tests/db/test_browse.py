"""Keyset and cursor paging: every page equals what psql returns for the same order."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import asyncpg
import pytest

from pgconsole.db.browse.pages import (
    CELL_LIMIT,
    BrowseSpec,
    Column,
    Page,
    Pager,
    Row,
    Sort,
    Tracking,
)
from pgconsole.db.connection.pool import Database
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.conftest import admin_connect, open_pool
from tests.helpers.psql import psql_available, psql_rows

pytestmark = pytest.mark.skipif(not psql_available(), reason="psql is not installed")

ROWS = 537  # not a multiple of the page size
PAGE = 50
COLUMNS = (
    Column("id", "integer", numeric=True, not_null=True),
    Column("n", "integer", numeric=True, not_null=True),
    Column("w", "integer", numeric=True),
    Column("v", "text"),
)


@pytest.fixture
async def database(cluster: ThrowawayCluster, dbname: str) -> AsyncIterator[Database]:
    conn = await admin_connect(cluster, dbname)
    try:
        await conn.execute(
            """
            CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL, w int, v text);
            CREATE INDEX t_n ON t (n);
            INSERT INTO t
            SELECT i, (i * 7919) % 1000, CASE WHEN i % 9 = 0 THEN NULL ELSE (i * 31) % 100 END,
                   CASE WHEN i % 13 = 0 THEN NULL ELSE 'row ' || i END
            FROM generate_series(1, $1::int) AS i;
            CREATE TABLE heap (a int, b text);
            INSERT INTO heap SELECT i, repeat('x', i % 5) FROM generate_series(1, $1::int) AS i;
            CREATE TABLE wide (id int PRIMARY KEY, big text);
            INSERT INTO wide VALUES (1, repeat('é', 100000));
            """.replace("$1::int", str(ROWS))
        )
    finally:
        await conn.close()
    async with open_pool(cluster, dbname, max_size=3) as database_:
        yield database_


def spec(**changes: object) -> BrowseSpec:
    base = BrowseSpec("public", "t", COLUMNS, key=("id",))
    return replace(base, **changes)  # type: ignore[arg-type]


def cells(rows: tuple[Row, ...] | list[Row]) -> list[tuple[str | None, ...]]:
    return [row.cells for row in rows]


async def forward(pager: Pager) -> list[Row]:
    page = await pager.first()
    rows = list(page.rows)
    assert not page.more_before
    while page.more_after:
        page = await pager.after(page.rows[-1])
        assert page.more_before
        rows.extend(page.rows)
    return rows


async def backward(pager: Pager) -> list[Row]:
    page = await pager.last()
    rows = list(page.rows)
    assert not page.more_after
    while page.more_before:
        page = await pager.before(page.rows[0])
        assert page.more_after
        rows[:0] = page.rows
    return rows


SELECT = "SELECT id::text, n::text, w::text, v FROM t"


@pytest.mark.parametrize(
    ("sort", "order_by", "keyset"),
    [
        (None, "t.id", True),
        (Sort("id", descending=True), "t.id DESC", True),
        (Sort("n", indexed=True), "t.n, t.id", True),
        (Sort("n", descending=True, indexed=True), "t.n DESC, t.id DESC", True),
        (Sort("w"), "t.w, t.id", False),  # nullable and unindexed: a cursor
        (Sort("v", descending=True), "t.v DESC, t.id DESC", False),
    ],
)
async def test_pages_equal_psql(
    cluster: ThrowawayCluster,
    dbname: str,
    database: Database,
    sort: Sort | None,
    order_by: str,
    keyset: bool,
) -> None:
    browse = spec(sort=sort)
    assert browse.uses_keyset is keyset
    expected = await psql_rows(cluster, dbname, f"{SELECT} ORDER BY {order_by}")
    assert len(expected) == ROWS
    pager = Pager(database, browse, page_size=PAGE)
    try:
        assert cells(await forward(pager)) == expected
        assert cells(await backward(pager)) == expected
        last = await pager.last()
        assert cells(last.rows) == expected[-PAGE:]
        first = await pager.first()
        assert cells(first.rows) == expected[:PAGE]
    finally:
        await pager.close()


async def test_filter_and_quick_filter(
    cluster: ThrowawayCluster, dbname: str, database: Database
) -> None:
    pager = Pager(database, spec(filter="n > 500 AND v IS NOT NULL"), page_size=PAGE)
    expected = await psql_rows(
        cluster, dbname, f"{SELECT} WHERE (n > 500 AND v IS NOT NULL) ORDER BY t.id"
    )
    assert 0 < len(expected) < ROWS
    assert cells(await forward(pager)) == expected
    pager = Pager(database, spec(equals=(("v", "row 42"),)), page_size=PAGE)
    assert cells((await pager.first()).rows) == [
        ("42", str(42 * 7919 % 1000), str(42 * 31 % 100), "row 42")
    ]
    pager = Pager(database, spec(equals=(("v", None),)), page_size=PAGE)
    expected = await psql_rows(cluster, dbname, f"{SELECT} WHERE v IS NULL ORDER BY t.id")
    assert cells(await forward(pager)) == expected


async def test_relation_without_key_streams_through_a_cursor(
    cluster: ThrowawayCluster, dbname: str, database: Database
) -> None:
    heap = BrowseSpec("public", "heap", (Column("a", "integer", True), Column("b", "text")))
    assert not heap.uses_keyset
    expected = await psql_rows(cluster, dbname, "SELECT a::text, b FROM heap")
    pager = Pager(database, heap, page_size=PAGE)
    try:
        rows = await forward(pager)
        assert cells(rows) == expected
        assert [r.ordinal for r in rows] == list(range(ROWS))
        assert cells(await backward(pager)) == expected
    finally:
        await pager.close()


async def test_idle_cursor_closes_and_resumes_at_the_same_row(
    cluster: ThrowawayCluster, dbname: str, database: Database, admin: asyncpg.Connection
) -> None:
    heap = BrowseSpec("public", "heap", (Column("a", "integer", True), Column("b", "text")))
    # Idle for long enough that the check below cannot come too late on a loaded machine.
    pager = Pager(database, heap, page_size=PAGE, idle_seconds=2.0)
    assert pager.idle_deadline is None
    page = await pager.after((await pager.first()).rows[-1])
    assert pager.holds_cursor
    deadline = pager.idle_deadline
    assert deadline is not None and deadline <= time.monotonic() + 2.0  # never past the setting
    open_transactions = (
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgconsole'"
        " AND datname = $1 AND xact_start IS NOT NULL"
    )
    assert await admin.fetchval(open_transactions, dbname) == 1
    assert not await pager.close_if_idle()  # not idle long enough yet
    await asyncio.sleep(2.0)  # idle past the setting: the thing under test
    assert await pager.close_if_idle()
    assert not pager.holds_cursor and pager.idle_deadline is None
    assert await admin.fetchval(open_transactions, dbname) == 0
    resumed = await pager.after(page.rows[-1])
    assert resumed.rows[0].ordinal == 2 * PAGE
    assert resumed.rows[0].cells[0] == str(2 * PAGE + 1)
    await pager.close()


async def test_keyset_paging_leaves_no_transaction_open(
    dbname: str, database: Database, admin: asyncpg.Connection
) -> None:
    pager = Pager(database, spec(), page_size=PAGE)
    await pager.after((await pager.first()).rows[-1])
    assert not pager.holds_cursor
    states = await admin.fetch(
        "SELECT state FROM pg_stat_activity WHERE application_name = 'pgconsole' AND datname = $1",
        dbname,
    )
    assert all(r["state"] == "idle" for r in states)


async def test_long_values_are_cut_on_the_server_and_fetched_whole_on_demand(
    database: Database,
) -> None:
    wide = BrowseSpec(
        "public",
        "wide",
        (Column("id", "integer", True, True), Column("big", "text")),
        key=("id",),
        tracking=Tracking.KEY,
    )
    pager = Pager(database, wide)
    page: Page = await pager.first()
    row = page.rows[0]
    assert row.cells[1] is not None and len(row.cells[1]) == CELL_LIMIT + 1
    assert row.truncated(1) and not row.truncated(0)
    assert await pager.full_value(row, "big") == "é" * 100000


def test_an_unchecked_filter_cannot_reach_the_sql() -> None:
    """The cursor and keyset SQL paste the filter in: only check_filter's output may be."""
    from pgconsole.db.browse.filtering import FilterError

    for text in ("true); COMMIT; DELETE FROM t WHERE (true", "true) OR (true", " id > 1"):
        with pytest.raises(FilterError):
            spec(filter=text)
    assert spec(filter="id > 1").filter == "id > 1"


async def test_cursor_statement_uses_the_extended_protocol(
    cluster: ThrowawayCluster, dbname: str, database: Database
) -> None:
    """Even a filter that slipped past the checks could not run a second statement."""
    heap = BrowseSpec("public", "heap", (Column("a", "integer", True), Column("b", "text")))
    object.__setattr__(heap, "filter", "true; DELETE FROM heap")  # bypass the check on purpose
    pager = Pager(database, heap)
    with pytest.raises(asyncpg.PostgresSyntaxError):
        await pager.first()
    await pager.close()
    conn = await admin_connect(cluster, dbname)
    try:
        assert await conn.fetchval("SELECT count(*) FROM heap") == ROWS
    finally:
        await conn.close()
