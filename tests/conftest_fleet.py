"""The `fleet_servers` fixture: a fleet of four real servers for the fleet view's tests.

Import it into a test module to use it:
`from tests.conftest_fleet import fleet_servers  # noqa: F401`.

- `primary`: the diagnostics server (`diagnostics_cluster`), read as its superuser;
- `standby`: its streaming standby (`standby`), read as the same superuser;
- `loaded`: a server of its own under pgbench load for the fixture's lifetime, with a lock
  chain (a session holding a row lock in an open transaction, two sessions blocked behind it),
  read as `FLEET_ROLE`, a role that is not a superuser but a member of pg_monitor; it has
  pg_stat_statements, so a test can count what the fleet sent from the server's side;
- `stopped`: a server that was started, its port noted, and stopped: its address refuses (the
  port stays bound, never listening, so no other server can take it meanwhile).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from pgconsole.db.connection.params import ConnectParams, SslMode
from pgconsole.db.fleet import Member
from pgconsole.throwaway.cluster import LOOPBACK, ThrowawayCluster, ThrowawayStandby, find_bindir

FLEET_APP = "pgconsole-fleet-tests"
"""application_name of the fleet's sessions in these tests (the suite's own start otherwise)."""
FLEET_ROLE = "fleet_probe"
"""The loaded server's reading role: LOGIN, member of pg_monitor, not a superuser."""
HOLDER_APP = "fleet-holder"
WAITER_APP = "fleet-waiter"
LOAD_APP = "pgbench"
LOAD_CLIENTS = 4
WAITERS = 2


@dataclass(frozen=True)
class FleetServers:
    """The four servers of the fleet and how the fleet reaches each."""

    primary: ThrowawayCluster
    standby: ThrowawayStandby
    loaded: ThrowawayCluster
    stopped_port: int
    probe_password: str
    """`FLEET_ROLE`'s password on the loaded server."""

    def member(self, name: str, **changes: object) -> Member:
        """The member `name` (primary, standby, loaded, stopped), its params changed."""
        params = {
            "primary": _params(self.primary),
            "standby": _params(self.standby),
            "loaded": _params(self.loaded, user=FLEET_ROLE, password=self.probe_password),
            # No root certificate: the stopped server's CA went with it.
            "stopped": ConnectParams(
                host=LOOPBACK,
                port=self.stopped_port,
                password="not-used",
                sslmode=SslMode.PREFER,
                application_name=FLEET_APP,
            ),
        }[name]
        return Member(name, replace(params, **changes))  # type: ignore[arg-type]

    @property
    def members(self) -> list[Member]:
        """All four, stopped last (the fleet must sort them itself)."""
        return [self.member(name) for name in ("primary", "standby", "loaded", "stopped")]


def _params(
    cluster: ThrowawayCluster, *, user: str | None = None, password: str | None = None
) -> ConnectParams:
    return ConnectParams(
        host=cluster.host,
        port=cluster.port,
        user=user or cluster.superuser,
        password=password or cluster.password,
        database="postgres",
        sslmode=SslMode.VERIFY_FULL,
        sslrootcert=cluster.ca_file,
        connect_timeout=5.0,
        application_name=FLEET_APP,
    )


@pytest.fixture(scope="session")
def fleet_servers(
    diagnostics_cluster: ThrowawayCluster, standby: ThrowawayStandby
) -> Iterator[FleetServers]:
    """The fleet's four servers (see the module), everything stopped and removed after."""
    with (
        _stopped_port() as stopped_port,
        ThrowawayCluster(settings={"shared_preload_libraries": "pg_stat_statements"}) as loaded,
        tempfile.TemporaryDirectory(prefix="pgconsole-fleet-") as scratch,
    ):
        password = secrets.token_urlsafe(18)
        _psql(loaded, _SETUP, variables={"role": FLEET_ROLE, "password": password})
        _run([_program("pgbench"), "-i", "-s", "1", "-q", loaded.dsn(password="")], loaded)
        with _load(loaded, Path(scratch) / "pgbench.log"), _lock_chain(loaded):
            yield FleetServers(diagnostics_cluster, standby, loaded, stopped_port, password)


_SETUP = """
CREATE ROLE :"role" LOGIN PASSWORD :'password' IN ROLE pg_monitor;
CREATE EXTENSION pg_stat_statements;
CREATE TABLE fleet_chain (id int PRIMARY KEY, n int NOT NULL);
INSERT INTO fleet_chain VALUES (1, 0);
"""
"""The reading role, pg_stat_statements, and the row of the lock chain."""

