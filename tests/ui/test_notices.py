"""Notifications (Textual's toasts) on pgconsole's screens, without a server."""

from __future__ import annotations

from textual.widgets._toast import Toast

from pgconsole.config import Settings
from pgconsole.widgets.key_bar import KeyBar
from pgconsole.widgets.status_bar import StatusBar
from tests.helpers.ui import wait_until
from tests.ui.test_snapshots import PARAMS, ConnectedHarness, until_connected


async def test_a_notice_stands_above_the_status_line_and_the_key_bar() -> None:
    app = ConnectedHarness(PARAMS, Settings(read_only=True))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await until_connected(pilot)
        app.notify("Editor cleared: Ctrl+z brings the text back.")
        await wait_until(pilot, lambda: bool(app.screen.query(Toast)), "the notice")
        await pilot.pause()
        toast = app.screen.query_one(Toast).region
        status = app.screen.query_one(StatusBar).region
        keys = app.screen.query_one(KeyBar).region
        assert toast.bottom <= status.y < keys.y, (toast, status, keys)
