"""Rewind on the activity screen, over a real server: a lock chain that formed and cleared
while the screen ran is found again, shown as it was, and live comes back with Esc."""

from __future__ import annotations

import asyncio
import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from pgconsole.app import PgConsoleApp
from pgconsole.db.recording import Recording
from pgconsole.db.recording.background import BackgroundWriter
from pgconsole.help_content import key_sections
from pgconsole.screens.activity import ActivityScreen
from pgconsole.screens.help import key_rows
from pgconsole.throwaway.cluster import ThrowawayCluster
from pgconsole.widgets.timeline import Timeline
from tests.helpers.ui import app_for, drawn_lines, to_activity, wait_until
from tests.ui.test_activity import activity, labelled, make_app, select_pid, table_t

__all__ = ["table_t"]  # the fixture, used by name

SIZE = (80, 24)


def chain(screen: ActivityScreen) -> list[int]:
    """The pids of the lock tree shown, roots first."""
    return [root.backend.pid for root in screen.lock_roots] + [
        child.backend.pid for root in screen.lock_roots for child in root.children
    ]


def status(screen: ActivityScreen) -> str:
    return str(screen.status_line.content)


async def test_a_cleared_lock_chain_is_found_again_and_esc_goes_live(
    cluster: ThrowawayCluster, table_t: str
) -> None:
    holder = await labelled(cluster, table_t, "test-holder")
    waiter = await labelled(cluster, table_t, "test-waiter")
    waiting: asyncio.Future[str] | None = None
    try:
        app = make_app(cluster, table_t)
        async with app.run_test(size=SIZE) as pilot:
            screen = await activity(pilot, app, samples=2)
            assert "rewind 0:0" in status(screen)  # a few seconds kept already
            await holder.execute("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
            waiting = query = asyncio.ensure_future(waiter.execute("SELECT * FROM t"))
            pids = [holder.get_server_pid(), waiter.get_server_pid()]
            await wait_until(pilot, lambda: chain(screen) == pids, "the chain, live")
            await holder.execute("ROLLBACK")
            await asyncio.wait_for(query, 10)
            await wait_until(pilot, lambda: chain(screen) == [], "the chain gone, live")
            start = screen.samples
            await wait_until(pilot, lambda: screen.samples >= start + 1, "a sample after")

            await pilot.press("n")  # nothing blocked after the newest sample
            await wait_until(
                pilot,
                lambda: any(
                    "No blocked session after this moment" in n.message for n in app._notifications
                ),
                "none found",
            )
            assert screen.playhead.live
            await pilot.press("N")  # back to where the chain began
            await pilot.pause()
            assert not screen.playhead.live
            assert chain(screen) == pids
            assert "rewind: " in status(screen) and "Esc: live" in status(screen)
            timeline = screen.query_one(Timeline)
            assert timeline.display and "▲" in str(timeline.content)
            lines = drawn_lines(app)
            assert any("▲" in line for line in lines)  # drawn at 80x24
            assert any(str(pids[1]) in line and "wants" in line for line in lines)

            # The past is not signalled: the pid may be another session's by now.
            await select_pid(pilot, screen, pids[0])
            await pilot.press("c")
            await wait_until(
                pilot,
                lambda: any("This is the past" in n.message for n in app._notifications),
                "the refusal",
            )

            # New samples keep coming while rewound, without moving what is shown.
            shown_at = screen.playhead.at
            start = screen.samples
            await wait_until(pilot, lambda: screen.samples >= start + 2, "two samples more")
            assert screen.playhead.at == shown_at and chain(screen) == pids

            await pilot.press("escape")
            await pilot.pause()
            assert screen.playhead.live and chain(screen) == []
            assert not timeline.display and "rewind 0:" in status(screen)
            assert isinstance(app.screen, ActivityScreen)  # Esc went live, not back
    finally:
        if waiting is not None and not waiting.done():
            await holder.execute("ROLLBACK")
            await asyncio.gather(waiting, return_exceptions=True)
        await holder.close()
        await waiter.close()


async def test_keys_step_through_samples_and_a_typed_time_is_checked(
    cluster: ThrowawayCluster, table_t: str
) -> None:
    app = make_app(cluster, table_t)
    async with app.run_test(size=SIZE) as pilot:
        screen = await activity(pilot, app, samples=3)
        kept = len(screen.rewind)
        await pilot.press("comma")  # from the newest, which a sample may have just replaced
        back = screen.playhead.shown()
        assert not screen.playhead.live and back in (kept - 2, kept - 1)
        await pilot.press("comma", "full_stop")  # samples still come: the playhead holds
        assert screen.playhead.shown() == back
        await pilot.press("left_curly_bracket")  # a minute back: the oldest there is
        assert screen.playhead.shown() == 0
        await pilot.press("t")
        await pilot.press(*"later", "enter")
        await wait_until(
            pilot,
            lambda: any("not a time" in n.message for n in app._notifications),
            "the error",
        )
        assert screen.playhead.shown() == 0  # nothing moved
        await pilot.press("t")
        await pilot.press(*"-1h", "enter")  # before the buffer: the oldest, said so
        await wait_until(
            pilot,
            lambda: any("before the first sample" in n.message for n in app._notifications),
            "the warning",
        )
        assert screen.playhead.shown() == 0
        newest = screen.rewind.moments()[-1].taken_at
        await pilot.press("t")
        await pilot.press(*"-0s", "enter")
        await pilot.pause()
        assert screen.playhead.at is not None and screen.playhead.at >= newest
        assert not screen.playhead.live  # on the newest there was, and held there


def test_help_lists_the_activity_screens_keys_and_the_rewind_ones() -> None:
    rows = [
        description
        for heading, classes in key_sections(PgConsoleApp)
        if heading == "Activity"
        for _keys, description in key_rows(classes)
    ]
    for description in ("Cancel query", "Root blocker", "Full query", "Rewind", "Back 1 min"):
        assert description in rows
    for description in ("Go to a time", "Previous blocked session", "Next wait spike"):
        assert description in rows


# --- recording from the app ----------------------------------------------------------------


async def start_recording(
    pilot: Pilot[Any], app: PgConsoleApp, samples: int
) -> tuple[ActivityScreen, BackgroundWriter]:
    """`R` on the activity screen; the screen and its recording once `samples` are written."""
    screen = await activity(pilot, app)
    await pilot.press("R")
    await wait_until(pilot, lambda: screen.recorder is not None, "the recording")
    recorder = screen.recorder
    assert recorder is not None
    await wait_until(pilot, lambda: recorder.added >= samples, f"{samples} samples written")
    return screen, recorder


async def test_r_records_the_samples_to_a_file_that_replays(
    cluster: ThrowawayCluster, table_t: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DOWNLOAD_DIR", str(tmp_path))
    app = make_app(cluster, table_t)
    async with app.run_test(size=SIZE) as pilot:
        screen, recorder = await start_recording(pilot, app, 3)
        assert "● REC 0:0" in status(screen)
        await pilot.press("R")
        await wait_until(pilot, lambda: screen.recorder is None, "the recording stopped")
        assert "REC" not in status(screen)
    [path] = list(await asyncio.to_thread(tmp_path.glob, "pgconsole-*.pgrec"))
    assert path.stat().st_mode & 0o777 == 0o600
    with Recording.open(path) as recording:
        assert recording.count == recorder.added >= 3
        assert recording.meta.database == table_t and recording.meta.port == cluster.port
        assert any(b.is_self for b in recording[0].backends)


async def test_a_recording_that_fails_stops_and_says_so_until_r(
    cluster: ThrowawayCluster, table_t: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DOWNLOAD_DIR", str(tmp_path))
    app = make_app(cluster, table_t)
    async with app.run_test(size=SIZE) as pilot:
        screen, recorder = await start_recording(pilot, app, 1)
        # The file's connection goes away under the writer, as a lost disk would take it.
        await asyncio.get_running_loop().run_in_executor(
            recorder._thread, recorder.writer._conn.close
        )
        await wait_until(pilot, lambda: screen.recorder is None, "the recording to stop")
        assert "recording stopped: cannot write to" in status(screen)
        start = screen.samples
        await wait_until(pilot, lambda: screen.samples >= start + 2, "two samples more")
        assert "recording stopped" in status(screen)  # it stays
        assert any("Recording stopped" in n.message for n in app._notifications)


async def test_s_writes_a_snapshot_of_the_moment_shown(
    cluster: ThrowawayCluster, table_t: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DOWNLOAD_DIR", str(tmp_path))
    app = make_app(cluster, table_t)
    async with app.run_test(size=SIZE) as pilot:
        screen = await activity(pilot, app, samples=3)
        await pilot.press("comma", "comma")
        shown = screen.playhead.at
        assert shown is not None
        await pilot.press("S")
        await wait_until(pilot, lambda: screen.snapshot_files is not None, "the snapshot")
        assert screen.snapshot_files is not None
        json_file, report = screen.snapshot_files
    bundle = json.loads(await asyncio.to_thread(json_file.read_text))
    assert bundle["source"] == "rewind buffer"
    taken = datetime.datetime.fromisoformat(bundle["taken_at"]).timestamp()
    assert taken == pytest.approx(shown, abs=1e-3)  # the moment shown, not now
    assert bundle["server"]["database"] == table_t
    assert any(s["is_self"] for s in bundle["sessions"])
    assert bundle["statements"]["available"] is False
    assert report.suffix == ".md"


async def test_rewind_in_background_fills_while_the_browser_is_shown(
    cluster: ThrowawayCluster, table_t: str
) -> None:
    holder = await labelled(cluster, table_t, "test-background-holder")
    try:
        await holder.execute("BEGIN; LOCK TABLE t IN ACCESS SHARE MODE")
        pid = holder.get_server_pid()
        app = app_for(cluster, table_t, "public.t", rewind_in_background=True)
        async with app.run_test(size=SIZE) as pilot:
            rewind = app.places.rewind
            await wait_until(pilot, lambda: len(rewind) >= 2, "samples while browsing")
            assert not isinstance(app.screen, ActivityScreen)
            assert any(b.pid == pid for b in rewind.sample(len(rewind) - 1).backends)
            await holder.execute("COMMIT")
            screen = await to_activity(pilot, app)
            await pilot.press("left_curly_bracket")  # back to the first sample: the browser's
            assert screen.playhead.shown() == 0 and pid in screen.backends
        async with app_for(cluster, table_t, "public.t").run_test(size=SIZE) as pilot:
            plain = pilot.app
            assert isinstance(plain, PgConsoleApp)
            await wait_until(pilot, lambda: plain.database is not None, "the pool")
            # Off by default: the worker would have been started as the pool was shown.
            assert not [w for w in plain.workers if w.group == "rewind"]
    finally:
        await holder.close()
