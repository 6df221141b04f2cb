"""The fleet view and the server list at 80x24 with fixed rows (no server): the gallery's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from pgconsole.app import FleetApp
from pgconsole.config import Settings
from pgconsole.db.connection.params import ConnectParams
from pgconsole.db.connection.passwords import PasswordQuery
from pgconsole.db.connection.tunnel import Bastion, Tunnel
from pgconsole.db.fleet import DOWN, FleetRow, Level, Score, worst_first
from pgconsole.screens.fleet import FleetScreen
from pgconsole.server_list import ServerEntry, ServerList
from pgconsole.target import Target
from tests.helpers.ui import wait_until
from tests.ui.test_snapshots import SnapCompare

SIZE = (80, 24)


def up(name: str, level: Level, worst: str, **values: object) -> FleetRow:
    """A server that answered, with the defaults of a healthy primary."""
    row = {
        "version": "16.4", "role": "primary", "standbys": 0, "connections": 23,
        "max_connections": 200, "active": 3, "idle_in_transaction": 0, "waiting": 0,
        "blocked": 0, "longest_transaction": 0.4, "xmin_age": 1200, "tps": 412.0,
        "cache_hit": 0.998, "tls": "TLSv1.3", "sees_all": True, "elapsed": 0.031,
    }  # fmt: skip
    row.update(values)
    return FleetRow(name=name, reachable=True, score=Score(level, 1.0), worst=worst, **row)  # type: ignore[arg-type]


ROWS = [
    FleetRow(
        name="billing-eu",
        reachable=False,
        score=DOWN,
        worst="down",
        elapsed=3.0,
        reason="No answer from db7.eu.example.com:5432 within 3 s (connect timeout)",
    ),
    up("shop-primary", Level.BLOCKED, "4 blocked", color="red", connections=187, active=41,
       idle_in_transaction=2, waiting=5, blocked=4, longest_transaction=312.0, standbys=1,
       tps=2310.0),
    up("reports", Level.HORIZON, "idle in tx 48 min", idle_in_transaction=1,
       idle_in_transaction_age=2880.0, longest_transaction=2880.0, xmin_age=3_400_000, tps=12.0),
    up("shop-replica", Level.LAG, "lag 212 MB", role="standby", upstream="10.0.3.4:5432",
       streaming=True, standbys=None, lag_bytes=222_298_112, lag_seconds=41.0, tps=0.0),
    up("auth", Level.LOAD, "load 172/200 conn", connections=172, active=36),
    up("inventory", Level.OK, "ok"),
    up("search", Level.OK, "ok", tps=96.0, cache_hit=0.93),
]  # fmt: skip


class FixedFleet(FleetScreen):
    """The fleet view showing ROWS, read once, instead of reading servers."""

    def watch_fleet(self) -> None:  # type: ignore[override]
        for row in ROWS:
            self.show_row(row)
        self.refreshed_at = 0.42
        self.show_sorted(worst_first(ROWS))


class FixedFleetApp(FleetApp):
    FLEET_SCREEN = FixedFleet


HOSTS = {
    "billing-eu": "db7.eu.example.com",
    "shop-primary": "shop-db1.example.com",
    "shop-replica": "shop-db2.example.com",
}
"""Where each server is; the others are on `<name>.example.com`."""


def entry(row: FleetRow) -> ServerEntry:
    """A profile for `row` (the shop's servers through a bastion), never connected to."""
    host = HOSTS.get(row.name, f"{row.name}.example.com")
    tunnel = (
        Tunnel(Bastion.parse("bastion.example.com"), ((host, 5432),))
        if row.name.startswith("shop")
        else None
    )
    params = ConnectParams(host=host, user="dba", database=row.name, tunnel=tunnel)
    query = PasswordQuery(host, 5432, row.name, "dba", row.name, Path("/nonexistent"), None)
    settings = Settings(color=row.color)
    return ServerEntry(row.name, Target(params, {}, settings, [], row.name, query))


def fleet_app() -> FixedFleetApp:
    return FixedFleetApp(Settings(), ServerList(tuple(entry(row) for row in ROWS)))


async def on_the_blocked_server(pilot: Pilot[Any]) -> None:
    """The fleet drawn, the cursor on the second row (the detail line tells about it)."""
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, FixedFleet), "the fleet")
    await pilot.press("down")


def test_fleet(snap_compare: SnapCompare) -> None:
    assert snap_compare(fleet_app(), terminal_size=SIZE, run_before=on_the_blocked_server)


async def to_the_server_list(pilot: Pilot[Any]) -> None:
    await on_the_blocked_server(pilot)
    await pilot.press("f10")


def test_server_list(snap_compare: SnapCompare) -> None:
    assert snap_compare(fleet_app(), terminal_size=SIZE, run_before=to_the_server_list)
