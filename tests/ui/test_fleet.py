"""The fleet view on four real servers: worst first and labelled, Enter opens a server in a
window of its own, and the fleet is found again as it was left."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from rich.text import Text
from textual.color import Color
from textual.pilot import Pilot
from textual.widgets import DataTable, OptionList

from pgconsole.app import FLEET_MODE, FleetApp
from pgconsole.config import Settings
from pgconsole.db.connection.passwords import PasswordQuery
from pgconsole.db.fleet import Member
from pgconsole.fleet import FleetReading
from pgconsole.screens.fleet import FleetScreen
from pgconsole.screens.main import MainScreen
from pgconsole.screens.servers import ServersScreen
from pgconsole.server_list import FleetOptions, ServerEntry, ServerList
from pgconsole.target import Target
from tests.conftest_fleet import FleetServers
from tests.helpers.ui import wait_for_screen, wait_until


def entry(member: Member, color: str | None = None) -> ServerEntry:
    """The server list's entry for `member`, its password where the app would find it."""
    params = member.params
    query = PasswordQuery(
        host=params.host,
        port=params.port,
        database=params.database,
        user=params.user,
        keyring_key=member.name,
        passfile=Path("/nonexistent"),
        conninfo_password=params.password,
    )
    settings = Settings(color=color)
    return ServerEntry(member.name, Target(params, {}, settings, [], member.name, query))


def fleet_app(fleet_servers: FleetServers) -> FleetApp:
    servers = ServerList(
        tuple(
            entry(fleet_servers.member(name), "red" if name == "primary" else None)
            for name in ("primary", "standby", "loaded", "stopped")
        ),
        FleetOptions(interval=3600),  # one reading, then `r`
    )
    return FleetApp(Settings(), servers)


async def fleet_read(pilot: Pilot[None], app: FleetApp) -> FleetScreen:
    """The fleet view once every server was read the first time and the rows sorted."""
    screen = await wait_for_screen(pilot, app, FleetScreen, "the fleet view")
    await wait_until(pilot, lambda: screen.sorted_once, "the first full reading", 30)
    return screen


def table_rows(screen: FleetScreen) -> list[tuple[str, str, str]]:
    """(server, state, role) of each row, top to bottom."""
    table: DataTable[Text] = screen.query_one(DataTable)
    return [
        (str(cells[0]), str(cells[1]), str(cells[2]))
        for cells in (table.get_row_at(index) for index in range(table.row_count))
    ]


async def test_the_fleet_is_sorted_worst_first_and_labelled(fleet_servers: FleetServers) -> None:
    app = fleet_app(fleet_servers)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await fleet_read(pilot, app)
        rows = table_rows(screen)
        assert [name for name, _, _ in rows] == ["stopped", "loaded", "primary", "standby"]
        assert rows[0][1] == "down"
        assert rows[1][1].endswith("blocked") and int(rows[1][1].split()[0]) >= 2
        assert rows[2][2] == "primary" and rows[3][2] == "standby"
        title = str(screen.query_one("#fleet-title").render())
        assert "Fleet · 4 servers · 1 down · 1 blocked" in title
        detail = str(screen.query_one("#fleet-detail").render())
        stopped = fleet_servers.member("stopped").params
        assert detail.startswith("stopped is down: Connection refused by 127.0.0.1:"), detail
        assert detail.endswith(f" · postgres@127.0.0.1:{stopped.port}/{stopped.database}")
        await pilot.press("down")  # the loaded server: its problems lead its line
        await wait_until(
            pilot,
            lambda: " blocked · " in str(screen.query_one("#fleet-detail").render()),
            "the loaded server's detail, its blocked sessions first",
        )
        await pilot.press("down", "down")
        await wait_until(
            pilot,
            lambda: "standby of " in str(screen.query_one("#fleet-detail").render()),
            "the standby's detail, naming its primary",
        )
        assert "F3" not in str(app.screen.query_one("KeyBar").render())


