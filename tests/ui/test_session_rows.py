"""What the activity screen's sessions table lists, from fixed sessions (no app, no database)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pgconsole.db.activity import stats
from pgconsole.widgets.session_rows import (
    HEADERS,
    SORTS,
    SessionView,
    fitted,
    listed,
    one_line,
    session_row,
    sort_key,
    whole_query,
)
from tests.ui.test_snapshot_gallery import LOCK_CHAIN, OWN, POLL_SQL, SESSIONS

BLOCKER, WAITING, _ = LOCK_CHAIN
SELF, CHECKPOINTER = OWN


def pids(sessions: list[stats.Backend]) -> list[int]:
    return [s.pid for s in sessions]


def test_one_line_joins_lines_shows_controls_and_cuts() -> None:
    assert one_line("SELECT 1\n  FROM\tt") == "SELECT 1 FROM t"
    assert one_line("SELECT '\x1b[31m'") == "SELECT '␛[31m'"
    assert one_line("x" * 300, 10) == "x" * 10
    assert one_line(None) == ""


@pytest.mark.parametrize(
    ("session", "mark"),
    [
        (BLOCKER, "long"),  # idle in transaction for 312 s
        (replace(BLOCKER, xact_age=5.0), "idle-tx"),
        (WAITING, "waiting"),
        (replace(SELF, query="SELECT 1"), "own"),
        (CHECKPOINTER, ""),
        (replace(BLOCKER, state="idle", xact_age=None), ""),
    ],
)
def test_a_row_is_marked_by_what_matters_most(session: stats.Backend, mark: str) -> None:
    assert session_row(session).mark == mark


def test_a_row_has_every_column_in_words() -> None:
    row = session_row(WAITING)
    assert len(row.cells) == len(HEADERS)
    cells = dict(zip(HEADERS, row.cells, strict=True))
    assert cells["pid"] == "4102"
    assert cells["state"] == "active"
    assert cells["wait"] == "transactionid"
    assert cells["query"] == "UPDATE shop.item SET stock = stock - 1 WHERE id = $1"
    assert session_row(BLOCKER).cells[2] == "idle in tx"


def test_the_screens_own_session_is_named_and_starred() -> None:
    row = session_row(SELF)
    assert row.cells[0] == "4200*"
    assert row.cells[-1] == "pgconsole: activity poll (this screen)"
    assert session_row(SELF, query="told").cells[-1] == "told (this screen)"


def test_fitted_keeps_the_chosen_columns_and_their_headers() -> None:
    rows = [session_row(s) for s in SESSIONS]
    cut, headers = fitted(rows, 80)
    assert headers == ("pid", "state", "xact", "query age", "wait", "query")
    assert all(len(row.cells) == len(headers) for row in cut)
    assert cut[0].cells[0] == "4101" and cut[0].mark == "long"
    assert fitted(rows, 400)[1] == HEADERS


def test_ages_sort_longest_first_and_the_unknown_last() -> None:
    listed_ = sorted(SESSIONS, key=lambda s: sort_key(s, "xact_age"))
    assert listed_[0] is BLOCKER
    assert listed_[-1].xact_age is None
    assert sort_key(CHECKPOINTER, "user") == (1, 24)


def test_by_default_idle_shows_and_background_does_not() -> None:
    shown = listed(SESSIONS, SessionView())
    assert CHECKPOINTER.pid not in pids(shown)
    assert any(s.state == "idle" for s in shown)
    assert shown[0] is BLOCKER  # the oldest transaction first
    assert CHECKPOINTER.pid in pids(listed(SESSIONS, SessionView(show_background=True)))
    assert all(s.state != "idle" for s in listed(SESSIONS, SessionView(show_idle=False)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MIGRATE", [4103]),  # the application, in any case
        ("shop.item", [4101, 4102, 4103]),  # a query or the waited relation
        ("activity poll", [4200]),  # the query as the table words it
        ("4102", [4102]),
    ],
)
def test_the_filter_finds_text_in_any_column(text: str, expected: list[int]) -> None:
    view = SessionView(text=text, sort="pid")
    assert [p for p in pids(listed(SESSIONS, view)) if p < 4300] == expected


def test_the_filter_searches_the_query_as_told() -> None:
    def told(session: stats.Backend) -> str | None:
        return "the cursor's statement" if session.pid == WAITING.pid else None

    view = SessionView(text="cursor's statement")
    assert pids(listed(SESSIONS, view, told)) == [WAITING.pid]


def test_the_sorts_go_round() -> None:
    view = SessionView()
    for expected in (*SORTS[1:], SORTS[0]):
        view = view.next_sort()
        assert view.sort == expected


def test_the_whole_query_adds_what_pg_stat_activity_shows_when_it_differs() -> None:
    assert whole_query(WAITING, WAITING.query) == WAITING.query
    assert whole_query(SELF, "pgconsole: activity poll") == (
        f"pgconsole: activity poll\n\n-- pg_stat_activity shows:\n{POLL_SQL}"
    )
    assert whole_query(replace(SELF, query=None), None) is None
