"""Quoting identifiers, and reading one typed by the user as the server would. Values never go
through here: they are always `$n` parameters."""

from __future__ import annotations

NAMEDATALEN = 64
"""PostgreSQL's compiled-in identifier buffer: names keep at most 63 bytes."""


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


def parse_qualified_name(text: str) -> tuple[str | None, str]:
    """Split `[schema.]name` as PostgreSQL reads identifiers, into exact names.

    Unquoted parts fold ASCII letters to lower case (as the server does in a UTF-8 database,
    leaving other letters alone); quoted parts keep everything, with `""` standing for one `"`.
    Spaces around the parts are ignored. Like the server, a name is cut to 63 bytes.

    Examples: `public.orders` → `("public", "orders")`, `Orders` → `(None, "orders")`,
    `"My Schema"."Order"` → `("My Schema", "Order")`, `"a.b".c` → `("a.b", "c")`.

    Raises:
        ValueError: Empty input or part, more than two parts (`a.b.c`), an unterminated quote,
            text stuck to a closing quote, or a quote or space inside an unquoted part.
    """
    parts: list[str] = []
    pos = 0
    length = len(text)
    while True:
        while pos < length and text[pos].isspace():
            pos += 1
        if pos < length and text[pos] == '"':
            part, pos = _quoted_part(text, pos)
        else:
            start = pos
            while pos < length and text[pos] not in '."' and not text[pos].isspace():
                pos += 1
            part = text[start:pos]
            if pos < length and text[pos] == '"':
                raise ValueError(f"{text!r}: a quote inside an unquoted name at position {pos}")
            if not part:
                what = "empty name" if not text.strip() else f"empty part in {text!r}"
                raise ValueError(f"{what}: expected [schema.]name")
            # Only ASCII letters fold: str.lower() would also fold "Ä", which PostgreSQL keeps.
            part = "".join(ch.lower() if "A" <= ch <= "Z" else ch for ch in part)
        if "\x00" in part:
            raise ValueError(f"{text!r}: a name cannot contain a NUL character")
        parts.append(_truncate(part))
        while pos < length and text[pos].isspace():
            pos += 1
        if pos == length:
            break
        if text[pos] != ".":
            raise ValueError(f"{text!r}: unexpected {text[pos]!r} at position {pos}")
        pos += 1
    if len(parts) > 2:
        raise ValueError(f"{text!r}: too many dots, expected [schema.]name")
    if len(parts) == 1:
        return None, parts[0]
    return parts[0], parts[1]


def _quoted_part(text: str, start: int) -> tuple[str, int]:
    """The identifier quoted at `text[start]`, and the position after its closing quote."""
    chars: list[str] = []
    pos = start + 1
    while True:
        end = text.find('"', pos)
        if end < 0:
            raise ValueError(f"{text!r}: unterminated quoted name starting at position {start}")
        chars.append(text[pos:end])
        if text.startswith('""', end):
            chars.append('"')
            pos = end + 2
            continue
        part = "".join(chars)
        if not part:
            raise ValueError(f'{text!r}: empty quoted name "" at position {start}')
        return part, end + 1


def _truncate(name: str) -> str:
    """`name` cut to NAMEDATALEN - 1 bytes of UTF-8 on a character boundary, as the server does."""
    encoded = name.encode()
    if len(encoded) < NAMEDATALEN:
        return name
    return encoded[: NAMEDATALEN - 1].decode(errors="ignore")
