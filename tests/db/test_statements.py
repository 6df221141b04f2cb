"""Top statements: pg_stat_statements' counters read from a real server, as deltas that stay
right across a reset, an eviction and the thinning of old readings."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from pgconsole.db.diagnostics.statements import (
    RECENT,
    Delta,
    Reading,
    StatementsUnavailable,
    StatementWatch,
    difference,
    thinned,
)
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.conftest import admin_connect


async def with_extension(cluster: ThrowawayCluster, dbname: str) -> asyncpg.Connection:
    conn = await admin_connect(cluster, dbname)
    await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    return conn


def entry(watch: StatementWatch, marker: str, window: float | None = None) -> Delta | None:
    """The delta of the statement whose text holds `marker`, if it did something."""
    for delta in watch.deltas(window):
        text = watch.texts.get(delta.key)
        if text is not None and marker in text.query:
            return delta
    return None


async def run(conn: asyncpg.Connection, marker: str, times: int) -> None:
    for _ in range(times):
        await conn.fetchval(f"SELECT count(*) AS {marker} FROM generate_series(1, 100)")


async def test_a_statement_counts_only_its_calls_since_the_window_began(
    diagnostics_cluster: ThrowawayCluster, diag_db: str
) -> None:
    conn = await with_extension(diagnostics_cluster, diag_db)
    worker = await admin_connect(diagnostics_cluster, diag_db)
    marker = f"m_{uuid.uuid4().hex[:8]}"
    try:
        watch = StatementWatch()
        await run(worker, marker, 7)
        await watch.refresh(conn)
        await run(worker, marker, 3)
        await watch.refresh(conn, shown=50)
        delta = entry(watch, marker)
        assert delta is not None
        assert delta.calls == 3  # not the 10 of its lifetime
        assert delta.lifetime[0] == 10
        assert delta.rows == 3
        assert delta.time_ms > 0 and delta.mean_ms is not None
        text = watch.texts[delta.key]
        assert text.database == diag_db and text.role == diagnostics_cluster.superuser

        # An unchanged entry is not listed, and its counters are shared between readings.
        await watch.refresh(conn, shown=50)
        assert entry(watch, marker) is None
        assert watch.readings[-1].entries[delta.key] is watch.readings[-2].entries[delta.key]
        # Over a window longer than the history: everything since the first reading.
        longest = entry(watch, marker, 300.0)
        assert longest is not None and longest.calls == 3
    finally:
        await worker.close()
        await conn.close()


async def test_a_reset_counts_from_zero_and_never_goes_negative(
    diagnostics_cluster: ThrowawayCluster, diag_db: str
) -> None:
    conn = await with_extension(diagnostics_cluster, diag_db)
    marker = f"m_{uuid.uuid4().hex[:8]}"
    try:
        watch = StatementWatch()
        await run(conn, marker, 20)
        await watch.refresh(conn, shown=50)
        await conn.execute("SELECT pg_stat_statements_reset()")
        await run(conn, marker, 2)
        await watch.refresh(conn, shown=50)
        assert watch.readings[-1].reset != watch.readings[-2].reset
        delta = entry(watch, marker)
        assert delta is not None and delta.calls == 2
        assert all(min(d.counters) >= 0 for d in watch.deltas(None))
    finally:
        await conn.close()


async def test_without_the_extension_the_reason_and_the_remedy_are_given(
    diagnostics_cluster: ThrowawayCluster, diag_db: str, cluster: ThrowawayCluster
) -> None:
    # Preloaded, but not created in this database.
    conn = await admin_connect(diagnostics_cluster, diag_db)
    try:
        with pytest.raises(
            StatementsUnavailable, match="preloaded but not installed in this database: run CREATE"
        ):
            await StatementWatch().refresh(conn)
    finally:
        await conn.close()
    # Created, but not preloaded (the suite's plain server).
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await admin_connect(cluster)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        conn = await with_extension(cluster, name)
        try:
            with pytest.raises(StatementsUnavailable, match=r"not preloaded: add .*restart"):
                await StatementWatch().refresh(conn)
        finally:
            await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def test_an_evicted_entry_made_again_counts_from_zero() -> None:
    before = (50.0, 10.0, 50.0, 5.0, 1.0, 0.0, 0.0)
    again = (4.0, 1.0, 4.0, 1.0, 0.0, 0.0, 0.0)
    assert difference(again, before, reset=False) == again
    later = (60.0, 12.0, 60.0, 5.0, 3.0, 0.0, 0.0)
    assert difference(later, before, reset=False) == (10.0, 2.0, 10.0, 0.0, 2.0, 0.0, 0.0)
    assert difference(later, before, reset=True) == later
    assert difference(later, None, reset=False) == later


def test_old_readings_are_thinned_to_a_fixed_count() -> None:
    readings: list[Reading] = []
    for second in range(0, 3600, 2):  # an hour at one reading every 2 s
        readings = thinned([*readings, Reading(float(second), None, {})], float(second))
    assert len(readings) <= RECENT + 20
    now = readings[-1].taken
    # Every window still has a reading at least that old, not far beyond it.
    for window in (10.0, 60.0, 300.0):
        starts = [r.taken for r in readings if now - r.taken >= window]
        assert starts and now - starts[-1] <= window + 30
