"""pgconsole's paging statements written out for raw asyncpg, so both sides do the same work.

These mirror `pgconsole.db.browse.pages.Pager` (`_select_list`, `_keyset`, `_open_cursor`): every
cell as `left(col::text, CELL_LIMIT + 1)`, the key's text as the bookmark, `$n::text::type`
parameters, `LIMIT page + 1`. The benchmark compares them with the statement pgconsole last
sent and says so in its report when they differ.

No Textual here: the raw-asyncpg memory child imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from pgconsole.db.browse.pages import CELL_LIMIT, CURSOR_NAME
from pgconsole.db.quoting import qualified, quote_ident

PAGE_SIZE = 100
"""pgconsole.screens.main.PAGE_SIZE (not imported here: that would load Textual)."""
ALIAS = "_pgconsole_r"

COLUMNS_SQL = """
SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
FROM pg_attribute AS a
WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""
KEY_SQL = """
SELECT a.attname
FROM pg_index AS i JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
WHERE i.indrelid = $1::regclass AND i.indisprimary AND i.indnkeyatts = 1
"""


@dataclass(frozen=True)
class Relation:
    """A table with a one-column primary key, as the statements need it."""

    schema: str
    name: str
    columns: tuple[tuple[str, str], ...]
    """(name, format_type) in column order."""
    key: str

    def type_of(self, column: str) -> str:
        """The column's `format_type()`."""
        return next(t for n, t in self.columns if n == column)


async def describe(conn: asyncpg.Connection, schema: str, name: str) -> Relation:
    """Columns and primary key of `schema.name`."""
    regclass = qualified(schema, name)
    columns = await conn.fetch(COLUMNS_SQL, regclass)
    key = await conn.fetchval(KEY_SQL, regclass)
    if key is None:
        raise LookupError(f"{regclass} has no one-column primary key")
    return Relation(schema, name, tuple((r["name"], r["type"]) for r in columns), key)


def _ref(column: str) -> str:
    return f"{ALIAS}.{quote_ident(column)}"


class BrowseSql:
    """The statements pgconsole sends to page through `relation` in key order."""

    def __init__(self, relation: Relation, page_size: int = PAGE_SIZE) -> None:
        self.relation = relation
        self.page_size = page_size
        self.limit = page_size + 1
        key = _ref(relation.key)
        source = f"{qualified(relation.schema, relation.name)} AS {ALIAS}"
        keyed = f"SELECT {self.select_list(with_position=True)} FROM {source}"
        bookmark = f"$1::text::{relation.type_of(relation.key)}"
        self.first = f"{keyed} ORDER BY {key} LIMIT $1"
        self.last = f"{keyed} ORDER BY {key} DESC LIMIT $1"
        self.after = f"{keyed} WHERE ({key}) > ({bookmark}) ORDER BY {key} LIMIT $2"
        self.before = f"{keyed} WHERE ({key}) < ({bookmark}) ORDER BY {key} DESC LIMIT $2"
        self._source = source
        self.fetch = f"FETCH FORWARD {self.limit} FROM {CURSOR_NAME}"
        self.typed_after = (
            f"SELECT * FROM {qualified(relation.schema, relation.name)}"
            f" WHERE {quote_ident(relation.key)} > $1"
            f" ORDER BY {quote_ident(relation.key)} LIMIT $2"
        )
        """A plain typed SELECT *, for how much the text cells cost."""

    def select_list(self, *, with_position: bool) -> str:
        """The bookmark (key as text) and every cell as text cut to CELL_LIMIT + 1."""
        cells = [
            f"left({_ref(name)}::text, {CELL_LIMIT + 1}) AS _c{i}"
            for i, (name, _) in enumerate(self.relation.columns)
        ]
        position = [f"{_ref(self.relation.key)}::text AS _p0"] if with_position else []
        return ", ".join([*position, *cells])

    def declare(self, sort: str, *, descending: bool = False) -> str:
        """The SCROLL cursor pgconsole declares for a sort no index supports."""
        direction = " DESC" if descending else ""
        order = ", ".join(f"{_ref(c)}{direction}" for c in (sort, self.relation.key))
        return (
            f"DECLARE {CURSOR_NAME} SCROLL CURSOR FOR SELECT"
            f" {self.select_list(with_position=False)} FROM {self._source} ORDER BY {order}"
        )
