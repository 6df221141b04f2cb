"""Snapshots of the shell at 80x24, drawn from fixed data (never a live server)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any, ClassVar, cast

import asyncpg
from textual.pilot import Pilot

from pgconsole.app import PgConsoleApp
from pgconsole.config import Settings
from pgconsole.connecting import Connector
from pgconsole.db.connection.failures import ConnectFailure, FailureKind
from pgconsole.db.connection.params import ConnectParams, PoolSettings, SslMode, Timeouts
from pgconsole.db.connection.passwords import PasswordChoice, PasswordSource
from pgconsole.db.connection.pool import Conn, Database, PoolStats, ServerInfo, TlsInfo, TlsState
from pgconsole.db.opening import Opening
from pgconsole.messages import ConnectFailed
from pgconsole.screens.connection_error import ConnectionErrorScreen
from tests.helpers.ui import wait_until

SnapCompare = Callable[..., bool]

PARAMS = ConnectParams(
    host="db1.example.com",
    port=5432,
    user="dba",
    database="shop",
    sslmode=SslMode.VERIFY_FULL,
)
INFO = ServerInfo(
    target=PARAMS.target,
    server_version="15.18 (Debian 15.18-0+deb12u1)",
    server_version_num=150018,
    current_user="dba",
    is_superuser=False,
    tls=TlsInfo(TlsState.VERIFIED, "TLSv1.3", "TLS_AES_256_GCM_SHA384"),
    read_only=True,
    statement_timeout="30s",
    lock_timeout="5s",
    idle_in_transaction_session_timeout="2min",
    pgconsole_timeouts=Timeouts("30s", "5s", "2min"),
)


class FrozenDatabase(Database):
    """A connected session with fixed facts and pool numbers, for drawing only."""

    def __init__(self) -> None:
        super().__init__(cast(asyncpg.Pool, None), INFO, PoolSettings())

    def stats(self) -> PoolStats:
        return PoolStats(size=2, min_size=1, max_size=4, idle=1)

    async def close(self) -> None:
        self._closed = True

    @contextlib.asynccontextmanager
    async def transaction(self, *, readonly: bool = False) -> AsyncIterator[Conn]:
        # Drawing only: the catalog never arrives (the screen stays as while it loads).
        await asyncio.Event().wait()
        yield cast(Conn, None)


class FrozenConnector(Connector):
    async def attempt(self) -> Opening:
        return Opening(PasswordChoice(None, PasswordSource.NONE), FrozenDatabase())


class ConnectedHarness(PgConsoleApp):
    CONNECTOR: ClassVar[type[Connector]] = FrozenConnector


class FailingConnector(Connector):
    """Every attempt fails with the harness's `failure`, without a server."""

    async def attempt(self) -> Opening:
        return Opening(PasswordChoice(None, PasswordSource.NONE))

    def report(self, opening: Opening) -> None:
        self.app.post_message(ConnectFailed(cast(FailingHarness, self.app).failure))


class FailingHarness(PgConsoleApp):
    CONNECTOR = FailingConnector

    def __init__(self, failure: ConnectFailure) -> None:
        super().__init__(PARAMS, Settings(read_only=True))
        self.failure = failure


async def until_connected(pilot: Pilot[Any]) -> None:
    app = cast(PgConsoleApp, pilot.app)
    while app.database is None:
        await pilot.pause(0.02)
    await pilot.pause()


def test_connected_shell(snap_compare: SnapCompare) -> None:
    app = ConnectedHarness(PARAMS, Settings(read_only=True))
    assert snap_compare(app, terminal_size=(80, 24), run_before=until_connected)


def test_connected_shell_at_100_columns(snap_compare: SnapCompare) -> None:
    # The session overview's values wrap under themselves, never at column 0 or mid-unit.
    app = ConnectedHarness(PARAMS, Settings(read_only=True))
    assert snap_compare(app, terminal_size=(100, 30), run_before=until_connected)


def test_help_screen(snap_compare: SnapCompare) -> None:
    app = ConnectedHarness(PARAMS, Settings(read_only=True))

    async def open_help(pilot: Pilot[Any]) -> None:
        await until_connected(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=open_help)


def test_connection_error_screen(snap_compare: SnapCompare) -> None:
    failure = ConnectFailure(
        FailureKind.AUTH,
        'Password authentication failed for user "dba" at db1.example.com:5432',
        (
            ("Target", PARAMS.target),
            ("SQLSTATE", "28P01"),
            ("Server said", 'password authentication failed for user "dba"'),
        ),
    )

    async def settle(pilot: Pilot[Any]) -> None:
        await wait_until(
            pilot,
            lambda: (
                isinstance(pilot.app.screen, ConnectionErrorScreen) and pilot.app.screen.is_mounted
            ),
            "the error screen",
        )
        await pilot.pause()

    assert snap_compare(FailingHarness(failure), terminal_size=(80, 24), run_before=settle)
