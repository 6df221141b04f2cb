"""The filter prompt's pure helpers: its placeholder and the title's summary, no server."""

from __future__ import annotations

import pytest
from rich.cells import cell_len

from pgconsole.db.browse.pages import Column
from pgconsole.screens.filter import filter_summary, placeholder
from pgconsole.widgets.relation_title import cut_to

ID = Column("id", "integer", numeric=True)


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ((ID, Column("name", "text")), "id > 100 AND name LIKE 'a%'"),
        ((Column("Order", "character varying(20)"),), "\"Order\" LIKE 'a%'"),
        ((Column("at", "timestamp with time zone"), ID, ID), "at IS NOT NULL AND id > 100"),
        ((), "true"),
    ],
)
def test_the_placeholder_names_the_relations_own_columns(
    columns: tuple[Column, ...], expected: str
) -> None:
    assert placeholder(columns) == expected


def test_the_summary_is_one_line_with_the_quick_filters() -> None:
    summary = filter_summary("a > 1\n  AND b", (("c", "it's"), ("d", None)))
    assert summary == "a > 1 AND b AND c = 'it''s' AND d IS NULL"


@pytest.mark.parametrize("cells", [1, 5, 9, 20])
def test_cut_to_fits_wide_characters(cells: int) -> None:
    text = "name = '王王王王王王'"
    cut = cut_to(text, cells)
    assert cell_len(cut) <= cells
    assert cut == text or cut.endswith("…")
