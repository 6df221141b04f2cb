"""A screen's own connection for sampling (the activity and diagnostics screens): opened at the
first sample, and again after one is lost.

Never one of the pool's, so a busy browse or edit never delays a sample and a sample never
starves them (`Database.dedicated`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import asyncpg

from pgconsole.db.activity import stats
from pgconsole.db.connection.errors import DB_ERRORS
from pgconsole.db.connection.pool import Database

T = TypeVar("T")


class Sampler:
    """Samples on a connection of its own, opening one whenever it has none."""

    def __init__(self, database: Database) -> None:
        self.database = database
        """The app's pool, whose connection settings the sampler's connection takes."""
        self.conn: asyncpg.Connection | None = None
        """None until the first sample, and after the connection is lost."""
        self.capabilities: stats.Capabilities | None = None
        """What the role may see and do, read once per connection."""

    def lost(self) -> bool:
        """The connection was closed under the sampler (it is forgotten: the next sample
        opens another)."""
        if self.conn is not None and self.conn.is_closed():
            self.conn = None
            return True
        return False

    async def sample(self) -> stats.Sample:
        """One sample of the activity screen, on a new connection if need be.

        Raises:
            As `read`.
        """
        return await self.read(stats.sample)

    async def read(self, reader: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """What `reader` reads on the sampler's connection (a new one if need be).

        Raises:
            One of `DB_ERRORS`; the connection is dropped then, and the next read opens one.
        """
        try:
            if self.conn is None:
                self.conn = await self.database.dedicated()
                self.capabilities = await stats.read_capabilities(self.conn)
            return await reader(self.conn)
        except DB_ERRORS:
            await self.close()
            raise

    async def close(self) -> None:
        """Close the connection (terminated if it does not close within 2 s)."""
        conn, self.conn = self.conn, None
        if conn is not None and not conn.is_closed():
            try:
                await asyncio.wait_for(conn.close(), 2)
            except Exception:
                conn.terminate()


@dataclass
class FirstSample:
    """A sampler with its connection open and its first sample, taken before the activity
    screen exists (`pgconsole --activity` samples while Textual is imported)."""

    sampler: Sampler
    sample: stats.Sample
    taken: float
    """When (`time.time()`)."""


@dataclass(frozen=True)
class EarlySample:
    """The activity screen's first sample, read before the pool opened, on the connection
    that read the server's limits (`open_database`'s `first_read`): the first thing
    `pgconsole --activity` can show."""

    target: str
    """The server, as the status bar names it."""
    sample: stats.Sample
    capabilities: stats.Capabilities
    taken: float
    """When (`time.time()`)."""


async def read_early(conn: asyncpg.Connection, target: str) -> EarlySample | None:
    """What the role may see, and a sample, on `conn`; None if either could not be read (the
    screen's sampler tries again on its own connection)."""
    try:
        capabilities = await stats.read_capabilities(conn)
        sample = await stats.sample(conn)
    except DB_ERRORS:
        return None
    return EarlySample(target, sample, capabilities, time.time())


async def sample_early(database: Database, early: EarlySample | None = None) -> FirstSample | None:
    """A sampler for the screen with its first sample: `early`, if it was read before the
    pool opened (the sampler opens its connection at its next sample), else taken now on the
    sampler's new connection. None if that failed (the screen then samples again and says
    why)."""
    sampler = Sampler(database)
    if early is not None:
        sampler.capabilities = early.capabilities
        return FirstSample(sampler, early.sample, early.taken)
    try:
        sample = await sampler.sample()
    except DB_ERRORS:
        return None
    return FirstSample(sampler, sample, time.time())
