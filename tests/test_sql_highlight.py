"""The console editor's SQL highlighting: each token named as the editor's themes name it."""

from __future__ import annotations

from pgconsole.widgets.sql_highlight import highlights


def spans(text: str) -> list[tuple[int, str, str]]:
    """(line, the text of the span, its name), in order."""
    lines = text.encode("utf-8").split(b"\n")
    return [
        (row, lines[row][start:end].decode("utf-8"), name)
        for row, found in sorted(highlights(text).items())
        for start, end, name in found
    ]


def test_keywords_literals_and_names() -> None:
    text = "SELECT count(*), 'x' FROM shop.item WHERE a = 2 AND b > 1.5 AND c IS NULL"
    named = spans(text)
    assert (0, "SELECT", "keyword") in named
    assert (0, "count", "function.call") in named
    assert (0, "'x'", "string") in named
    assert (0, "item", "type") in named
    assert (0, "2", "number") in named
    assert (0, "1.5", "float") in named
    assert (0, "AND", "keyword.operator") in named
    assert (0, "NULL", "type.builtin") in named
    assert (0, "=", "operator") in named
    assert not [s for s in named if s[1] in ("a", "b", "shop")]  # columns and schemas: plain


def test_a_comment_over_lines_and_columns_in_bytes() -> None:
    text = "SELECT 'é' /* one\ntwo */ FROM t -- end"
    named = spans(text)
    assert (0, "'é'", "string") in named  # 'é' is two bytes: the columns count bytes
    assert (0, "/* one", "comment") in named
    assert (1, "two */", "comment") in named
    assert (1, "FROM", "keyword") in named
    assert (1, "-- end", "comment") in named


def test_nothing_for_no_text() -> None:
    assert highlights("") == {}
