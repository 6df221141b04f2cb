"""The app through an SSH tunnel: the status bar names the bastion, a lost tunnel says so and
is reopened by the next connection, and no ssh outlives the app."""

from __future__ import annotations

import os
import signal

from pgconsole.app import PgConsoleApp
from pgconsole.config import Settings
from pgconsole.db.connection.tunnel import TunnelState
from pgconsole.screens.main import MainScreen
from pgconsole.throwaway.cluster import ThrowawayCluster
from pgconsole.throwaway.sshd import ThrowawaySshd
from tests.db.test_tunnel import running, through
from tests.helpers.ui import shown, wait_until


def titles(app: PgConsoleApp) -> list[str]:
    """The titles of the notices shown."""
    return [n.title for n in app._notifications]


async def test_the_status_bar_names_the_bastion_and_a_lost_tunnel(
    sshd: ThrowawaySshd, localhost_cluster: ThrowawayCluster, settings: Settings
) -> None:
    params = through(sshd, localhost_cluster)
    tunnel = params.tunnel
    assert tunnel is not None
    app = PgConsoleApp(params, settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(
            pilot,
            lambda: app.database is not None and isinstance(app.screen, MainScreen),
            "the pool to open through the tunnel",
        )
        assert shown(app, "#status-tls").strip() in ("TLS verified", "TLS ✓")
        assert shown(app, "#status-target").endswith("via bastion")
        first = tunnel.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        await wait_until(
            pilot,
            lambda: any(n.title == "SSH tunnel lost" for n in app._notifications),
            "the loss to be reported",
        )
        message = next(str(n.message) for n in app._notifications if n.title == "SSH tunnel lost")
        assert ": ssh to bastion failed" in message and "Reconnect" in message
        await wait_until(
            pilot,
            lambda: shown(app, "#status-target").startswith("tunnel lost: "),
            "the status bar to show the loss",
        )
        app.action_reconnect()
        await wait_until(
            pilot,
            lambda: tunnel.state is TunnelState.OPEN and app.database is not None,
            "the reconnect to reopen the tunnel",
        )
        await wait_until(
            pilot,
            lambda: not shown(app, "#status-target").startswith("tunnel lost"),
            "the status bar to show the tunnel up again",
        )
        second = tunnel.pid
        assert second is not None and second != first
        # Up again: the notice says so in place of the loss, never beside it.
        await wait_until(
            pilot,
            lambda: titles(app) == ["SSH tunnel reopened"],
            "the notice to say the tunnel is up again",
        )
        os.kill(second, signal.SIGKILL)  # lost again (the pool may reopen it at once)
        await wait_until(
            pilot,
            lambda: tunnel.state is not TunnelState.OPEN or tunnel.pid != second,
            "the second loss",
        )
        app.action_reconnect()
        # One notice still: the second loss replaced the first's, and was replaced in turn.
        await wait_until(
            pilot,
            lambda: titles(app) == ["SSH tunnel reopened"] and tunnel.pid not in (None, second),
            "the second reopening",
        )
        third = tunnel.pid
        assert third is not None and third != second
    assert not running(third), "ssh outlived the app"
