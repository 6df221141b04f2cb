"""Completion: the catalog read from a real server, and what `complete()` offers where."""

from __future__ import annotations

import asyncpg

from pgconsole.db.console.completion import (
    CompletionCatalog,
    complete,
    load_completion_catalog,
    sql_name,
)
from tests.helpers.queries import QueryCounter


async def catalog_of(conn: asyncpg.Connection) -> CompletionCatalog:
    await conn.execute(
        """
        CREATE SCHEMA app;
        CREATE TABLE people (id int, name text, nickname text);
        CREATE TABLE app.orders (order_id int, total numeric);
        CREATE TABLE "My Table" ("Odd Col" int);
        CREATE TABLE "select" (x int);
        CREATE TABLE "[red]" (y int);
        CREATE VIEW app.big_orders AS SELECT * FROM app.orders WHERE total > 100;
        CREATE FUNCTION app.order_total(int) RETURNS numeric LANGUAGE sql AS 'SELECT 1';
        """
    )
    return await load_completion_catalog(conn)


def labels(catalog: CompletionCatalog, text: str, offset: int | None = None) -> list[str]:
    return [c.label for c in complete(catalog, text, len(text) if offset is None else offset)]


async def test_the_catalog_knows_schemas_relations_columns_functions(
    conn: asyncpg.Connection,
) -> None:
    catalog = await catalog_of(conn)
    assert "app" in catalog.schemas and "public" in catalog.schemas
    assert ("app", "big_orders", "view") in catalog.relations
    assert catalog.columns[("public", "people")] == (
        ("id", "integer"),
        ("name", "text"),
        ("nickname", "text"),
    )
    assert any(f[:2] == ("app", "order_total") for f in catalog.functions)
    assert "public" in catalog.search_path


async def test_columns_of_the_from_table_even_before_from(conn: asyncpg.Connection) -> None:
    catalog = await catalog_of(conn)
    text = "SELECT na FROM people"
    offered = complete(catalog, text, len("SELECT na"))
    assert (offered[0].label, offered[0].kind) == ("name", "column")
    assert ("nickname", "column") in [(c.label, c.kind) for c in offered]  # "na" inside it
    assert labels(catalog, "SELECT p. FROM people p", len("SELECT p.")) == [
        "id",
        "name",
        "nickname",
    ]
    assert labels(catalog, "SELECT o.to FROM app.orders o", len("SELECT o.to")) == ["total"]


async def test_schemas_relations_and_keywords_by_prefix(conn: asyncpg.Connection) -> None:
    catalog = await catalog_of(conn)
    assert "public" in labels(catalog, "SELECT * FROM pub")
    assert "people" in labels(catalog, "SELECT * FROM peo")
    assert labels(catalog, "SELECT * FROM app.")[:2] == ["big_orders", "orders"]
    assert "order_total" in labels(catalog, "SELECT app.ord")
    assert labels(catalog, "sel")[0] == "SELECT"
    assert labels(catalog, "SELECT 'peo") == []  # inside a string
    assert labels(catalog, "SELECT 1 -- peo") == []  # inside a comment


async def test_names_that_need_quotes_are_inserted_quoted(conn: asyncpg.Connection) -> None:
    catalog = await catalog_of(conn)
    texts = {c.label: c.text for c in complete(catalog, "SELECT * FROM ", 14, limit=500)}
    assert texts["My Table"] == '"My Table"'
    assert texts["select"] == '"select"'
    assert texts["[red]"] == '"[red]"'
    assert texts["people"] == "people"
    assert sql_name('a"b') == '"a""b"'


async def test_the_catalog_costs_the_same_queries_with_many_schemas(
    conn: asyncpg.Connection,
) -> None:
    await load_completion_catalog(conn)  # asyncpg's own type introspection happens once
    async with QueryCounter(conn) as few:
        await load_completion_catalog(conn)
    await conn.execute(
        "DO $$ BEGIN FOR i IN 1..200 LOOP "
        "EXECUTE format('CREATE SCHEMA s%s; CREATE TABLE s%s.t (a int)', i, i); "
        "END LOOP; END $$"
    )
    async with QueryCounter(conn) as many:
        catalog = await load_completion_catalog(conn)
    assert len(many.queries) == len(few.queries) == 4
    assert ("s200", "t", "table") in catalog.relations
