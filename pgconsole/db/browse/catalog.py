"""What is in a database: schemas and relations for the tree, one relation in detail.

Built for big catalogs. `load_catalog` costs two queries however many schemas and tables there
are (one for schemas, one for relations, sizes and privileges included): a tree that asks per
schema, as harlequin does, pays one round trip per schema, which over a distant link is the
difference between instant and seconds. `describe_relation` costs four queries, one per row
shape (see its docstring).

Relations are found by oid, and names only ever travel as `$n` values, so no schema or table
name, however hostile (`"; DROP TABLE x; --`), is ever parsed as SQL here.
`pgconsole.db.quoting.parse_qualified_name` turns a command-line argument into exact names the
way PostgreSQL reads an identifier, and `resolve_relation` looks those names up without
`::regclass` string parsing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import asyncpg

from pgconsole.db.connection.pool import Conn
from pgconsole.db.quoting import qualified
from pgconsole.db.sqlfiles import load_sql


class RelationKind(StrEnum):
    """The kinds of relation the console lists, by readable name (`pg_class.relkind`)."""

    TABLE = "table"
    PARTITIONED_TABLE = "partitioned table"
    VIEW = "view"
    MATERIALIZED_VIEW = "materialized view"
    FOREIGN_TABLE = "foreign table"

    @classmethod
    def from_relkind(cls, relkind: str) -> RelationKind:
        """The kind for a `pg_class.relkind` letter (`r`, `p`, `v`, `m` or `f`).

        Raises:
            ValueError: A relkind the console does not list (index, sequence, TOAST, ...).
        """
        try:
            return _RELKINDS[relkind]
        except KeyError:
            raise ValueError(f"not a listed relation kind: {relkind!r}") from None

    @property
    def relkind(self) -> str:
        """The `pg_class.relkind` letter."""
        return next(letter for letter, kind in _RELKINDS.items() if kind is self)

    @property
    def has_storage(self) -> bool:
        """Rows live in this relation's own files (tables and materialized views)."""
        return self in (RelationKind.TABLE, RelationKind.MATERIALIZED_VIEW)


_RELKINDS: dict[str, RelationKind] = {
    "r": RelationKind.TABLE,
    "p": RelationKind.PARTITIONED_TABLE,
    "v": RelationKind.VIEW,
    "m": RelationKind.MATERIALIZED_VIEW,
    "f": RelationKind.FOREIGN_TABLE,
}


class RelationNotFound(LookupError):
    """No table, view, materialized view or foreign table has this oid (any more)."""


@dataclass(frozen=True)
class SchemaInfo:
    """A schema, listed even when it holds nothing."""

    oid: int
    name: str
    """Exact name, unquoted."""
    owner: str
    system: bool
    """pg_catalog, information_schema, pg_toast, or a session's pg_temp_N / pg_toast_temp_N."""
    can_use: bool
    """The current user has USAGE on it, so may reach the objects inside."""
    comment: str | None = None


@dataclass(frozen=True)
class RelationInfo:
    """A relation as the tree shows it: one row of `load_catalog`."""

    oid: int
    schema: str
    """Exact schema name, unquoted."""
    name: str
    """Exact relation name, unquoted."""
    kind: RelationKind
    owner: str
    estimated_rows: int | None
    """`pg_class.reltuples`: None for views, and for a relation never vacuumed or analyzed."""
    total_bytes: int | None
    """Heap, TOAST and indexes (`pg_total_relation_size`); for a partitioned table the sum over
    its partitions. None where there is no local storage (views, foreign tables)."""
    parent_oid: int | None
    """The partitioned table this one is a partition of, if it is one."""
    can_select: bool
    """The current user may SELECT from it (`has_table_privilege`)."""
    comment: str | None = None

    @property
    def qualified_name(self) -> str:
        """`"schema"."name"`, quoted for SQL text."""
        return qualified(self.schema, self.name)


