"""Each way a connection fails gets its own readable line, from a real failure."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from pgconsole.db.connection.failures import ConnectFailure, FailureKind, classify, describe_error
from pgconsole.db.connection.params import ConnectParams, PoolSettings, SessionSettings, SslMode
from pgconsole.db.connection.pool import open_database
from pgconsole.throwaway.certs import CertificateAuthority
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.conftest import params_for
from tests.helpers.proxy import ProxyMode, TcpProxy


async def failure_of(params: ConnectParams) -> ConnectFailure:
    """Connect, expecting to fail, and explain the failure."""
    try:
        database = await open_database(params, SessionSettings(), PoolSettings())
    except Exception as error:
        failure = classify(error, params)
        assert params.password is None or params.password not in repr(failure)
        return failure
    await database.close()
    raise AssertionError("the connection unexpectedly succeeded")


@pytest.fixture
async def proxy(cluster: ThrowawayCluster) -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy(cluster.host, cluster.port)
    try:
        yield proxy
    finally:
        await proxy.close()


async def test_wrong_password(cluster: ThrowawayCluster) -> None:
    failure = await failure_of(params_for(cluster, "postgres", password="wrong"))
    assert failure.kind is FailureKind.AUTH
    assert failure.summary == (
        f'Password authentication failed for user "postgres" at 127.0.0.1:{cluster.port}'
    )
    assert failure.detail("SQLSTATE") == "28P01"


async def test_unknown_database(cluster: ThrowawayCluster) -> None:
    failure = await failure_of(params_for(cluster, "no_such_db"))
    assert failure.kind is FailureKind.NO_DATABASE
    assert failure.summary == f'Database "no_such_db" does not exist on 127.0.0.1:{cluster.port}'
    assert failure.detail("SQLSTATE") == "3D000"


async def test_refused_port(cluster: ThrowawayCluster, proxy: TcpProxy) -> None:
    failure = await failure_of(params_for(cluster, "postgres", port=proxy.port))
    assert failure.kind is FailureKind.REFUSED
    assert failure.summary.startswith(f"Connection refused by 127.0.0.1:{proxy.port}")


async def test_refused_on_every_address_of_localhost(
    cluster: ThrowawayCluster, proxy: TcpProxy
) -> None:
    # localhost has two addresses; asyncio then reports one OSError without an errno.
    failure = await failure_of(params_for(cluster, "postgres", host="localhost", port=proxy.port))
    assert failure.kind is FailureKind.REFUSED


async def test_silent_host_times_out(cluster: ThrowawayCluster, proxy: TcpProxy) -> None:
    await proxy.set_mode(ProxyMode.SILENT)
    params = params_for(cluster, "postgres", port=proxy.port, connect_timeout=0.5)
    failure = await failure_of(params)
    assert failure.kind is FailureKind.TIMEOUT
    assert failure.summary == (
        f"No answer from 127.0.0.1:{proxy.port} within 0.5 s (connect timeout)"
    )


async def test_ca_that_did_not_sign_the_server(cluster: ThrowawayCluster, tmp_path: Path) -> None:
    other = CertificateAuthority.create(tmp_path, "some other CA")
    failure = await failure_of(params_for(cluster, "postgres", sslrootcert=other.cert))
    assert failure.kind is FailureKind.TLS
    assert "certificate could not be verified" in failure.summary
    assert failure.detail("Result") == "not connected: no fallback"


async def test_certificate_for_another_name(cluster: ThrowawayCluster) -> None:
    # 127.0.0.2 is loopback too, but not among the certificate's names.
    proxy = TcpProxy(cluster.host, cluster.port, host="127.0.0.2")
    await proxy.set_mode(ProxyMode.FORWARD)
    try:
        failure = await failure_of(
            params_for(cluster, "postgres", host="127.0.0.2", port=proxy.port)
        )
    finally:
        await proxy.close()
    assert failure.kind is FailureKind.TLS
    assert failure.summary == 'TLS: the server\'s certificate is not valid for host "127.0.0.2"'


async def test_unreadable_root_certificate(cluster: ThrowawayCluster, tmp_path: Path) -> None:
    failure = await failure_of(params_for(cluster, "postgres", sslrootcert=tmp_path / "none.crt"))
    assert failure.kind is FailureKind.TLS
    assert f'root certificate file "{tmp_path / "none.crt"}" does not exist' in failure.summary


async def test_server_without_tls_refuses_verify_full(
    plain_cluster: ThrowawayCluster, tmp_path: Path
) -> None:
    ca = CertificateAuthority.create(tmp_path)
    shutil.copy(ca.cert, tmp_path / "root.crt")
    params = ConnectParams(
        host=plain_cluster.host,
        port=plain_cluster.port,
        user=plain_cluster.superuser,
        password=plain_cluster.password,
        sslmode=SslMode.VERIFY_FULL,
        sslrootcert=tmp_path / "root.crt",
    )
    failure = await failure_of(params)
    assert failure.kind is FailureKind.TLS
    assert "does not accept TLS" in failure.summary


async def test_a_refused_connection_is_said_in_words(proxy: TcpProxy) -> None:
    """Mid-session (a commit while the server is down), not the raw `[Errno 111] …`."""
    try:
        await asyncio.open_connection(proxy.host, proxy.port)  # REFUSE: nothing listens
    except OSError as error:
        text = describe_error(error)
    else:
        raise AssertionError("the proxy accepted a connection in REFUSE mode")
    assert text == (
        f"The server at {proxy.host}:{proxy.port} is not accepting connections (connection refused)"
    )


LOCALE = {
    "S": "FATAL",
    "M": "database locale is incompatible with operating system",
    "D": 'The database was initialized with LC_COLLATE "de_DE.UTF-8", which is not recognized '
    "by setlocale().",
    "H": "Recreate the database with another locale or install the missing locale.",
}
"""A refusal with a DETAIL and a HINT (asyncpg's str() of it holds all three, on three lines)."""


@pytest.mark.parametrize(
    ("sqlstate", "kind", "label"),
    [
        ("XX000", FailureKind.SERVER, None),  # the message is in the summary
        ("28P01", FailureKind.AUTH, "Server said"),  # InvalidPasswordError
        ("28000", FailureKind.AUTH, "Server said"),  # InvalidAuthorizationSpecificationError
    ],
)
def test_a_refusal_says_detail_and_hint_once_each(
    sqlstate: str, kind: FailureKind, label: str | None
) -> None:
    error = asyncpg.PostgresError.new({**LOCALE, "C": sqlstate})
    failure = classify(error, ConnectParams(host="db1.example.com", user="dba"))
    assert failure.kind is kind
    said = failure.summary if label is None else failure.detail(label)
    assert said is not None and said.endswith(LOCALE["M"])
    assert failure.detail("Detail") == LOCALE["D"]
    assert failure.detail("Hint") == LOCALE["H"]
    shown = [failure.summary, *(value for _, value in failure.details)]
    assert sum(LOCALE["D"] in text for text in shown) == 1
    assert sum(LOCALE["H"] in text for text in shown) == 1
