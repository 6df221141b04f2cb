"""The throwaway sshd is a real bastion: the system's ssh client tunnels through it to the
cluster, trusts it only through its known_hosts, and nothing of it outlives its owner."""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import ssl
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from pgconsole.throwaway.cluster import LOOPBACK, ThrowawayCluster, free_port
from pgconsole.throwaway.sshd import ThrowawaySshd
from tests.conftest_sshd import LOCALHOST_ONLY, localhost_cluster, missing_openssh, sshd
from tests.helpers.processes import kill_owner, process_gone

__all__ = ["localhost_cluster", "sshd"]  # session fixtures, imported to be used here

REPO_ROOT = Path(__file__).resolve().parents[1]
FORWARD_TIMEOUT = 15.0
"""How long ssh may take to log in and open its local forward."""

needs_openssh = pytest.mark.skipif(bool(missing_openssh()), reason="OpenSSH is not installed")


async def forward_opened(tunnel: asyncio.subprocess.Process, port: int) -> bool:
    """Whether `127.0.0.1:port` accepts connections before ssh exits or the time is up."""
    deadline = time.monotonic() + FORWARD_TIMEOUT
    while tunnel.returncode is None and time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            _reader, writer = await asyncio.open_connection(LOOPBACK, port)
            writer.close()
            await writer.wait_closed()
            return True
        await asyncio.sleep(0.02)
    return False


@contextlib.asynccontextmanager
async def tunnel_to(
    bastion: ThrowawaySshd, target_port: int
) -> AsyncIterator[tuple[asyncio.subprocess.Process, int]]:
    """`ssh -N -L 127.0.0.1:<free port>:localhost:<target_port> bastion`, once its forward
    accepts; yields the ssh process and the local port, and ends ssh on the way out.

    Another process can take the local port before ssh binds it: ssh then exits
    (ExitOnForwardFailure) and a new port is tried.
    """
    for _attempt in range(5):
        port = free_port()
        argv = [
            *shlex.split(bastion.ssh_command),
            "-N", "-o", "ExitOnForwardFailure=yes",
            "-L", f"{LOOPBACK}:{port}:localhost:{target_port}", "bastion",
        ]  # fmt: skip
        # ssh -N says next to nothing: its stderr, read once it ends, never fills the pipe.
        tunnel = await asyncio.create_subprocess_exec(
            *argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        if await forward_opened(tunnel, port):
            break
        said = await ended(tunnel)
        if "Address already in use" not in said:
            pytest.fail(f"ssh did not open its forward:\n{said}")
    else:
        pytest.fail(f"ssh found no free local port:\n{said}")
    try:
        yield tunnel, port
    finally:
        await ended(tunnel)


async def ended(process: asyncio.subprocess.Process) -> str:
    """SIGTERM `process` (if it still runs), reap it, and return what it wrote to stderr."""
    if process.returncode is None:
        process.terminate()
    async with asyncio.timeout(10):
        _out, err = await process.communicate()
    return err.decode(errors="replace")


def ca_only_context(cluster: ThrowawayCluster) -> ssl.SSLContext:
    """TLS verified against the cluster's CA, without checking the name: the tunnel's local
    end is 127.0.0.1, whatever the certificate names."""
    context = ssl.create_default_context(cafile=str(cluster.ca_file))
    context.check_hostname = False
    return context


async def test_forward_reaches_the_cluster(sshd: ThrowawaySshd, cluster: ThrowawayCluster) -> None:
    async with tunnel_to(sshd, cluster.port) as (tunnel, port):
        conn = await asyncpg.connect(
            host=LOOPBACK,
            port=port,
            user=cluster.superuser,
            password=cluster.password,
            database="postgres",
            ssl=ca_only_context(cluster),
            timeout=10,
        )
        try:
            assert await conn.fetchval("SELECT 1") == 1
            assert await conn.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        finally:
            await conn.close()
    assert tunnel.returncode is not None
    assert process_gone(tunnel.pid)


async def test_ssh_command_logs_in_as_the_current_user(sshd: ThrowawaySshd) -> None:
    login = await asyncio.create_subprocess_exec(
        *shlex.split(sshd.ssh_command), "bastion", "id -un",
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(FORWARD_TIMEOUT):
        out, err = await login.communicate()
    assert login.returncode == 0, err.decode()
    assert out.decode().strip() == sshd.user


async def test_an_unknown_host_key_is_refused(sshd: ThrowawaySshd, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.touch()
    login = await asyncio.create_subprocess_exec(
        *shlex.split(sshd.ssh_command), "-o", f"UserKnownHostsFile={empty}", "bastion", "true",
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(FORWARD_TIMEOUT):
        _out, err = await login.communicate()
    assert login.returncode == 255
    assert "Host key verification failed" in err.decode()
    assert empty.read_text() == ""  # StrictHostKeyChecking: nothing was learned


async def test_localhost_cluster_is_verified_only_as_localhost(
    localhost_cluster: ThrowawayCluster,
) -> None:
    assert localhost_cluster.server_names == LOCALHOST_ONLY
    conn = await asyncpg.connect(localhost_cluster.dsn(host="localhost"), timeout=10)
    await conn.close()
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        await asyncpg.connect(localhost_cluster.dsn(host=LOOPBACK), timeout=10)


@needs_openssh
async def test_stop_ends_tunnels_and_removes_the_directory(cluster: ThrowawayCluster) -> None:
    bastion = ThrowawaySshd()
    bastion.start()
    root, pid = bastion.root, bastion.pid
    try:
        async with tunnel_to(bastion, cluster.port) as (tunnel, _port):
            bastion.stop()
            # The session's own sshd process is gone too, so the client loses its connection.
            async with asyncio.timeout(10):
                await tunnel.wait()
    finally:
        bastion.stop()
    assert not root.exists()
    assert process_gone(pid)
    bastion.stop()  # a second stop is harmless


@needs_openssh
def test_killed_owner_leaves_no_sshd_and_no_session(tmp_path: Path) -> None:
    """A test run killed with SIGKILL: the reaper stops its sshd and the sessions it serves
    (so the orphaned client's connection ends) and removes the files."""
    script = textwrap.dedent(
        """
        import shlex, subprocess, sys, time
        from pathlib import Path
        from pgconsole.throwaway.sshd import ThrowawaySshd
        bastion = ThrowawaySshd()
        bastion.start()
        client = subprocess.Popen(
            [*shlex.split(bastion.ssh_command), "bastion", "echo up; exec sleep 600"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
        )
        assert client.stdout.readline() == "up\\n"
        Path(sys.argv[1]).write_text(str(client.pid))  # before the line that gets us killed
        print(bastion.root, bastion.pid, flush=True)
        time.sleep(600)
        """
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path / "client.pid")],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    _root, sshd_pid, removed = kill_owner(owner)
    client_pid = int((tmp_path / "client.pid").read_text())
    assert removed
    assert process_gone(sshd_pid)
    assert process_gone(client_pid)
