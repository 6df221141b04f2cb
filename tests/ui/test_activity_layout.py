"""The activity screen's layout, fed fixed samples (no server)."""

from __future__ import annotations

from typing import Any, cast

from textual import work
from textual.pilot import Pilot
from textual.widget import Widget

from pgconsole.config import Settings
from pgconsole.db.activity import stats
from pgconsole.screens.activity import ActivityScreen
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

    def show(self, sessions: tuple[stats.Session, ...]) -> None:
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
