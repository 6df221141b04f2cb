"""Connect the way psql does and the way pgconsole does, and compare how each attempt ends."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from pgconsole.db.connection.params import (
    ConnectParams,
    ConnInfoError,
    PoolSettings,
    SessionSettings,
)
from pgconsole.db.connection.pool import TlsState, open_database
from pgconsole.throwaway.certs import CertificateAuthority
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.helpers.proxy import ProxyMode, TcpProxy

PSQL = Path("/usr/bin/psql")
"""The real psql (libpq) that pgconsole's outcomes are compared with."""

SSL_QUERY = "select coalesce((select ssl from pg_stat_ssl where pid = pg_backend_pid()), false)"
"""`t` when the session is encrypted, `f` when it is not."""

PSQL_TIMEOUT = 30.0
"""Seconds a psql run may take before the test gives up on it."""

MISMATCHED_HOST = "127.0.0.2"
"""A loopback address the throwaway server's certificate does not name."""


@dataclass(frozen=True)
class Outcome:
    """How one connection attempt ended: refused, or a session with or without TLS."""

    connected: bool
    encrypted: bool = False
    state: TlsState | None = None
    """pgconsole's verdict on the session's TLS (None for psql, or when refused)."""
    error: str = ""

    def __str__(self) -> str:
        if not self.connected:
            return f"refused ({self.error})"
        return "encrypted" if self.encrypted else "plaintext"


def conninfo(values: Mapping[str, str | Path | int]) -> str:
    """A libpq keyword/value string, every value quoted."""

    def quoted(value: str | Path | int) -> str:
        return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"

    return " ".join(f"{key}={quoted(value)}" for key, value in values.items())


async def psql_outcome(
    values: Mapping[str, str | Path | int], password: str, home: Path
) -> Outcome:
    """Run psql once, non-interactively, and report whether (and how) it connected.

    The environment carries no PG* variable but PGPASSWORD, and HOME is the test's own, so
    psql sees the same ~/.postgresql as pgconsole (this libpq finds `~` through $HOME, as the
    tests with a root.crt there show: the passwd entry's /root has no .postgresql). It runs
    as a subprocess of the running event loop, which keeps serving a proxy the test may have
    started on that loop.
    """
    env = {name: value for name, value in os.environ.items() if not name.startswith("PG")}
    env.update(PGPASSWORD=password, HOME=str(home))
    process = await asyncio.create_subprocess_exec(
        str(PSQL), "-X", "-w", conninfo(values), "-Atc", SSL_QUERY,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        async with asyncio.timeout(PSQL_TIMEOUT):
            out, err = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        return Outcome(False, error=err.decode(errors="replace").strip())
    return Outcome(True, encrypted=out.decode().strip() == "t")


async def pgconsole_outcome(params: ConnectParams) -> Outcome:
    """Open (and close) a pgconsole database, and report whether and how it connected."""
    try:
        database = await open_database(params, SessionSettings(), PoolSettings())
    except (OSError, ssl.SSLError, asyncpg.PostgresError, ConnInfoError) as error:
        return Outcome(False, error=f"{type(error).__name__}: {error}")
    try:
        async with database.transaction() as conn:
            on_the_wire = bool(await conn.fetchval(SSL_QUERY))
        state = database.info.tls.state
    finally:
        await database.close()
    encrypted = state is not TlsState.NONE  # what the badge says
    assert encrypted == on_the_wire, f"badge {state.value!r}, but pg_stat_ssl.ssl={on_the_wire}"
    return Outcome(True, encrypted=encrypted, state=state)


@contextlib.asynccontextmanager
async def mismatched_name(cluster: ThrowawayCluster) -> AsyncIterator[TcpProxy]:
    """A proxy on 127.0.0.2 that forwards to `cluster`, whose certificate does not name it."""
    proxy = TcpProxy(cluster.host, cluster.port, host=MISMATCHED_HOST)
    await proxy.set_mode(ProxyMode.FORWARD)
    try:
        yield proxy
    finally:
        await proxy.close()


def revocation_list(
    ca: CertificateAuthority, directory: Path, revoked: Sequence[Path] = ()
) -> Path:
    """A CRL signed by `ca` that revokes the certificates in `revoked` (made by `openssl ca`)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "index.txt").write_text("")
    (directory / "crlnumber").write_text("01\n")
    config = directory / "ca.cnf"
    config.write_text(
        f"[ca]\ndefault_ca = crl\n[crl]\ndatabase = {directory / 'index.txt'}\n"
        f"crlnumber = {directory / 'crlnumber'}\ndefault_md = sha256\ndefault_crl_days = 30\n"
    )
    openssl = shutil.which("openssl") or "openssl"
    signer = ["-config", str(config), "-keyfile", str(ca.pair.key), "-cert", str(ca.cert)]

    def run(*args: str) -> None:
        subprocess.run([openssl, "ca", *signer, *args], capture_output=True, check=True, timeout=60)

    for cert in revoked:
        run("-revoke", str(cert))
    crl = directory / "revoked.crl" if revoked else directory / "empty.crl"
    run("-gencrl", "-out", str(crl))
    return crl


def hostssl_only(cluster: ThrowawayCluster) -> None:
    """Make `cluster` accept TCP connections from 127.0.0.1 only over TLS (`hostssl`)."""
    hba = cluster.datadir / "pg_hba.conf"
    owner = hba.stat()
    lines = hba.read_text().splitlines()
    rewritten = [
        "hostssl" + line[len("host") :] if line.split()[:1] == ["host"] and "127.0.0.1" in line
        else line
        for line in lines
    ]  # fmt: skip
    hba.write_text("\n".join(rewritten) + "\n")
    os.chown(hba, owner.st_uid, owner.st_gid)  # the server's user must still own it
    cluster.restart()  # a reload would take effect a moment after pg_ctl returns
