"""The demo: a throwaway server with sample data, connected to over verified TLS."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import asyncpg

from pgconsole.db.connection.params import ConnectParams, SslMode
from pgconsole.db.quoting import quote_ident
from pgconsole.throwaway import demo
from pgconsole.throwaway.cluster import ThrowawayCluster


async def _create_and_seed(cluster: ThrowawayCluster, events_rows: int) -> None:
    settings = {"application_name": "pgconsole-demo"}
    admin = await asyncpg.connect(cluster.dsn(), server_settings=settings)
    try:
        await admin.execute(f"CREATE DATABASE {quote_ident(demo.DEMO_DATABASE)}")
    finally:
        await admin.close()
    conn = await asyncpg.connect(cluster.dsn(demo.DEMO_DATABASE), server_settings=settings)
    try:
        await conn.execute("CREATE EXTENSION pg_stat_statements")  # the diagnostics' statements
        await demo.seed(conn, events_rows=events_rows)
    finally:
        await conn.close()


DEMO_SETTINGS = {"shared_preload_libraries": "pg_stat_statements"}
"""As a production server has it: the diagnostics' top statements read it."""


@contextmanager
def demo_server(
    progress: Callable[[str], None], *, events_rows: int = demo.EVENTS_ROWS
) -> Iterator[ConnectParams]:
    """Start a throwaway server, seed the demo database, and yield how to connect to it.

    The connection uses `verify-full` against the server's own CA. The server and its files
    are removed when the block ends, or by the cluster's reaper if this process dies.
    """
    progress("starting a throwaway PostgreSQL server…")
    with ThrowawayCluster(settings=DEMO_SETTINGS) as cluster:
        progress(f"seeding sample data ({events_rows:,} events)…")
        asyncio.run(_create_and_seed(cluster, events_rows))
        yield ConnectParams(
            host=cluster.host,
            port=cluster.port,
            user=cluster.superuser,
            password=cluster.password,
            database=demo.DEMO_DATABASE,
            sslmode=SslMode.VERIFY_FULL,
            sslrootcert=cluster.ca_file,
        )
        progress("stopping the demo server…")
