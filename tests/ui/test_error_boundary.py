"""The error boundary: a worker failing with a bug shows one line, logs, and the app goes on."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.message import Message
from textual.widgets import Static, TextArea

from pgconsole.failed_workers import WorkerFailed, errors_log_path, failure_line
from pgconsole.screens.cell_editor import CellEditorScreen
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.helpers.ui import app_for, wait_for_screen, wait_until


def test_the_failure_line_is_one_readable_line(tmp_path: Path) -> None:
    line = failure_line(ValueError("bad\nsecond line"), tmp_path / "errors.log")
    assert line == (
        f"Something failed unexpectedly: ValueError: bad (details in {tmp_path}/errors.log)"
    )


async def test_a_failed_worker_is_reported_logged_and_the_app_keeps_running(
    cluster: ThrowawayCluster, dbname: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    seen: list[Message] = []
    app = app_for(cluster, dbname)

    async def broken() -> None:
        raise RuntimeError("a bug in a worker")

    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await wait_until(pilot, lambda: app.database is not None, "the connection")
        app.run_worker(broken(), name="broken", exit_on_error=False)
        await wait_until(
            pilot, lambda: any(isinstance(m, WorkerFailed) for m in seen), "the report"
        )
        await wait_until(pilot, errors_log_path().exists, "the errors log")
        assert app.is_running
        shown = [n.message for n in app._notifications]
        assert any("RuntimeError: a bug in a worker" in text for text in shown), shown
    log = errors_log_path()
    assert log == tmp_path / "state" / "pgconsole" / "errors.log"
    assert log.stat().st_mode & 0o777 == 0o600
    text = log.read_text()
    assert "in broken" in text and "Traceback" in text and "a bug in a worker" in text


async def test_a_save_that_fails_with_a_bug_keeps_the_editor_and_its_text(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    seen: list[Message] = []
    app = app_for(cluster, dbname)

    async def save(value: object) -> str | None:
        raise RuntimeError("a bug in the save")

    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await wait_until(pilot, lambda: app.database is not None, "the connection")
        editor = CellEditorScreen("name of public.t", "text", "old", save)
        app.push_screen(editor)
        await wait_for_screen(pilot, app, CellEditorScreen, "the editor")
        editor.query_one(TextArea).text = "typed"
        await pilot.press("ctrl+s")
        await wait_until(
            pilot, lambda: any(isinstance(m, WorkerFailed) for m in seen), "the report"
        )
        await wait_until(
            pilot,
            lambda: "Not saved" in str(editor.query_one("#editor-error", Static).content),
            "the editor's line",
        )
        assert app.screen is editor and editor.typed == "typed" and not editor.busy
