"""SSH tunnels through a real sshd on 127.0.0.1: TLS checks the real host name, ssh's own
reasons reach the user, a lost tunnel is reopened, and no ssh outlives its tunnel."""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import ssl
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from pgconsole.config import ConfigFile, Settings
from pgconsole.db.connection.connect import Attempt, connect
from pgconsole.db.connection.failures import FailureKind, classify
from pgconsole.db.connection.params import ConnectParams, SslMode
from pgconsole.db.connection.passwords import PasswordQuery
from pgconsole.db.connection.tunnel import Bastion, Tunnel, TunnelError, TunnelState
from pgconsole.db.opening import open_pool
from pgconsole.doctor import run_doctor
from pgconsole.target import resolve_target
from pgconsole.throwaway.cluster import ThrowawayCluster, free_port
from pgconsole.throwaway.sshd import ThrowawaySshd
from tests.helpers.waiting import poll_until

ATTEMPT = Attempt(server_settings={})


def through(
    sshd: ThrowawaySshd, cluster: ThrowawayCluster, host: str = "localhost", **changes: object
) -> ConnectParams:
    """verify-full to `host` as the bastion sees it, through a tunnel of its own."""
    params = ConnectParams(
        host=host,
        port=cluster.port,
        user=cluster.superuser,
        password=cluster.password,
        database="postgres",
        sslmode=SslMode.VERIFY_FULL,
        sslrootcert=cluster.ca_file,
        connect_timeout=10.0,
    )
    tunnel = Tunnel(Bastion("bastion"), params.endpoints, command=sshd.ssh_command)
    return replace(params, tunnel=tunnel, **changes)  # type: ignore[arg-type]


@pytest.fixture
async def params(
    sshd: ThrowawaySshd, localhost_cluster: ThrowawayCluster
) -> AsyncIterator[ConnectParams]:
    params = through(sshd, localhost_cluster)
    yield params
    assert params.tunnel is not None
    await params.tunnel.close()


