"""The activity screen's status line, from a fixed status (no app, no database)."""

from __future__ import annotations

import time
from dataclasses import replace

from pgconsole.widgets.activity_status import ActivityStatus, status_text
from pgconsole.widgets.session_rows import SessionView

REFRESHED = time.mktime((2026, 3, 2, 14, 3, 7, 0, 0, -1))
STATUS = ActivityStatus("", REFRESHED, False, 1.0, 2, SessionView(), None)
"""Refreshed at 14:03:07 (in any time zone) every second, the capabilities not read yet."""


def test_the_status_line_in_parts() -> None:
    assert status_text(STATUS).plain == (
        "refreshed 14:03:07 · every 1 s · 2 queries · sort xact_age · background hidden"
        " · * pgconsole"
    )
    view = SessionView(show_idle=False, show_background=True, text="shop", sort="pid")
    assert status_text(
        replace(STATUS, state="reconnecting… (gone)", paused=True, queries=None, view=view)
    ).plain == (
        "reconnecting… (gone) · refreshed 14:03:07 · paused · sort pid · idle hidden"
        " · B: background shown · filter 'shop' · * pgconsole"
    )


def test_each_limit_of_the_role_gets_a_line() -> None:
    text = status_text(replace(STATUS, limits=("may not see", "may not \x1b signal"))).plain
    assert text.split("\n")[1:] == ["may not see", "may not ␛ signal"]
