"""The diagnostics screen against a real server: holders of the horizon listed, their remedy
behind a confirmation, refused where it cannot apply."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
from textual.pilot import Pilot

from pgconsole.screens.activity import ActivityScreen
from pgconsole.screens.confirm import ConfirmScreen
from pgconsole.screens.diagnostics import DiagnosticsScreen
from pgconsole.screens.value import ValueScreen
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.conftest import admin_connect
from tests.helpers.ui import (
    app_for,
    drawn_lines,
    screen_text,
    to_diagnostics,
    wait_for_screen,
    wait_until,
)

SIZE = (80, 24)


@pytest.fixture
async def db_with_t(diagnostics_cluster: ThrowawayCluster, diag_db: str) -> str:
    """`diag_db` with a table `t`."""
    conn = await admin_connect(diagnostics_cluster, diag_db)
    try:
        await conn.execute("CREATE TABLE t (id int)")
    finally:
        await conn.close()
    return diag_db


async def idle_with_snapshot(cluster: ThrowawayCluster, dbname: str) -> asyncpg.Connection:
    """A session idle in a transaction that holds a snapshot."""
    conn = await admin_connect(cluster, dbname)
    await conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
    await conn.fetchval("SELECT count(*) FROM t")
    return conn


def gone(screen: DiagnosticsScreen, name: str) -> bool:
    """The last reading lists no holder named `name`."""
    return screen.horizon is not None and all(h.name != name for h in screen.horizon.holders)


async def select(pilot: Pilot[Any], screen: DiagnosticsScreen, kind: str, name: str) -> None:
    """Wait for the holder to be listed and put the cursor on it."""

    def listed() -> bool:
        return screen.horizon is not None and any(
            (h.kind, h.name) == (kind, name) for h in screen.horizon.holders
        )

    await wait_until(pilot, listed, f"{kind} {name} listed")
    while (held := screen.selected()) is not None and (held.kind, held.name) != (kind, name):
        await pilot.press("down")


async def test_an_idle_snapshot_is_listed_and_terminated_after_yes(
    diagnostics_cluster: ThrowawayCluster, db_with_t: str
) -> None:
    idle = await idle_with_snapshot(diagnostics_cluster, db_with_t)
    pid = str(idle.get_server_pid())
    try:
        app = app_for(diagnostics_cluster, db_with_t)
        async with app.run_test(size=SIZE) as pilot:
            screen = await to_diagnostics(pilot, app, "h")
            await select(pilot, screen, "backend", pid)
            drawn = "\n".join(drawn_lines(app))
            assert f"pid {pid}" in drawn

            await pilot.press("enter")
            await wait_for_screen(pilot, app, ValueScreen, "the details")
            assert "state: idle in transaction" in screen_text(app)
            assert "remedy: x terminates the session" in screen_text(app)
            assert "SELECT count(*) FROM t" in screen_text(app)
            await pilot.press("escape")
            await wait_for_screen(pilot, app, DiagnosticsScreen, "back from the details")

            await pilot.press("x")
            await wait_for_screen(pilot, app, ConfirmScreen, "the confirmation")
            assert f"Terminate session pid {pid}" in screen_text(app)
            await pilot.press("n")
            await wait_for_screen(pilot, app, DiagnosticsScreen, "back after no")
            assert await idle.fetchval("SELECT 1") == 1  # no means nothing was done

            await pilot.press("x")
            await wait_for_screen(pilot, app, ConfirmScreen, "the confirmation")
            await pilot.press("y")
            await wait_until(
                pilot,
                lambda: gone(screen, pid),
                "the session gone from the horizon",
            )
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
            await idle.fetchval("SELECT 1")
    finally:
        idle.terminate()


async def test_a_prepared_transaction_is_rolled_back_after_yes(
    diagnostics_cluster: ThrowawayCluster, db_with_t: str
) -> None:
    gid = f"pgconsole test {uuid.uuid4().hex[:6]}"
    conn = await admin_connect(diagnostics_cluster, db_with_t)
    try:
        await conn.execute("BEGIN")
        await conn.execute("INSERT INTO t VALUES (1)")
        await conn.execute(f"PREPARE TRANSACTION '{gid}'")
        app = app_for(diagnostics_cluster, db_with_t)
        async with app.run_test(size=SIZE) as pilot:
            screen = await to_diagnostics(pilot, app, "h")
            await select(pilot, screen, "prepared", gid)
            await pilot.press("x")
            await wait_for_screen(pilot, app, ConfirmScreen, "the confirmation")
            assert "Roll back prepared transaction" in screen_text(app)
            await pilot.press("y")
            await wait_until(
                pilot,
                lambda: gone(screen, gid),
                "the prepared transaction gone",
            )
        assert await conn.fetchval("SELECT count(*) FROM pg_prepared_xacts") == 0
        assert await conn.fetchval("SELECT count(*) FROM t") == 0
    finally:
        for row in await conn.fetch("SELECT gid FROM pg_prepared_xacts WHERE gid = $1", gid):
            await conn.execute(f"ROLLBACK PREPARED '{row['gid']}'")
        await conn.close()


async def test_read_only_refuses_the_remedy_before_asking(
    diagnostics_cluster: ThrowawayCluster, db_with_t: str
) -> None:
    idle = await idle_with_snapshot(diagnostics_cluster, db_with_t)
    pid = str(idle.get_server_pid())
    try:
        app = app_for(diagnostics_cluster, db_with_t, read_only=True)
        async with app.run_test(size=SIZE) as pilot:
            screen = await to_diagnostics(pilot, app, "h")
            await select(pilot, screen, "backend", pid)
            await pilot.press("x")
            await wait_until(
                pilot,
                lambda: any("Read-only" in str(n.message) for n in app._notifications),
                "the refusal",
            )
            assert not isinstance(app.screen, ConfirmScreen)
        assert await idle.fetchval("SELECT 1") == 1
    finally:
        idle.terminate()


async def test_esc_goes_back_to_the_activity_screen(
    diagnostics_cluster: ThrowawayCluster, db_with_t: str
) -> None:
    app = app_for(diagnostics_cluster, db_with_t)
    async with app.run_test(size=SIZE) as pilot:
        await to_diagnostics(pilot, app, "h")
        await pilot.press("escape")
        await wait_for_screen(pilot, app, ActivityScreen, "the activity screen again")
