"""The activity screen's layout, fed fixed samples (no server)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

from textual import work
from textual.pilot import Pilot
from textual.widget import Widget

from pgconsole.config import Settings
from pgconsole.db.activity import stats
from pgconsole.screens.activity import ActivityScreen
from pgconsole.widgets.session_table import SessionTable
from tests.helpers.ui import wait_until
from tests.ui.test_snapshot_gallery import (
    BEFORE_THE_CHAIN,
    LOCK_CHAIN,
    REFRESHED,
    SESSIONS,
    counters,
)
from tests.ui.test_snapshots import PARAMS, ConnectedHarness, until_connected


class SampledActivity(ActivityScreen):
    """The activity screen without a poll: the test shows each sample."""

    @work(exclusive=True, group="activity")
    async def poll(self) -> None:
        self.last_refresh = REFRESHED
        self.state_text = ""

    def show(self, sessions: tuple[stats.Backend, ...]) -> None:
        self.show_sample(stats.Sample(sessions, counters(1_000.0 + self.samples, 1), 2))
        self.samples += 1


async def opened(pilot: Pilot[Any]) -> SampledActivity:
    await until_connected(pilot)
    app = cast(ConnectedHarness, pilot.app)
    assert app.database is not None
    screen = SampledActivity(app.database, read_only=True)
    await app.push_screen(screen)
    await wait_until(pilot, lambda: screen.is_mounted and screen.last_refresh is not None, "it")
    return screen


def lines(widget: Widget) -> list[str]:
    """What the widget draws, line by line, without trailing blanks."""
    return [widget.render_line(y).text.rstrip() for y in range(widget.size.height)]


async def test_a_chain_in_the_first_sample_is_drawn() -> None:
    app = ConnectedHarness(PARAMS, Settings(read_only=True))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(pilot)
        tree = screen.query_one("#lock-tree")

        def whole_chain() -> bool:
            drawn = "\n".join(lines(tree))
            return "Blocking chains" in drawn and all(str(s.pid) in drawn for s in LOCK_CHAIN)

        screen.show(SESSIONS)
        await wait_until(pilot, whole_chain, "the chain, from the first sample")
        screen.show(BEFORE_THE_CHAIN)
        await wait_until(pilot, lambda: tree.size.height == 1, "one line")
        assert [line.strip() for line in lines(tree)] == ["No session waits on another."]
        screen.show(SESSIONS)
        await wait_until(pilot, whole_chain, "the chain again")


async def test_lines_cut_to_fit_end_with_an_ellipsis() -> None:
    app = ConnectedHarness(PARAMS, Settings(read_only=True))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(pilot)
        screen.show(SESSIONS)
        status = screen.query_one("#activity-status")
        await wait_until(pilot, lambda: "refreshed" in lines(status)[0], "the status")
        assert lines(status)[0].endswith("…")
        # The folded panels' pool line, too long for 80 columns.
        pool_line = lines(screen.query_one("#server-panel"))[2]
        assert pool_line.startswith("pgconsole pool") and pool_line.endswith("…")
        # The queries, cut at the table's edge (Enter shows one whole).
        table = screen.query_one(SessionTable)
        await wait_until(pilot, lambda: table.show_vertical_scrollbar, "its scrollbar")
        first = lines(table)[1]
        assert first.startswith("4101") and first.endswith("UPDATE shop.item SET price = p…")
        assert len(first) == table.size.width - 2  # the scrollbar is drawn over the rest


def session_rows(screen: ActivityScreen) -> int:
    """Session lines drawn (the header left out)."""
    return sum(1 for line in lines(screen.query_one(SessionTable))[1:] if line.strip())


def queue(length: int) -> tuple[stats.Backend, ...]:
    """The sessions with `length` more queued behind the lock chain's last one."""
    last = LOCK_CHAIN[-1]
    waiting = tuple(
        replace(last, pid=4500 + n, blocked_by=(last.pid,), query=f"LOCK shop.item /* {n} */")
        for n in range(length)
    )
    return SESSIONS + waiting


async def test_at_80x24_the_lock_tree_takes_the_lines_it_needs_and_no_more() -> None:
    app = ConnectedHarness(PARAMS, Settings(read_only=True))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await opened(pilot)
        tree = screen.query_one("#lock-tree")
        screen.show(BEFORE_THE_CHAIN)
        await wait_until(pilot, lambda: session_rows(screen) >= 17, "17 rows without a chain")
        screen.show(SESSIONS)
        # The heading and the chain's three sessions, one line each (cut with …).
        await wait_until(pilot, lambda: tree.size.height == 4, "the chain's four lines")
        drawn = lines(tree)
        assert all(str(s.pid) in line for s, line in zip(LOCK_CHAIN, drawn[1:], strict=True))
        assert all(line.endswith("…") for line in drawn[1:])
        await wait_until(pilot, lambda: session_rows(screen) >= 14, "14 rows beside it")
        # A queue of 20 more: a quarter of the screen, the rest counted.
        screen.show(queue(20))
        await wait_until(pilot, lambda: tree.size.height == 6, "the queue's six lines")
        drawn = lines(tree)
        assert drawn[-1].endswith(f"… {len(LOCK_CHAIN) + 20 - 4} more not drawn")
        assert all(len(line) <= 80 for line in drawn)
        await wait_until(pilot, lambda: session_rows(screen) >= 12, "12 rows beside it")
        # Taller, the tree takes more lines.
        await pilot.resize_terminal(120, 50)
        await wait_until(pilot, lambda: tree.size.height == 12, "a quarter of 50 lines")
