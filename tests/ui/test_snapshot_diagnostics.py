"""Snapshots of the diagnostics' five panels with fixed readings, at 80x24 (the statements also
at 120x36, where the temp and WAL columns show).

Nothing reaches a server: `FixedDiagnostics` feeds every panel one fixed reading (two for the
statements and the progress, whose figures are differences) instead of polling. Nothing
time-dependent is drawn.
"""

from __future__ import annotations

import datetime
from dataclasses import replace
from typing import Any, cast

from textual import work
from textual.pilot import Pilot

from pgconsole.config import Settings
from pgconsole.db.diagnostics.horizon import DeadTable, DeadTotals, FreezeAge, Holder, Horizon
from pgconsole.db.diagnostics.progress import Operation
from pgconsole.db.diagnostics.replication import Replication, Slot, Standby
from pgconsole.db.diagnostics.statements import Counters, Key, Reading, Text
from pgconsole.db.diagnostics.waits import CPU, Waiting
from pgconsole.screens.diagnostics import DiagnosticsScreen
from pgconsole.widgets.horizon_view import HorizonPanel
from pgconsole.widgets.progress_view import ProgressPanel
from pgconsole.widgets.replication_view import ReplicationPanel
from pgconsole.widgets.statements_view import StatementsPanel
from pgconsole.widgets.waits_view import WaitsPanel
from tests.helpers.ui import wait_until
from tests.ui.test_snapshot_gallery import REFRESHED
from tests.ui.test_snapshots import PARAMS, ConnectedHarness, SnapCompare, until_connected

STATEMENTS: tuple[tuple[str, Counters, Counters], ...] = (
    # text, counters at the first reading, counters 2 s later
    (
        "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2",
        (9000.0, 4100.0, 9000.0, 40000.0, 900.0, 0.0, 1.8e6),
        (9400.0, 4290.0, 9400.0, 41800.0, 960.0, 0.0, 1.9e6),
    ),
    (
        "SELECT abalance FROM pgbench_accounts WHERE aid = $1",
        (9000.0, 310.0, 9000.0, 36000.0, 120.0, 0.0, 0.0),
        (9400.0, 324.0, 9400.0, 37600.0, 125.0, 0.0, 0.0),
    ),
    (
        "SELECT o.id, sum(i.price) FROM shop.orders o JOIN shop.item i USING (order_id) "
        "GROUP BY o.id ORDER BY 2 DESC",
        (12.0, 8100.0, 48000.0, 200.0, 90000.0, 4096.0, 0.0),
        (13.0, 8800.0, 52000.0, 210.0, 97500.0, 4400.0, 0.0),
    ),
    (
        "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, "
        "CURRENT_TIMESTAMP)",
        (9000.0, 95.0, 9000.0, 9100.0, 0.0, 0.0, 9.1e5),
        (9400.0, 99.0, 9400.0, 9505.0, 0.0, 0.0, 9.5e5),
    ),
)
TELLERS = "UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2"
STARTED = datetime.datetime(2026, 3, 2, 13, 58, 0, tzinfo=datetime.UTC)
HORIZON = Horizon(
    holders=(
        Holder(
            "backend",
            "4242",
            1_204_331,
            3725.0,
            "shop",
            True,
            pid=4242,
            role="report",
            detail="psql",
            state="idle in transaction",
            query="SELECT count(*) FROM shop.orders WHERE placed_at > now() - interval '1 day'",
        ),
        Holder(
            "catalog",
            "cdc_orders",
            803_120,
            None,
            "shop",
            True,
            detail="pgoutput",
            state="logical",
            active=False,
        ),
        Holder("prepared", "tx'42", 5_210, 610.0, "billing", False, role="app"),
        Holder("standby", "replica1", 120, None, None, False, pid=5120, state="streaming"),
    ),
    dead_tables=(DeadTable("shop", "orders", 2_380_114, 9_100_220, None, None),),
    wraparound=(FreezeAge("shop", "orders", 190_000_000, 200_000_000),),
    databases=(FreezeAge(None, "shop", 190_000_000, 200_000_000),),
    totals=DeadTotals(user=2_410_551, catalog=1_220),
)
VACUUM = Operation(
    "vacuum", 6001, "shop", "shop", "orders", "scanning heap", 40_000, 100_000, "blocks",
    STARTED, "autovacuum: VACUUM shop.orders", None, command="autovacuum VACUUM",
)  # fmt: skip
INDEX = Operation(
    "create index", 6002, "shop", "shop", "item", "building index: scanning table",
    1_000, 8_000, "blocks", STARTED, "CREATE INDEX CONCURRENTLY item_name ON shop.item (name)",
    "dba", command="CREATE INDEX CONCURRENTLY",
)  # fmt: skip
REPLICATION = Replication(
    in_recovery=False,
    standbys=(
        Standby(
            5120,
            "replica1",
            "10.0.0.12",
            "streaming",
            "async",
            0,
            8_192,
            8_192,
            48_000_000,
            0.002,
            0.004,
            41.5,
            None,
        ),
    ),
    slots=(
        Slot("replica1", "physical", None, True, 5120, "reserved", None, 48_100_000, 120, None),
        Slot(
            "cdc_orders",
            "logical",
            "shop",
            False,
            None,
            "extended",
            None,
            3_400_000_000,
            None,
            803_120,
        ),
    ),
    upstream=None,
    read_all_stats=True,
)


