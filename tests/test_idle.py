"""The idle countdown of a user's transaction, without an app or a server."""

from __future__ import annotations

import pytest

from pgconsole.idle import (
    ROLLBACK_BEFORE_SECONDS,
    clock,
    countdown_text,
    idle_left,
    rollback_due,
)


@pytest.mark.parametrize(
    ("last_used", "limit", "now", "left"),
    [
        (100.0, None, 150.0, None),  # no server limit: no countdown
        (100.0, 0.0, 150.0, None),  # 0 is no limit too
        (100.0, 60.0, 100.0, 60.0 - ROLLBACK_BEFORE_SECONDS),
        (100.0, 60.0, 157.0, 0.0),  # the rollback is due 3 s before the server's limit
        (100.0, 60.0, 170.0, -13.0),
    ],
)
def test_idle_left_counts_to_pgconsoles_rollback(
    last_used: float, limit: float | None, now: float, left: float | None
) -> None:
    assert idle_left(last_used, limit, now) == left


@pytest.mark.parametrize(
    ("left", "text", "due"),
    [
        (None, "", False),
        (31.0, "", False),
        (30.0, " · idle: rolled back in 30 s", False),
        (19.6, " · idle: rolled back in 19 s", False),
        (0.0, " · idle: rolled back in 0 s", True),
        (-2.0, " · idle: rolled back in 0 s", True),
    ],
)
def test_the_countdown_shows_in_the_last_30_seconds(
    left: float | None, text: str, due: bool
) -> None:
    assert countdown_text(left) == text
    assert rollback_due(left) is due


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "00:00"), (102.9, "01:42"), (3599, "59:59"), (3723, "1:02:03")]
)
def test_clock(seconds: float, text: str) -> None:
    assert clock(seconds) == text
