"""Plans as trees: EXPLAIN (FORMAT JSON) read into nodes with their own (exclusive) cost and time.

`EXPLAIN ANALYZE` runs the statement. The console wants the plan, not the change: the
statement runs inside `BEGIN … ROLLBACK`, or inside a savepoint that is rolled back when the
user's transaction is open, so nothing it writes is kept and the user's transaction stays as
it was, also when the statement fails.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from pgconsole.db.sqltext import Statement, Token, TokenKind, tokens

HOT_SHARE = 0.10
"""A node is among the hottest only with at least this share of the plan's time (or cost)."""
SAVEPOINT = "pgconsole_explain"

_DETAIL_KEYS = (
    "Hash Cond",
    "Merge Cond",
    "Join Filter",
    "Index Cond",
    "Recheck Cond",
    "Filter",
    "One-Time Filter",
    "Sort Key",
    "Group Key",
    "Presorted Key",
    "Sort Method",
    "Rows Removed by Filter",
    "Rows Removed by Join Filter",
    "Rows Removed by Index Recheck",
    "Heap Fetches",
    "Workers Planned",
    "Workers Launched",
    "Output",
)


@dataclass(frozen=True)
class PlanNode:
    """One node of a plan, as EXPLAIN's text format would name it, with its figures."""

    node_type: str
    summary: str
    """`Hash Join`, `Seq Scan on people p`, `Index Scan using people_pkey on people`, …"""
    details: tuple[str, ...]
    """`Filter: …`, `Hash Cond: …`, `Sort Key: …`, `Rows Removed by Filter: 3`, …"""
    startup_cost: float
    total_cost: float
    plan_rows: float
    plan_width: int
    actual_startup_ms: float | None
    """None without ANALYZE, or when the node never ran."""
    actual_total_ms: float | None
    actual_rows: float | None
    loops: int | None
    shared_hit: int | None
    shared_read: int | None
    shared_dirtied: int | None
    shared_written: int | None
    temp_read: int | None
    temp_written: int | None
    self_ms: float | None
    """Time in this node alone: its total over all loops minus its children's."""
    self_cost: float
    """Cost of this node alone: its total cost minus its children's."""
    children: tuple[PlanNode, ...]

    def walk(self) -> list[PlanNode]:
        """This node and every node under it, depth first."""
        nodes = [self]
        for child in self.children:
            nodes.extend(child.walk())
        return nodes


@dataclass(frozen=True)
class Plan:
    """A whole plan and the figures EXPLAIN gives beside it."""

    root: PlanNode
    analyzed: bool
    planning_ms: float | None
    execution_ms: float | None
    triggers: tuple[str, ...]
    rolled_back: bool
    """ANALYZE ran the statement inside a transaction or savepoint that was rolled back."""

    def own(self, node: PlanNode) -> float:
        """What `node` spent on its own: its time when analysed, else its cost."""
        return (node.self_ms or 0.0) if self.analyzed else node.self_cost

    def share(self, node: PlanNode) -> float | None:
        """`node`'s own time (or cost) as a share of all the nodes' (None when that is 0):
        the measure `hottest` ranks by. Of the nodes' time, not the execution time, which
        also counts the work outside them."""
        total = sum(self.own(each) for each in self.root.walk())
        return self.own(node) / total if total > 0 else None

    def hottest(self, n: int = 3) -> tuple[PlanNode, ...]:
        """The nodes that cost the most on their own (time when analysed, else cost), at
        most `n`, each with at least `HOT_SHARE` of the total."""
        nodes = self.root.walk()
        total = sum(self.own(node) for node in nodes)
        if total <= 0:
            return ()
        ranked = sorted(nodes, key=self.own, reverse=True)
        return tuple(node for node in ranked[:n] if self.own(node) / total >= HOT_SHARE)


def parse_plan(document: Any, *, rolled_back: bool = False) -> Plan:
    """The Plan in EXPLAIN (FORMAT JSON)'s output: a list holding one object (or its text)."""
    if isinstance(document, str):
        document = json.loads(document)
    top = document[0] if isinstance(document, list) else document
    root = _node(top["Plan"])
    triggers = tuple(
        f"{t.get('Trigger Name', '?')} on {t.get('Relation', '?')}: "
        f"time={t.get('Time', 0):.3f} ms calls={t.get('Calls', 0)}"
        for t in top.get("Triggers", ())
    )
    analyzed = root.actual_total_ms is not None or "Execution Time" in top
    return Plan(
        root=root,
        analyzed=analyzed,
        planning_ms=top.get("Planning Time"),
        execution_ms=top.get("Execution Time"),
        triggers=triggers,
        rolled_back=rolled_back,
    )


