"""The words of the console's results list, without an app or a server."""

from __future__ import annotations

from pgconsole.db.browse.pages import Page, Row
from pgconsole.db.console.connection import Result
from pgconsole.db.sqltext import Statement
from pgconsole.widgets.results_list import (
    Shown,
    first_line,
    list_label,
    notices_text,
    result_line,
)

UPDATE = Statement("UPDATE shop.item\n   SET price = price * 2\n WHERE id < 4", 0, 54)


def test_first_line_joins_the_words_and_cuts_with_an_ellipsis() -> None:
    assert first_line(UPDATE.text) == "UPDATE shop.item SET price = price * 2 WHERE id < 4"
    assert first_line(UPDATE.text, 16) == "UPDATE shop.ite…"


def test_a_statements_line_says_its_tag_and_time() -> None:
    assert result_line(Result(UPDATE, "UPDATE 3", 4.12)) == "UPDATE 3 · 4.1 ms"
    assert result_line(Result(UPDATE, "UPDATE 3", 12_345.0)) == "UPDATE 3 · 12.3 s"
    rows = Page(tuple(Row(("1",)) for _ in range(1000)), False, False)
    kept = Result(UPDATE, "UPDATE 1500", 2.0, 1500, (), rows, truncated=True)
    assert result_line(kept) == "UPDATE 1500 · 2.0 ms · first 1,000 rows kept"


def test_notices_follow_the_result_the_first_four_then_a_count() -> None:
    notices = [f"NOTICE: {n}" for n in range(6)]
    assert notices_text(notices[:1]) == "\nNOTICE: 0"
    assert notices_text(notices).endswith("\nNOTICE: 3\n… and 2 more")


def test_the_list_marks_each_statement_with_its_outcome() -> None:
    done = list_label(Shown(UPDATE, Result(UPDATE, "UPDATE 3", 4.12), None))
    assert done.plain == "✓ UPDATE shop.item SET price = …  UPDATE 3 · 4.1 ms"
    failed = list_label(Shown(UPDATE, None, 'column "nme" does not exist\nSQLSTATE 42703'))
    assert failed.plain == '✗ UPDATE shop.item SET price = …  column "nme" does not exist'