class FixedDiagnostics(DiagnosticsScreen):
    """The diagnostics fed fixed readings once, instead of polling a server."""

    @work(exclusive=True, group="diagnostics")
    async def poll(self) -> None:
        self.last_refresh = REFRESHED
        self.state_text = ""
        statements = self.query_one(StatementsPanel)
        keys: list[Key] = [(10, 16384, 1000 + n, True) for n in range(len(STATEMENTS))]
        before = {k: s[1] for k, s in zip(keys, STATEMENTS, strict=True)}
        after = {k: s[2] for k, s in zip(keys, STATEMENTS, strict=True)}
        statements.tracker.add(Reading(0.0, None, before))
        statements.tracker.add(Reading(2.0, None, after))
        for key, (text, _before, _after) in zip(keys, STATEMENTS, strict=True):
            statements.tracker.texts[key] = Text(text, "app", "shop")
        statements.show(statements.tracker)
        waits = self.query_one(WaitsPanel)
        for second in range(100):
            for tenth in range(10):
                busy = 3 + (second % 7 == 0) * 4  # a lock pile-up every 7 seconds
                sample = [Waiting(100 + n, CPU, CPU, 7) for n in range(2)]
                sample += [
                    Waiting(200 + n, "Lock", "transactionid", 8, TELLERS) for n in range(busy)
                ]
                sample += [Waiting(300, "IO", "DataFileRead", 9)] if tenth % 3 == 0 else []
                waits.history.add(sample, at=1000.0 + second + tenth / 10)
        waits.history.cost = 0.0004
        waits.render_all()
        self.query_one(HorizonPanel).show(HORIZON)
        progress = self.query_one(ProgressPanel)
        earlier = (replace(VACUUM, done=36_000), INDEX)
        progress.show_at(earlier, 0.0)
        progress.show_at((VACUUM, INDEX), 2.0)
        self.query_one(ReplicationPanel).show(REPLICATION)
        self.samples += 1
        self._show_status()


def opened(panel: str) -> Any:
    async def run_before(pilot: Pilot[Any]) -> None:
        await until_connected(pilot)
        app = cast(ConnectedHarness, pilot.app)
        assert app.database is not None
        screen = FixedDiagnostics(app.database, read_only=True, panel=panel)
        await app.push_screen(screen)
        await wait_until(pilot, lambda: screen.samples > 0, "the fixed readings")
        await pilot.pause()

    return run_before


def snapshot(snap_compare: SnapCompare, panel: str, size: tuple[int, int] = (80, 24)) -> bool:
    app = ConnectedHarness(PARAMS, Settings(read_only=True))
    return snap_compare(app, terminal_size=size, run_before=opened(panel))


def test_statements(snap_compare: SnapCompare) -> None:
    # The costliest first by time spent over the last refresh; the query cut to the width.
    assert snapshot(snap_compare, "statements")


def test_statements_at_120x36(snap_compare: SnapCompare) -> None:
    # Wide enough for the temp and WAL columns.
    assert snapshot(snap_compare, "statements", (120, 36))


def test_waits(snap_compare: SnapCompare) -> None:
    # A stacked column per second, lock waits piling up every 7 s, by event below.
    assert snapshot(snap_compare, "waits")


def test_horizon(snap_compare: SnapCompare) -> None:
    # Four kinds of holders, the oldest an idle transaction an hour old, marked.
    assert snapshot(snap_compare, "horizon")


def test_progress(snap_compare: SnapCompare) -> None:
    # An autovacuum at 40 % with its rate and finish, an index build beside it.
    assert snapshot(snap_compare, "progress")


def test_replication(snap_compare: SnapCompare) -> None:
    # A standby 41 s behind, its slot, and an inactive logical slot past the 1 GiB warning.
    assert snapshot(snap_compare, "replication")
