"""The sessions table's columns at each width, from fixed rows (no database)."""

from __future__ import annotations

import pytest

from pgconsole.widgets.session_rows import HEADERS, SessionRow, chosen_columns


def row(pid: int, user: str = "app", dbname: str = "shop") -> SessionRow:
    cells = (
        str(pid), user, "active", "1.2s", "1.2s", "ClientRead", dbname, "psql", "10.0.0.7",
        "client backend", "SELECT pg_sleep(60)",
    )  # fmt: skip
    return SessionRow(pid, cells)


def headers(rows: list[SessionRow], width: int) -> list[str]:
    return [HEADERS[i] for i in chosen_columns(rows, width)]


def test_at_80_columns_the_query_stays_and_the_rest_goes() -> None:
    assert headers([row(1), row(22)], 80) == ["pid", "state", "xact", "query age", "wait", "query"]


@pytest.mark.parametrize("width", [120, 200])
def test_wider_shows_more_columns(width: int) -> None:
    shown = headers([row(1, "alice"), row(2, "bob")], width)
    assert {"user", "query"} <= set(shown)
    assert len(shown) > 6
    if width == 200:
        assert shown == list(HEADERS)


def test_a_user_every_session_shares_gives_way_to_one_that_differs() -> None:
    shared_user = headers([row(1, "app", "a"), row(2, "app", "b")], 88)
    assert "db" in shared_user and "user" not in shared_user