@dataclass(frozen=True)
class Catalog:
    """Every schema and relation of a database, as read by `load_catalog`."""

    schemas: tuple[SchemaInfo, ...]
    """Sorted by name."""
    relations: tuple[RelationInfo, ...]
    """Sorted by schema, then name."""

    def relations_in(self, schema: str) -> tuple[RelationInfo, ...]:
        """The relations of one schema, partitions included."""
        return tuple(r for r in self.relations if r.schema == schema)

    def partitions_of(self, oid: int) -> tuple[RelationInfo, ...]:
        """The direct partitions of a partitioned table."""
        return tuple(r for r in self.relations if r.parent_oid == oid)

    def find(self, schema: str, name: str) -> RelationInfo | None:
        """The relation with these exact names, if listed."""
        return next((r for r in self.relations if (r.schema, r.name) == (schema, name)), None)


class Identity(StrEnum):
    """How an identity column fills itself (`pg_attribute.attidentity`)."""

    ALWAYS = "always"
    BY_DEFAULT = "by default"


@dataclass(frozen=True)
class ColumnInfo:
    """A live (not dropped) column."""

    attnum: int
    name: str
    type: str
    """`format_type()`, e.g. `character varying(40)` or `numeric(10,2)`."""
    type_oid: int
    category: str
    """`pg_type.typcategory`: `N` numeric, `S` string, `B` boolean, `D` date/time, `A` array,
    `U` user-defined (json, uuid, bytea...), `E` enum, `T` interval... A domain has its base
    type's category."""
    not_null: bool
    default: str | None = None
    """The DEFAULT expression, as `pg_get_expr` prints it."""
    generated: str | None = None
    """The expression of a `GENERATED ALWAYS AS (...) STORED` column."""
    identity: Identity | None = None
    comment: str | None = None
    base_type: str = ""
    """The type without its modifier (`character varying`): what a typed value is cast to,
    so that storing it checks the length as an INSERT would instead of cutting it."""

    @property
    def numeric(self) -> bool:
        """A number, to be right-aligned."""
        return self.category == "N"


@dataclass(frozen=True)
class IndexInfo:
    """An index of the relation, with what a pager needs to know whether it can sort by it."""

    oid: int
    name: str
    definition: str
    """`pg_get_indexdef()`: the whole `CREATE INDEX` statement."""
    method: str
    """Access method: `btree`, `hash`, `gin`, `gist`, `brin`... Only btree returns rows in
    order."""
    unique: bool
    primary: bool
    valid: bool
    """False while `CREATE INDEX CONCURRENTLY` runs or after it failed: the planner ignores it."""
    partial: bool
    """Has a WHERE predicate, so it does not cover every row."""
    columns: tuple[str, ...] | None
    """Key columns in index order, or None when any key part is an expression."""
    include: tuple[str, ...]
    """Non-key columns of `INCLUDE (...)`."""
    leading_column: str | None
    """The first key part when it is a plain column (even if later parts are expressions)."""
    all_not_null: bool
    """Every key part is a plain NOT NULL column, so keyset comparisons never meet a NULL."""
    size_bytes: int


class ConstraintType(StrEnum):
    """`pg_constraint.contype`, by readable name."""

    CHECK = "check"
    FOREIGN_KEY = "foreign key"
    NOT_NULL = "not null"
    """Catalogued as constraints from PostgreSQL 18 on."""
    PRIMARY_KEY = "primary key"
    UNIQUE = "unique"
    TRIGGER = "constraint trigger"
    EXCLUSION = "exclusion"


_CONTYPES: dict[str, ConstraintType] = {
    "c": ConstraintType.CHECK,
    "f": ConstraintType.FOREIGN_KEY,
    "n": ConstraintType.NOT_NULL,
    "p": ConstraintType.PRIMARY_KEY,
    "u": ConstraintType.UNIQUE,
    "t": ConstraintType.TRIGGER,
    "x": ConstraintType.EXCLUSION,
}


@dataclass(frozen=True)
class ConstraintInfo:
    """A constraint declared on the relation."""

    name: str
    type: ConstraintType
    definition: str
    """`pg_get_constraintdef()`, e.g. `CHECK ((qty > 0))`."""
    validated: bool
    """False for a constraint added `NOT VALID` and not validated since."""


