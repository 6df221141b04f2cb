"""What the console's editor offers as you type: keywords, schemas, relations, the columns of
the relations the statement names, functions.

The catalog is read in three queries whatever the size of the database (bounded by LIMITs),
through the pool, when the console opens and after a statement changes the schema.
`complete()` is pure and runs on every key press while the menu is open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from pgconsole.db.quoting import quote_ident
from pgconsole.db.sqlfiles import load_sql
from pgconsole.db.sqltext import relations_named, statement_at, word_at

KEYWORDS: tuple[str, ...] = tuple(
    """
    SELECT FROM WHERE AND OR NOT NULL IS IN EXISTS BETWEEN LIKE ILIKE AS ON JOIN LEFT RIGHT
    INNER OUTER FULL CROSS NATURAL LATERAL USING GROUP BY HAVING ORDER ASC DESC NULLS FIRST LAST
    LIMIT OFFSET FETCH UNION INTERSECT EXCEPT ALL DISTINCT WITH RECURSIVE INSERT INTO VALUES
    DEFAULT UPDATE SET DELETE MERGE RETURNING CREATE ALTER DROP TABLE VIEW INDEX CONCURRENTLY
    SCHEMA SEQUENCE FUNCTION PROCEDURE TRIGGER MATERIALIZED REFRESH TRUNCATE CASCADE RESTRICT
    BEGIN COMMIT ROLLBACK SAVEPOINT RELEASE TRANSACTION ISOLATION LEVEL READ WRITE ONLY
    SERIALIZABLE REPEATABLE COMMITTED EXPLAIN ANALYZE VERBOSE BUFFERS FORMAT VACUUM CASE WHEN
    THEN ELSE END CAST COALESCE NULLIF TRUE FALSE PRIMARY KEY FOREIGN REFERENCES UNIQUE CHECK
    CONSTRAINT GRANT REVOKE TO SHOW RESET COPY CALL DO OVER PARTITION WINDOW FILTER
    """.split()  # noqa: SIM905 (a list of words, kept readable)
)
_PLAIN = re.compile(r"[a-z_][a-z0-9_$]*")
_RESERVED = frozenset(
    """
    all analyse analyze and any array as asc asymmetric both case cast check collate column
    constraint create current_catalog current_date current_role current_time current_timestamp
    current_user default deferrable desc distinct do else end except false fetch for foreign
    from grant group having in initially intersect into lateral leading limit localtime
    localtimestamp not null offset on only or order placing primary references returning select
    session_user some symmetric system_user table then to trailing true union unique user using
    variadic when where window with authorization binary collation concurrently cross
    current_schema freeze full ilike inner is isnull join left like natural notnull outer
    overlaps right similar tablesample verbose
    """.split()  # noqa: SIM905 (a list of words, kept readable)
)


def sql_name(name: str) -> str:
    """`name` as it must be typed: bare when PostgreSQL would fold it to itself, else quoted."""
    if _PLAIN.fullmatch(name) and name not in _RESERVED:
        return name
    return quote_ident(name)


@dataclass(frozen=True)
class Candidate:
    """One completion."""

    text: str
    """What is inserted (quoted when it must be)."""
    label: str
    """What the menu shows."""
    kind: str
    """`keyword`, `schema`, `table`, `view`, `column`, `function`, …"""
    detail: str
    """The column's type, the relation's schema, the function's arguments."""


@dataclass(frozen=True)
class CompletionCatalog:
    """The names completion knows."""

    schemas: tuple[str, ...]
    relations: tuple[tuple[str, str, str], ...]
    """(schema, name, kind)."""
    columns: dict[tuple[str, str], tuple[tuple[str, str], ...]] = field(default_factory=dict)
    """(schema, relation) → ((column, type), …)."""
    functions: tuple[tuple[str, str, str], ...] = ()
    """(schema, name, identity arguments)."""
    search_path: tuple[str, ...] = ()
    """`current_schemas(true)`: where unqualified names are looked up."""


