"""The demo data, seeded for real into a database on the suite's throwaway PostgreSQL server.

One seeded database serves the whole module: seeding takes a couple of seconds, and every test
here only reads (the one that writes rolls back).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any

import asyncpg
import pytest

from pgconsole.db.quoting import quote_ident
from pgconsole.throwaway.cluster import ThrowawayCluster
from pgconsole.throwaway.demo import DEMO_DATABASE, seed
from tests.conftest import admin_connect

EVENTS_ROWS = 20_000
AGAIN = "pgconsole_demo_again"
"""The second seeded database of the determinism test."""

# The seed is deterministic, so these are exact.
EXPECTED_ROWS = {
    "customers": 5_000,
    "products": 400,
    "orders": 40_000,
    "order_items": 89_551,
    "events": EVENTS_ROWS,
    "audit_log": 500,
    "exchange_rates": 390,
    "measurements": 7_248,
}

# One query for all counts: table names cannot be bind parameters.
COUNT_ROWS = """
SELECT (SELECT count(*) FROM shop.customers) AS customers,
       (SELECT count(*) FROM shop.products) AS products,
       (SELECT count(*) FROM shop.orders) AS orders,
       (SELECT count(*) FROM shop.order_items) AS order_items,
       (SELECT count(*) FROM shop.events) AS events,
       (SELECT count(*) FROM shop.audit_log) AS audit_log,
       (SELECT count(*) FROM shop.exchange_rates) AS exchange_rates,
       (SELECT count(*) FROM shop.measurements) AS measurements
"""

# A digest of every table's content, leaving out the gen_random_uuid() columns (the only
# values that differ between runs). Rows are ordered by their text, so physical order and
# plan choices do not matter.
CONTENT_DIGEST = """
SELECT (SELECT md5(string_agg(x, E'\\n' ORDER BY x))
          FROM (SELECT (to_jsonb(t) - 'public_id')::text AS x FROM shop.customers t) s)
    || (SELECT md5(string_agg(x, E'\\n' ORDER BY x))
          FROM (SELECT to_jsonb(t)::text AS x FROM shop.products t) s)
    || (SELECT md5(string_agg(x, E'\\n' ORDER BY x))
          FROM (SELECT (to_jsonb(t) - 'order_no')::text AS x FROM shop.orders t) s)
    || (SELECT md5(string_agg(x, E'\\n' ORDER BY x))
          FROM (SELECT to_jsonb(t)::text AS x FROM shop.order_items t) s)
    || (SELECT md5(string_agg(x, E'\\n' ORDER BY x))
          FROM (SELECT to_jsonb(t)::text AS x FROM shop.events t) s)
    || (SELECT md5(string_agg(x, E'\\n' ORDER BY x))
          FROM (SELECT to_jsonb(t)::text AS x FROM shop.audit_log t) s)
    || (SELECT md5(string_agg(x, E'\\n' ORDER BY x))
          FROM (SELECT to_jsonb(t)::text AS x FROM shop.exchange_rates t) s)
    || (SELECT md5(string_agg(x, E'\\n' ORDER BY x))
          FROM (SELECT to_jsonb(t)::text AS x FROM shop.measurements t) s)
"""


def _run(coro: Coroutine[Any, Any, None]) -> None:
    # A private loop: asyncio.run() would also reset the thread's current event loop, which
    # belongs to pytest-asyncio.
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(coro)
    finally:
        loop.close()


async def _create_and_seed(cluster: ThrowawayCluster, dbname: str) -> None:
    admin = await admin_connect(cluster)
    try:
        await admin.execute(f"CREATE DATABASE {quote_ident(dbname)}")
    finally:
        await admin.close()
    conn = await admin_connect(cluster, dbname)
    try:
        await seed(conn, events_rows=EVENTS_ROWS)
    finally:
        await conn.close()


async def _drop(cluster: ThrowawayCluster, *databases: str) -> None:
    admin = await admin_connect(cluster)
    try:
        for database in databases:
            await admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(database)} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture(scope="module")
def demo_database(cluster: ThrowawayCluster) -> Iterator[str]:
    """`DEMO_DATABASE` on the suite's shared server, holding `EVENTS_ROWS` events.

    Seeded once for the module, not per test, and dropped after it with the determinism
    test's second database.
    """
    _run(_create_and_seed(cluster, DEMO_DATABASE))
    try:
        yield DEMO_DATABASE
    finally:
        _run(_drop(cluster, DEMO_DATABASE, AGAIN))


@pytest.fixture
async def conn(cluster: ThrowawayCluster, demo_database: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the seeded demo database."""
    conn = await admin_connect(cluster, demo_database)
    try:
        yield conn
    finally:
        await conn.close()