def running(pid: int) -> bool:
    """Whether `pid` is still a live (not yet reaped, not a zombie) process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bastion", Bastion("bastion")),
        ("dba@jump.example.com", Bastion("jump.example.com", "dba")),
        ("dba@jump:2222", Bastion("jump", "dba", 2222)),
        ("[::1]:2222", Bastion("::1", None, 2222)),
        ("::1", Bastion("::1")),
    ],
)
def test_bastion_reads_user_host_and_port(text: str, expected: Bastion) -> None:
    assert Bastion.parse(text) == expected


@pytest.mark.parametrize("text", ["", "dba@", "jump:0", "jump:http", "jump:70000"])
def test_bastion_refuses_what_ssh_could_not_use(text: str) -> None:
    with pytest.raises(ValueError, match="bastion"):
        Bastion.parse(text)


def test_a_unix_socket_cannot_be_tunnelled() -> None:
    with pytest.raises(ValueError, match="Unix socket"):
        Tunnel(Bastion("bastion"), (("/var/run/postgresql", 5432),))


async def test_verify_full_checks_the_real_host_name_through_the_tunnel(
    params: ConnectParams,
) -> None:
    """The certificate names only `localhost`: the connection to the tunnel's 127.0.0.1
    passes only because the real host name is the one checked."""
    conn = await connect(params, ATTEMPT)
    try:
        assert await conn.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        assert conn.endpoint == ("localhost", params.port)  # type: ignore[attr-defined]
    finally:
        await conn.close()
    assert params.tunnel is not None and params.tunnel.state is TunnelState.OPEN


async def test_a_certificate_for_another_name_is_refused_through_the_tunnel(
    sshd: ThrowawaySshd, localhost_cluster: ThrowawayCluster
) -> None:
    """The bastion reaches the same server as `127.0.0.1`, a name its certificate lacks."""
    params = through(sshd, localhost_cluster, host="127.0.0.1")
    assert params.tunnel is not None
    try:
        with pytest.raises(ssl.SSLCertVerificationError) as refused:
            await connect(params, ATTEMPT)
    finally:
        await params.tunnel.close()
    failure = classify(refused.value, params)
    assert failure.kind is FailureKind.TLS
    assert 'not valid for host "127.0.0.1"' in failure.summary


def test_the_password_and_the_target_name_the_real_host(
    sshd: ThrowawaySshd, localhost_cluster: ThrowawayCluster, tmp_path: Path
) -> None:
    passfile = tmp_path / "pgpass"
    port = localhost_cluster.port
    passfile.write_text(f"localhost:{port}:postgres:postgres:{localhost_cluster.password}\n")
    passfile.chmod(0o600)
    target = resolve_target(
        ConfigFile(None, {}, {}),
        conninfo=f"host=localhost port={port} user=postgres dbname=postgres "
        f"sslmode=verify-full sslrootcert={localhost_cluster.ca_file} passfile={passfile}",
        overrides={"ssh": "bastion", "ssh_command": sshd.ssh_command},
        environ={},
        home=tmp_path,
    )
    assert target.password_query.host == "localhost"
    assert target.params.target == f"postgres@localhost:{port}/postgres via bastion"
    assert target.params.tunnel is not None and target.params.tunnel.pid is None  # not yet
    assert run_doctor(target, io.StringIO(), io.StringIO(), interactive=False) == 0
    assert target.params.tunnel.pid is None  # doctor ended its ssh


def test_doctor_shows_the_tunnel_step_by_step(
    sshd: ThrowawaySshd, localhost_cluster: ThrowawayCluster
) -> None:
    params = through(sshd, localhost_cluster)
    target = resolve_target(
        ConfigFile(None, {}, {}),
        conninfo=f"host=localhost port={params.port} user=postgres dbname=postgres "
        f"sslmode=verify-full sslrootcert={params.sslrootcert} password={params.password}",
        overrides={"ssh": "bastion", "ssh_command": sshd.ssh_command},
        environ={},
    )
    out, err = io.StringIO(), io.StringIO()
    assert run_doctor(target, out, err, interactive=False) == 0, err.getvalue()
    report = out.getvalue()
    assert "SSH tunnel via bastion" in report
    assert re.search(rf"ssh port +{sshd.port} ", report)
    assert re.search(r"logged in and forwarding +yes", report)
    assert f"-> localhost:{params.port}" in report
    assert re.search(r"host name checked +yes", report)


async def test_a_login_ssh_refuses_gives_ssh_own_reason(
    sshd: ThrowawaySshd, localhost_cluster: ThrowawayCluster, tmp_path: Path
) -> None:
    """Strict host key checking against an empty known_hosts: ssh's words, not a timeout."""
    empty = tmp_path / "known_hosts"
    empty.touch()
    command = f"{sshd.ssh_command} -o UserKnownHostsFile={empty}"
    params = through(sshd, localhost_cluster)
    params = replace(params, tunnel=Tunnel(Bastion("bastion"), params.endpoints, command=command))
    assert params.tunnel is not None
    with pytest.raises(TunnelError, match="ssh to bastion failed: Host key verification failed"):
        await connect(params, ATTEMPT)
    assert params.tunnel.state is TunnelState.LOST and params.tunnel.pid is None
    failure = classify(TunnelError(params.tunnel.reason), params)
    assert failure.kind is FailureKind.TUNNEL
    assert failure.detail("Bastion") == "bastion"


async def test_a_database_the_bastion_cannot_reach_is_named(
    sshd: ThrowawaySshd, localhost_cluster: ThrowawayCluster
) -> None:
    nobody = free_port()
    params = through(sshd, localhost_cluster, port=nobody)
    params = replace(
        params, tunnel=Tunnel(Bastion("bastion"), params.endpoints, command=sshd.ssh_command)
    )
    assert params.tunnel is not None
    try:
        with pytest.raises(TunnelError, match=f"via bastion: localhost:{nobody} cannot be reached"):
            await connect(params, ATTEMPT)
    finally:
        await params.tunnel.close()


