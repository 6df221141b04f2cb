"""The diagnostics' statements and waits panels against a real server, driven by keys."""

from __future__ import annotations

import asyncio
import json
import stat
import uuid
from pathlib import Path

import pytest

from pgconsole.screens import diagnostics as diagnostics_screen
from pgconsole.screens.console import ConsoleScreen
from pgconsole.screens.diagnostics import DiagnosticsScreen
from pgconsole.screens.value import ValueScreen
from pgconsole.throwaway.cluster import ThrowawayCluster
from pgconsole.widgets.statements_view import StatementsPanel
from pgconsole.widgets.waits_view import WaitsPanel
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
async def db_with_statements(diagnostics_cluster: ThrowawayCluster, diag_db: str) -> str:
    """`diag_db` with pg_stat_statements created and a table `t` of one row."""
    conn = await admin_connect(diagnostics_cluster, diag_db)
    try:
        await conn.execute("CREATE EXTENSION pg_stat_statements")
        await conn.execute(
            "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0)"
        )
    finally:
        await conn.close()
    return diag_db


async def test_a_busy_statement_leads_and_goes_to_the_console(
    diagnostics_cluster: ThrowawayCluster, db_with_statements: str
) -> None:
    marker = f"busy_{uuid.uuid4().hex[:8]}"
    worker = await admin_connect(diagnostics_cluster, db_with_statements)
    stop = asyncio.Event()

    async def keep_busy() -> None:
        while not stop.is_set():
            await worker.fetchval(f"SELECT pg_sleep(0.05), 1 AS {marker}")

    busy = asyncio.ensure_future(keep_busy())
    try:
        app = app_for(diagnostics_cluster, db_with_statements)
        async with app.run_test(size=SIZE) as pilot:
            screen = await to_diagnostics(pilot, app)
            panel = screen.query_one(StatementsPanel)

            def leads() -> bool:
                entry = panel.selected()
                return entry is not None and marker in entry[1]

            await wait_until(pilot, leads, "the busy statement first, by time spent")
            assert marker in "\n".join(drawn_lines(app))
            assert "by time spent" in screen_text(app)

            await pilot.press("o")
            assert "by calls" in screen_text(app)
            await pilot.press("w")
            assert "window 10s" in screen_text(app)

            await pilot.press("enter")
            await wait_for_screen(pilot, app, ValueScreen, "the details")
            assert "lifetime:" in screen_text(app) and marker in screen_text(app)
            await pilot.press("escape")
            await wait_for_screen(pilot, app, DiagnosticsScreen, "back from the details")

            await wait_until(pilot, leads, "the busy statement under the cursor")
            await pilot.press("c")
            console = await wait_for_screen(pilot, app, ConsoleScreen, "the console")
            await wait_until(pilot, lambda: marker in console.editor.text, "the text in the editor")
    finally:
        stop.set()
        await busy
        await worker.close()


async def test_without_pg_stat_statements_the_panel_says_what_to_do(
    diagnostics_cluster: ThrowawayCluster, diag_db: str
) -> None:
    app = app_for(diagnostics_cluster, diag_db)  # preloaded, not created here
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_diagnostics(pilot, app)
        await wait_until(pilot, lambda: screen.samples > 0, "a reading")
        assert "CREATE EXTENSION pg_stat_statements" in screen_text(app)


async def test_a_lock_wait_shows_by_event_and_by_session(
    diagnostics_cluster: ThrowawayCluster, db_with_statements: str
) -> None:
    holder = await admin_connect(diagnostics_cluster, db_with_statements)
    waiter = await admin_connect(diagnostics_cluster, db_with_statements)
    await holder.execute("BEGIN; UPDATE t SET v = 1 WHERE id = 1")
    blocked = asyncio.ensure_future(waiter.execute("UPDATE t SET v = 2 WHERE id = 1"))
    try:
        app = app_for(diagnostics_cluster, db_with_statements)
        async with app.run_test(size=SIZE) as pilot:
            screen = await to_diagnostics(pilot, app)
            await pilot.press("2")
            panel = screen.query_one(WaitsPanel)

            def waiting_on_lock() -> bool:
                return any(
                    s.label == "Lock:transactionid" for s in panel.history.breakdown("event")
                )

            await wait_until(pilot, waiting_on_lock, "the lock wait in the breakdown")
            await wait_until(
                pilot,
                lambda: "Lock:transactionid" in "\n".join(drawn_lines(app)),
                "the lock wait drawn",
            )
            assert "samples/s" in screen_text(app)  # the sampler's own cost

            await pilot.press("g")
            pid = str(waiter.get_server_pid())
            await wait_until(
                pilot, lambda: pid in "\n".join(drawn_lines(app)), "the waiter by session"
            )
    finally:
        await holder.execute("ROLLBACK")
        await blocked
        await holder.close()
        await waiter.close()


async def test_s_writes_an_incident_snapshot_to_the_export_folder(
    diagnostics_cluster: ThrowawayCluster,
    db_with_statements: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # no Downloads folder there: the home itself
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("XDG_DOWNLOAD_DIR", raising=False)
    monkeypatch.setattr(diagnostics_screen, "SNAPSHOT_WINDOW", 0.5)
    app = app_for(diagnostics_cluster, db_with_statements)
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_diagnostics(pilot, app)
        await pilot.press("s")
        await wait_until(pilot, lambda: screen.snapshot_files is not None, "the snapshot")
        assert screen.snapshot_files is not None
        data, report = screen.snapshot_files
    assert data.parent == tmp_path and report.suffix == ".md"
    assert stat.S_IMODE(data.stat().st_mode) == 0o600
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    bundle = json.loads(data.read_text())
    for section in ("sessions", "locks", "waits", "statements", "horizon", "progress"):
        assert section in bundle
    assert bundle["statements"]["available"] is True
