"""Counted nouns: singular for one, plural for any other count."""

from __future__ import annotations

import pytest

from pgconsole.words import counted


@pytest.mark.parametrize(
    ("count", "noun", "plural", "said"),
    [
        (1, "statement", None, "1 statement"),
        (0, "statement", None, "0 statements"),
        (2, "statement", None, "2 statements"),
        (1_204, "row", None, "1,204 rows"),
        (1, "query", "queries", "1 query"),
        (3, "query", "queries", "3 queries"),
        (-1, "row", None, "-1 rows"),
    ],
)
def test_counted(count: int, noun: str, plural: str | None, said: str) -> None:
    assert counted(count, noun, plural) == said
