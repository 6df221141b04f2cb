"""The throwaway server: TLS on, SCRAM passwords, and nothing left behind, even after a crash."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import asyncpg
import pytest

from pgconsole.throwaway.cluster import ThrowawayCluster, find_bindir, scram_verifier
from tests.helpers.processes import kill_owner, process_gone


def test_find_bindir_has_server_programs() -> None:
    bindir = find_bindir()
    for program in ("initdb", "pg_ctl", "postgres"):
        assert (bindir / program).is_file()


def test_scram_verifier_has_postgres_format() -> None:
    verifier = scram_verifier("secret")
    method, rest = verifier.split("$", 1)
    assert method == "SCRAM-SHA-256"
    iterations_salt, keys = rest.split("$")
    assert iterations_salt.startswith("4096:")
    assert len(keys.split(":")) == 2
    assert "secret" not in verifier
    assert scram_verifier("secret") != verifier  # a fresh salt every time


async def test_server_speaks_verified_tls(cluster: ThrowawayCluster) -> None:
    conn = await asyncpg.connect(cluster.dsn())
    try:
        row = await conn.fetchrow(
            "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        )
        assert row is not None and row["ssl"] is True
        assert row["version"].startswith("TLSv1.")
        assert await conn.fetchval("SHOW password_encryption") == "scram-sha-256"
    finally:
        await conn.close()


async def test_wrong_password_is_refused(cluster: ThrowawayCluster) -> None:
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(cluster.dsn(password="not-the-password"))


def test_password_never_written_to_the_cluster_directory(cluster: ThrowawayCluster) -> None:
    secret = cluster.password.encode()
    for path in cluster.root.rglob("*"):
        if path.is_file() and path.stat().st_size < 50_000_000:
            assert secret not in path.read_bytes(), path


def test_stop_removes_everything() -> None:
    server = ThrowawayCluster(ssl=False)
    server.start()
    root = server.root
    pid = int((server.datadir / "postmaster.pid").read_text().split()[0])
    server.stop()
    assert not root.exists()
    assert process_gone(pid)


def test_killed_owner_leaves_no_server(tmp_path: Path) -> None:
    """A test run killed with SIGKILL: the reaper stops its server and removes the files."""
    script = textwrap.dedent(
        """
        import sys, time
        from pgconsole.throwaway.cluster import ThrowawayCluster
        server = ThrowawayCluster(ssl=False)
        server.start()
        pid = (server.datadir / "postmaster.pid").read_text().split()[0]
        print(server.root, pid, flush=True)
        time.sleep(600)
        """
    )
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    _root, server_pid, removed = kill_owner(owner)
    assert removed
    assert process_gone(server_pid)