async def load_completion_catalog(
    conn: asyncpg.Connection | PoolConnectionProxy,
) -> CompletionCatalog:
    """Read the catalog in four small queries (schemas and relations, columns, functions,
    search path), whatever the number of schemas."""
    relations = await conn.fetch(load_sql(__name__, "list_completion_relations.sql"))
    columns = await conn.fetch(load_sql(__name__, "list_completion_columns.sql"))
    functions = await conn.fetch(load_sql(__name__, "list_completion_functions.sql"))
    search_path = await conn.fetchval("SELECT current_schemas(true)")
    by_relation: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for row in columns:
        by_relation.setdefault((row["schema"], row["name"]), []).append(
            (row["column_name"], row["type"])
        )
    return CompletionCatalog(
        schemas=tuple(dict.fromkeys(r["schema"] for r in relations)),
        relations=tuple((r["schema"], r["name"], r["kind"]) for r in relations if r["name"]),
        columns={key: tuple(value) for key, value in by_relation.items()},
        functions=tuple((r["schema"], r["name"], r["args"]) for r in functions),
        search_path=tuple(search_path or ()),
    )


def _matching(candidates: list[Candidate], prefix: str) -> list[Candidate]:
    """Prefix matches first, then substring matches; case-insensitive; no duplicates."""
    wanted = prefix.lower()
    first = [c for c in candidates if c.label.lower().startswith(wanted)]
    rest = [
        c
        for c in candidates
        if wanted and wanted in c.label.lower()[1:] and not c.label.lower().startswith(wanted)
    ]
    unique: dict[tuple[str, str], Candidate] = {}
    for candidate in [*first, *rest]:
        unique.setdefault((candidate.text, candidate.kind), candidate)
    return list(unique.values())


def _resolve(catalog: CompletionCatalog, schema: str | None, name: str) -> tuple[str, str] | None:
    """The (schema, name) a relation reference means: qualified, or first on the search path."""
    if schema is not None:
        return (schema, name) if (schema, name) in catalog.columns else None
    for candidate_schema in catalog.search_path or ("public",):
        if (candidate_schema, name) in catalog.columns:
            return candidate_schema, name
    return None


def _columns_of(catalog: CompletionCatalog, key: tuple[str, str]) -> list[Candidate]:
    return [
        Candidate(sql_name(column), column, "column", f"{type_name} · {key[1]}")
        for column, type_name in catalog.columns.get(key, ())
    ]


def _relations_in(catalog: CompletionCatalog, schema: str) -> list[Candidate]:
    return [
        Candidate(sql_name(name), name, kind, schema)
        for relation_schema, name, kind in catalog.relations
        if relation_schema == schema
    ]


def _functions_in(catalog: CompletionCatalog, schema: str | None) -> list[Candidate]:
    visible = set(catalog.search_path) if schema is None else {schema}
    return [
        Candidate(sql_name(name), name, "function", f"{function_schema}.{name}({args})")
        for function_schema, name, args in catalog.functions
        if function_schema in visible
    ]


def complete(
    catalog: CompletionCatalog, text: str, offset: int, limit: int = 50
) -> list[Candidate]:
    """Candidates for the word at `offset` of the editor's `text`, best first."""
    prefix, qualifier, start = word_at(text, offset)
    if prefix == "" and qualifier is None:
        before = text[:offset]
        if not before or not (before[-1].isspace() or before[-1] in "(,"):
            return []  # inside a string or comment, or after something not completable
    statement = statement_at(text, offset)
    named = relations_named(statement.text) if statement is not None else []
    candidates: list[Candidate] = []
    if qualifier is not None:
        for schema, name, alias in named:
            if qualifier in (alias, name):
                key = _resolve(catalog, schema, name)
                if key is not None:
                    candidates.extend(_columns_of(catalog, key))
        if qualifier in catalog.schemas:
            candidates.extend(_relations_in(catalog, qualifier))
            candidates.extend(_functions_in(catalog, qualifier))
        return _matching(candidates, prefix)[:limit]
    keywords = [Candidate(k, k, "keyword", "") for k in KEYWORDS]
    if statement is None or not text[statement.start : start].strip():
        # The statement's first word: a command.
        candidates.extend(keywords)
    for schema, name, _alias in named:
        key = _resolve(catalog, schema, name)
        if key is not None:
            candidates.extend(_columns_of(catalog, key))
    for schema in catalog.search_path or ("public",):
        candidates.extend(_relations_in(catalog, schema))
    candidates.extend(Candidate(sql_name(s), s, "schema", "schema") for s in catalog.schemas)
    candidates.extend(_functions_in(catalog, None))
    candidates.extend(keywords)
    if not prefix:
        return candidates[:limit]
    return _matching(candidates, prefix)[:limit]
