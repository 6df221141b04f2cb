"""Several servers in one app: F10 lists them, each window keeps its own pool, console
session and edit state, the status bar names the server in its profile's colour, and quitting
closes every pool."""

from __future__ import annotations

import socket
from dataclasses import replace
from pathlib import Path

from textual.color import Color
from textual.widgets import OptionList

from pgconsole.app import PgConsoleApp
from pgconsole.config import ConfigFile, Settings
from pgconsole.messages import ServerRequested
from pgconsole.screens.connection_error import ConnectionErrorScreen
from pgconsole.screens.console import ConsoleScreen
from pgconsole.screens.main import MainScreen
from pgconsole.screens.servers import ServersScreen
from pgconsole.server_list import server_list
from pgconsole.throwaway.cluster import ThrowawayCluster
from pgconsole.widgets.key_bar import KeyBar
from tests.conftest import params_for
from tests.helpers.ui import wait_for_screen, wait_until


def two_profiles(cluster: ThrowawayCluster, first: str, second: str, home: Path) -> ConfigFile:
    """Profiles `one` (database `first`) and `two` (`second`, in red), as a config file
    holds them; the password in a passfile."""
    passfile = home / "pgpass"
    passfile.write_text(f"*:*:*:{cluster.superuser}:{cluster.password}\n")
    passfile.chmod(0o600)
    common = {
        "host": cluster.host,
        "port": cluster.port,
        "user": cluster.superuser,
        "sslmode": "verify-full",
        "sslrootcert": str(cluster.ca_file),
        "dsn": f"passfile={passfile}",
    }
    return ConfigFile(
        None,
        {},
        {"one": {**common, "dbname": first}, "two": {**common, "dbname": second, "color": "red"}},
    )


def app_on_one(cluster: ThrowawayCluster, dbname: str, home: Path) -> PgConsoleApp:
    """The app showing profile `one` (`dbname`), `two` (postgres) offered by F10."""
    servers = server_list(two_profiles(cluster, dbname, "postgres", home), home=home)
    return PgConsoleApp(params_for(cluster, dbname), Settings(), name="one", servers=servers)


async def test_two_servers_keep_their_own_pools_consoles_and_colours(
    cluster: ThrowawayCluster, dbname: str, hermetic_environment: Path
) -> None:
    app = app_on_one(cluster, dbname, hermetic_environment)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.database is not None, "the first server's pool")
        first = app.window
        await pilot.press("f4")
        await wait_for_screen(pilot, app, ConsoleScreen, "the first server's console")
        await pilot.press("f10")
        listing = await wait_for_screen(pilot, app, ServersScreen, "the server list")
        await pilot.press("down", "enter")  # `two`, below the open `one`
        await wait_until(
            pilot,
            lambda: app.window is not first and app.database is not None,
            "the second server's window to connect",
        )
        second = app.window
        assert second.name == "two" and isinstance(app.screen, MainScreen)
        target = app.screen.query_one("#status-target")
        assert str(target.render()).startswith(f"two · postgres@127.0.0.1:{cluster.port}/")
        assert target.styles.color == Color.parse("red")
        assert first.database is not None and second.database is not None
        assert first.database is not second.database
        async with second.database.transaction() as conn:
            assert await conn.fetchval("SELECT current_database()") == "postgres"
        assert second.places.sql_console is None  # the first's console is its own
        await pilot.press("f10")
        listing = await wait_for_screen(pilot, app, ServersScreen, "the server list again")
        prompts = [str(option.prompt) for option in listing.query_one(OptionList).options]
        assert prompts[0].startswith("1   one") and prompts[1].startswith("2 ● two")
        await pilot.press("1")
        await wait_until(pilot, lambda: app.window is first, "the first window again")
        assert isinstance(app.screen, ConsoleScreen)  # as it was left
        assert app.screen is first.places.sql_console
        # Every screen says which server it shows: the key bar starts with its name.
        assert app.screen.query_one(KeyBar).render_line(0).text.startswith(" one  F5 Run")
        await pilot.press("ctrl+q")
    assert first.database is None and second.database is None  # both pools closed


async def test_a_failure_in_a_window_not_shown_waits_for_it(
    cluster: ThrowawayCluster, dbname: str, hermetic_environment: Path
) -> None:
    """Its error screen is pushed on its own stack when it is shown, never on the window on
    screen when it failed."""
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        config = ConfigFile(
            None,
            {},
            {"mute": {"host": "127.0.0.1", "port": port, "connect_timeout": 3, "dbname": "x"}},
        )
        servers = server_list(config, home=hermetic_environment)
        app = PgConsoleApp(params_for(cluster, dbname), Settings(), servers=servers)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: app.database is not None, "the first pool")
            first = app.window
            app.post_message(ServerRequested("mute"))
            await wait_until(pilot, lambda: len(app.windows) == 2, "the second window")
            mute = app.windows[1]
            await pilot.press("f10")
            await wait_for_screen(pilot, app, ServersScreen, "the server list")
            await pilot.press("1")
            await wait_until(pilot, lambda: app.window is first, "the first window again")
            await wait_until(pilot, lambda: mute.state == "not connected", "the timeout")
            assert isinstance(app.screen, MainScreen) and app.screen is first.main_screen
            await pilot.press("f10")
            await wait_for_screen(pilot, app, ServersScreen, "the server list")
            await pilot.press("2")
            error = await wait_for_screen(
                pilot, app, ConnectionErrorScreen, "the failure, on its own window"
            )
            assert app.screen_stack[0] is mute.main_screen
            assert "No answer from 127.0.0.1" in error.failure.summary


async def test_quitting_on_another_window_closes_a_console_left_open(
    cluster: ThrowawayCluster, dbname: str, hermetic_environment: Path
) -> None:
    """The first window's console stays on its own stack while the second is shown: quitting
    there closes its session without trying to take it off a stack it is still on."""
    app = app_on_one(cluster, dbname, hermetic_environment)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.database is not None, "the first server's pool")
        first = app.window
        await pilot.press("f4")
        console = await wait_for_screen(pilot, app, ConsoleScreen, "the first server's console")
        app.post_message(ServerRequested("two"))
        await wait_until(
            pilot,
            lambda: app.window is not first and app.database is not None,
            "the second server's window to connect",
        )
        await pilot.press("ctrl+q")
    assert app.return_code == 0
    assert first.database is None and console.session.conn is None


async def test_a_notice_about_the_machine_shows_once_however_many_windows_open(
    cluster: ThrowawayCluster, dbname: str, hermetic_environment: Path
) -> None:
    """No keyring here is the same news for every server: the first window that looks says
    it, the next ones do not repeat it."""
    config = two_profiles(cluster, dbname, "postgres", hermetic_environment)
    config = replace(config, profiles={**config.profiles, "three": config.profiles["two"]})
    servers = server_list(config, home=hermetic_environment)
    app = PgConsoleApp(params_for(cluster, dbname), Settings(), name="one", servers=servers)

    def keyring_notices() -> int:
        return sum("keyring skipped" in str(n.message) for n in app._notifications)

    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.database is not None, "the first pool")
        app.post_message(ServerRequested("two"))
        await wait_until(pilot, lambda: len(app.windows) == 2 and app.database is not None, "two")
        app.post_message(ServerRequested("three"))
        await wait_until(pilot, lambda: len(app.windows) == 3 and app.database is not None, "3")
        assert keyring_notices() == 1