def _node(raw: dict[str, Any]) -> PlanNode:
    children = tuple(_node(child) for child in raw.get("Plans", ()))
    loops = raw.get("Actual Loops")
    never_ran = loops == 0
    total_ms = None if never_ran else raw.get("Actual Total Time")
    self_ms = None
    if total_ms is not None:
        mine = total_ms * (loops or 1)
        theirs = sum(
            (c.actual_total_ms or 0.0) * (c.loops or 1)
            for c in children
            if c.actual_total_ms is not None
        )
        self_ms = max(0.0, mine - theirs)
    total_cost = float(raw.get("Total Cost", 0.0))
    return PlanNode(
        node_type=raw.get("Node Type", "?"),
        summary=_summary(raw),
        details=_details(raw),
        startup_cost=float(raw.get("Startup Cost", 0.0)),
        total_cost=total_cost,
        plan_rows=float(raw.get("Plan Rows", 0.0)),
        plan_width=int(raw.get("Plan Width", 0)),
        actual_startup_ms=None if never_ran else raw.get("Actual Startup Time"),
        actual_total_ms=total_ms,
        actual_rows=None if never_ran else raw.get("Actual Rows"),
        loops=loops,
        shared_hit=raw.get("Shared Hit Blocks"),
        shared_read=raw.get("Shared Read Blocks"),
        shared_dirtied=raw.get("Shared Dirtied Blocks"),
        shared_written=raw.get("Shared Written Blocks"),
        temp_read=raw.get("Temp Read Blocks"),
        temp_written=raw.get("Temp Written Blocks"),
        self_ms=self_ms,
        self_cost=max(0.0, total_cost - sum(c.total_cost for c in children)),
        children=children,
    )


def _summary(raw: dict[str, Any]) -> str:
    """The node's line as EXPLAIN's text format starts it."""
    node_type = raw.get("Node Type", "?")
    name = node_type
    strategy = raw.get("Strategy")
    if node_type == "Aggregate" and strategy in ("Hashed", "Sorted", "Mixed"):
        name = {"Hashed": "HashAggregate", "Sorted": "GroupAggregate", "Mixed": "MixedAggregate"}[
            strategy
        ]
    elif node_type == "ModifyTable" and "Operation" in raw:
        name = str(raw["Operation"])
    join = raw.get("Join Type")
    if join and join != "Inner":
        words = name.split(" ", 1)
        name = f"{words[0]} {join} {words[1]}" if len(words) == 2 else f"{name} {join}"
    if raw.get("Parallel Aware"):
        name = f"Parallel {name}"
    if "Index Name" in raw:
        name += f" using {raw['Index Name']}"
    if "Relation Name" in raw:
        relation = raw["Relation Name"]
        if "Schema" in raw:
            relation = f"{raw['Schema']}.{relation}"
        name += f" on {relation}"
        alias = raw.get("Alias")
        if alias and alias != raw["Relation Name"]:
            name += f" {alias}"
    elif "CTE Name" in raw:
        name += f" on {raw['CTE Name']}"
    elif "Function Name" in raw:
        name += f" on {raw['Function Name']}"
    if raw.get("Subplan Name"):
        name = f"{raw['Subplan Name']}: {name}"
    return str(name)


def _details(raw: dict[str, Any]) -> tuple[str, ...]:
    lines = []
    for key in _DETAIL_KEYS:
        if key not in raw:
            continue
        value = raw[key]
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        lines.append(f"{key}: {value}")
    return tuple(lines)


_EXPLAIN_WORDS = frozenset({"ANALYZE", "ANALYSE", "VERBOSE"})
"""The options of EXPLAIN's old syntax, written before the statement without parentheses."""
_QUERY_WORDS = frozenset({"SELECT", "VALUES", "WITH", "TABLE"})
"""How a query in parentheses starts (`EXPLAIN (SELECT 1)`); an option never does."""


