"""The help screen: a gap between keys and description, only pgconsole's keys, filtered as you
type, Esc clearing the filter before it closes; the palette offers pgconsole's help only."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen

from pgconsole.app import PgConsoleApp
from pgconsole.config import Settings
from pgconsole.db.connection.params import ConnectParams
from pgconsole.screens.console import ConsoleScreen
from pgconsole.screens.help import GAP, HelpScreen, KeySection, here_first, key_rows
from pgconsole.screens.main import MainScreen
from pgconsole.screens.sessions import SessionsScreen
from pgconsole.throwaway.cluster import ThrowawayCluster
from pgconsole.widgets.grid import DataGrid
from pgconsole.widgets.sql_editor import SqlEditor
from tests.helpers.ui import app_for, shown, wait_for_screen, wait_until

SIZE = (80, 24)


def sections() -> list[KeySection]:
    """What the app's help lists (the app is never run: no server needed)."""
    return PgConsoleApp(ConnectParams(), Settings(read_only=True)).key_sections()


class Harness(App[None]):
    def on_mount(self) -> None:
        self.push_screen(HelpScreen(sections()))


async def open_help(pilot: Pilot[Any], app: App[Any]) -> HelpScreen:
    return await wait_for_screen(pilot, app, HelpScreen, "the help screen")


def key_lines(app: App[Any]) -> list[str]:
    """The rows of keys shown (headings and blank lines left out)."""
    return [line for line in shown(app, "#help-keys").splitlines() if line.startswith("  ")]


async def test_every_key_is_apart_from_its_description() -> None:
    app = Harness()
    async with app.run_test(size=SIZE) as pilot:
        await open_help(pilot, app)
        lines = key_lines(app)
        rows = [row for _heading, classes in sections() for row in key_rows(classes)]
        assert len(lines) == len(rows)
        assert ("Ctrl+Space  Ctrl+@", "Complete") in rows
        for line, (keys, description) in zip(lines, rows, strict=True):
            # The description starts in one column for all rows, at least GAP after the keys.
            assert line.startswith(f"  {keys}" + " " * GAP)
            assert line.rstrip().endswith(description)
        starts = {line.rindex(text) for line, (_, text) in zip(lines, rows, strict=True)}
        assert len(starts) == 1


async def test_textual_s_own_bindings_are_not_listed() -> None:
    app = Harness()
    async with app.run_test(size=SIZE) as pilot:
        await open_help(pilot, app)
        text = shown(app, "#help-keys")
        for internal in ("Focus Next", "Focus Previous", "Copy selected text", "super+c"):
            assert internal not in text
        assert "Yes" in text and "Close help" in text


async def test_typing_filters_the_rows_and_esc_clears_then_closes() -> None:
    app = Harness()
    async with app.run_test(size=SIZE) as pilot:
        await open_help(pilot, app)
        everything = key_lines(app)
        await pilot.press(*"ROLL")
        await wait_until(pilot, lambda: key_lines(app) != everything, "the rows to narrow")
        assert key_lines(app) and all("roll" in line.casefold() for line in key_lines(app))
        assert "Data grid" not in shown(app, "#help-keys")  # a heading without rows goes too

        await pilot.press(*"xyz")
        await wait_until(pilot, lambda: not key_lines(app), "no rows")
        assert "rollxyz" in shown(app, "#help-keys").casefold()

        await pilot.press("escape")  # clears the filter: every row again
        await wait_until(pilot, lambda: key_lines(app) == everything, "every row again")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("f", "4")  # keys match too: F4 is a key, "f4" its spelling typed
        await wait_until(pilot, lambda: key_lines(app) != everything, "the F4 rows")
        assert all("f4" in line.casefold() for line in key_lines(app))
        await pilot.press("escape", "escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen), "help closed")


async def test_the_palette_offers_pgconsole_s_help_not_textual_s_keys(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    app = app_for(cluster, dbname)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.database is not None, "the pool")
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Help: keys" in titles
        assert "Keys" not in titles


def test_the_screen_help_was_asked_on_comes_first() -> None:
    everything = sections()
    headings = [heading for heading, _ in everything]
    console = here_first(everything, ConsoleScreen)
    assert [heading for heading, _ in console][:2] == ["Here: SQL console", "Everywhere"]
    assert sorted(h.removeprefix("Here: ") for h, _ in console) == sorted(headings)

    # A screen listed under no heading of its own finds the one of the screen it is built on.
    class Rewound(SessionsScreen):
        pass

    assert here_first(everything, Rewound)[0][0] == "Here: Activity"
    assert here_first(everything, Screen) == everything  # nowhere: the order as it was


async def test_f1_on_the_console_opens_at_the_console_s_keys(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    app = app_for(cluster, dbname)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.database is not None, "the pool")
        await pilot.press("f4")
        await wait_for_screen(pilot, app, ConsoleScreen, "the console")
        await pilot.press("f1")
        await open_help(pilot, app)
        first = shown(app, "#help-keys").splitlines()[0]
        assert first.strip() == "Here: SQL console"


def test_the_focused_widget_s_keys_come_before_its_screen_s() -> None:
    everything = sections()
    headings = [heading for heading, _ in here_first(everything, DataGrid, MainScreen)]
    assert headings[:3] == ["Here: Data grid", "Here: Browser", "Everywhere"]
    # A widget listed under its screen's heading brings that one first, once.
    headings = [heading for heading, _ in here_first(everything, SqlEditor, ConsoleScreen)]
    assert headings[:2] == ["Here: SQL console", "Everywhere"]
    assert len(headings) == len(everything)
