"""Counting the statements a connection sends (asyncpg's query logger)."""

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
