"""The fleet's members from the server list: passwords found the way the app finds them,
without a prompt (a fleet of 30 cannot ask 30 times).

A server whose profile does not resolve, or whose password command fails, is not probed: it
is shown down with that reason, so that a broken profile is as visible as a broken server.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TextIO

from pgconsole.db.connection.params import ConnectParams
from pgconsole.db.connection.passwords import PasswordCommandError, find_password
from pgconsole.db.fleet import Fleet, FleetRow, Member, down_row, worst_first
from pgconsole.server_list import ServerEntry, ServerList
from pgconsole.words import counted


async def fleet_members(servers: ServerList) -> tuple[list[Member], list[FleetRow]]:
    """The members to probe, and the rows of the servers that cannot be (with the reason)."""
    found = await asyncio.gather(*(_member(entry) for entry in servers.entries))
    members = [item for item in found if isinstance(item, Member)]
    broken = [item for item in found if isinstance(item, FleetRow)]
    return members, broken


async def _member(entry: ServerEntry) -> Member | FleetRow:
    unresolved = Member(entry.name, ConnectParams(), color=entry.color)  # never probed
    if entry.target is None:
        return down_row(unresolved, entry.problem or "cannot be resolved", 0.0)
    try:
        choice = await find_password(entry.target.password_query)
    except PasswordCommandError as error:
        return down_row(unresolved, f"password_command: {error}", 0.0)
    params = entry.target.params.with_password(choice.password)
    return Member(entry.name, params, color=entry.color)


class FleetReading:
    """The fleet view's first reading (passwords, then every server), started as soon as it
    is asked for: `pgconsole fleet` starts it before Textual is imported, so the servers'
    handshakes overlap the imports and the screen finds rows read when it mounts."""

    def __init__(self, servers: ServerList) -> None:
        self.servers = servers
        self.started = time.monotonic()
        self.rows: list[FleetRow] = []
        """Every row read so far, in the order they came."""
        self.broken: list[FleetRow] = []
        """The servers that could not be probed (a profile that does not resolve...)."""
        self.fleet: Fleet | None = None
        self.elapsed: float | None = None
        """Seconds the reading took, once done."""
        self._listener: Callable[[FleetRow], None] | None = None
        self._taken = False
        self.task = asyncio.create_task(self._read(), name="fleet reading")

    async def _read(self) -> list[FleetRow]:
        members, self.broken = await fleet_members(self.servers)
        for row in self.broken:
            self._arrived(row)
        options = self.servers.options
        self.fleet = Fleet(
            members,
            concurrency=options.concurrency,
            keep_connections=options.keep_connections,
            connect_timeout=options.connect_timeout,
            statement_timeout=options.statement_timeout,
        )
        rows = await self.fleet.refresh(on_row=self._arrived)
        self.elapsed = time.monotonic() - self.started
        return rows

    def _arrived(self, row: FleetRow) -> None:
        self.rows.append(row)
        if self._listener is not None:
            self._listener(row)

    async def take(
        self, on_row: Callable[[FleetRow], None]
    ) -> tuple[Fleet, list[FleetRow], list[FleetRow]]:
        """Every row read so far to `on_row` at once, the rest as they come; then the fleet
        (whose connections the taker closes), the rows it read and the broken ones.

        Raises:
            Whatever the reading raised.
        """
        self._taken = True
        for row in self.rows:
            on_row(row)
        self._listener = on_row
        try:
            rows = await self.task
        except BaseException:
            if self.fleet is not None:
                await self.fleet.close()
            raise
        assert self.fleet is not None
        return self.fleet, rows, self.broken

    async def close(self) -> None:
        """Stop a reading nobody took, and close its connections."""
        if self._taken:
            return
        self.task.cancel()
        with contextlib.suppress(BaseException):
            await self.task
        if self.fleet is not None:
            await self.fleet.close()


def print_fleet(servers: ServerList, out: TextIO = sys.stdout) -> int:
    """`pgconsole fleet --once`: read every server once, print the rows worst first; 1 when
    one is down."""
    rows, elapsed = asyncio.run(read_fleet_once(servers))
    from pgconsole.text import visible

    headings = ("server", "state", "role", "conn", "act/iit/wait", "blk", "xmin age", "lag", "tls")
    lines = [headings]
    reasons: dict[int, str] = {}
    for row in rows:
        if not row.reachable:
            reasons[len(lines)] = visible(row.reason or "")
            lines.append((row.name, "down", "", "", "", "", "", "", ""))
            continue
        lag = "-" if row.lag_bytes is None else f"{row.lag_bytes} B"
        lines.append(
            (
                row.name,
                row.worst,
                f"{row.role} of {row.upstream}" if row.upstream else str(row.role),
                f"{row.connections}/{row.max_connections}",
                f"{row.active}/{row.idle_in_transaction}/{row.waiting}",
                str(row.blocked),
                "-" if row.xmin_age is None else str(row.xmin_age),
                lag,
                str(row.tls),
            )
        )
    widths = [max(len(visible(line[i])) for line in lines) for i in range(len(headings))]
    for number, line in enumerate(lines):
        if number in reasons:  # the reason takes the rest of the line, whatever its length
            print(f"{visible(line[0]).ljust(widths[0])}  down  {reasons[number]}", file=out)
            continue
        cells = (visible(text).ljust(width) for text, width in zip(line, widths, strict=True))
        print("  ".join(cells).rstrip(), file=out)
    down = sum(1 for row in rows if not row.reachable)
    print(f"\n{counted(len(rows), 'server')} read in {elapsed:.2f} s, {down} down", file=out)
    return 1 if down else 0


async def read_fleet_once(servers: ServerList) -> tuple[list[FleetRow], float]:
    """Every server read once (the fleet view's first table): the rows worst first, and the
    seconds it took, passwords found included."""
    once = replace(servers, options=replace(servers.options, keep_connections=False))
    reading = FleetReading(once)
    fleet, rows, broken = await reading.take(lambda row: None)
    await fleet.close()
    assert reading.elapsed is not None  # the reading is done
    return worst_first([*rows, *broken]), reading.elapsed