def explained(statement: Statement) -> Statement:
    """The statement a leading EXPLAIN explains, or `statement` when it is no EXPLAIN.

    `EXPLAIN`, its options (`(ANALYZE, BUFFERS)` or the old `ANALYZE VERBOSE`, in any case)
    and the comments before and among them are left out; the statement keeps its place in the
    script (`start`), so an error's position still points into it. An EXPLAIN with nothing
    after it comes back as it was: the server says what is wrong with it.
    """
    found = [
        token
        for token in tokens(statement.text)
        if token.kind not in (TokenKind.SPACE, TokenKind.COMMENT)
    ]
    if not found or found[0].kind is not TokenKind.WORD or found[0].text.upper() != "EXPLAIN":
        return statement
    at = 1
    if _punct(found, 1, "(") and not _query_at(found, 2):
        depth = 0
        for index in range(1, len(found)):  # to the parenthesis that closes the options
            depth += _punct(found, index, "(") - _punct(found, index, ")")
            at = index + 1
            if depth == 0:
                break
    else:
        while at < len(found) and _word(found[at]) in _EXPLAIN_WORDS:
            at += 1
    return statement if at >= len(found) else _from(statement, found[at])


def _word(token: Token) -> str:
    return token.text.upper() if token.kind is TokenKind.WORD else ""


def _punct(found: list[Token], at: int, text: str) -> bool:
    return at < len(found) and found[at].kind is TokenKind.PUNCT and found[at].text == text


def _query_at(found: list[Token], at: int) -> bool:
    """A query in parentheses starts at `at` (`EXPLAIN (SELECT 1)`), not EXPLAIN's options."""
    return _punct(found, at, "(") or (at < len(found) and _word(found[at]) in _QUERY_WORDS)


def _from(statement: Statement, token: Token) -> Statement:
    """`statement` from `token` on, in its place in the script."""
    return Statement(statement.text[token.start :], statement.start + token.start, statement.end)


async def explain(
    conn: asyncpg.Connection | PoolConnectionProxy,
    statement: str,
    *,
    analyze: bool = False,
    in_transaction: bool = False,
) -> Plan:
    """EXPLAIN (FORMAT JSON[, ANALYZE, BUFFERS]) `statement`.

    With `analyze` the statement runs inside `BEGIN … ROLLBACK`, or inside a savepoint rolled
    back when `in_transaction` (the user's transaction is open on `conn`). The statement goes
    through the extended protocol: a second statement after a `;` is refused by the server.
    A statement that is an EXPLAIN already (one recalled from the history) is explained as
    asked here, its own EXPLAIN and options left out (`explained`): EXPLAIN twice is an error.

    Raises:
        asyncpg.PostgresError: The server refused the statement or it failed.
    """
    options = "FORMAT JSON, ANALYZE, BUFFERS" if analyze else "FORMAT JSON"
    inner = explained(Statement(statement, 0, len(statement)))
    head = f"EXPLAIN ({options})\n"
    # A newline after: a trailing `--` comment in the statement must not swallow anything.
    sql = f"{head}{inner.text}\n"
    try:
        return await _explain(conn, sql, analyze=analyze, in_transaction=in_transaction)
    except asyncpg.PostgresError as error:
        # The server counts from the EXPLAIN added here: the caller points into `statement`.
        position = getattr(error, "position", None)
        if position and position.isdigit() and int(position) > len(head):
            error.position = str(int(position) - len(head) + inner.start)
        raise


async def _explain(
    conn: asyncpg.Connection | PoolConnectionProxy,
    sql: str,
    *,
    analyze: bool,
    in_transaction: bool,
) -> Plan:
    document: str
    if not analyze:
        document = await conn.fetchval(sql)
        return parse_plan(document)
    if in_transaction:
        await conn.execute(f"SAVEPOINT {SAVEPOINT}")
        try:
            document = await conn.fetchval(sql)
        finally:
            await conn.execute(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}")
            await conn.execute(f"RELEASE SAVEPOINT {SAVEPOINT}")
        return parse_plan(document, rolled_back=True)
    transaction = conn.transaction()
    await transaction.start()
    try:
        document = await conn.fetchval(sql)
    finally:
        await transaction.rollback()
    return parse_plan(document, rolled_back=True)
