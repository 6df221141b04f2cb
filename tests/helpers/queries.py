"""Asking the server about connections: the statements one sends, the state of a backend."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg

from tests.helpers.waiting import poll_until


class QueryCounter:
    """Counts the statements a connection sends, through asyncpg's query logger."""

    END = "SELECT 'the statements counted end here'"
    """Sent on leaving the block, not counted. asyncpg hands each record to the loggers later
    (call_soon), in the order the statements ran: once this one is logged, all before it are."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.queries: list[str] = []
        self._conn = conn
        self._ended = asyncio.Event()

    async def __aenter__(self) -> QueryCounter:
        self._conn.add_query_logger(self._log)
        return self

    async def __aexit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        try:
            if kind is None:
                # Logged even when it fails (in an aborted transaction, say).
                with contextlib.suppress(asyncpg.PostgresError):
                    await self._conn.execute(self.END)
                await asyncio.wait_for(self._ended.wait(), 15)
        finally:
            self._conn.remove_query_logger(self._log)

    def _log(self, record: asyncpg.connection.LoggedQuery) -> None:
        if record.query == self.END:
            self._ended.set()
        else:
            self.queries.append(record.query)


async def backend_state(conn: asyncpg.Connection, pid: int | None) -> str | None:
    """`pg_stat_activity.state` of backend `pid` ('active', 'idle in transaction', …)."""
    state: str | None = await conn.fetchval(
        "SELECT state FROM pg_stat_activity WHERE pid = $1", pid
    )
    return state


async def backend_reaches(
    conn: asyncpg.Connection, pid: int | None, state: str | None, within: float = 15.0
) -> None:
    """Until backend `pid` is in `state` (None: gone from pg_stat_activity)."""

    async def reached() -> bool:
        return await backend_state(conn, pid) == state

    await poll_until(reached, f"backend {pid} to be {state or 'gone'}", within)
