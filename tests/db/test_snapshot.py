"""The incident snapshot: a bundle taken from a real server while a session idles in a
transaction with a snapshot and another waits for a row lock; redacted, it keeps none of the
statements' text; written, its files are the owner's only and never overwritten."""

from __future__ import annotations

import asyncio
import contextlib
import json
import stat
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from pgconsole.db.diagnostics.snapshot import (
    SECTIONS,
    BundleExists,
    redact_query,
    snapshot_name,
    take_snapshot,
    to_markdown,
    write_bundle,
)
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.conftest import admin_connect, admin_connection
from tests.helpers.waiting import poll_until

HEADINGS = ("## Sessions", "## Locks", "## Waits", "## Statements", "## Horizon",
            "## Progress", "## Replication", "## Settings")  # fmt: skip


@dataclass
class Incident:
    """Sessions in trouble on a fresh database, and a connection to take the snapshot on."""

    sampler: asyncpg.Connection
    idle: asyncpg.Connection
    """Idle in a REPEATABLE READ transaction: its snapshot holds the horizon back."""
    holder: asyncpg.Connection
    """Holds the row lock in an open transaction."""
    waiter: asyncpg.Connection
    """Waits for that lock."""
    marker: str
    """In a literal and a name of every statement the sessions ran."""


@contextlib.asynccontextmanager
async def incident(cluster: ThrowawayCluster, dbname: str) -> AsyncIterator[Incident]:
    """The sessions, once the waiter is seen blocked by the holder; a statement with the
    marker runs over and over meanwhile (for pg_stat_statements)."""
    marker = f"secret_{uuid.uuid4().hex[:12]}"
    conns = [await admin_connect(cluster, dbname) for _ in range(5)]
    sampler, idle, holder, waiter, busy = conns
    stop = asyncio.Event()

    async def keep_busy() -> None:
        while not stop.is_set():
            await busy.fetchval(f"SELECT count(*) AS {marker} FROM t WHERE note <> '{marker}'")
            await asyncio.sleep(0.02)

    tasks: list[asyncio.Task[Any]] = []
    try:
        await sampler.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await sampler.execute("CREATE TABLE t (id int PRIMARY KEY, note text)")
        await sampler.execute("INSERT INTO t VALUES (1, 'first')")
        await idle.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        await idle.fetch(f"SELECT id AS {marker} FROM t WHERE note <> '{marker}'")
        await holder.execute(f"BEGIN; UPDATE t SET note = '{marker}' WHERE id = 1")
        tasks.append(
            asyncio.ensure_future(
                waiter.execute(f"UPDATE t SET note = 'w' WHERE id = 1 AND note <> '{marker}'")
            )
        )
        tasks.append(asyncio.ensure_future(keep_busy()))

        async def waiter_blocked() -> bool:
            blockers = await sampler.fetchval(
                "SELECT pg_blocking_pids($1)", waiter.get_server_pid()
            )
            return holder.get_server_pid() in blockers

        await poll_until(waiter_blocked, "the waiter blocked by the holder")
        yield Incident(sampler, idle, holder, waiter, marker)
    finally:
        stop.set()
        await sampler.execute("SELECT pg_cancel_backend($1)", waiter.get_server_pid())
        await asyncio.gather(*tasks, return_exceptions=True)
        for conn in conns:
            await conn.close()


