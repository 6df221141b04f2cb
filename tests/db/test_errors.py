"""What a worker catches as "the database said no, or went away"."""

from __future__ import annotations

import asyncpg
import pytest

from pgconsole.db.connection.errors import DB_ERRORS


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.UndefinedTableError("relation does not exist"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        # Sent on a connection the server had just terminated (the activity sampler met it).
        asyncpg.InternalClientError("cannot perform operation: connection is closed"),
        ConnectionResetError("reset by peer"),
        TimeoutError(),
    ],
)
def test_the_server_going_away_is_a_database_error(error: Exception) -> None:
    assert isinstance(error, DB_ERRORS)


def test_a_bug_is_not() -> None:
    assert not isinstance(KeyError("x"), DB_ERRORS)
