"""Type names as shown to the user: the short forms (`int8`, `timestamptz`, `varchar(40)`).

The browser reads `format_type()` (`bigint`, `timestamp with time zone`) and the console reads
asyncpg's type names (`int8`, `int4[]`): both are shown through
`display_type`, so one type reads the same on every screen. Display only: the SQL that casts
values keeps `format_type()`'s spelling.
"""

from __future__ import annotations

import re

_SHORT = {
    "bigint": "int8",
    "integer": "int4",
    "smallint": "int2",
    "boolean": "bool",
    "real": "float4",
    "double precision": "float8",
    "character varying": "varchar",
    "character": "char",  # format_type() says `character` only with a length: `character(3)`
    "bit varying": "varbit",
}
"""SQL-standard spellings `format_type()` prints, and the names psql users type."""

_FORMATTED = re.compile(
    r"(?P<name>[a-z][a-z ]*?)"
    r"(?P<modifier>\(\d+(?:,\d+)?\))?"
    r"(?P<zone> with(?:out)? time zone)?"
    r"(?P<array>(?:\[\])*)"
)


def display_type(name: str) -> str:
    """The short form of a type name from `format_type()` or `pg_type.typname`.

    `bigint` → `int8`, `timestamp(3) with time zone` → `timestamptz(3)`,
    `character varying(40)[]` → `varchar(40)[]`; anything else (`numeric(10,2)`, `jsonb`, a
    user's `shop.mood`, a quoted name) unchanged.
    """
    match = _FORMATTED.fullmatch(name)
    if match is None:
        return name
    base, modifier, zone = match["name"], match["modifier"] or "", match["zone"]
    if base in ("timestamp", "time"):
        base += "tz" if zone == " with time zone" else ""
    elif zone is not None:
        return name
    return _SHORT.get(base, base) + modifier + match["array"]
