"""The catalog: schemas and relations in two queries, one relation in detail, exact names."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from pgconsole.db.browse.catalog import (
    Catalog,
    ConstraintType,
    Identity,
    IndexInfo,
    ReferentialAction,
    RelationKind,
    RelationNotFound,
    choose_key,
    describe_relation,
    list_relations,
    load_catalog,
    resolve_relation,
)
from pgconsole.db.quoting import parse_qualified_name, qualified, quote_ident
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.conftest import admin_connect
from tests.helpers.queries import QueryCounter


async def oid_of(conn: asyncpg.Connection, schema: str, name: str) -> int:
    """The oid of a relation that must exist."""
    oid = await resolve_relation(conn, schema, name)
    assert oid is not None, f"{schema}.{name} not found"
    return oid


# --- load_catalog ------------------------------------------------------------------------


async def test_lists_every_kind_and_empty_schemas(conn: asyncpg.Connection) -> None:
    await conn.execute(
        """
        CREATE SCHEMA shop;
        CREATE SCHEMA empty_one;
        COMMENT ON SCHEMA empty_one IS 'nothing here yet';
        CREATE TABLE shop.orders (id int PRIMARY KEY, total numeric);
        COMMENT ON TABLE shop.orders IS 'one row per order';
        CREATE TABLE shop.events (at timestamptz NOT NULL) PARTITION BY RANGE (at);
        CREATE VIEW shop.big_orders AS SELECT * FROM shop.orders WHERE total > 100;
        CREATE MATERIALIZED VIEW shop.order_count AS SELECT count(*) AS n FROM shop.orders;
        CREATE FOREIGN DATA WRAPPER nowhere;
        CREATE SERVER nowhere FOREIGN DATA WRAPPER nowhere;
        CREATE FOREIGN TABLE shop.remote (a int) SERVER nowhere;
        CREATE SEQUENCE shop.not_listed;
        """
    )
    catalog = await load_catalog(conn)

    schemas = {s.name: s for s in catalog.schemas}
    assert {"public", "shop", "empty_one"} <= set(schemas)
    assert schemas["empty_one"].comment == "nothing here yet"
    assert schemas["shop"].can_use and not schemas["shop"].system
    assert catalog.relations_in("empty_one") == ()

    kinds = {r.name: r.kind for r in catalog.relations_in("shop")}
    assert kinds == {
        "orders": RelationKind.TABLE,
        "events": RelationKind.PARTITIONED_TABLE,
        "big_orders": RelationKind.VIEW,
        "order_count": RelationKind.MATERIALIZED_VIEW,
        "remote": RelationKind.FOREIGN_TABLE,
    }
    assert [r.name for r in catalog.relations_in("shop")] == sorted(kinds)
    orders = catalog.find("shop", "orders")
    assert orders is not None
    assert orders.comment == "one row per order"
    assert orders.owner == await conn.fetchval("SELECT current_user")
    assert orders.can_select and orders.parent_oid is None
    assert orders.total_bytes is not None and orders.total_bytes > 0  # the pk index has a page
    assert orders.qualified_name == '"shop"."orders"'
    view = catalog.find("shop", "big_orders")
    remote = catalog.find("shop", "remote")
    assert view is not None and remote is not None
    assert (view.total_bytes, view.estimated_rows) == (None, None)
    assert remote.total_bytes is None
    assert orders.oid == await resolve_relation(conn, "shop", "orders")


async def test_list_relations_is_the_relations_half_of_the_catalog(
    conn: asyncpg.Connection,
) -> None:
    await conn.execute("CREATE TABLE a (x int); CREATE VIEW b AS SELECT 1 AS one")
    assert tuple(await list_relations(conn)) == (await load_catalog(conn)).relations


async def test_partitions_nest_under_their_parent_and_sizes_add_up(
    conn: asyncpg.Connection,
) -> None:
    await conn.execute(
        """
        CREATE TABLE m (region text NOT NULL, at date NOT NULL, note text)
            PARTITION BY LIST (region);
        CREATE TABLE m_eu PARTITION OF m FOR VALUES IN ('eu') PARTITION BY RANGE (at);
        CREATE TABLE m_eu_2024 PARTITION OF m_eu FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
        CREATE TABLE m_eu_2025 PARTITION OF m_eu FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        CREATE TABLE m_us PARTITION OF m FOR VALUES IN ('us');
        CREATE INDEX ON m (at);
        INSERT INTO m
        SELECT (ARRAY['eu', 'us'])[1 + i % 2], DATE '2024-01-01' + (i % 700), repeat('n', i % 50)
        FROM generate_series(1, 5000) AS i;
        CREATE TABLE lonely (x int) PARTITION BY RANGE (x);
        """
    )
    catalog = await load_catalog(conn)
    by_name = {r.name: r for r in catalog.relations}
    m, m_eu = by_name["m"], by_name["m_eu"]
    leaves = [by_name[n] for n in ("m_eu_2024", "m_eu_2025", "m_us")]

    assert m.parent_oid is None
    assert by_name["m_eu"].parent_oid == m.oid
    assert by_name["m_us"].parent_oid == m.oid
    assert by_name["m_eu_2024"].parent_oid == m_eu.oid
    assert {r.name for r in catalog.partitions_of(m.oid)} == {"m_eu", "m_us"}
    assert {r.name for r in catalog.partitions_of(m_eu.oid)} == {"m_eu_2024", "m_eu_2025"}
    assert m_eu.kind is RelationKind.PARTITIONED_TABLE

    sizes = [leaf.total_bytes for leaf in leaves]
    assert all(size is not None and size > 0 for size in sizes)
    assert m.total_bytes == sum(size for size in sizes if size is not None)
    assert m_eu.total_bytes == (by_name["m_eu_2024"].total_bytes or 0) + (
        by_name["m_eu_2025"].total_bytes or 0
    )
    # The same sum, measured by PostgreSQL leaf by leaf.
    assert m.total_bytes == await conn.fetchval(
        "SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('m') WHERE isleaf"
    )
    assert by_name["lonely"].total_bytes == 0


async def test_row_estimate_is_none_until_analyzed(conn: asyncpg.Connection) -> None:
    # Autovacuum off, so that nothing analyzes the table behind the test's back.
    await conn.execute(
        """
        CREATE TABLE fresh (id int, v text) WITH (autovacuum_enabled = false);
        INSERT INTO fresh SELECT i, 'v' FROM generate_series(1, 1234) AS i;
        """
    )
    before = (await load_catalog(conn)).find("public", "fresh")
    assert before is not None and before.estimated_rows is None
    await conn.execute("ANALYZE fresh")
    after = (await load_catalog(conn)).find("public", "fresh")
    assert after is not None and after.estimated_rows == 1234


async def test_system_schemas_only_when_asked(conn: asyncpg.Connection) -> None:
    await conn.execute("CREATE TABLE mine (x int); CREATE TEMP TABLE scratch (y int)")
    hidden = await load_catalog(conn)
    names = {s.name for s in hidden.schemas}
    assert not names & {"pg_catalog", "information_schema", "pg_toast"}
    assert not any(n.startswith(("pg_temp_", "pg_toast_temp_")) for n in names)
    assert {r.schema for r in hidden.relations} == {"public"}
    assert hidden.find("public", "mine") is not None

    shown = await load_catalog(conn, include_system=True)
    system = {s.name for s in shown.schemas if s.system}
    assert {"pg_catalog", "information_schema", "pg_toast"} <= system
    assert any(n.startswith("pg_temp_") for n in system)
    assert any(n.startswith("pg_toast_temp_") for n in system)
    assert not {s.name for s in shown.schemas if not s.system} - {"public"}
    pg_class = shown.find("pg_catalog", "pg_class")
    assert pg_class is not None and pg_class.kind is RelationKind.TABLE
    assert shown.find("information_schema", "tables") is not None
    assert any(r.name == "scratch" and r.schema.startswith("pg_temp_") for r in shown.relations)


async def test_select_privilege_is_the_current_users(conn: asyncpg.Connection) -> None:
    role = f"reader_{uuid.uuid4().hex[:8]}"
    await conn.execute(
        f"""
        CREATE TABLE open_to_all (x int);
        CREATE TABLE secret (x int);
        CREATE ROLE {role};
        GRANT SELECT ON open_to_all TO {role};
        """
    )
    try:
        await conn.execute(f"SET ROLE {role}")
        catalog = await load_catalog(conn)
        await conn.execute("RESET ROLE")
        granted, secret = catalog.find("public", "open_to_all"), catalog.find("public", "secret")
        assert granted is not None and granted.can_select
        assert secret is not None and not secret.can_select
    finally:
        await conn.execute(f"RESET ROLE; DROP OWNED BY {role}; DROP ROLE {role}")


@pytest.mark.slow
async def test_three_thousand_tables_in_two_queries_under_two_seconds(
    conn: asyncpg.Connection,
) -> None:
    # One DO block; a COMMIT per schema keeps each transaction's locks within the lock table.
    await conn.execute(
        """
        DO $$
        BEGIN
            FOR s IN 1..30 LOOP
                EXECUTE format('CREATE SCHEMA %I', 'schema_' || s);
                FOR t IN 1..100 LOOP
                    EXECUTE format('CREATE TABLE %I.%I (id int PRIMARY KEY, v text)',
                                   'schema_' || s, 'table_' || t);
                END LOOP;
                COMMIT;
            END LOOP;
        END
        $$
        """
    )
    async with QueryCounter(conn) as counter:
        catalog = await load_catalog(conn)
    assert len(counter.queries) == 2  # however many tables (its speed: benchmarks/)
    assert len([s for s in catalog.schemas if s.name.startswith("schema_")]) == 30
    assert len(catalog.relations) == 3000


# --- describe_relation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ddl", "key", "source"),
    [
        pytest.param(
            "id int PRIMARY KEY, code text UNIQUE NOT NULL", ("id",), "primary key", id="pk"
        ),
        pytest.param(
            "a int, b text, c int, PRIMARY KEY (b, a), UNIQUE (c)",
            ("b", "a"),
            "primary key",
            id="composite-pk-in-key-order",
        ),
        pytest.param(
            "a int NOT NULL, b int NOT NULL, c int NOT NULL,"
            " CONSTRAINT wide UNIQUE (a, b), CONSTRAINT narrow UNIQUE (c)",
            ("c",),
            "unique index narrow",
            id="unique-not-null-fewest-columns",
        ),
        pytest.param(
            "a int NOT NULL, b int NOT NULL, CONSTRAINT zz UNIQUE (b), CONSTRAINT aa UNIQUE (a)",
            ("a",),
            "unique index aa",
            id="unique-tie-broken-by-name",
        ),
        pytest.param(
            "a int UNIQUE, b int NOT NULL", None, "", id="unique-on-nullable-is-not-a-key"
        ),
        pytest.param(
            "a int UNIQUE NULLS NOT DISTINCT, b int", None, "", id="nulls-not-distinct-nullable"
        ),
        pytest.param("a int, b text", None, "", id="no-key"),
    ],
)
async def test_row_key(
    conn: asyncpg.Connection, ddl: str, key: tuple[str, ...] | None, source: str
) -> None:
    await conn.execute(f"CREATE TABLE k ({ddl})")
    detail = await describe_relation(conn, await oid_of(conn, "public", "k"))
    assert (detail.key, detail.key_source) == (key, source)


async def test_partial_and_expression_unique_indexes_are_not_keys(
    conn: asyncpg.Connection,
) -> None:
    await conn.execute(
        """
        CREATE TABLE k (a int NOT NULL, b text NOT NULL, live bool NOT NULL);
        CREATE UNIQUE INDEX k_live ON k (a) WHERE live;
        CREATE UNIQUE INDEX k_lower ON k (lower(b));
        """
    )
    detail = await describe_relation(conn, await oid_of(conn, "public", "k"))
    assert (detail.key, detail.key_source) == (None, "")
    await conn.execute("CREATE UNIQUE INDEX k_ab ON k (a, b)")
    detail = await describe_relation(conn, await oid_of(conn, "public", "k"))
    assert (detail.key, detail.key_source) == (("a", "b"), "unique index k_ab")


async def test_materialized_view_keyed_by_its_unique_index(conn: asyncpg.Connection) -> None:
    await conn.execute(
        """
        CREATE MATERIALIZED VIEW mv AS SELECT i AS id FROM generate_series(1, 3) AS i;
        CREATE UNIQUE INDEX mv_id ON mv (id);
        """
    )
    detail = await describe_relation(conn, await oid_of(conn, "public", "mv"))
    # A materialized view's columns are never NOT NULL, so its unique index is no row key.
    assert detail.kind is RelationKind.MATERIALIZED_VIEW
    assert detail.key is None
    assert [i.name for i in detail.indexes] == ["mv_id"]


async def test_columns_types_defaults_generated_and_identity(conn: asyncpg.Connection) -> None:
    await conn.execute(
        """
        CREATE DOMAIN positive AS int CHECK (VALUE > 0);
        CREATE TABLE c (
            id bigint GENERATED ALWAYS AS IDENTITY,
            seq int GENERATED BY DEFAULT AS IDENTITY,
            dropped_soon int,
            price numeric(10, 2) NOT NULL DEFAULT 0,
            qty positive,
            total numeric GENERATED ALWAYS AS (price * qty) STORED,
            label varchar(40) DEFAULT 'n/a',
            flag boolean,
            at timestamptz DEFAULT now(),
            doc jsonb,
            tags text[]
        );
        ALTER TABLE c DROP COLUMN dropped_soon;
        COMMENT ON COLUMN c.price IS 'in euros';
        """
    )
    detail = await describe_relation(conn, await oid_of(conn, "public", "c"))
    cols = {c.name: c for c in detail.columns}
    assert list(cols) == [
        "id", "seq", "price", "qty", "total", "label", "flag", "at", "doc", "tags"
    ]  # fmt: skip
    assert [c.attnum for c in detail.columns] == [1, 2, 4, 5, 6, 7, 8, 9, 10, 11]
    assert cols["id"].identity is Identity.ALWAYS and cols["id"].not_null
    assert cols["seq"].identity is Identity.BY_DEFAULT
    assert cols["price"].identity is None
    assert cols["id"].default is None  # an identity is not a DEFAULT expression
    assert (cols["price"].type, cols["price"].default, cols["price"].comment) == (
        "numeric(10,2)",
        "0",
        "in euros",
    )
    assert cols["total"].generated == "(price * (qty)::numeric)"
    assert cols["total"].default is None
    assert cols["label"].type == "character varying(40)"
    assert cols["label"].default == "'n/a'::character varying"
    assert cols["at"].default == "now()"
    assert cols["qty"].type == "positive"
    categories = {name: c.category for name, c in cols.items()}
    assert categories == {
        "id": "N", "seq": "N", "price": "N", "qty": "N", "total": "N", "label": "S",
        "flag": "B", "at": "D", "doc": "U", "tags": "A",
    }  # fmt: skip
    assert cols["price"].numeric and not cols["label"].numeric
    assert detail.column("flag") is cols["flag"]
    with pytest.raises(KeyError):
        detail.column("dropped_soon")


async def test_indexes_say_what_they_can_sort(conn: asyncpg.Connection) -> None:
    await conn.execute(
        """
        CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL, w int, v text, doc jsonb);
        CREATE INDEX t_n_w ON t (n, w) INCLUDE (v);
        CREATE INDEX t_w ON t (w DESC);
        CREATE INDEX t_expr ON t (n, lower(v));
        CREATE INDEX t_doc ON t USING gin (doc);
        CREATE INDEX t_partial ON t (n) WHERE w > 0;
        INSERT INTO t SELECT i, i, i, 'v' FROM generate_series(1, 1000) AS i;
        """
    )
    detail = await describe_relation(conn, await oid_of(conn, "public", "t"))
    idx = {i.name: i for i in detail.indexes}
    assert detail.indexes[0].name == "t_pkey"  # primary key first, then by name
    assert [i.name for i in detail.indexes[1:]] == sorted(idx.keys() - {"t_pkey"})

    pkey = idx["t_pkey"]
    assert (pkey.primary, pkey.unique, pkey.valid, pkey.partial) == (True, True, True, False)
    assert (pkey.columns, pkey.leading_column, pkey.all_not_null) == (("id",), "id", True)
    assert pkey.definition == "CREATE UNIQUE INDEX t_pkey ON public.t USING btree (id)"
    assert pkey.size_bytes > 0 and pkey.method == "btree"

    n_w = idx["t_n_w"]
    assert (n_w.columns, n_w.include, n_w.leading_column) == (("n", "w"), ("v",), "n")
    assert not n_w.all_not_null  # w may be NULL
    assert (idx["t_w"].leading_column, idx["t_w"].all_not_null) == ("w", False)
    expr = idx["t_expr"]
    assert (expr.columns, expr.leading_column, expr.all_not_null) == (None, "n", False)
    assert idx["t_doc"].method == "gin"
    assert idx["t_partial"].partial and not idx["t_n_w"].partial


async def test_constraints_and_foreign_keys_both_ways(conn: asyncpg.Connection) -> None:
    await conn.execute(
        """
        CREATE TABLE customers (id int PRIMARY KEY, email text UNIQUE);
        CREATE TABLE orders (
            id int PRIMARY KEY,
            customer_id int REFERENCES customers ON DELETE CASCADE,
            parent_id int,
            qty int CONSTRAINT qty_positive CHECK (qty > 0),
            CONSTRAINT orders_parent FOREIGN KEY (parent_id) REFERENCES orders (id)
        );
        CREATE TABLE lines (
            order_id int, line int, PRIMARY KEY (order_id, line),
            CONSTRAINT lines_order FOREIGN KEY (order_id) REFERENCES orders ON UPDATE RESTRICT
        );
        CREATE TABLE notes (order_id int, line int);
        ALTER TABLE notes ADD CONSTRAINT notes_line FOREIGN KEY (order_id, line)
            REFERENCES lines (order_id, line) NOT VALID;
        """
    )
    orders = await describe_relation(conn, await oid_of(conn, "public", "orders"))
    own = {c.name: c for c in orders.constraints}
    assert {name: c.type for name, c in own.items()} == {
        "orders_pkey": ConstraintType.PRIMARY_KEY,
        "orders_customer_id_fkey": ConstraintType.FOREIGN_KEY,
        "orders_parent": ConstraintType.FOREIGN_KEY,
        "qty_positive": ConstraintType.CHECK,
    }
    assert own["qty_positive"].definition == "CHECK ((qty > 0))"

    out = {fk.name: fk for fk in orders.foreign_keys}
    assert set(out) == {"orders_customer_id_fkey", "orders_parent"}
    to_customers = out["orders_customer_id_fkey"]
    assert (to_customers.target.schema, to_customers.target.name) == ("public", "customers")
    assert to_customers.source.oid == orders.oid
    assert (to_customers.source_columns, to_customers.target_columns) == (("customer_id",), ("id",))
    assert to_customers.on_delete is ReferentialAction.CASCADE
    assert to_customers.on_update is ReferentialAction.NO_ACTION
    assert to_customers.definition.startswith("FOREIGN KEY (customer_id) REFERENCES customers(id)")

    incoming = {fk.name: fk for fk in orders.referenced_by}
    assert set(incoming) == {"lines_order", "orders_parent"}  # self-reference goes both ways
    assert incoming["lines_order"].source.name == "lines"
    assert incoming["lines_order"].on_update is ReferentialAction.RESTRICT

    lines = await describe_relation(conn, await oid_of(conn, "public", "lines"))
    (notes_line,) = lines.referenced_by
    assert notes_line.source_columns == notes_line.target_columns == ("order_id", "line")
    assert not notes_line.validated
    customers = await describe_relation(conn, await oid_of(conn, "public", "customers"))
    assert customers.foreign_keys == ()
    assert [fk.name for fk in customers.referenced_by] == ["orders_customer_id_fkey"]
    assert {c.type for c in customers.constraints} == {
        ConstraintType.PRIMARY_KEY,
        ConstraintType.UNIQUE,
    }


async def test_foreign_keys_between_partitioned_tables_are_listed_once(
    conn: asyncpg.Connection,
) -> None:
    await conn.execute(
        """
        CREATE TABLE accounts (id int PRIMARY KEY) PARTITION BY HASH (id);
        CREATE TABLE accounts_0 PARTITION OF accounts FOR VALUES WITH (MODULUS 2, REMAINDER 0);
        CREATE TABLE accounts_1 PARTITION OF accounts FOR VALUES WITH (MODULUS 2, REMAINDER 1);
        CREATE TABLE moves (account_id int NOT NULL REFERENCES accounts, at date NOT NULL)
            PARTITION BY RANGE (at);
        CREATE TABLE moves_2024 PARTITION OF moves
            FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
        CREATE TABLE moves_2025 PARTITION OF moves
            FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        """
    )
    accounts = await describe_relation(conn, await oid_of(conn, "public", "accounts"))
    assert [(fk.source.name, fk.target.name) for fk in accounts.referenced_by] == [
        ("moves", "accounts")
    ]
    assert accounts.key == ("id",)
    partition = await describe_relation(conn, await oid_of(conn, "public", "accounts_0"))
    assert [fk.source.name for fk in partition.referenced_by] == ["moves"]
    moves_2024 = await describe_relation(conn, await oid_of(conn, "public", "moves_2024"))
    # Declared on the parent: shown once, from the parent, like psql's \d.
    assert [(fk.source.name, fk.target.name) for fk in moves_2024.foreign_keys] == [
        ("moves", "accounts")
    ]


async def test_stats_for_tables_and_none_for_views(conn: asyncpg.Connection) -> None:
    await conn.execute(
        """
        CREATE TABLE s (id int PRIMARY KEY, v int);
        CREATE TABLE no_index (v int);
        INSERT INTO s SELECT i, i FROM generate_series(1, 100) AS i;
        DELETE FROM s WHERE id <= 10;
        CREATE VIEW sv AS SELECT * FROM s;
        """
    )
    await conn.fetch("SELECT * FROM s")
    await conn.fetch("SELECT * FROM s WHERE id = 50")
    await conn.execute("VACUUM no_index")
    # Counters reach shared memory when the backend next goes idle, before it answers.
    await conn.execute("SELECT pg_stat_force_next_flush()")

    detail = await describe_relation(conn, await oid_of(conn, "public", "s"))
    stats = detail.stats
    assert stats is not None
    assert stats.seq_scan >= 1
    assert stats.idx_scan is not None and stats.idx_scan >= 1
    assert (stats.n_live_tup, stats.n_dead_tup) == (90, 10)
    assert stats.last_vacuum is None and stats.last_analyze is None

    plain = await describe_relation(conn, await oid_of(conn, "public", "no_index"))
    assert plain.stats is not None
    assert plain.stats.idx_scan is None
    assert plain.stats.last_vacuum is not None

    view = await describe_relation(conn, await oid_of(conn, "public", "sv"))
    assert view.kind is RelationKind.VIEW
    assert view.stats is None and view.indexes == () and view.key is None
    assert [c.name for c in view.columns] == ["id", "v"]


async def test_describe_takes_four_queries(conn: asyncpg.Connection) -> None:
    await conn.execute("CREATE TABLE q (id int PRIMARY KEY, v text UNIQUE)")
    oid = await oid_of(conn, "public", "q")
    async with QueryCounter(conn) as counter:
        await describe_relation(conn, oid)
    assert len(counter.queries) == 4, [q[:80] for q in counter.queries]


async def test_describe_refuses_unknown_or_unlisted_oids(conn: asyncpg.Connection) -> None:
    await conn.execute("CREATE TABLE gone (id int PRIMARY KEY)")
    index_oid = await conn.fetchval("SELECT 'gone_pkey'::regclass::oid")
    oid = await oid_of(conn, "public", "gone")
    await conn.execute("DROP TABLE gone")
    with pytest.raises(RelationNotFound):
        await describe_relation(conn, oid)
    with pytest.raises(RelationNotFound):
        await describe_relation(conn, index_oid)


# --- names -------------------------------------------------------------------------------

HOSTILE_SCHEMAS = ("My Schema", 'we"ird', "select", "Ünïcödé ✓", 'x"; DROP TABLE x; --')
HOSTILE_TABLES = ("Order", 'ta"ble', "from", "naïve café", 'x"; DROP TABLE x; --', " a.b ")


async def test_hostile_names_come_back_exactly(conn: asyncpg.Connection) -> None:
    await conn.execute("CREATE TABLE x (id int)")
    for schema in HOSTILE_SCHEMAS:
        await conn.execute(f"CREATE SCHEMA {quote_ident(schema)}")
        for table in HOSTILE_TABLES:
            await conn.execute(
                f"CREATE TABLE {qualified(schema, table)} ("
                f"{quote_ident(table)} int PRIMARY KEY, {quote_ident(schema + '?')} text)"
            )
            await conn.execute(
                f"COMMENT ON TABLE {qualified(schema, table)} IS $${schema}/{table}$$"
            )

    catalog = await load_catalog(conn)
    assert set(HOSTILE_SCHEMAS) <= {s.name for s in catalog.schemas}
    for schema in HOSTILE_SCHEMAS:
        assert {r.name for r in catalog.relations_in(schema)} == set(HOSTILE_TABLES)
        for table in HOSTILE_TABLES:
            relation = catalog.find(schema, table)
            assert relation is not None and relation.comment == f"{schema}/{table}"
            assert await resolve_relation(conn, schema, table) == relation.oid
            assert parse_qualified_name(relation.qualified_name) == (schema, table)
            detail = await describe_relation(conn, relation.oid)
            assert (detail.schema, detail.name) == (schema, table)
            assert [c.name for c in detail.columns] == [table, schema + "?"]
            assert detail.key == (table,)
            assert detail.indexes[0].columns == (table,)
    assert await resolve_relation(conn, "public", "x") is not None  # nothing was dropped
    assert await resolve_relation(conn, "my schema", "Order") is None


async def test_resolve_relation(conn: asyncpg.Connection) -> None:
    await conn.execute(
        """
        CREATE SCHEMA app;
        CREATE TABLE app."Orders" (id int PRIMARY KEY);
        CREATE TABLE app.orders (id int);
        CREATE TABLE public.orders (id int);
        CREATE SEQUENCE app.counter;
        """
    )
    upper = await resolve_relation(conn, "app", "Orders")
    lower = await resolve_relation(conn, "app", "orders")
    assert upper is not None and lower is not None and upper != lower
    assert await resolve_relation(conn, "app", "ORDERS") is None
    assert await resolve_relation(conn, "app", "Orders_pkey") is None  # an index
    assert await resolve_relation(conn, "app", "counter") is None  # a sequence
    assert await resolve_relation(conn, "nowhere", "orders") is None
    # Without a schema, the search_path decides, as in SQL.
    assert await resolve_relation(conn, None, "orders") == await resolve_relation(
        conn, "public", "orders"
    )
    await conn.execute("SET search_path = app, public")
    assert await resolve_relation(conn, None, "orders") == lower
    assert await resolve_relation(conn, None, "pg_class") is not None  # pg_catalog, implicitly
    assert await resolve_relation(conn, None, "missing") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("public.orders", ("public", "orders")),
        ("Orders", (None, "orders")),
        ("Public.ORDERS", ("public", "orders")),
        ('"My Schema"."Order"', ("My Schema", "Order")),
        ('"a.b".c', ("a.b", "c")),
        ('a."b.c"', ("a", "b.c")),
        ('"say ""hi"""', (None, 'say "hi"')),
        ('"""', None),
        ("  spaced . out  ", ("spaced", "out")),
        ("Ärger", (None, "Ärger")),  # only ASCII letters fold, as in a UTF-8 database
        ("ÄrgerX", (None, "Ärgerx")),
        ('"x""; DROP TABLE x; --"', (None, 'x"; DROP TABLE x; --')),
        ("_t$1", (None, "_t$1")),
        ("a" * 70, (None, "a" * 63)),  # cut to 63 bytes, like the server
        ("é" * 40, (None, "é" * 31)),  # ... on a character boundary
    ],
)
def test_parse_qualified_name(text: str, expected: tuple[str | None, str] | None) -> None:
    if expected is None:
        with pytest.raises(ValueError, match="unterminated"):
            parse_qualified_name(text)
    else:
        assert parse_qualified_name(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty name"),
        ("   ", "empty name"),
        ("a.b.c", "too many dots"),
        ('"a"."b"."c"', "too many dots"),
        ('"unterminated', "unterminated"),
        ('a."b', "unterminated"),
        ('""', "empty quoted name"),
        ("a.", "empty part"),
        (".a", "empty part"),
        ("a..b", "empty part"),
        ('"a"b', "unexpected 'b'"),
        ('a"b"', "quote inside an unquoted name"),
        ("my table", "unexpected 't'"),
        ('"nul\x00"', "NUL"),
    ],
)
def test_parse_qualified_name_refuses_malformed_input(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_qualified_name(text)


def test_choose_key_prefers_the_primary_key_over_a_narrower_unique_index() -> None:
    def index(name: str, columns: tuple[str, ...], **flags: bool) -> IndexInfo:
        return IndexInfo(
            oid=1,
            name=name,
            definition="",
            method="btree",
            unique=True,
            primary=flags.get("primary", False),
            valid=flags.get("valid", True),
            partial=False,
            columns=columns,
            include=(),
            leading_column=columns[0],
            all_not_null=True,
            size_bytes=0,
        )

    assert choose_key([index("u", ("a",)), index("pk", ("a", "b"), primary=True)]) == (
        ("a", "b"),
        "primary key",
    )
    assert choose_key([index("broken", ("a",), valid=False), index("ok", ("a", "b"))]) == (
        ("a", "b"),
        "unique index ok",
    )
    assert choose_key([]) == (None, "")


def test_catalog_lookups_without_a_server() -> None:
    assert Catalog(schemas=(), relations=()).find("public", "t") is None
    assert RelationKind.from_relkind("p") is RelationKind.PARTITIONED_TABLE
    assert RelationKind.MATERIALIZED_VIEW.relkind == "m"
    assert RelationKind.TABLE.has_storage and not RelationKind.VIEW.has_storage
    with pytest.raises(ValueError, match="not a listed relation kind"):
        RelationKind.from_relkind("i")


async def test_a_table_locked_access_exclusive_is_listed_without_waiting_for_it(
    cluster: ThrowawayCluster, dbname: str, conn: asyncpg.Connection
) -> None:
    await conn.execute(
        "CREATE TABLE busy (id int PRIMARY KEY); CREATE TABLE calm (id int PRIMARY KEY);"
        "INSERT INTO calm VALUES (1);"
    )
    holder = await admin_connect(cluster, dbname)
    try:
        await holder.execute("BEGIN; LOCK TABLE busy IN ACCESS EXCLUSIVE MODE")
        # Waiting on the lock would outlast wait_for (lock_timeout is longer than its limit).
        await conn.execute("SET lock_timeout = '30s'")
        catalog = await asyncio.wait_for(load_catalog(conn), 10)
        busy, calm = catalog.find("public", "busy"), catalog.find("public", "calm")
        assert busy is not None and busy.total_bytes is None  # not measured: it is locked
        assert calm is not None and calm.total_bytes is not None and calm.total_bytes > 0
    finally:
        await holder.close()