async def test_row_counts(conn: asyncpg.Connection) -> None:
    row = await conn.fetchrow(COUNT_ROWS)
    assert row is not None
    assert dict(row) == EXPECTED_ROWS


async def test_foreign_keys(conn: asyncpg.Connection) -> None:
    rows = await conn.fetch(
        """
        SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent,
               convalidated
        FROM pg_constraint
        WHERE contype = 'f' AND connamespace = 'shop'::regnamespace
        """
    )
    assert {(r["child"], r["parent"]) for r in rows} == {
        ("shop.orders", "shop.customers"),
        ("shop.order_items", "shop.orders"),
        ("shop.order_items", "shop.products"),
        ("shop.events", "shop.customers"),
    }
    assert all(r["convalidated"] for r in rows)


async def test_primary_keys(conn: asyncpg.Connection) -> None:
    rows = await conn.fetch(
        """
        SELECT conrelid::regclass::text AS rel,
               array_agg(a.attname::text ORDER BY k.ord) AS cols
        FROM pg_constraint c
        CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k (attnum, ord)
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
        WHERE c.contype = 'p' AND c.connamespace = 'shop'::regnamespace
        GROUP BY 1
        """
    )
    keys = {r["rel"]: r["cols"] for r in rows}
    assert keys["shop.order_items"] == ["order_id", "line_no"]
    assert keys["shop.events"] == ["id"]
    assert keys["shop.measurements"] == ["sensor_id", "measured_at"]
    assert "shop.audit_log" not in keys
    assert "shop.exchange_rates" not in keys
    identity = await conn.fetchval(
        "SELECT attidentity::text FROM pg_attribute WHERE attrelid = 'shop.events'::regclass"
        " AND attname = 'id'"
    )
    assert identity == "a"  # GENERATED ALWAYS AS IDENTITY


async def test_audit_log_has_no_key_at_all(conn: asyncpg.Connection) -> None:
    indexes = await conn.fetchval(
        "SELECT count(*) FROM pg_index WHERE indrelid = 'shop.audit_log'::regclass"
    )
    assert indexes == 0
    # Five rows repeat the row before them exactly: only ctid tells them apart.
    distinct = await conn.fetchval("SELECT count(DISTINCT t::text) FROM shop.audit_log t")
    assert distinct == EXPECTED_ROWS["audit_log"] - 5


async def test_exchange_rates_keyed_by_unique_index_only(conn: asyncpg.Connection) -> None:
    rows = await conn.fetch(
        """
        SELECT i.indisunique, i.indisprimary, i.indpred IS NULL AS total, i.indexprs IS NULL
                   AS plain_columns,
               (SELECT bool_and(a.attnotnull) FROM pg_attribute a
                WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)) AS not_null
        FROM pg_index i
        WHERE i.indrelid = 'shop.exchange_rates'::regclass
        """
    )
    assert [dict(r) for r in rows] == [
        {
            "indisunique": True,
            "indisprimary": False,
            "total": True,
            "plain_columns": True,
            "not_null": True,
        }
    ]
    constraints = await conn.fetchval(
        "SELECT count(*) FROM pg_constraint WHERE conrelid = 'shop.exchange_rates'::regclass"
        " AND contype IN ('p', 'u')"
    )
    assert constraints == 0


