"""Quoting identifiers. Values never go through here: they are always `$n` parameters."""

from __future__ import annotations


def quote_ident(name: str) -> str:
    """Quote an identifier for SQL text, doubling any `"` inside it.

    Always quotes, so case, spaces, reserved words and unicode survive exactly.

    Raises:
        ValueError: The name holds a NUL character, which no identifier can.
    """
    if "\x00" in name:
        raise ValueError("an identifier cannot contain a NUL character")
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    """`"schema"."name"`, each part quoted."""
    return f"{quote_ident(schema)}.{quote_ident(name)}"
