"""The grid's type line and the relation details show the short type names the console shows."""

from __future__ import annotations

import asyncpg

from pgconsole.db.browse.catalog import describe_relation, resolve_relation
from pgconsole.screens.relation import detail_tables
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.helpers.ui import app_for, first_page, wait_until

TYPED = """
CREATE TABLE typed (id bigint PRIMARY KEY, at timestamp with time zone, ok boolean,
                    n integer[], name character varying(12));
INSERT INTO typed VALUES (1, now(), true, '{1}', 'one'), (2, now(), false, '{2}', 'two');
"""


async def test_the_grid_type_line_uses_the_short_names(
    cluster: ThrowawayCluster, dbname: str, conn: asyncpg.Connection
) -> None:
    await conn.execute(TYPED)
    app = app_for(cluster, dbname, "public.typed")
    async with app.run_test(size=(120, 24)) as pilot:
        grid = await first_page(pilot, app)
        await wait_until(pilot, lambda: grid._paint is not None, "the grid drawn")
        words = grid.render_line(1).text.split()
    assert words == ["int8", "timestamptz", "bool", "int4[]", "varchar(12)"]


async def test_the_relation_details_use_the_short_names(conn: asyncpg.Connection) -> None:
    await conn.execute(TYPED)
    oid = await resolve_relation(conn, "public", "typed")
    assert oid is not None
    columns = detail_tables(await describe_relation(conn, oid))[0]
    assert [str(cell) for cell in columns.columns[1].cells] == [
        "int8", "timestamptz", "bool", "int4[]", "varchar(12)"
    ]  # fmt: skip
