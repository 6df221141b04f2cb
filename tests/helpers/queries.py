"""Asking the server about connections: the statements one sends, the state of a backend."""

from __future__ import annotations

import asyncio

import asyncpg


class QueryCounter:
    """Counts the statements a connection sends, through asyncpg's query logger."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.queries: list[str] = []
        self._conn = conn

    async def __aenter__(self) -> QueryCounter:
        self._conn.add_query_logger(self._log)
        return self

    async def __aexit__(self, *exc: object) -> None:
        # asyncpg hands each record to the logger with call_soon: let the last one arrive.
        await asyncio.sleep(0)
        self._conn.remove_query_logger(self._log)

    def _log(self, record: asyncpg.connection.LoggedQuery) -> None:
        self.queries.append(record.query)


async def backend_state(conn: asyncpg.Connection, pid: int | None) -> str | None:
    """`pg_stat_activity.state` of backend `pid` ('active', 'idle in transaction', …)."""
    state: str | None = await conn.fetchval(
        "SELECT state FROM pg_stat_activity WHERE pid = $1", pid
    )
    return state
