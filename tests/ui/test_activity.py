"""The activity screen over a real server: sessions, the lock tree, signals, reconnecting."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from textual.pilot import Pilot
from textual.widget import Widget

from pgconsole.app import PgConsoleApp
from pgconsole.config import Settings
from pgconsole.db.activity import stats
from pgconsole.db.opening import open_early
from pgconsole.db.quoting import quote_ident
from pgconsole.db.sqlfiles import load_sql
from pgconsole.screens.activity import RECONNECTED_SHOWN, ActivityScreen
from pgconsole.screens.confirm import ConfirmScreen
from pgconsole.screens.console import ConsoleScreen
from pgconsole.throwaway.cluster import ThrowawayCluster
from pgconsole.widgets.session_table import SessionTable
from tests.conftest import admin_connect, params_for
from tests.helpers.ui import app_for, noted_calls, shown, wait_for_screen, wait_until

SIZE = (120, 40)


def make_app(cluster: ThrowawayCluster, dbname: str, **settings: Any) -> PgConsoleApp:
    return app_for(cluster, dbname, "public.t", activity=True, **settings)


async def activity(pilot: Pilot[Any], app: PgConsoleApp, samples: int = 1) -> ActivityScreen:
    await wait_for_screen(pilot, app, ActivityScreen, "the screen")
    screen = app.screen
    assert isinstance(screen, ActivityScreen)
    start = screen.samples
    await wait_until(pilot, lambda: screen.samples >= start + samples, "a refresh")
    return screen


async def test_the_first_refresh_shows_the_sample_taken_while_the_app_started(
    cluster: ThrowawayCluster, table_t: str
) -> None:
    params, settings = params_for(cluster, table_t), Settings()
    opening = asyncio.create_task(open_early(params, settings, None, None, activity=True))
    app = PgConsoleApp(params, settings, activity=True, opening=opening)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, app, ActivityScreen, "the screen")
        screen = app.screen
        assert isinstance(screen, ActivityScreen)
        await wait_until(pilot, lambda: screen.samples >= 1, "the first refresh")
        first = opening.result().first_sample
        assert first is not None and screen.sampler is first.sampler
        assert screen.last_refresh == first.taken
        await wait_until(pilot, lambda: screen.samples >= 2, "a refresh")
        assert screen.last_refresh > first.taken  # sampled again, on its own connection now
        assert screen.sampler.conn is not None


async def test_a_refresh_with_nothing_in_progress_never_lays_the_screen_out(
    cluster: ThrowawayCluster, table_t: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each panel has a fixed height: a refresh repaints. The hidden progress box was updated
    # every second all the same, which made Textual lay the whole screen out again.
    def laid_out(widget: Widget, *_: Any, layout: bool = False, **__: Any) -> str | None:
        return f"{type(widget).__name__}#{widget.id}" if layout else None

    layouts = noted_calls(monkeypatch, Widget, "refresh", laid_out)
    app = make_app(cluster, table_t)
    async with app.run_test(size=SIZE) as pilot:
        screen = await activity(pilot, app, samples=2)
        layouts.clear()
        start = screen.samples
        await wait_until(pilot, lambda: screen.samples >= start + 3, "three refreshes")
        assert layouts == []


async def labelled(cluster: ThrowawayCluster, dbname: str, name: str) -> asyncpg.Connection:
    return await asyncpg.connect(cluster.dsn(dbname), server_settings={"application_name": name})


@pytest.fixture
async def table_t(cluster: ThrowawayCluster, dbname: str) -> AsyncIterator[str]:
    conn = await admin_connect(cluster, dbname)
    try:
        await conn.execute(
            "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a');"
            "CREATE TABLE u (id int PRIMARY KEY); INSERT INTO u VALUES (1);"
        )
    finally:
        await conn.close()
    yield dbname


async def test_sessions_are_listed_and_idle_ones_can_be_hidden(
    cluster: ThrowawayCluster, table_t: str
) -> None:
    idle = await labelled(cluster, table_t, "test-idle")
    busy = await labelled(cluster, table_t, "test-intx")
    await busy.execute("BEGIN; SELECT 1")
    app = make_app(cluster, table_t)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await activity(pilot, app)
            apps = {s.application: s for s in screen.backends.values()}
            assert apps["test-idle"].state == "idle"
            assert apps["test-intx"].state == "idle in transaction"
            shown_pids = {s.pid for s in screen._visible_sessions()}
            assert idle.get_server_pid() in shown_pids
            await pilot.press("I")  # hide idle sessions
            shown_pids = {s.pid for s in screen._visible_sessions()}
            assert idle.get_server_pid() not in shown_pids
            assert busy.get_server_pid() in shown_pids
            assert "Server" in shown(app, "#server-panel")
            assert "pgconsole pool" in shown(app, "#pool-panel")
    finally:
        await idle.close()
        await busy.close()


@pytest.mark.slow
async def test_a_lock_chain_appears_as_a_tree(cluster: ThrowawayCluster, table_t: str) -> None:
    a, b, c, d = [await labelled(cluster, table_t, f"test-{n}") for n in "abcd"]
    waits: list[asyncio.Future[object]] = []
    try:
        await a.execute("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        await b.execute("BEGIN; LOCK TABLE u IN ACCESS EXCLUSIVE MODE")
        waits.append(asyncio.ensure_future(b.execute("SELECT * FROM t")))  # B waits on A
        waits.append(asyncio.ensure_future(c.execute("SELECT * FROM u")))  # C waits on B
        waits.append(asyncio.ensure_future(d.execute("SELECT * FROM t")))  # D waits on A
        app = make_app(cluster, table_t)
        async with app.run_test(size=SIZE) as pilot:
            screen = await activity(pilot, app)

            def tree() -> list[tuple[int, list[tuple[int, list[int]]]]]:
                return [
                    (
                        root.backend.pid,
                        sorted(
                            (n.backend.pid, [m.backend.pid for m in n.children])
                            for n in root.children
                        ),
                    )
                    for root in screen.lock_roots
                ]

            pa, pb, pc, pd = (x.get_server_pid() for x in (a, b, c, d))
            expected = [(pa, sorted([(pb, [pc]), (pd, [])]))]
            await wait_until(pilot, lambda: tree() == expected, "the lock tree")
            waiting = screen.backends[pb]
            assert waiting.lock_mode == "AccessShareLock" and "t" in (waiting.lock_relation or "")
    finally:
        await a.execute("ROLLBACK")
        if waits:
            await asyncio.wait_for(asyncio.gather(waits[0], return_exceptions=True), 10)
        await b.execute("ROLLBACK")  # then C gets u
        await asyncio.wait_for(asyncio.gather(*waits, return_exceptions=True), 10)
        for conn in (a, b, c, d):
            await conn.close()


async def select_pid(pilot: Pilot[Any], screen: ActivityScreen, pid: int) -> None:
    table = screen.query_one(SessionTable)
    await wait_until(pilot, lambda: pid in {r.pid for r in table.rows}, "its row")
    assert table.select_pid(pid)
    assert screen.selected_pid() == pid


async def test_cancel_acts_on_the_selected_pid_and_read_only_refuses(
    cluster: ThrowawayCluster, table_t: str
) -> None:
    sleeper = await labelled(cluster, table_t, "test-sleeper")
    sleeping = asyncio.ensure_future(sleeper.execute("SELECT pg_sleep(30)"))
    try:
        app = make_app(cluster, table_t, read_only=True)
        async with app.run_test(size=SIZE) as pilot:
            screen = await activity(pilot, app)
            await select_pid(pilot, screen, sleeper.get_server_pid())
            await pilot.press("c")
            await wait_until(
                pilot,
                lambda: any("cancel is refused" in str(n.message) for n in app._notifications),
                "the refusal",
            )
            assert not isinstance(app.screen, ConfirmScreen)  # refused before asking
            assert not sleeping.done()

        app = make_app(cluster, table_t)
        async with app.run_test(size=SIZE) as pilot:
            screen = await activity(pilot, app)
            await select_pid(pilot, screen, sleeper.get_server_pid())
            await pilot.press("c")
            await wait_for_screen(pilot, app, ConfirmScreen, "confirm")
            assert "pg_sleep" in shown(app, "#confirm-detail")
            await pilot.press("y")
            with pytest.raises(asyncpg.QueryCanceledError):
                await asyncio.wait_for(sleeping, 10)
    finally:
        if not sleeping.done():
            sleeping.cancel()
        await sleeper.close()


async def test_a_role_without_pg_monitor_sees_explanations_not_errors(
    cluster: ThrowawayCluster, table_t: str
) -> None:
    role = f"watcher_{uuid.uuid4().hex[:8]}"
    admin = await admin_connect(cluster, table_t)
    await admin.execute(f"CREATE ROLE {quote_ident(role)} LOGIN PASSWORD 'secret-pw'")
    other = await labelled(cluster, table_t, "test-other-role")
    await other.execute("SELECT 'private query'")
    try:
        app = PgConsoleApp(
            params_for(cluster, table_t, user=role, password="secret-pw"),
            Settings(),
            activity=True,
        )
        async with app.run_test(size=SIZE) as pilot:
            screen = await activity(pilot, app, samples=2)
            status = shown(app, "#activity-status")
            assert "pg_read_all_stats" in status or "pg_monitor" in status
            theirs = screen.backends[other.get_server_pid()]
            # Hidden from this role (the server says so), and no crash on the NULL columns.
            assert theirs.query in (None, "<insufficient privilege>")
            assert theirs.state is None
            assert "reconnecting" not in status
    finally:
        await other.close()
        await admin.execute(f"DROP OWNED BY {quote_ident(role)}")
        await admin.close()


async def test_killing_the_screens_connection_reconnects_and_the_pool_is_unaffected(
    cluster: ThrowawayCluster, table_t: str
) -> None:
    app = make_app(cluster, table_t)
    async with app.run_test(size=SIZE) as pilot:
        screen = await activity(pilot, app)
        assert screen.conn is not None
        own = screen.conn.get_server_pid()
        assert app.database is not None
        holders = app.database.pool._holders  # type: ignore[attr-defined]
        pool_pids = {h._con.get_server_pid() for h in holders if h._con is not None}
        admin = await admin_connect(cluster, table_t)
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", own)
        finally:
            await admin.close()
        await wait_until(
            pilot,
            lambda: screen.conn is not None and screen.conn.get_server_pid() != own,
            "a new connection",
        )
        before = screen.samples
        await wait_until(pilot, lambda: screen.samples > before, "a refresh after it")
        assert screen.reconnects == 1  # "reconnecting…" was shown in between
        # Said after it too, with when: the samples had a gap, and something ended the session.
        await wait_until(
            pilot, lambda: "reconnected " in shown(app, "#activity-status"), "reconnected"
        )
        assert screen.reconnected_at is not None
        at = time.strftime("%H:%M:%S", time.localtime(screen.reconnected_at))
        assert shown(app, "#activity-status").startswith(f"reconnected {at} · refreshed ")
        screen.reconnected_at -= RECONNECTED_SHOWN  # a minute later, it is said no more
        await wait_until(
            pilot, lambda: "reconnected" not in shown(app, "#activity-status"), "no longer said"
        )
        assert own not in pool_pids
        assert app.database is not None
        assert await app.database.pool.fetchval("SELECT 42") == 42


async def test_terminate_ends_the_selected_session_only(
    cluster: ThrowawayCluster, table_t: str
) -> None:
    victim = await labelled(cluster, table_t, "test-victim")
    bystander = await labelled(cluster, table_t, "test-bystander")
    try:
        app = make_app(cluster, table_t)
        async with app.run_test(size=SIZE) as pilot:
            screen = await activity(pilot, app)
            await select_pid(pilot, screen, victim.get_server_pid())
            await pilot.press("T")
            await answer_yes(pilot, app)
            await wait_until(
                pilot, lambda: victim.get_server_pid() not in screen.backends, "the session gone"
            )
        assert await bystander.fetchval("SELECT 1") == 1
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
            await victim.fetchval("SELECT 1")
    finally:
        await bystander.close()
        if not victim.is_closed():
            victim.terminate()


async def answer_yes(pilot: Pilot[Any], app: PgConsoleApp) -> None:
    await wait_for_screen(pilot, app, ConfirmScreen, "the confirmation")
    await pilot.press("y")


async def test_a_signal_sent_while_a_poll_runs_goes_through_the_pool(
    cluster: ThrowawayCluster, table_t: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The poll's connection is busy while it samples: the signal must not wait for it, nor
    fail with "another operation is in progress" on it."""
    sleeper = await labelled(cluster, table_t, "test-sleeper")
    holder = await admin_connect(cluster, table_t)
    sleeping = asyncio.ensure_future(sleeper.execute("SELECT pg_sleep(30)"))
    sample = stats.sample

    async def held_sample(conn: asyncpg.Connection) -> stats.Sample:
        # Waits for the test's advisory lock: the poll stays in flight meanwhile.
        await conn.execute("SELECT pg_advisory_xact_lock(4242)")
        return await sample(conn)

    try:
        app = make_app(cluster, table_t)
        async with app.run_test(size=SIZE) as pilot:
            screen = await activity(pilot, app)
            await select_pid(pilot, screen, sleeper.get_server_pid())
            await holder.execute("SELECT pg_advisory_lock(4242)")
            monkeypatch.setattr(stats, "sample", held_sample)
            while not await holder.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            ):
                await pilot.pause(0.05)
            await pilot.press("c")
            await answer_yes(pilot, app)
            with pytest.raises(asyncpg.QueryCanceledError):
                await asyncio.wait_for(sleeping, 10)
    finally:
        await holder.close()  # lets the held poll go on
        if not sleeping.done():
            sleeping.cancel()
        await sleeper.close()