async def test_relation_kinds(conn: asyncpg.Connection) -> None:
    rows = await conn.fetch(
        "SELECT oid::regclass::text AS rel, relkind::text FROM pg_class"
        " WHERE relnamespace = 'shop'::regnamespace AND relkind IN ('v', 'm', 'p')"
    )
    assert {r["rel"]: r["relkind"] for r in rows} == {
        "shop.order_totals": "v",
        "shop.daily_revenue": "m",
        "shop.measurements": "p",
    }
    assert await conn.fetchval(
        "SELECT relispopulated FROM pg_class WHERE oid = 'shop.daily_revenue'::regclass"
    )


async def test_views_agree_with_the_tables(conn: asyncpg.Connection) -> None:
    assert await conn.fetchval("SELECT count(*) FROM shop.order_totals") == EXPECTED_ROWS["orders"]
    matview = await conn.fetchrow(
        "SELECT sum(orders) AS orders, sum(revenue) AS revenue FROM shop.daily_revenue"
    )
    view = await conn.fetchrow(
        "SELECT count(*) AS orders, sum(total) AS revenue FROM shop.order_totals"
        " WHERE status NOT IN ('cancelled', 'returned')"
    )
    assert matview is not None and view is not None
    assert dict(matview) == dict(view)
    assert await conn.fetchval("SELECT count(*) FROM shop.daily_revenue") == 365


async def test_every_partition_holds_rows(conn: asyncpg.Connection) -> None:
    partitions = await conn.fetch(
        """
        SELECT c.oid::regclass::text AS rel, pg_get_expr(c.relpartbound, c.oid) AS bound
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'shop.measurements'::regclass
        """
    )
    bounds = {r["rel"]: r["bound"] for r in partitions}
    assert len(bounds) == 5
    assert bounds["shop.measurements_default"] == "DEFAULT"
    rows = await conn.fetch(
        "SELECT tableoid::regclass::text AS rel, count(*) AS n FROM shop.measurements GROUP BY 1"
    )
    counts = {r["rel"]: r["n"] for r in rows}
    assert counts.keys() == bounds.keys()
    assert all(n > 0 for n in counts.values())
    assert counts["shop.measurements_default"] == 1_488  # December and May
    assert sum(counts.values()) == EXPECTED_ROWS["measurements"]


async def test_column_types(conn: asyncpg.Connection) -> None:
    types = {
        r["type"]
        for r in await conn.fetch(
            """
            SELECT format_type(a.atttypid, a.atttypmod) AS type
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
            WHERE c.relnamespace = 'shop'::regnamespace AND a.attnum > 0
              AND NOT a.attisdropped
            """
        )
    }
    assert {
        "json",
        "jsonb",
        "text[]",
        "numeric(6,1)[]",
        "timestamp without time zone",
        "timestamp with time zone",
        "numeric(12,2)",
        "bytea",
        "interval",
        "uuid",
        "inet",
        "shop.event_kind",
        "shop.order_status",
    } <= types


async def test_nullable_columns_hold_nulls(conn: asyncpg.Connection) -> None:
    row = await conn.fetchrow(
        """
        SELECT avg((customer_id IS NULL)::int) AS customer_id,
               avg((payload IS NULL)::int) AS payload,
               avg((tags IS NULL)::int) AS tags,
               avg((amount IS NULL)::int) AS amount,
               avg((raw IS NULL)::int) AS raw,
               avg((note IS NULL)::int) AS note
        FROM shop.events
        """
    )
    assert row is not None
    shares = {name: float(share) for name, share in row.items()}
    assert all(0 < share < 1 for share in shares.values()), shares
    assert 0.25 < shares["customer_id"] < 0.45
    # An empty array and a JSON null inside a document are not SQL NULLs; both occur too.
    assert await conn.fetchval("SELECT count(*) FROM shop.events WHERE tags = '{}'") > 0
    json_nulls = "SELECT count(*) FROM shop.events WHERE payload -> 'referrer' = 'null'"
    assert await conn.fetchval(json_nulls) > 0
    for query in (
        "SELECT count(*) FROM shop.customers WHERE phone IS NULL",
        "SELECT count(*) FROM shop.products WHERE description IS NULL",
        "SELECT count(*) FROM shop.orders WHERE shipped_at IS NULL",
        "SELECT count(*) FROM shop.order_items WHERE discount IS NULL",
        "SELECT count(*) FROM shop.measurements WHERE temperature_c IS NULL",
        "SELECT count(*) FROM shop.products WHERE array_position(dimensions_cm, NULL) IS NOT NULL",
    ):
        assert await conn.fetchval(query) > 0, query