async def test_enter_opens_the_server_and_f10_comes_back_to_the_fleet_as_left(
    fleet_servers: FleetServers,
) -> None:
    app = fleet_app(fleet_servers)
    async with app.run_test(size=(80, 24)) as pilot:
        fleet = await fleet_read(pilot, app)
        await pilot.press("down", "down")  # primary
        assert fleet.highlighted() == "primary"
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: app.has_window and app.database is not None,
            "the primary's window to connect",
        )
        assert isinstance(app.screen, MainScreen) and app.window.name == "primary"
        target = app.screen.query_one("#status-target")
        assert str(fleet_servers.primary.port) in str(target.render())
        assert target.styles.color == Color.parse("red")  # the profile's colour
        await pilot.press("f10")
        servers = await wait_for_screen(pilot, app, ServersScreen, "the server list")
        options = servers.query_one(OptionList).options
        listing = "\n".join(str(option.prompt) for option in options)
        assert "1 ● primary" in listing and "connected" in listing and "loaded" in listing
        await pilot.press("f")
        await wait_until(pilot, lambda: app.current_mode == FLEET_MODE, "the fleet again")
        assert app.screen is fleet  # type: ignore[comparison-overlap]
        assert fleet.highlighted() == "primary"
        await pilot.press("a")  # the same server's activity, in its window
        await wait_until(
            pilot,
            lambda: type(app.screen).__name__ == "ActivityScreen",
            "the primary's activity screen",
        )
        assert len(app.windows) == 1


async def test_the_columns_scroll_one_at_a_time_and_stay_scrolled_across_a_refresh(
    fleet_servers: FleetServers,
) -> None:
    app = fleet_app(fleet_servers)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await fleet_read(pilot, app)
        table: DataTable[Text] = screen.query_one(DataTable)
        role = table.ordered_columns[2]
        await pilot.press("right")
        await wait_until(pilot, lambda: table.scroll_x > 0, "the columns to scroll")
        assert table.scroll_x == role.get_render_width(table)  # by one whole column
        await pilot.press("right")
        await wait_until(pilot, lambda: table.scroll_x > role.get_render_width(table), "again")
        scrolled = table.scroll_x
        refreshed = screen.refreshed_at
        await pilot.press("r")
        await wait_until(pilot, lambda: screen.refreshed_at != refreshed, "the refresh", 30)
        await pilot.pause()
        assert table.scroll_x == scrolled
        await pilot.press("left", "left")
        await wait_until(pilot, lambda: table.scroll_x == 0, "back to the first column")


async def test_a_long_name_shows_whole_on_a_wide_terminal(fleet_servers: FleetServers) -> None:
    long_name = "billing-eu-west-primary-2024"
    member = fleet_servers.member("primary")
    servers = ServerList((entry(replace(member, name=long_name)),), FleetOptions(interval=3600))
    app = FleetApp(Settings(), servers)
    async with app.run_test(size=(200, 50)) as pilot:
        screen = await fleet_read(pilot, app)
        assert table_rows(screen)[0][0] == long_name
        table: DataTable[Text] = screen.query_one(DataTable)
        assert table.ordered_columns[0].width == len(long_name)


async def test_a_reading_started_before_the_app_is_the_first_table(
    fleet_servers: FleetServers,
) -> None:
    """`pgconsole fleet` reads the servers while Textual is imported: the screen shows what
    that reading found (it does not read every server again) and refreshes with its fleet."""
    servers = fleet_app(fleet_servers).servers
    reading = FleetReading(servers)
    await reading.task  # all read before the app exists
    assert reading.fleet is not None and reading.elapsed is not None
    app = FleetApp(Settings(), servers, reading)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await fleet_read(pilot, app)
        assert [name for name, _, _ in table_rows(screen)] == [
            "stopped",
            "loaded",
            "primary",
            "standby",
        ]
        assert screen.refreshed_at == reading.elapsed
        # One reading, not two (the stopped server never took a statement).
        assert reading.fleet.statements == {"primary": 1, "standby": 1, "loaded": 1, "stopped": 0}
        await pilot.press("r")
        await wait_until(
            pilot,
            lambda: reading.fleet is not None and reading.fleet.statements["loaded"] == 2,
            "the refresh, with the reading's fleet",
        )
