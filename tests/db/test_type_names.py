"""Type names: one short form in the browser and the console, and the SQL keeps its own."""

from __future__ import annotations

import asyncpg
import pytest

from pgconsole.db.browse.catalog import describe_relation, resolve_relation
from pgconsole.db.console.connection import result_columns
from pgconsole.db.type_names import display_type


@pytest.mark.parametrize(
    ("formatted", "short"),
    [
        ("bigint", "int8"),
        ("integer", "int4"),
        ("smallint", "int2"),
        ("boolean", "bool"),
        ("real", "float4"),
        ("double precision", "float8"),
        ("character varying(40)", "varchar(40)"),
        ("character varying", "varchar"),
        ("character(3)", "char(3)"),
        ("bit varying(5)", "varbit(5)"),
        ("timestamp with time zone", "timestamptz"),
        ("timestamp without time zone", "timestamp"),
        ("timestamp(3) with time zone", "timestamptz(3)"),
        ("time without time zone", "time"),
        ("time with time zone", "timetz"),
        ("integer[]", "int4[]"),
        ("character varying(40)[][]", "varchar(40)[][]"),
        ("numeric(10,2)", "numeric(10,2)"),
        ("interval day to second", "interval day to second"),
        ('"char"', '"char"'),
        ("shop.mood", "shop.mood"),
        ('"Big Int"', '"Big Int"'),
        ("int8", "int8"),
        ("timestamptz", "timestamptz"),
        ("bpchar", "bpchar"),
    ],
)
def test_display_type_is_the_short_form(formatted: str, short: str) -> None:
    assert display_type(formatted) == short


async def test_the_browser_and_the_console_name_types_alike(conn: asyncpg.Connection) -> None:
    await conn.execute(
        """
        CREATE TABLE typed (a bigint, b integer, c smallint, d boolean, e double precision,
                            f timestamp with time zone, g timestamp, h varchar(40),
                            i integer[], j numeric(10,2), k text, l time with time zone)
        """
    )
    oid = await resolve_relation(conn, "public", "typed")
    assert oid is not None
    detail = await describe_relation(conn, oid)
    browser = [display_type(c.type) for c in detail.columns]
    console = [c.type for c in result_columns(await conn.prepare("SELECT * FROM typed"))]
    assert browser == [
        "int8", "int4", "int2", "bool", "float8", "timestamptz", "timestamp", "varchar(40)",
        "int4[]", "numeric(10,2)", "text", "timetz",
    ]  # fmt: skip
    # The console has no type modifier to show: the same names without their lengths.
    assert console == [name.split("(")[0] for name in browser]
    # The SQL path keeps format_type()'s spelling, which keyset parameters are cast to.
    assert [c.type for c in detail.columns][:2] == ["bigint", "integer"]