async def test_a_bundle_shows_the_incident_from_every_side(
    diagnostics_cluster: ThrowawayCluster, diag_db: str, tmp_path: Path
) -> None:
    async with incident(diagnostics_cluster, diag_db) as seen:
        bundle = await take_snapshot(seen.sampler, window=1)
        redacted = await take_snapshot(seen.sampler, window=1, redact=True)
        idle, holder, waiter = (c.get_server_pid() for c in (seen.idle, seen.holder, seen.waiter))

    assert list(bundle) == list(SECTIONS)
    assert bundle["format"] == 1
    assert bundle["taken_at"].endswith("+00:00")
    assert bundle["server"]["database"] == diag_db
    assert bundle["server"]["in_recovery"] is False
    text = json.dumps(bundle)  # plain JSON values only: no default= needed
    assert json.loads(text) == bundle

    sessions = {s["pid"]: s for s in bundle["sessions"]}
    assert {idle, holder, waiter} <= set(sessions)
    assert sessions[idle]["state"] == "idle in transaction"
    assert sessions[waiter]["blocked_by"] == [holder]

    locks = {row["pid"]: row for row in bundle["locks"]}
    assert locks[holder]["depth"] == 0
    assert (locks[waiter]["depth"], locks[waiter]["blocked_by"]) == (1, [holder])
    assert locks[waiter]["lock_mode"] == "ShareLock"

    holders = {h["pid"]: h for h in bundle["horizon"]["holders"] if h["kind"] == "backend"}
    assert {idle, holder} <= set(holders)
    assert holders[idle]["remedy"] == "terminate"

    events = {w["event"]: w for w in bundle["waits"]["by_event"]}
    assert events["Lock:transactionid"]["sessions"] > 0.5
    by_session = {w["pid"]: w for w in bundle["waits"]["by_session"]}
    assert by_session[waiter]["event"] == "Lock:transactionid"
    assert bundle["waits"]["samples"] >= 5

    statements = bundle["statements"]
    assert statements["available"] is True
    assert any(seen.marker in (s["query"] or "") for s in statements["top"])
    assert {s["name"] for s in bundle["settings"]} >= {
        "max_connections", "shared_buffers", "autovacuum_naptime", "vacuum_cost_limit",
        "compute_query_id", "server_version",
    }  # fmt: skip

    # Unredacted, each section has the statements' text: redacted, none has.
    for section in ("sessions", "locks", "waits", "statements", "horizon"):
        assert seen.marker in json.dumps(bundle[section]), section
    assert seen.marker not in json.dumps(redacted)
    redacted_sessions = {s["pid"]: s for s in redacted["sessions"]}
    assert redacted_sessions[waiter]["query"] == (
        f"UPDATE … (redacted, {len(sessions[waiter]['query'])} chars)"
    )

    report = to_markdown(bundle)
    for heading in HEADINGS:
        assert heading in report
    assert f"| {waiter} |" in report


async def test_without_pg_stat_statements_the_section_says_why(
    diagnostics_cluster: ThrowawayCluster, diag_db: str
) -> None:
    async with admin_connection(diagnostics_cluster, diag_db) as conn:
        bundle = await take_snapshot(conn, window=0.2)
    statements = bundle["statements"]
    assert statements["available"] is False
    assert "not installed in this database" in statements["reason"]
    assert "not available" in to_markdown(bundle)


def a_bundle() -> dict[str, Any]:
    """The smallest bundle `to_markdown` reads: every section empty."""
    return {
        "format": 1,
        "taken_at": "2024-05-06T07:08:09.5+00:00",
        "server": {"host": "/run/postgresql", "port": 5432, "database": "d", "user": "u",
                   "version": "16.3", "version_num": 160003, "in_recovery": False},
        "window_seconds": 10.0,
        "sessions": [],
        "locks": [],
        "waits": {"samples": 0, "by_event": [], "by_session": [], "by_statement": [],
                  "per_second": []},
        "statements": {"available": False, "reason": "not installed"},
        "horizon": {"holders": [], "totals": {"user": 0, "catalog": 0}, "databases": []},
        "progress": [],
        "replication": {"upstream": None, "standbys": [], "slots": []},
        "settings": [],
    }  # fmt: skip


def test_files_are_the_owners_only_and_never_overwritten(tmp_path: Path) -> None:
    bundle = a_bundle()
    name = snapshot_name(bundle)
    assert name == "pgconsole-snapshot-run_postgresql-20240506-070809"
    json_path, md_path = write_bundle(bundle, tmp_path / name)
    assert (json_path.name, md_path.name) == (f"{name}.json", f"{name}.md")
    for path in (json_path, md_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(json_path.read_text()) == bundle
    assert md_path.read_text().startswith("# pgconsole incident snapshot")
    with pytest.raises(BundleExists, match="exists already"):
        write_bundle(bundle, tmp_path / name)
    # One file of the pair there already: nothing is written.
    (tmp_path / "other.md").write_text("mine")
    with pytest.raises(BundleExists, match=r"other\.md"):
        write_bundle(bundle, tmp_path / "other")
    assert not (tmp_path / "other.json").exists()
    assert (tmp_path / "other.md").read_text() == "mine"


@pytest.mark.parametrize(
    ("query", "kept"),
    [
        ("SELECT 'secret' FROM t", "SELECT"),
        ("select*from secret", "SELECT"),
        ("-- secret\n/* secret */ create unique index secret_i on t (a)", "CREATE UNIQUE INDEX"),
        ("UPDATE secret SET a = 1", "UPDATE"),
        ("WITH secret AS (SELECT 1) SELECT 1", "WITH"),
        ("secret_function()", ""),
        ("SELECT1 secret", ""),
        ("VACUUM (VERBOSE) secret", "VACUUM"),
    ],
)
def test_redaction_keeps_the_first_keywords_and_the_length(query: str, kept: str) -> None:
    redacted = redact_query(query)
    assert redacted == f"{kept + ' ' if kept else ''}… (redacted, {len(query)} chars)"
    assert "secret" not in redacted
