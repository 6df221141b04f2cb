"""Operations in progress and replication, on screen, against a real primary and standby: a
throttled VACUUM in the progress panel, the activity screen and the relation details; a
standby whose replay is paused, seen from both sides."""

from __future__ import annotations

import asyncio

from textual.widgets import Static

from pgconsole.app import PgConsoleApp
from pgconsole.screens.activity import ActivityScreen
from pgconsole.screens.diagnostics import DiagnosticsScreen
from pgconsole.screens.relation import RelationScreen
from pgconsole.throwaway.cluster import ThrowawayCluster, ThrowawayStandby
from pgconsole.widgets.progress_view import ProgressPanel
from pgconsole.widgets.replication_view import ReplicationPanel
from pgconsole.widgets.session_table import SessionTable
from tests.conftest import STANDBY_SLOT, admin_connect
from tests.helpers.ui import app_for, drawn_lines, to_activity, wait_for_screen, wait_until
from tests.helpers.waiting import poll_until

SIZE = (80, 24)
VACUUMED = (
    "CREATE TABLE t WITH (autovacuum_enabled = off) AS"
    " SELECT g AS id FROM generate_series(1, 30000) g;"
    " DELETE FROM t WHERE id % 2 = 0"
)
"""A table with dead rows: a hundred-odd blocks, each a cost-delay sleep for a throttled VACUUM."""


def drawn(app: PgConsoleApp) -> str:
    return "\n".join(drawn_lines(app))


async def test_a_vacuum_in_progress_shows_in_three_places(
    diagnostics_cluster: ThrowawayCluster, diag_db: str
) -> None:
    setup = await admin_connect(diagnostics_cluster, diag_db)
    vacuuming = await admin_connect(diagnostics_cluster, diag_db)
    await setup.execute(VACUUMED)
    await vacuuming.execute("SET vacuum_cost_delay = '100ms'; SET vacuum_cost_limit = 1")
    vacuum = asyncio.ensure_future(vacuuming.execute("VACUUM t"))
    pid = str(vacuuming.get_server_pid())
    try:
        app = app_for(diagnostics_cluster, diag_db)
        async with app.run_test(size=SIZE) as pilot:
            # The activity screen: a line under the sessions.
            activity = await to_activity(pilot, app)
            line = activity.query_one("#activity-progress", Static)
            await wait_until(
                pilot,
                lambda: line.display and "VACUUM" in str(line.content).upper(),
                "the vacuum's line on the activity screen",
            )
            assert "public.t" in str(line.content) and "scanning heap" in str(line.content)

            # The diagnostics' progress panel: its row, and its rate once read twice.
            await pilot.press("d")
            await wait_for_screen(pilot, app, DiagnosticsScreen, "the diagnostics")
            await pilot.press("4")
            panel = app.screen.query_one(ProgressPanel)
            await wait_until(
                pilot,
                lambda: any(p.rate is not None for p in panel.paces.values()),
                "the vacuum's rate, read twice",
            )
            await wait_until(pilot, lambda: pid in drawn(app), "the vacuum in the panel")
            await wait_until(pilot, lambda: "/s" in drawn(app), "the rate drawn")
            assert "1 operation in progress" in drawn(app)

            # The relation details of t.
            await pilot.press("escape")  # back to the activity screen
            await wait_for_screen(pilot, app, ActivityScreen, "back to the activity screen")
            await pilot.press("escape")  # and to the browser
            await wait_until(pilot, lambda: len(app.screen_stack) == 1, "the browser")
            app.main_screen.open_relation(await setup.fetchval("SELECT 't'::regclass::oid"))
            await wait_until(pilot, lambda: app.main_screen.detail is not None, "t opened")
            await pilot.press("i")
            details = await wait_for_screen(pilot, app, RelationScreen, "the details")
            box = details.query_one("#relation-progress", Static)
            await wait_until(pilot, lambda: box.display, "the vacuum in the details")
            assert "scanning heap" in str(box.content)
    finally:
        await setup.execute("SELECT pg_cancel_backend($1)", vacuuming.get_server_pid())
        await asyncio.gather(vacuum, return_exceptions=True)
        await setup.close()
        await vacuuming.close()


async def test_a_quiet_server_costs_the_activity_screen_no_progress_statement(
    diagnostics_cluster: ThrowawayCluster, diag_db: str
) -> None:
    app = app_for(diagnostics_cluster, diag_db)
    async with app.run_test(size=SIZE) as pilot:
        activity = await to_activity(pilot, app)
        await wait_until(pilot, lambda: activity.samples >= 2, "two samples")
        assert activity.status_line.status is not None
        assert activity.status_line.status.queries == 1
        assert not activity.query_one("#activity-progress", Static).display


async def test_a_paused_standby_lags_on_the_primary_and_on_itself(
    diagnostics_cluster: ThrowawayCluster, standby: ThrowawayStandby, diag_db: str
) -> None:
    replica = await admin_connect(standby)
    writer = await admin_connect(diagnostics_cluster, diag_db)
    await replica.execute("SELECT pg_wal_replay_pause()")
    try:
        await writer.execute(
            "CREATE TABLE w AS SELECT g, repeat('x', 100) FROM generate_series(1, 10000) g"
        )
        # A warning from 1 MB on: the standby behind by more is marked.
        app = app_for(diagnostics_cluster, diag_db, slot_retention_warning_mb=1)
        async with app.run_test(size=SIZE) as pilot:
            await to_activity(pilot, app)
            await pilot.press("d")
            screen = await wait_for_screen(pilot, app, DiagnosticsScreen, "the diagnostics")
            await pilot.press("5")
            panel = screen.query_one(ReplicationPanel)

            def lagging() -> bool:
                reading = panel.replication
                return reading is not None and any(
                    s.name == STANDBY_SLOT and (s.unreplayed_bytes or 0) > 0
                    for s in reading.standbys
                )

            await wait_until(pilot, lagging, "the standby behind in bytes")
            await wait_until(pilot, lambda: STANDBY_SLOT in drawn(app), "the standby drawn")
            assert "slot physical" in drawn(app) and "warning past 1 MB retained" in drawn(app)
            table = screen.query_one("#replication-rows", SessionTable)
            marked = {row.cells[1]: row.mark for row in table.rows}
            assert marked["standby"] == "long"

        on_standby = app_for(standby, "postgres")
        async with on_standby.run_test(size=SIZE) as pilot:
            await to_activity(pilot, on_standby)
            await pilot.press("d")
            await wait_for_screen(pilot, on_standby, DiagnosticsScreen, "the diagnostics")
            await pilot.press("5")
            await wait_until(
                pilot,
                lambda: "Replay paused" in drawn(on_standby),
                "the standby's own view",
            )
            assert f"{diagnostics_cluster.host}:{diagnostics_cluster.port}" in drawn(on_standby)
    finally:
        await replica.execute("SELECT pg_wal_replay_resume()")
        target = await writer.fetchval("SELECT pg_current_wal_insert_lsn()::text")

        async def caught_up() -> bool:
            return bool(
                await replica.fetchval(
                    "SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn", target
                )
            )

        await poll_until(caught_up, "the standby caught up")
        await writer.close()
        await replica.close()
