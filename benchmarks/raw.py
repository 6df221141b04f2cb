"""Raw asyncpg doing the work behind each pgconsole operation: the baseline of every ratio.

One plain connection (verify-full TLS, statement cache on, no pool, no transaction around a
keyset page), pgconsole's own statements from `benchmarks.sql`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import asyncpg

from benchmarks.data import ADMIN_APP_NAME, ROWS_PER_SCALE, Target
from benchmarks.sql import BrowseSql, describe
from pgconsole.db.browse.catalog import describe_relation
from pgconsole.db.sqlfiles import load_sql

CATALOG = "pgconsole.db.browse.catalog"
"""The module whose statements list the schema tree (its `sql/` files)."""
CATALOG_STATEMENTS = ("list_schemas.sql", "list_relations.sql")

Samples = dict[str, list[float]]
SORT_COLUMN = "abalance"
"""pgbench_accounts has no index on it: pgconsole sorts it through a cursor."""


async def connect(target: Target, password: str) -> asyncpg.Connection:
    """A plain asyncpg connection, labelled as the benchmark's."""
    return await asyncpg.connect(
        target.dsn(password), server_settings={"application_name": ADMIN_APP_NAME}
    )


async def timed(call: Callable[[], Awaitable[object]]) -> float:
    """Seconds `call()` takes."""
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def _connect_and(target: Target, password: str, *statements: tuple[str, object]) -> None:
    conn = await connect(target, password)
    try:
        for sql, arg in statements:
            await conn.fetch(sql, arg)
    finally:
        await conn.close()


async def measure_raw(
    target: Target, password: str, *, scale: int, repeat: int, samples: int, sorts: int
) -> Samples:
    """Every raw baseline, in seconds. Keys match the pgconsole measurements'."""
    out: Samples = {key: [] for key in ("tree", "launch_inproc")}
    total = scale * ROWS_PER_SCALE
    conn = await connect(target, password)
    try:
        sql = BrowseSql(await describe(conn, "public", "pgbench_accounts"))
        wide = BrowseSql(await describe(conn, "public", "wide"))
    finally:
        await conn.close()
    catalog = tuple((load_sql(CATALOG, name), False) for name in CATALOG_STATEMENTS)
    first = (sql.first, sql.limit)
    for _ in range(repeat):
        out["tree"].append(await timed(lambda: _connect_and(target, password, *catalog)))
        out["launch_inproc"].append(await timed(lambda: _connect_and(target, password, first)))

    conn = await connect(target, password)
    try:
        for statement in (sql.first, sql.last):  # plan, prepare and warm the cache once
            await conn.fetch(statement, sql.limit)

        async def series(key: str, statement: str, args: list[tuple[object, ...]]) -> None:
            out[key] = []
            for arg in args:
                started = time.perf_counter()
                await conn.fetch(statement, *arg)
                out[key].append(time.perf_counter() - started)

        pages = range(1, samples + 1)
        tail = total - sql.page_size * (samples + 3)
        await series("first", sql.first, [(sql.limit,)] * samples)
        await series("after_start", sql.after, [(str(100 * i), sql.limit) for i in pages])
        middle = total // 2
        await series("after_middle", sql.after, [(str(middle + 100 * i), sql.limit) for i in pages])
        await series("after_end", sql.after, [(str(tail + 100 * i), sql.limit) for i in pages])
        await series("before_end", sql.before, [(str(total - 100 * i), sql.limit) for i in pages])
        await series("last", sql.last, [(sql.limit,)] * samples)
        await series("typed_after_start", sql.typed_after, [(100 * i, sql.limit) for i in pages])
        await series("wide_first", wide.first, [(wide.limit,)] * samples)
        await series("wide_after", wide.after, [(str(100 * i), wide.limit) for i in pages])
        for key, browse in (("open_accounts", sql), ("open_wide", wide)):
            # What opening costs the server: pgconsole's four catalog queries, the first page.
            oid = await conn.fetchval("SELECT $1::regclass::oid", browse.relation.name)

            async def open_relation(oid: int = oid, browse: BrowseSql = browse) -> None:
                await describe_relation(conn, oid)
                await conn.fetch(browse.first, browse.limit)

            out[key] = [await timed(open_relation) for _ in range(repeat)]

        out["sort"], out["cursor_next"] = [], []
        for i in range(sorts):
            async with conn.transaction(readonly=True):
                # pgconsole alternates ascending and descending as `s` is pressed again
                declare = sql.declare(SORT_COLUMN, descending=i % 2 == 1)

                async def sort_page(declare: str = declare) -> None:
                    await conn.fetch(declare)
                    await conn.fetch(sql.fetch)

                out["sort"].append(await timed(sort_page))
                if i == 0:
                    await series("cursor_next", sql.fetch, [()] * samples)
    finally:
        await conn.close()
    return out
