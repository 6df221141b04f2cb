"""Counted nouns in what pgconsole says: `1 statement`, `3 statements`, `1,204 rows`."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`count` with its noun: singular for exactly one, the plural for any other count.

    Args:
        count: How many; thousands are grouped (`1,204`).
        noun: The singular (`statement`).
        plural: The plural when it is not the noun and an s (`queries`).
    """
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"
