"""Operations in progress, made slow or held on a real server and read while they run; their
pace from two readings, without a server."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import replace
from typing import Any

import asyncpg
import pytest

from pgconsole.db.diagnostics.progress import (
    Operation,
    Pace,
    ProgressRates,
    on_relation,
    progress_statement,
    rates,
    read_progress,
)
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.conftest import admin_connect
from tests.helpers.waiting import poll_until

VACUUMED = (
    "CREATE TABLE t WITH (autovacuum_enabled = off) AS"
    " SELECT g AS id FROM generate_series(1, 30000) g;"
    " DELETE FROM t WHERE id % 2 = 0"
)
"""The vacuumed table, with dead rows: a hundred-odd blocks, each one a cost-delay sleep."""
SLOW = (
    "CREATE FUNCTION slow(x int) RETURNS int IMMUTABLE LANGUAGE plpgsql"
    " AS 'BEGIN PERFORM pg_sleep(0.005); RETURN x; END';"
    " CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 5000) g"
)
"""A table and an index expression that sleeps for each row: a second or so a block."""


async def running(
    reader: asyncpg.Connection,
    pid: int,
    kind: str,
    what: str,
    *,
    phase: str = "",
    until: Callable[[Operation], bool] = lambda operation: True,
) -> Operation:
    """Wait until `reader` sees `kind` running in `pid` with a phase (containing `phase`) and a
    count of its progress, such that `until` holds; return it."""
    found: list[Operation] = []

    async def seen() -> bool:
        found[:] = [
            o
            for o in await read_progress(reader)
            if o.pid == pid
            and o.kind == kind
            and phase in o.phase
            and o.done is not None
            and until(o)
        ]
        return bool(found)

    await poll_until(seen, what)
    return found[0]


@contextlib.asynccontextmanager
async def sessions(
    cluster: ThrowawayCluster, dbname: str, count: int
) -> AsyncIterator[list[asyncpg.Connection]]:
    """`count` sessions on `dbname`, closed at the end; the first reads the progress."""
    async with contextlib.AsyncExitStack() as stack:
        opened: list[asyncpg.Connection] = []
        for _ in range(count):
            opened.append(await admin_connect(cluster, dbname))
            stack.push_async_callback(opened[-1].close)
        yield opened


@contextlib.asynccontextmanager
async def in_background(
    reader: asyncpg.Connection,
    session: asyncpg.Connection,
    statement: Coroutine[Any, Any, str],
) -> AsyncIterator[asyncio.Task[str]]:
    """Run `statement` (of `session`) as a task; if it runs still at the end, cancel it
    (`pg_cancel_backend`) and see it end so."""
    task = asyncio.create_task(statement)
    try:
        yield task
    finally:
        if not task.done():
            await reader.execute("SELECT pg_cancel_backend($1)", session.get_server_pid())
            with pytest.raises(asyncpg.QueryCanceledError):
                await task


async def test_a_throttled_vacuum_is_read_in_its_heap_scan(
    diagnostics_cluster: ThrowawayCluster, diag_db: str
) -> None:
    async with sessions(diagnostics_cluster, diag_db, 2) as (reader, vacuuming):
        await reader.execute(VACUUMED)
        # A sleep of the longest delay after every page: minutes for the whole table.
        await vacuuming.execute("SET vacuum_cost_delay = '100ms'; SET vacuum_cost_limit = 1")
        pid = vacuuming.get_server_pid()
        async with in_background(reader, vacuuming, vacuuming.execute("VACUUM t")):
            vacuum = await running(reader, pid, "vacuum", "the VACUUM's heap scan")
            assert vacuum.phase == "scanning heap" and vacuum.unit == "blocks"
            assert vacuum.total is not None and vacuum.total > 0
            assert vacuum.percent is not None and 0 <= vacuum.percent < 100
            assert (vacuum.database, vacuum.schema, vacuum.relation) == (diag_db, "public", "t")
            assert vacuum.relid == await reader.fetchval("SELECT 't'::regclass::oid")
            assert vacuum.query == "VACUUM t" and vacuum.role == "postgres"
            assert vacuum.started is not None
            assert vacuum.started <= await reader.fetchval("SELECT now()")
            assert on_relation(await read_progress(reader), "public", "t")
            assert not on_relation(await read_progress(reader), "public", "other")

            # From another database: the relation by its oid only.
            async with sessions(diagnostics_cluster, "postgres", 1) as (elsewhere,):
                [there] = [o for o in await read_progress(elsewhere) if o.pid == pid]
            assert there.database == diag_db and there.relid == vacuum.relid
            assert there.schema is None and there.relation is None


async def test_create_index_concurrently_waits_for_a_writer(
    diagnostics_cluster: ThrowawayCluster, diag_db: str
) -> None:
    async with sessions(diagnostics_cluster, diag_db, 3) as (reader, writer, building):
        await reader.execute("CREATE TABLE t (id int)")
        await writer.execute("BEGIN")
        await writer.execute("INSERT INTO t VALUES (1)")
        pid = building.get_server_pid()
        concurrently = building.execute("CREATE INDEX CONCURRENTLY t_id ON t (id)")
        async with in_background(reader, building, concurrently) as task:
            index = await running(
                reader, pid, "create index", "CONCURRENTLY to wait for the writer", phase="wait"
            )
            assert index.phase == "waiting for writers before build"
            assert index.command == "CREATE INDEX CONCURRENTLY"
            assert (index.schema, index.relation) == ("public", "t")
            assert (index.done, index.total, index.unit) == (0, 1, "lockers")
            assert index.percent == 0.0

            await writer.execute("ROLLBACK")
            assert await task == "CREATE INDEX"
        assert not [o for o in await read_progress(reader) if o.pid == pid]


async def test_an_index_build_is_read_in_its_table_scan(
    diagnostics_cluster: ThrowawayCluster, diag_db: str
) -> None:
    async with sessions(diagnostics_cluster, diag_db, 2) as (reader, building):
        await reader.execute(SLOW)
        slowly = building.execute("CREATE INDEX t_slow ON t (slow(id))")
        async with in_background(reader, building, slowly):
            # On its first block the scan counts every block done (15): wait for the next one.
            index = await running(
                reader,
                building.get_server_pid(),
                "create index",
                "the index build's table scan past its first block",
                until=lambda o: o.done is not None and o.done < (o.total or 0),
            )
            assert index.phase == "building index: scanning table"
            assert index.command == "CREATE INDEX" and index.unit == "blocks"
            assert index.total == await reader.fetchval("SELECT pg_relation_size('t') / 8192")
            assert index.percent is not None and 0 <= index.percent < 100


async def test_a_copy_from_the_client_is_read_between_chunks(
    diagnostics_cluster: ThrowawayCluster, diag_db: str
) -> None:
    more = asyncio.Event()

    async def chunks() -> AsyncIterator[bytes]:
        yield b"".join(b"%d\n" % i for i in range(1, 101))
        await more.wait()  # the COPY stays open, its first rows counted
        yield b"101\n"

    async with sessions(diagnostics_cluster, diag_db, 2) as (reader, copying):
        await reader.execute("CREATE TABLE t (id int)")
        copy_in = copying.copy_to_table("t", source=chunks())
        async with in_background(reader, copying, copy_in) as task:
            try:
                copy = await running(reader, copying.get_server_pid(), "copy", "the first rows")
                assert copy.phase == "COPY FROM (pipe)" and copy.command == "COPY FROM"
                assert (copy.done, copy.total, copy.unit) == (100, None, "tuples")
                assert copy.percent is None
                assert (copy.schema, copy.relation) == ("public", "t")
            finally:
                more.set()
                assert await task == "COPY 101"


async def test_the_statement_without_copy_runs_before_14(
    diagnostics_cluster: ThrowawayCluster, diag_db: str
) -> None:
    statement = progress_statement(13)
    assert "FROM pg_stat_progress_copy" not in statement
    assert "FROM pg_stat_progress_basebackup" in statement
    async with sessions(diagnostics_cluster, diag_db, 1) as (conn,):
        assert await conn.fetch(statement) == []


# --- pace, without a server ----------------------------------------------------------------

STARTED = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)


def vacuum(done: int | None, total: int | None = 1000, phase: str = "scanning heap") -> Operation:
    return Operation(
        kind="vacuum",
        pid=42,
        database="db",
        schema="public",
        relation="t",
        phase=phase,
        done=done,
        total=total,
        unit="blocks",
        started=STARTED,
        query="VACUUM t",
        role="postgres",
    )


def pace(previous: Operation | None, current: Operation, seconds: float = 2.0) -> Pace:
    return rates([previous] if previous else [], [current], seconds)[current.key]


def test_rate_and_time_left_from_two_readings() -> None:
    assert pace(vacuum(100), vacuum(300)) == Pace(100.0, 7.0)


@pytest.mark.parametrize(
    ("previous", "current"),
    [
        (None, vacuum(300)),  # first reading
        (vacuum(100), vacuum(300, phase="vacuuming heap")),  # another phase counts anew
        (vacuum(None, None, "vacuuming indexes"), vacuum(None, None, "vacuuming indexes")),
        (vacuum(500), vacuum(300)),  # counted back: started over
        (replace(vacuum(100), started=None), vacuum(300)),  # another statement
    ],
)
def test_no_rate(previous: Operation | None, current: Operation) -> None:
    assert pace(previous, current) == Pace(None, None)


@pytest.mark.parametrize(
    ("previous", "current", "expected"),
    [
        (vacuum(100), vacuum(100), Pace(0.0, None)),  # standing still: no end in sight
        (vacuum(100, None), vacuum(300, None), Pace(100.0, None)),  # no total
        (vacuum(100, 200), vacuum(300, 200), Pace(100.0, 0.0)),  # past an estimate
    ],
)
def test_rate_without_time_left(previous: Operation, current: Operation, expected: Pace) -> None:
    assert pace(previous, current) == expected


def test_progress_rates_keep_the_previous_reading() -> None:
    paces = ProgressRates()
    assert paces.update([vacuum(100)], at=10.0) == {vacuum(100).key: Pace(None, None)}
    assert paces.update([vacuum(300)], at=12.0) == {vacuum(300).key: Pace(100.0, 7.0)}
    assert paces.update([vacuum(400)], at=13.0) == {vacuum(400).key: Pace(100.0, 6.0)}
    assert paces.update([], at=14.0) == {}


@pytest.mark.parametrize(
    ("operation", "percent"),
    [
        (vacuum(250), 25.0),
        (vacuum(None, None), None),
        (vacuum(10, None), None),
        (vacuum(0, 0), None),
        (vacuum(1200), 100.0),  # an estimate passed
    ],
)
def test_percent(operation: Operation, percent: float | None) -> None:
    assert operation.percent == percent


def test_on_relation_matches_schema_and_name() -> None:
    here = vacuum(1)
    other_schema = replace(here, schema="audit")
    elsewhere = replace(here, schema=None, relation=None, relid=16384)
    assert on_relation([here, other_schema, elsewhere], "public", "t") == (here,)