def visible_lines(screen: ActivityScreen) -> list[str]:
    """The session lines the table draws now (its header left out)."""
    table = screen.query_one(SessionTable)
    lines = [table.render_line(y).text for y in range(1, table.size.height)]
    return [line for line in lines if line.strip()]


async def test_at_80x24_at_least_12_sessions_show_their_query(
    cluster: ThrowawayCluster, table_t: str
) -> None:
    sleepers = [await labelled(cluster, table_t, f"test-sleeper-{n}") for n in range(30)]
    sleeping = [
        asyncio.ensure_future(conn.execute(f"SELECT pg_sleep(60) /* sleeper {n} */"))
        for n, conn in enumerate(sleepers)
    ]
    try:
        app = make_app(cluster, table_t)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await activity(pilot, app)
            await wait_until(
                pilot,
                lambda: sum("pg_sleep(60)" in line for line in visible_lines(screen)) >= 12,
                "12 sleepers with their query",
            )
            lines = visible_lines(screen)
            assert len(lines) >= 12
            assert all(len(line) <= 80 for line in lines)
            header = screen.query_one(SessionTable).render_line(0).text.split()
            assert header[:2] == ["pid", "state"] and header[-1] == "query"
            assert "backend" not in header  # a lower-value column dropped first
            assert "No session waits on another." in shown(app, "#lock-tree")
            assert screen.query_one("#lock-tree").size.height == 1

            # Wider, more columns appear; the panels unfold.
            await pilot.resize_terminal(200, 50)
            await wait_until(
                pilot,
                lambda: "backend" in screen.query_one(SessionTable).render_line(0).text,
                "the wide layout",
            )
            assert screen.query_one("#pool-panel").display
            assert "pg_sleep(60)" in visible_lines(screen)[0] + visible_lines(screen)[-1]
            await pilot.resize_terminal(120, 36)
            await wait_until(
                pilot,
                lambda: "app" in screen.query_one(SessionTable).render_line(0).text.split(),
                "the middle layout",
            )
            assert sum("pg_sleep(60)" in line for line in visible_lines(screen)) >= 12
    finally:
        for future in sleeping:
            future.cancel()
        for conn in sleepers:
            conn.terminate()