class ReferentialAction(StrEnum):
    """What a foreign key does when the referenced row changes (`confupdtype`/`confdeltype`)."""

    NO_ACTION = "no action"
    RESTRICT = "restrict"
    CASCADE = "cascade"
    SET_NULL = "set null"
    SET_DEFAULT = "set default"


_ACTIONS: dict[str, ReferentialAction] = {
    "a": ReferentialAction.NO_ACTION,
    "r": ReferentialAction.RESTRICT,
    "c": ReferentialAction.CASCADE,
    "n": ReferentialAction.SET_NULL,
    "d": ReferentialAction.SET_DEFAULT,
}


@dataclass(frozen=True)
class RelationRef:
    """Another relation, named exactly."""

    oid: int
    schema: str
    name: str

    @property
    def qualified_name(self) -> str:
        """`"schema"."name"`, quoted for SQL text."""
        return qualified(self.schema, self.name)


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key, seen from either end."""

    name: str
    source: RelationRef
    """The referencing table (for a partition, possibly the ancestor that declares the key)."""
    source_columns: tuple[str, ...]
    target: RelationRef
    """The referenced table."""
    target_columns: tuple[str, ...]
    """In the same order as `source_columns`."""
    on_update: ReferentialAction
    on_delete: ReferentialAction
    definition: str
    validated: bool


@dataclass(frozen=True)
class TableStats:
    """Activity counters from `pg_stat_all_tables`, since the last statistics reset."""

    seq_scan: int
    idx_scan: int | None
    """None when the relation has no index."""
    n_live_tup: int
    n_dead_tup: int
    last_vacuum: datetime | None
    last_autovacuum: datetime | None
    last_analyze: datetime | None
    last_autoanalyze: datetime | None


@dataclass(frozen=True)
class RelationDetail:
    """Everything `describe_relation` reads about one relation."""

    oid: int
    schema: str
    name: str
    kind: RelationKind
    comment: str | None
    columns: tuple[ColumnInfo, ...]
    """In attnum order, dropped columns left out."""
    indexes: tuple[IndexInfo, ...]
    """Primary key first, then by name."""
    constraints: tuple[ConstraintInfo, ...]
    """Declared on this relation itself, foreign keys included, by name."""
    foreign_keys: tuple[ForeignKey, ...]
    """Outgoing: keys of this relation (or of an ancestor, for a partition) that reference
    another table."""
    referenced_by: tuple[ForeignKey, ...]
    """Incoming: keys of other tables (or of this one, if self-referencing) that reference this
    relation or one of its ancestors."""
    key: tuple[str, ...] | None
    """Columns that identify a row: see `choose_key`."""
    key_source: str
    """Where `key` comes from: `primary key`, `unique index <name>`, or "" when there is none."""
    stats: TableStats | None
    """None where `pg_stat_all_tables` has no row: views and foreign tables."""

    @property
    def qualified_name(self) -> str:
        """`"schema"."name"`, quoted for SQL text."""
        return qualified(self.schema, self.name)

    def column(self, name: str) -> ColumnInfo:
        """The column called exactly `name`.

        Raises:
            KeyError: No such column.
        """
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


async def list_schemas(conn: Conn, *, include_system: bool = False) -> list[SchemaInfo]:
    """Every schema, empty ones included, sorted by name (one query).

    Args:
        conn: Any connection; no transaction needed.
        include_system: Also list pg_catalog, information_schema, pg_toast and the temporary
            schemas.
    """
    rows = await conn.fetch(load_sql(__name__, "list_schemas.sql"), include_system)
    return [
        SchemaInfo(
            oid=row["oid"],
            name=row["name"],
            owner=row["owner"],
            system=row["is_system"],
            can_use=row["can_use"],
            comment=row["comment"],
        )
        for row in rows
    ]


async def list_relations(conn: Conn, *, include_system: bool = False) -> list[RelationInfo]:
    """Every table, partitioned table, view, materialized view and foreign table (one query).

    Sizes, row estimates, partition parents, privileges and comments all come from the same
    statement, so the cost in round trips does not grow with the number of relations.

    Args:
        conn: Any connection. The session's `lock_timeout` bounds how long sizing waits behind
            a relation that another session holds an ACCESS EXCLUSIVE lock on.
        include_system: Also list the relations of the system schemas.
    """
    rows = await conn.fetch(load_sql(__name__, "list_relations.sql"), include_system)
    return [
        RelationInfo(
            oid=row["oid"],
            schema=row["schema"],
            name=row["name"],
            kind=RelationKind.from_relkind(row["kind"]),
            owner=row["owner"],
            estimated_rows=row["estimated_rows"],
            total_bytes=row["total_bytes"],
            parent_oid=row["parent_oid"],
            can_select=row["can_select"],
            comment=row["comment"],
        )
        for row in rows
    ]


async def load_catalog(conn: Conn, *, include_system: bool = False) -> Catalog:
    """Schemas and relations for the tree, in two queries whatever the database's size.

    Outside a REPEATABLE READ transaction the two queries see two snapshots: a schema created
    in between may show up empty, which the next refresh corrects.

    Args:
        conn: Any connection.
        include_system: Also list the system schemas and their relations.
    """
    schemas = await list_schemas(conn, include_system=include_system)
    relations = await list_relations(conn, include_system=include_system)
    return Catalog(schemas=tuple(schemas), relations=tuple(relations))


async def describe_relation(conn: Conn, oid: int) -> RelationDetail:
    """Columns, row key, indexes, constraints, foreign keys both ways and activity counters.

    Four queries, one per row shape: the relation with its counters, its columns, its indexes,
    and its constraints with the foreign keys into it. Folding them into one statement would
    mean JSON aggregates, giving up asyncpg's typed decoding (timestamps, arrays) for three
    round trips that cost little next to opening a relation. The row key is worked out here
    from the columns and indexes, without a query of its own.

    The catalog functions used (`format_type`, `pg_get_indexdef`...) read the catalogs as they
    are now rather than as of a snapshot, so even one transaction would not make the four
    readings atomic against concurrent DDL; none is opened.

    Args:
        conn: Any connection.
        oid: The relation's oid, from `load_catalog` or `resolve_relation`.

    Raises:
        RelationNotFound: No table, view, materialized view or foreign table has this oid.
    """
    head = await conn.fetchrow(load_sql(__name__, "describe_relation.sql"), oid)
    if head is None:
        raise RelationNotFound(f"no table or view with oid {oid}")
    columns = tuple(
        _column(row) for row in await conn.fetch(load_sql(__name__, "list_columns.sql"), oid)
    )
    not_null = {c.name for c in columns if c.not_null}
    indexes = tuple(
        _index(row, not_null)
        for row in await conn.fetch(load_sql(__name__, "list_indexes.sql"), oid)
    )
    constraint_rows = await conn.fetch(load_sql(__name__, "list_constraints.sql"), oid)
    key, key_source = choose_key(indexes)
    return RelationDetail(
        oid=head["oid"],
        schema=head["schema"],
        name=head["name"],
        kind=RelationKind.from_relkind(head["kind"]),
        comment=head["comment"],
        columns=columns,
        indexes=indexes,
        constraints=tuple(
            ConstraintInfo(
                name=row["name"],
                type=_CONTYPES[row["type"]],
                definition=row["definition"],
                validated=row["validated"],
            )
            for row in constraint_rows
            if row["own"]
        ),
        foreign_keys=tuple(_foreign_key(row) for row in constraint_rows if row["outgoing"]),
        referenced_by=tuple(_foreign_key(row) for row in constraint_rows if row["incoming"]),
        key=key,
        key_source=key_source,
        stats=_stats(head),
    )


def choose_key(indexes: Sequence[IndexInfo]) -> tuple[tuple[str, ...] | None, str]:
    """The columns that identify a row, and where they come from.

    The primary key if there is one. Otherwise the unique index with the fewest columns (then
    the first by name) that is valid, not partial, has no expression and only NOT NULL
    columns: a partial index leaves rows out, and NULLs are distinct from each other, so
    either would let two rows share a "key". None when no index qualifies.

    Returns:
        `(columns, source)`: source is `primary key` or `unique index <name>`, or `(None, "")`.
    """
    for index in indexes:
        if index.primary and index.columns is not None:
            return index.columns, "primary key"
    candidates = [
        index
        for index in indexes
        if index.unique
        and index.valid
        and not index.partial
        and index.columns is not None
        and index.all_not_null
    ]
    if not candidates:
        return None, ""
    best = min(candidates, key=lambda index: (len(index.columns or ()), index.name))
    assert best.columns is not None
    return best.columns, f"unique index {best.name}"


async def resolve_relation(conn: Conn, schema: str | None, name: str) -> int | None:
    """The oid of the relation with these exact (case-sensitive) names, or None.

    Names are sent as `$1`/`$2` values and compared with the catalog, never parsed as SQL, so
    they may hold anything. Only the kinds `load_catalog` lists are found: an index or a
    sequence of that name gives None.

    Args:
        conn: Any connection.
        schema: The schema, or None to look along the session's `search_path` as an
            unqualified name in SQL would (pg_catalog and the temporary schema included).
        name: The relation.
    """
    if schema is None:
        oid: int | None = await conn.fetchval(
            """
            SELECT c.oid
            FROM unnest(current_schemas(true)) WITH ORDINALITY AS s (nspname, ord)
            JOIN pg_namespace AS n ON n.nspname = s.nspname
            JOIN pg_class AS c ON c.relnamespace = n.oid
            WHERE c.relname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
            ORDER BY s.ord
            LIMIT 1
            """,
            name,
        )
    else:
        oid = await conn.fetchval(
            """
            SELECT c.oid
            FROM pg_class AS c
            JOIN pg_namespace AS n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
            """,
            schema,
            name,
        )
    return oid


def _column(row: asyncpg.Record) -> ColumnInfo:
    identity: str = row["identity"]
    return ColumnInfo(
        attnum=row["attnum"],
        name=row["name"],
        type=row["type"],
        type_oid=row["type_oid"],
        category=row["category"],
        not_null=row["not_null"],
        default=row["default_expr"],
        generated=row["generated_expr"],
        identity={"a": Identity.ALWAYS, "d": Identity.BY_DEFAULT}.get(identity),
        comment=row["comment"],
        base_type=row["base_type"],
    )


def _index(row: asyncpg.Record, not_null: set[str]) -> IndexInfo:
    # An expression's slot in the key comes back as NULL: it has no column name.
    keys: list[str | None] = row["key_columns"]
    plain = tuple(k for k in keys if k is not None)
    columns = plain if len(plain) == len(keys) else None
    return IndexInfo(
        oid=row["oid"],
        name=row["name"],
        definition=row["definition"],
        method=row["method"],
        unique=row["is_unique"],
        primary=row["is_primary"],
        valid=row["is_valid"],
        partial=row["is_partial"],
        columns=columns,
        include=tuple(row["include_columns"]),
        leading_column=keys[0] if keys else None,
        all_not_null=columns is not None and all(c in not_null for c in columns),
        size_bytes=row["size_bytes"],
    )


def _foreign_key(row: asyncpg.Record) -> ForeignKey:
    return ForeignKey(
        name=row["name"],
        source=RelationRef(row["source_oid"], row["source_schema"], row["source_name"]),
        source_columns=tuple(row["source_columns"]),
        target=RelationRef(row["target_oid"], row["target_schema"], row["target_name"]),
        target_columns=tuple(row["target_columns"]),
        on_update=_ACTIONS[row["on_update"]],
        on_delete=_ACTIONS[row["on_delete"]],
        definition=row["definition"],
        validated=row["validated"],
    )


def _stats(head: asyncpg.Record) -> TableStats | None:
    if not head["has_stats"]:
        return None
    return TableStats(
        seq_scan=head["seq_scan"],
        idx_scan=head["idx_scan"],
        n_live_tup=head["n_live_tup"],
        n_dead_tup=head["n_dead_tup"],
        last_vacuum=head["last_vacuum"],
        last_autovacuum=head["last_autovacuum"],
        last_analyze=head["last_analyze"],
        last_autoanalyze=head["last_autoanalyze"],
    )