_CHAIN_ROW = "UPDATE fleet_chain SET n = n + 1 WHERE id = 1;\n"


@contextlib.contextmanager
def _stopped_port() -> Iterator[int]:
    """The port of a server that ran and was stopped, kept bound (not listening) meanwhile."""
    with ThrowawayCluster(ssl=False) as server:
        port = server.port
    keeper = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    keeper.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        # Bound but not listening: a connection is refused, and no server can take the port.
        with contextlib.suppress(OSError):
            keeper.bind((LOOPBACK, port))
        yield port
    finally:
        keeper.close()


@contextlib.contextmanager
def _load(cluster: ThrowawayCluster, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """pgbench with a few clients, rate-limited, for as long as the block lasts."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                _program("pgbench"),
                "-c", str(LOAD_CLIENTS), "-j", "2", "-R", "200", "-T", "3600", "-n",
                cluster.dsn(password=""),
            ],
            env=_env(cluster, LOAD_APP),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_for(
            cluster,
            f"SELECT count(*) >= {LOAD_CLIENTS} FROM pg_stat_activity"
            f" WHERE application_name = '{LOAD_APP}'",
            "the pgbench clients to connect",
            process,
            log,
        )
        yield process
    finally:
        _stop(process)


@contextlib.contextmanager
def _lock_chain(cluster: ThrowawayCluster) -> Iterator[None]:
    """A session holding a row lock in an open transaction and `WAITERS` sessions blocked
    behind it, each a psql reading its statements from a pipe we keep open."""
    sessions: list[subprocess.Popen[bytes]] = []
    try:
        holder = _session(cluster, HOLDER_APP, "BEGIN;\n" + _CHAIN_ROW)
        sessions.append(holder)
        _wait_for(
            cluster,
            "SELECT count(*) = 1 FROM pg_stat_activity"
            f" WHERE application_name = '{HOLDER_APP}' AND state = 'idle in transaction'",
            "the lock holder's open transaction",
            holder,
        )
        for _ in range(WAITERS):
            sessions.append(_session(cluster, WAITER_APP, _CHAIN_ROW))
        _wait_for(
            cluster,
            f"SELECT count(*) = {WAITERS} FROM pg_stat_activity"
            f" WHERE application_name = '{WAITER_APP}' AND wait_event_type = 'Lock'",
            "the waiters to block",
        )
        yield
    finally:
        # The holder first: its transaction ends with it, and the waiters then get theirs.
        for session in sessions:
            _stop(session)


def _session(cluster: ThrowawayCluster, app: str, statements: str) -> subprocess.Popen[bytes]:
    """A psql session that runs `statements`, then waits for more on its stdin."""
    process = subprocess.Popen(
        [_program("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", cluster.dsn(password="")],
        env=_env(cluster, app),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdin is not None
    process.stdin.write(statements.encode())
    process.stdin.flush()
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End a client: EOF on its stdin if it reads one, then SIGINT, SIGTERM, SIGKILL until
    it is gone."""
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            return
        process.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


def _program(name: str) -> str:
    return str(find_bindir() / name)


def _env(cluster: ThrowawayCluster, app: str) -> dict[str, str]:
    return {**os.environ, "PGPASSWORD": cluster.password, "PGAPPNAME": app}


def _run(argv: list[str], cluster: ThrowawayCluster, stdin: str | None = None) -> str:
    result = subprocess.run(
        argv,
        input=stdin,
        env=_env(cluster, "pgconsole-tests"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{Path(argv[0]).name} failed: {result.stderr or result.stdout}")
    return result.stdout


def _psql(cluster: ThrowawayCluster, sql: str, *, variables: dict[str, str] | None = None) -> str:
    """Run `sql` as the superuser; the output, unaligned and without headers."""
    argv = [_program("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
    for name, value in (variables or {}).items():
        argv += ["-v", f"{name}={value}"]
    return _run([*argv, "-d", cluster.dsn(password="")], cluster, sql).strip()


def _wait_for(
    cluster: ThrowawayCluster,
    check: str,
    what: str,
    process: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
    within: float = 60.0,
) -> None:
    """Until the query `check` returns true (`t`), while `process` runs."""
    deadline = time.monotonic() + within
    while _psql(cluster, check) != "t":
        if process is not None and process.poll() is not None:
            output = log.read_text(errors="replace")[-2000:] if log else ""
            raise RuntimeError(f"waiting for {what}: the client exited\n{output}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {within:.0f} s waiting for {what}")
        time.sleep(0.1)