async def test_narrow_panels_fold_and_p_unfolds_them(
    cluster: ThrowawayCluster, table_t: str
) -> None:
    app = make_app(cluster, table_t)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await activity(pilot, app)
        assert not screen.query_one("#pool-panel").display
        assert screen.query_one("#panels").size.height == 3
        assert "pgconsole pool" in shown(app, "#server-panel")
        await pilot.press("p")
        await wait_until(pilot, lambda: screen.query_one("#pool-panel").display, "the pool panel")
        await wait_until(pilot, lambda: "pgconsole pool" in shown(app, "#pool-panel"), "its text")
        await pilot.press("p")
        await wait_until(pilot, lambda: not screen.query_one("#pool-panel").display, "folded")


async def test_background_processes_are_hidden_until_B(
    cluster: ThrowawayCluster, table_t: str
) -> None:
    app = make_app(cluster, table_t)
    async with app.run_test(size=SIZE) as pilot:
        screen = await activity(pilot, app)
        background = {s.pid for s in screen.backends.values() if s.is_background}
        assert background  # checkpointer, walwriter... always run
        assert not background & {s.pid for s in screen._visible_sessions()}
        await pilot.press("B")
        assert background <= {s.pid for s in screen._visible_sessions()}


async def test_pgconsole_sessions_are_marked_and_the_poll_has_a_short_name(
    cluster: ThrowawayCluster, table_t: str
) -> None:
    other = await labelled(cluster, table_t, "pgconsole")  # another pgconsole's poll
    await other.fetch(load_sql("pgconsole.db.activity.stats", "activity_sample.sql"))
    stranger = await labelled(cluster, table_t, "test-stranger")
    try:
        app = make_app(cluster, table_t)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await activity(pilot, app)
            table = screen.query_one(SessionTable)
            await wait_until(
                pilot, lambda: other.get_server_pid() in {r.pid for r in table.rows}, "it"
            )
            rows = {r.pid: r for r in table.rows}
            assert screen.conn is not None
            own = rows[screen.conn.get_server_pid()]
            assert own.cells[0].endswith("*") and own.mark == "own"
            assert own.cells[-1] == "pgconsole: activity poll (this screen)"
            theirs = rows[other.get_server_pid()]
            assert theirs.cells[0].endswith("*")
            assert theirs.cells[-1] == "pgconsole: activity poll"
            assert not rows[stranger.get_server_pid()].cells[0].endswith("*")
    finally:
        await other.close()
        await stranger.close()


