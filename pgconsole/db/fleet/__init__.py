"""The fleet view's data: one row per server, read concurrently and ranked worst first.

`Fleet` reads its `Member`s (`probe`), each in one statement (`sql/probe.sql`), and returns
`FleetRow`s sorted by the score documented in `score`. Headless: no UI.
"""

from pgconsole.db.fleet.probe import (
    Counters,
    Fleet,
    FleetRow,
    Member,
    Reading,
    down_row,
    fleet_row,
    rates,
    read_probe,
    worst_first,
)
from pgconsole.db.fleet.score import DOWN, Level, Score, Signals, Thresholds, score

__all__ = [
    "DOWN",
    "Counters",
    "Fleet",
    "FleetRow",
    "Level",
    "Member",
    "Reading",
    "Score",
    "Signals",
    "Thresholds",
    "down_row",
    "fleet_row",
    "rates",
    "read_probe",
    "score",
    "worst_first",
]
