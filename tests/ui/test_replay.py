"""Replay of a recording made against the real server during a scripted incident: a lock chain
with an idle-in-transaction holder and four waiters (a wait spike) forms and clears; the replay
shows it at the right moments only, and the search keys land on it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest

from pgconsole.db.activity import stats
from pgconsole.db.recording import Meta, Recording, Writer
from pgconsole.replay import ReplayApp, run_replay
from pgconsole.screens.replay import ReplayScreen
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.conftest import admin_connect
from tests.db.test_stats import until
from tests.helpers.ui import drawn_lines, wait_until

SIZE = (80, 24)
WAITERS = 4


async def record_incident(cluster: ThrowawayCluster, dbname: str, path: Path) -> list[int]:
    """Three quiet samples, three with the chain, three after; the pids: holder, waiters."""
    conn = await admin_connect(cluster, dbname)
    await conn.execute(
        "CREATE TABLE item (id int PRIMARY KEY, price int); INSERT INTO item VALUES (1, 1)"
    )
    holder = await asyncpg.connect(cluster.dsn(dbname))
    waiters = [await asyncpg.connect(cluster.dsn(dbname)) for _ in range(WAITERS)]
    meta = Meta(
        host=cluster.host, port=cluster.port, database=dbname, server_version="15",
        interval=1.0, redacted=False,
    )  # fmt: skip
    updates: list[asyncio.Future[str]] = []
    try:
        with Writer.open(path, meta) as writer:

            async def take(count: int, check: Callable[[stats.Sample], bool]) -> None:
                for _ in range(count):
                    writer.add(await until(conn, check, "the scene"))
                    await asyncio.sleep(0.01)  # samples apart in time

            await take(3, lambda s: True)
            await holder.execute("BEGIN; UPDATE item SET price = 2 WHERE id = 1")
            updates = [
                asyncio.ensure_future(w.execute("UPDATE item SET price = 3 WHERE id = 1"))
                for w in waiters
            ]
            await take(3, lambda s: sum(1 for b in s.backends if b.blocked_by) == WAITERS)
            await holder.execute("ROLLBACK")
            await asyncio.wait_for(asyncio.gather(*updates), 10)
            await take(3, lambda s: not any(b.blocked_by for b in s.backends))
        return [holder.get_server_pid(), *(w.get_server_pid() for w in waiters)]
    finally:
        for task in updates:
            task.cancel()
        for other in (holder, *waiters, conn):
            await other.close()


@pytest.fixture
async def incident(
    cluster: ThrowawayCluster, dbname: str, tmp_path: Path
) -> tuple[Path, list[int]]:
    path = tmp_path / "incident.pgrec"
    return path, await record_incident(cluster, dbname, path)


def below(node: stats.LockNode) -> list[int]:
    """The pids waiting behind `node`, at any depth (row waiters queue behind each other;
    one may wait behind several)."""
    return [pid for child in node.children for pid in (child.backend.pid, *below(child))]


def roots(screen: ReplayScreen) -> list[int]:
    return [node.backend.pid for node in screen.lock_roots]


async def test_the_chain_shows_at_its_moments_only_and_the_keys_find_it(
    incident: tuple[Path, list[int]],
) -> None:
    path, pids = incident
    with Recording.open(path) as recording:
        app = ReplayApp(recording)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            assert isinstance(screen, ReplayScreen)
            await wait_until(pilot, lambda: screen.samples >= 1, "the first moment")
            assert screen.playhead.shown() == 0 and roots(screen) == []
            assert "replay " in str(screen.status_line.content)
            assert any("▲" in line for line in drawn_lines(app))  # the timeline, at 80x24

            await pilot.press("n")
            assert screen.playhead.shown() == 3  # where the chain begins
            assert roots(screen) == [pids[0]]
            assert set(below(screen.lock_roots[0])) == set(pids[1:])
            holder = screen.backends[pids[0]]
            assert holder.state == "idle in transaction"

            await pilot.press("left_square_bracket")  # 10 s back: the first sample
            assert screen.playhead.shown() == 0
            await pilot.press("W")  # four waiting at once: the recording's wait spike
            assert screen.playhead.shown() == 3
            await pilot.press("end")  # over the sessions table, which has keys of its own
            assert screen.playhead.shown() == 8
            await pilot.press("home")
            assert screen.playhead.shown() == 0
            await pilot.press("X")  # the holder's transaction: under a second, not counted
            await wait_until(
                pilot,
                lambda: any("No new longest transaction" in n.message for n in app._notifications),
                "none found",
            )
            await pilot.press("W")
            assert screen.playhead.shown() == 3

            await pilot.press("full_stop", "full_stop")
            assert roots(screen) == [pids[0]]  # still there at the chain's last moment
            await pilot.press("full_stop")
            assert screen.playhead.shown() == 6 and roots(screen) == []  # gone after
            await pilot.press("n")  # no second chain
            await wait_until(
                pilot,
                lambda: any("No blocked session after" in n.message for n in app._notifications),
                "none found",
            )
            assert screen.playhead.shown() == 6

            # Playing at 60x reaches the end and stops there.
            await pilot.press(*"++++++", "space")
            await wait_until(pilot, lambda: not screen.playing, "the end of the file")
            assert screen.playhead.shown() == 8 and "paused 60x" in str(screen.status_line.content)


async def test_replay_starts_at_the_moment_asked_and_refuses_what_it_cannot_read(
    incident: tuple[Path, list[int]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, pids = incident
    with Recording.open(path) as recording:
        moments = recording.moments()
        app = ReplayApp(recording, at=moments[4].taken_at)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            assert isinstance(screen, ReplayScreen)
            await wait_until(pilot, lambda: screen.samples >= 1, "the first moment")
            assert screen.playhead.shown() == 4 and roots(screen) == [pids[0]]
            await pilot.press("escape")  # a replay has no live: Esc ends it
            await wait_until(pilot, lambda: not app.is_running, "the app to end")

    other = tmp_path / "notes.txt"
    other.write_text("not a recording")
    assert run_replay(other, None) == 1
    assert run_replay(path, "yesterday") == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("pgconsole replay: ") and "not a pgconsole recording" in err[0]
    assert "--at: not a time: 'yesterday'" in err[1]