async def test_the_consoles_statement_shows_instead_of_its_fetch(
    cluster: ThrowawayCluster, table_t: str
) -> None:
    other = await labelled(cluster, table_t, "pgconsole")  # another pgconsole's console
    await other.execute("BEGIN; DECLARE pgconsole_q7 SCROLL CURSOR FOR SELECT pg_sleep(30)")
    fetching = asyncio.ensure_future(other.execute("FETCH FORWARD 101 FROM pgconsole_q7"))
    app = app_for(cluster, table_t, "public.t")
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: app.database is not None, "the pool")
            await pilot.press("f4")
            console = await wait_for_screen(pilot, app, ConsoleScreen, "the console")
            await wait_until(pilot, lambda: console.session.pid is not None, "its connection")
            console.editor.text = "select pg_sleep(30)"
            console.editor.focus()
            await pilot.press("f5")
            await wait_until(pilot, lambda: console.running is not None, "the run")
            await pilot.press("f3")
            screen = await activity(pilot, app)
            pid = console.session.pid
            assert pid is not None
            table = screen.query_one(SessionTable)

            def query_of(pid: int) -> str:
                row = next((r for r in table.rows if r.pid == pid), None)
                return "" if row is None else row.cells[-1]

            await wait_until(pilot, lambda: query_of(pid) == "select pg_sleep(30)", "it")
            assert "FETCH" in (screen.backends[pid].query or "")
            await wait_until(
                pilot,
                lambda: query_of(other.get_server_pid()) == "FETCH … (pgconsole console cursor)",
                "the other console's cursor",
            )
            await select_pid(pilot, screen, pid)
            await pilot.press("c")
            await wait_for_screen(pilot, app, ConfirmScreen, "confirm")
            assert shown(app, "#confirm-detail") == "select pg_sleep(30)"
            await pilot.press("n")
    finally:
        fetching.cancel()
        other.terminate()