async def test_markup_and_control_characters_stored_exactly(conn: asyncpg.Connection) -> None:
    rows = await conn.fetch("SELECT sku, name FROM shop.products WHERE id <= 3 ORDER BY id")
    assert [(r["sku"], r["name"]) for r in rows] == [
        ("DEMO-MARKUP-1", "Sticker pack [red]SALE[/] [@click=app.quit]free[/]"),
        ("DEMO-MARKUP-2", "Retro terminal poster \x1b[31mred edition\x1b[0m\t(A2)"),
        ("DEMO-MARKUP-3", "Mug [b]bold[/b] with a back\\slash and \\[escaped] brackets"),
    ]
    description = await conn.fetchval("SELECT description FROM shop.products WHERE id = 2")
    assert "\n" in description


async def test_planner_estimates_match_after_analyze(conn: asyncpg.Connection) -> None:
    for table, expected in EXPECTED_ROWS.items():
        reltuples = await conn.fetchval(
            "SELECT reltuples FROM pg_class WHERE oid = $1::regclass", f"shop.{table}"
        )
        assert abs(reltuples - expected) <= 0.05 * expected, (table, reltuples)
    # ANALYZE also gathered column statistics, not just row counts.
    stats = await conn.fetchval(
        "SELECT count(*) FROM pg_stats WHERE schemaname = 'shop' AND tablename = 'events'"
    )
    assert stats == 9  # one row per column


async def test_events_ids_and_identity(conn: asyncpg.Connection) -> None:
    row = await conn.fetchrow(
        """
        SELECT min(id) AS low, max(id) AS high,
               bool_and(occurred_at >= '2024-07-01 00:00+00'
                        AND occurred_at < '2025-07-01 00:00+00') AS in_range
        FROM shop.events
        """
    )
    assert row is not None
    assert dict(row) == {"low": 1, "high": EVENTS_ROWS, "in_range": True}
    # The seed writes ids itself; the identity sequence must carry on after them.
    tx = conn.transaction()
    await tx.start()
    try:
        new_id = await conn.fetchval(
            "INSERT INTO shop.events (occurred_at, kind) VALUES (now(), 'login') RETURNING id"
        )
    finally:
        await tx.rollback()
    assert new_id == EVENTS_ROWS + 1


@pytest.mark.slow
async def test_seed_is_deterministic(cluster: ThrowawayCluster, conn: asyncpg.Connection) -> None:
    await _create_and_seed(cluster, AGAIN)
    again = await admin_connect(cluster, AGAIN)
    try:
        assert await again.fetchval(CONTENT_DIGEST) == await conn.fetchval(CONTENT_DIGEST)
    finally:
        await again.close()


async def test_seed_refuses_negative_row_count(conn: asyncpg.Connection) -> None:
    with pytest.raises(ValueError, match="events_rows"):
        await seed(conn, events_rows=-1)


async def test_seed_into_a_seeded_database_changes_nothing(conn: asyncpg.Connection) -> None:
    with pytest.raises(asyncpg.DuplicateSchemaError):
        await seed(conn, events_rows=10)
    row = await conn.fetchrow(COUNT_ROWS)
    assert row is not None
    assert dict(row) == EXPECTED_ROWS