async def test_a_killed_ssh_is_reported_and_reopened_by_the_next_connection(
    params: ConnectParams,
) -> None:
    tunnel = params.tunnel
    assert tunnel is not None
    lost: asyncio.Queue[str] = asyncio.Queue()
    tunnel.on_lost = lost.put_nowait
    conn = await connect(params, ATTEMPT)
    first = tunnel.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    reason = await asyncio.wait_for(lost.get(), 30)
    assert reason.startswith("ssh to bastion failed")
    assert tunnel.state is TunnelState.LOST
    assert conn.is_closed() or await _broken(conn)
    again = await connect(params, ATTEMPT)
    try:
        assert await again.fetchval("SELECT 1") == 1
    finally:
        await again.close()
    assert tunnel.opened == 2 and tunnel.pid not in (None, first)


async def _broken(conn: object) -> bool:
    """Whether a query on `conn` fails (its tunnel is gone)."""
    try:
        await conn.fetchval("SELECT 1")  # type: ignore[attr-defined]
    except Exception:
        return True
    return False


async def test_close_ends_the_ssh_process(params: ConnectParams) -> None:
    tunnel = params.tunnel
    assert tunnel is not None
    conn = await connect(params, ATTEMPT)
    await conn.close()
    pid = tunnel.pid
    assert pid is not None and running(pid)
    await tunnel.close()
    assert tunnel.pid is None and not running(pid)
    assert tunnel.state is TunnelState.CLOSED


CHILD = """
import asyncio, sys
from pgconsole.db.connection.tunnel import Bastion, Tunnel

async def main() -> None:
    tunnel = Tunnel(Bastion("bastion"), (("localhost", int(sys.argv[2])),), command=sys.argv[1])
    await tunnel.local("localhost", int(sys.argv[2]))
    print(tunnel.pid, flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


async def test_ssh_ends_when_pgconsole_is_killed(
    sshd: ThrowawaySshd, localhost_cluster: ThrowawayCluster
) -> None:
    """A SIGKILL leaves pgconsole no time to end ssh: the kernel does it (PR_SET_PDEATHSIG)."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, sshd.ssh_command, str(localhost_cluster.port),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert child.stdout is not None
    ssh = int(await asyncio.wait_for(child.stdout.readline(), 30))
    assert running(ssh)
    child.kill()
    await child.wait()

    async def ended() -> bool:
        return not running(ssh)

    await poll_until(ended, "ssh to end with the process that started it", within=30)


async def test_the_tunnel_opens_while_the_password_is_looked_for(
    params: ConnectParams, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ssh's login needs nothing of the database's: a slow password source does not hold it
    back (it is the longest wait of a tunnelled start)."""
    tunnel = params.tunnel
    assert tunnel is not None and params.password is not None
    go = tmp_path / "go"
    command = tmp_path / "password-command"
    command.write_text(f'#!/bin/sh\nwhile [ ! -e {go} ]; do sleep 0.05; done\necho "$PW"\n')
    command.chmod(0o700)
    monkeypatch.setenv("PW", params.password)
    query = PasswordQuery(
        params.host,
        params.port,
        params.database,
        params.user,
        keyring_key="unused",
        passfile=tmp_path / "no-passfile",
        password_command=str(command),
    )
    opening = asyncio.create_task(open_pool(replace(params, password=None), settings, query))

    async def tunnel_open() -> bool:
        return tunnel.state is TunnelState.OPEN

    await poll_until(tunnel_open, "the tunnel, while the password command still waits")
    assert not opening.done()
    go.touch()
    opened = await opening
    assert opened.database is not None, opened.error
    await opened.database.close()
