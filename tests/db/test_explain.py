"""Plans as trees: parsing EXPLAIN's JSON, and EXPLAIN [ANALYZE] against a real server."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from pgconsole.db.console.explain import explain, explained, parse_plan
from pgconsole.db.sqltext import Statement

DOCUMENT: list[dict[str, Any]] = [
    {
        "Plan": {
            "Node Type": "Hash Join",
            "Join Type": "Left",
            "Startup Cost": 1.0,
            "Total Cost": 100.0,
            "Plan Rows": 10,
            "Plan Width": 8,
            "Actual Startup Time": 0.1,
            "Actual Total Time": 10.0,
            "Actual Rows": 1000,
            "Actual Loops": 1,
            "Hash Cond": "(a.id = b.a_id)",
            "Plans": [
                {
                    "Node Type": "Seq Scan",
                    "Relation Name": "a",
                    "Alias": "a",
                    "Startup Cost": 0.0,
                    "Total Cost": 60.0,
                    "Plan Rows": 10,
                    "Plan Width": 4,
                    "Actual Startup Time": 0.0,
                    "Actual Total Time": 2.0,
                    "Actual Rows": 1000,
                    "Actual Loops": 2,
                    "Filter": "(v > 0)",
                    "Rows Removed by Filter": 5,
                },
                {
                    "Node Type": "Index Scan",
                    "Index Name": "b_pkey",
                    "Relation Name": "b",
                    "Alias": "bb",
                    "Startup Cost": 0.0,
                    "Total Cost": 30.0,
                    "Plan Rows": 1,
                    "Plan Width": 4,
                    "Actual Loops": 0,
                },
            ],
        },
        "Planning Time": 0.5,
        "Execution Time": 10.5,
    }
]


def test_parse_plan_names_nodes_and_computes_their_own_time() -> None:
    plan = parse_plan(DOCUMENT)
    root = plan.root
    assert plan.analyzed and plan.planning_ms == 0.5 and plan.execution_ms == 10.5
    assert root.summary == "Hash Left Join"
    assert root.details == ("Hash Cond: (a.id = b.a_id)",)
    scan, index = root.children
    assert scan.summary == "Seq Scan on a"
    assert index.summary == "Index Scan using b_pkey on b bb"
    assert scan.self_ms == pytest.approx(4.0)  # 2 ms x 2 loops
    assert root.self_ms == pytest.approx(6.0)  # 10 ms minus the scans' 4
    assert index.actual_total_ms is None and index.self_ms is None  # never executed
    assert root.self_cost == pytest.approx(10.0)
    assert "Rows Removed by Filter: 5" in scan.details
    assert plan.hottest()[0] is root


def test_an_unanalysed_plan_ranks_nodes_by_their_own_cost() -> None:
    plan_fields: dict[str, Any] = dict(DOCUMENT[0]["Plan"])
    document = {"Plan": plan_fields}
    for key in ("Actual Startup Time", "Actual Total Time", "Actual Rows", "Actual Loops"):
        document["Plan"].pop(key)
    plan = parse_plan([document])
    assert not plan.analyzed
    assert plan.hottest()[0].summary == "Seq Scan on a"  # cost 60 of 100


async def test_explain_a_join_and_analyze_it(conn: asyncpg.Connection) -> None:
    await conn.execute(
        'CREATE TABLE "My [red] T" (id int PRIMARY KEY, v int);'
        "CREATE TABLE b (id int PRIMARY KEY, a_id int);"
        'INSERT INTO "My [red] T" SELECT g, g FROM generate_series(1, 5000) g;'
        "INSERT INTO b SELECT g, g FROM generate_series(1, 5000) g;"
        'ANALYZE "My [red] T"; ANALYZE b'
    )
    sql = 'SELECT * FROM "My [red] T" a JOIN b ON b.a_id = a.id'
    plan = await explain(conn, sql)
    assert "Join" in plan.root.node_type
    summaries = [node.summary for node in plan.root.walk()]
    assert any("on My [red] T a" in s for s in summaries), summaries
    assert plan.root.total_cost > 0 and not plan.analyzed
    analysed = await explain(conn, sql, analyze=True)
    assert analysed.analyzed and analysed.rolled_back
    assert analysed.root.actual_total_ms is not None and analysed.root.loops == 1
    assert analysed.root.shared_hit is not None
    assert analysed.hottest()


@pytest.mark.parametrize(
    "sql",
    ["UPDATE t SET v = v + 1", "DELETE FROM t", "INSERT INTO t SELECT * FROM t"],
)
async def test_analyze_of_a_writing_statement_keeps_nothing(
    conn: asyncpg.Connection, sql: str
) -> None:
    await conn.execute("CREATE TABLE t (v int); INSERT INTO t SELECT generate_series(1, 100)")
    plan = await explain(conn, sql, analyze=True)
    assert plan.rolled_back and plan.analyzed
    row = await conn.fetchrow("SELECT count(*), sum(v) FROM t")
    assert row is not None and tuple(row) == (100, 5050)
    # Inside the user's transaction: a savepoint, and the user's own change stays.
    async with conn.transaction():
        await conn.execute("UPDATE t SET v = 0 WHERE v = 1")
        await explain(conn, sql, analyze=True, in_transaction=True)
        assert await conn.fetchval("SELECT count(*) FROM t WHERE v = 0") == 1
        assert await conn.fetchval("SELECT count(*) FROM t") == 100
        with pytest.raises(asyncpg.PostgresError):
            await explain(conn, "UPDATE t SET v = 1 / 0", analyze=True, in_transaction=True)
        assert await conn.fetchval("SELECT count(*) FROM t WHERE v = 0") == 1  # still usable


async def test_a_second_statement_is_refused(conn: asyncpg.Connection) -> None:
    await conn.execute("CREATE TABLE keep (id int)")
    with pytest.raises(asyncpg.PostgresError):
        await explain(conn, "SELECT 1; DROP TABLE keep", analyze=True)
    assert await conn.fetchval("SELECT to_regclass('keep') IS NOT NULL")


@pytest.mark.parametrize(
    ("sql", "inner"),
    [
        ("EXPLAIN ANALYZE SELECT 1", "SELECT 1"),
        ("explain analyse verbose\n  select 1", "select 1"),
        ("-- from the history\n/* a /* nested */ note */ Explain Verbose SELECT 1", "SELECT 1"),
        ("EXPLAIN /* here */ ANALYZE -- and here\nSELECT 1", "SELECT 1"),
        ("explain (analyze, buffers, format text) select (1)", "select (1)"),
        ("EXPLAIN(FORMAT JSON)SELECT 1", "SELECT 1"),
        ("EXPLAIN (SELECT 1)", "(SELECT 1)"),
        ("EXPLAIN ((SELECT 1))", "((SELECT 1))"),
        ("EXPLAIN (ANALYZE) (SELECT 1)", "(SELECT 1)"),
        ("EXPLAIN WITH x AS (SELECT 1) SELECT * FROM x", "WITH x AS (SELECT 1) SELECT * FROM x"),
        ("SELECT 'EXPLAIN ANALYZE'", "SELECT 'EXPLAIN ANALYZE'"),
        ("explained", "explained"),
        ("EXPLAIN ANALYZE", "EXPLAIN ANALYZE"),  # nothing to explain: the server says so
        ("EXPLAIN (ANALYZE", "EXPLAIN (ANALYZE"),
    ],
)
def test_a_statements_own_explain_is_left_out(sql: str, inner: str) -> None:
    statement = Statement(sql, 100, 100 + len(sql))
    found = explained(statement)
    assert found.text == inner
    assert sql[found.start - 100 :] == inner and found.end == statement.end  # in its place


@pytest.mark.parametrize("analyze", [False, True])
@pytest.mark.parametrize(
    "sql",
    [
        "EXPLAIN ANALYZE SELECT count(*) FROM generate_series(1, 10)",
        "explain (analyze, buffers, format text)\n SELECT count(*) FROM generate_series(1, 10)",
        "-- recalled\nExplain Verbose SELECT count(*) FROM generate_series(1, 10)",
    ],
)
async def test_a_statement_that_is_an_explain_is_explained_once(
    conn: asyncpg.Connection, sql: str, analyze: bool
) -> None:
    plan = await explain(conn, sql, analyze=analyze)
    assert plan.root.node_type == "Aggregate" and plan.analyzed is analyze


async def test_analyze_of_an_explained_write_keeps_nothing(conn: asyncpg.Connection) -> None:
    await conn.execute("CREATE TABLE t (v int); INSERT INTO t SELECT generate_series(1, 100)")
    plan = await explain(conn, "EXPLAIN ANALYZE DELETE FROM t", analyze=True)
    assert plan.analyzed and plan.rolled_back
    assert await conn.fetchval("SELECT count(*) FROM t") == 100


@pytest.mark.parametrize("analyze", [False, True])
@pytest.mark.parametrize(
    "sql", ["select nme from pg_class", "EXPLAIN (COSTS off) select nme from pg_class"]
)
async def test_an_errors_position_is_in_the_users_statement(
    conn: asyncpg.Connection, sql: str, analyze: bool
) -> None:
    # The server counts from the EXPLAIN pgconsole adds; the editor's caret needs the place in
    # what the user wrote.
    with pytest.raises(asyncpg.UndefinedColumnError) as raised:
        await explain(conn, sql, analyze=analyze)
    assert raised.value.position == str(sql.index("nme") + 1)
