"""TLS like libpq: every sslmode next to the real psql, root and client certificates, CRLs.

psql is the reference: for the same server and the same files, pgconsole must connect exactly
when psql connects, and encrypt exactly when psql encrypts. On top of that, pgconsole's badge
(`TlsState`) must say what libpq verified.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import ssl
from collections.abc import Iterator
from dataclasses import replace
from enum import StrEnum
from pathlib import Path

import asyncpg
import pytest

from pgconsole.db.connection.failures import FailureKind, classify
from pgconsole.db.connection.params import (
    ConnectParams,
    ConnInfoError,
    PoolSettings,
    SessionSettings,
    SslMode,
)
from pgconsole.db.connection.pool import TlsState, open_database
from pgconsole.db.connection.tls import plan_tls
from pgconsole.throwaway.certs import CertificateAuthority, KeyPair
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.conftest import params_for, settled_backends
from tests.helpers.tls import (
    PSQL,
    Outcome,
    hostssl_only,
    mismatched_name,
    pgconsole_outcome,
    psql_outcome,
    revocation_list,
)

needs_psql = pytest.mark.skipif(not PSQL.is_file(), reason=f"needs psql at {PSQL}")

DISABLE, ALLOW, PREFER, REQUIRE, VERIFY_CA, VERIFY_FULL = SslMode
VERIFIED, CA_ONLY, UNVERIFIED, NONE = (
    TlsState.VERIFIED,
    TlsState.CA_ONLY,
    TlsState.UNVERIFIED,
    TlsState.NONE,
)
REFUSED = None


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    """A CA that did not sign the server's certificate."""
    return CertificateAuthority.create(tmp_path_factory.mktemp("other-ca"), "another CA")


@pytest.fixture(scope="module")
def hostssl_cluster() -> Iterator[ThrowawayCluster]:
    """A TLS server whose pg_hba.conf accepts TCP from 127.0.0.1 only as `hostssl`.

    The module's own: rewriting pg_hba.conf and restarting would change the shared `cluster`
    under every other test.
    """
    with ThrowawayCluster() as server:
        hostssl_only(server)
        yield server


def _params(cluster: ThrowawayCluster, mode: SslMode, **changes: object) -> ConnectParams:
    """As `params_for`, for any cluster (one without TLS has no CA) and with no sslrootcert."""
    base = ConnectParams(
        host=cluster.host,
        port=cluster.port,
        user=cluster.superuser,
        password=cluster.password,
        database="postgres",
        sslmode=mode,
        connect_timeout=5.0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _psql_keywords(params: ConnectParams) -> dict[str, str | Path | int]:
    """The libpq keywords that say to psql what `params` say to pgconsole."""
    keywords: dict[str, str | Path | int] = {
        "host": params.host,
        "port": params.port,
        "dbname": params.database,
        "user": params.user,
        "sslmode": params.sslmode.value,
        "connect_timeout": int(params.connect_timeout or 5),
    }
    for name in ("sslrootcert", "sslcert", "sslkey", "sslcrl"):
        if (value := getattr(params, name)) is not None:
            keywords[name] = value
    return keywords


async def _same_as_psql(params: ConnectParams, home: Path) -> Outcome:
    """Connect with pgconsole and with psql; both connect or both refuse, and encrypt alike."""
    ours = await pgconsole_outcome(params)
    theirs = await psql_outcome(_psql_keywords(params), params.password or "", home)
    assert (ours.connected, ours.encrypted) == (theirs.connected, theirs.encrypted), (
        f"sslmode={params.sslmode}: pgconsole {ours}, psql {theirs}"
    )
    return ours


class Case(StrEnum):
    """The server's certificate as the client sees it."""

    RIGHT_CA = "right-ca"
    OTHER_CA = "other-ca"
    WRONG_NAME = "wrong-name"
    NO_ROOT = "no-root-cert"
    HOME_RIGHT_CA = "home-root.crt-right-ca"
    HOME_OTHER_CA = "home-root.crt-other-ca"


# What libpq (psql 15) does, and so pgconsole: the badge of the session, or REFUSED. The
# first three columns pass sslrootcert, the last two put that CA in ~/.postgresql/root.crt.
MATRIX: dict[SslMode, tuple[TlsState | None, ...]] = {
    # sslmode:    right CA  other CA  wrong name  no root     ~ right CA  ~ other CA
    DISABLE:     (NONE,     NONE,     NONE,       NONE,       NONE,       NONE),
    ALLOW:       (NONE,     NONE,     NONE,       NONE,       NONE,       NONE),
    PREFER:      (CA_ONLY,  NONE,     CA_ONLY,    UNVERIFIED, CA_ONLY,    NONE),
    REQUIRE:     (CA_ONLY,  REFUSED,  CA_ONLY,    UNVERIFIED, CA_ONLY,    REFUSED),
    VERIFY_CA:   (CA_ONLY,  REFUSED,  CA_ONLY,    REFUSED,    CA_ONLY,    REFUSED),
    VERIFY_FULL: (VERIFIED, REFUSED,  REFUSED,    REFUSED,    VERIFIED,   REFUSED),
}  # fmt: skip


@needs_psql
@pytest.mark.parametrize("case", list(Case))
@pytest.mark.parametrize("mode", list(SslMode))
async def test_each_sslmode_connects_or_refuses_as_psql_does(
    cluster: ThrowawayCluster,
    other_ca: CertificateAuthority,
    hermetic_environment: Path,
    mode: SslMode,
    case: Case,
) -> None:
    home = hermetic_environment
    expected = MATRIX[mode][list(Case).index(case)]
    rootcert = {
        Case.RIGHT_CA: cluster.ca_file,
        Case.OTHER_CA: other_ca.cert,
        Case.WRONG_NAME: cluster.ca_file,
    }.get(case)
    home_root = {Case.HOME_RIGHT_CA: cluster.ca_file, Case.HOME_OTHER_CA: other_ca.cert}.get(case)
    if home_root is not None:
        (home / ".postgresql").mkdir()
        shutil.copy(home_root, home / ".postgresql" / "root.crt")
    async with contextlib.AsyncExitStack() as stack:
        host, port = cluster.host, cluster.port
        if case is Case.WRONG_NAME:
            proxy = await stack.enter_async_context(mismatched_name(cluster))
            host, port = proxy.host, proxy.port
        params = _params(cluster, mode, host=host, port=port, sslrootcert=rootcert)
        ours = await _same_as_psql(params, home)
    assert ours.state is expected, f"sslmode={mode}, {case}: {ours}"


@needs_psql
@pytest.mark.parametrize("mode", [VERIFY_CA, VERIFY_FULL])
async def test_verify_modes_without_a_root_certificate_name_the_missing_file(
    cluster: ThrowawayCluster, hermetic_environment: Path, mode: SslMode
) -> None:
    params = _params(cluster, mode, sslrootcert=None)
    default = hermetic_environment / ".postgresql" / "root.crt"
    with pytest.raises(ConnInfoError) as caught:
        await open_database(params, SessionSettings(), PoolSettings())
    assert f'"{default}" does not exist' in str(caught.value)
    assert "sslrootcert=system" in str(caught.value)  # says how to get out of it
    assert classify(caught.value, params).kind is FailureKind.TLS
    theirs = await psql_outcome(_psql_keywords(params), cluster.password, hermetic_environment)
    assert not theirs.connected
    assert f'"{default}" does not exist' in theirs.error


# -- sslrootcert=system (libpq 16+; the psql here is older, so no comparison) ----------------


async def test_system_roots_do_not_trust_a_private_ca(cluster: ThrowawayCluster) -> None:
    params = _params(cluster, VERIFY_FULL, sslrootcert="system")
    with pytest.raises(ssl.SSLCertVerificationError) as caught:
        await open_database(params, SessionSettings(), PoolSettings())
    failure = classify(caught.value, params)
    assert failure.kind is FailureKind.TLS
    assert failure.detail("Result") == "not connected: no fallback"


@pytest.mark.parametrize("mode", [DISABLE, ALLOW, PREFER, REQUIRE, VERIFY_CA])
async def test_system_roots_demand_verify_full(
    cluster: ThrowawayCluster, admin: asyncpg.Connection, mode: SslMode
) -> None:
    params = _params(cluster, mode, sslrootcert="system")
    with pytest.raises(ConnInfoError, match=r'weak sslmode ".*" .*use "verify-full"'):
        await open_database(params, SessionSettings(), PoolSettings())
    assert await settled_backends(admin) == []


def test_system_roots_ignore_the_default_crl(
    cluster: ThrowawayCluster, revoked_server: Path, hermetic_environment: Path
) -> None:
    # libpq 16+ reads no CRL with sslrootcert=system (the chain would need a CRL from every
    # public CA), only alongside a root certificate file.
    (hermetic_environment / ".postgresql").mkdir()
    shutil.copy(revoked_server, hermetic_environment / ".postgresql" / "root.crl")
    checks = ssl.VERIFY_CRL_CHECK_CHAIN
    with_file = plan_tls(params_for(cluster, "postgres")).context
    with_system = plan_tls(params_for(cluster, "postgres", sslrootcert="system")).context
    assert with_file is not None and with_system is not None
    assert with_file.verify_flags & checks == checks
    assert with_system.verify_flags & checks == 0


# -- client certificates ---------------------------------------------------------------------


async def _client_dn(params: ConnectParams) -> str | None:
    database = await open_database(params, SessionSettings(), PoolSettings())
    try:
        async with database.transaction() as conn:
            dn: str | None = await conn.fetchval(
                "SELECT client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
            )
    finally:
        await database.close()
    return dn


@pytest.fixture
def client_pair(cluster: ThrowawayCluster, tmp_path: Path) -> KeyPair:
    """A client certificate for the superuser, signed by the cluster's CA (key mode 0600)."""
    assert cluster.ca is not None
    return cluster.ca.issue(tmp_path / "client", "postgres", alt_names=(), client=True)


async def test_client_certificate_is_sent(cluster: ThrowawayCluster, client_pair: KeyPair) -> None:
    params = params_for(cluster, "postgres", sslcert=client_pair.cert, sslkey=client_pair.key)
    assert await _client_dn(params) == "/CN=postgres"


async def test_default_client_certificate_comes_from_home(
    cluster: ThrowawayCluster, client_pair: KeyPair, hermetic_environment: Path
) -> None:
    directory = hermetic_environment / ".postgresql"
    directory.mkdir()
    shutil.copy(client_pair.cert, directory / "postgresql.crt")
    shutil.copy(client_pair.key, directory / "postgresql.key")
    (directory / "postgresql.key").chmod(0o600)
    assert await _client_dn(params_for(cluster, "postgres")) == "/CN=postgres"


@needs_psql
async def test_a_missing_client_certificate_file_means_none(
    cluster: ThrowawayCluster, tmp_path: Path, hermetic_environment: Path
) -> None:
    params = params_for(cluster, "postgres", sslcert=tmp_path / "absent.crt")
    assert await _client_dn(params) is None
    assert (await _same_as_psql(params, hermetic_environment)).state is VERIFIED


async def test_a_key_readable_by_others_is_refused_before_connecting(
    cluster: ThrowawayCluster, client_pair: KeyPair, admin: asyncpg.Connection
) -> None:
    client_pair.key.chmod(0o644)
    params = params_for(cluster, "postgres", sslcert=client_pair.cert, sslkey=client_pair.key)
    with pytest.raises(ConnInfoError) as caught:
        await open_database(params, SessionSettings(), PoolSettings())
    message = str(caught.value)
    assert f'private key file "{client_pair.key}" has group or world access' in message
    assert "permissions u=rw (0600) or less" in message
    assert classify(caught.value, params).kind is FailureKind.TLS
    assert await settled_backends(admin) == []


def _as_root() -> bool:
    return os.geteuid() == 0


# A key owned by root may be 0640 (libpq); any other key 0600. Our keys are owned by us.
KEY_ACCEPTED = {0o600: True, 0o640: _as_root(), 0o644: False}


@needs_psql
@pytest.mark.parametrize("key_mode", list(KEY_ACCEPTED), ids=lambda mode: f"{mode:04o}")
@pytest.mark.parametrize("mode", [ALLOW, PREFER, REQUIRE, VERIFY_FULL])
async def test_key_permissions_as_psql_checks_them(
    cluster: ThrowawayCluster,
    client_pair: KeyPair,
    hermetic_environment: Path,
    mode: SslMode,
    key_mode: int,
) -> None:
    client_pair.key.chmod(key_mode)
    params = params_for(
        cluster, "postgres", sslmode=mode, sslcert=client_pair.cert, sslkey=client_pair.key
    )
    ours = await _same_as_psql(params, hermetic_environment)
    if mode is ALLOW:
        expected: TlsState | None = NONE  # plaintext first: the key is never read
    elif KEY_ACCEPTED[key_mode]:
        expected = VERIFIED if mode is VERIFY_FULL else CA_ONLY
    else:
        # libpq reads the key when it starts TLS: a failure there is a refusal, except that
        # prefer goes on in plaintext.
        expected = NONE if mode is PREFER else REFUSED
    assert ours.state is expected, str(ours)


@needs_psql
@pytest.mark.skipif(not _as_root(), reason="only root can give a key to another user")
async def test_a_key_owned_by_another_user_must_be_0600(
    cluster: ThrowawayCluster, client_pair: KeyPair, hermetic_environment: Path
) -> None:
    os.chown(client_pair.key, 1, 1)  # root reads it all the same: the rule is the owner's
    client_pair.key.chmod(0o640)
    params = params_for(cluster, "postgres", sslcert=client_pair.cert, sslkey=client_pair.key)
    ours = await _same_as_psql(params, hermetic_environment)
    assert not ours.connected
    assert "group or world access (0640)" in ours.error


# -- a server without TLS, and one that accepts only TLS -------------------------------------


@needs_psql
@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (DISABLE, NONE),
        (ALLOW, NONE),
        (PREFER, NONE),
        (REQUIRE, REFUSED),
        (VERIFY_CA, REFUSED),
        (VERIFY_FULL, REFUSED),
    ],
)
async def test_server_without_tls_as_psql(
    plain_cluster: ThrowawayCluster,
    other_ca: CertificateAuthority,
    hermetic_environment: Path,
    mode: SslMode,
    expected: TlsState | None,
) -> None:
    # A root certificate file, so that the verify modes get as far as asking the server.
    params = _params(plain_cluster, mode, sslrootcert=other_ca.cert)
    ours = await _same_as_psql(params, hermetic_environment)
    assert ours.state is expected, str(ours)


async def test_require_against_a_server_without_tls_says_so(
    plain_cluster: ThrowawayCluster,
) -> None:
    params = _params(plain_cluster, REQUIRE)
    with pytest.raises(ConnectionError) as caught:
        await open_database(params, SessionSettings(), PoolSettings())
    failure = classify(caught.value, params)
    assert failure.kind is FailureKind.TLS
    where = f"{plain_cluster.host}:{plain_cluster.port}"
    assert failure.summary == f"TLS: the server at {where} does not accept TLS (sslmode=require)"


@needs_psql
@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (DISABLE, REFUSED),
        (ALLOW, CA_ONLY),  # plaintext is rejected by pg_hba.conf, then TLS is tried
        (PREFER, CA_ONLY),
        (REQUIRE, CA_ONLY),
        (VERIFY_CA, CA_ONLY),
        (VERIFY_FULL, VERIFIED),
    ],
)
async def test_server_accepting_only_tls_as_psql(
    hostssl_cluster: ThrowawayCluster,
    hermetic_environment: Path,
    mode: SslMode,
    expected: TlsState | None,
) -> None:
    params = _params(hostssl_cluster, mode, sslrootcert=hostssl_cluster.ca_file)
    ours = await _same_as_psql(params, hermetic_environment)
    assert ours.state is expected, str(ours)
    if expected is REFUSED:
        assert "no encryption" in ours.error  # pg_hba.conf: plaintext has no entry


@needs_psql
async def test_allow_with_an_unusable_key_on_a_server_accepting_only_tls(
    hostssl_cluster: ThrowawayCluster, tmp_path: Path, hermetic_environment: Path
) -> None:
    assert hostssl_cluster.ca is not None
    pair = hostssl_cluster.ca.issue(tmp_path, "postgres", alt_names=(), client=True)
    pair.key.chmod(0o644)
    params = _params(
        hostssl_cluster, ALLOW, sslrootcert=hostssl_cluster.ca_file, sslcert=pair.cert,
        sslkey=pair.key,
    )  # fmt: skip
    ours = await _same_as_psql(params, hermetic_environment)
    # Plaintext is rejected, and then TLS cannot start: the key is the reason given.
    assert not ours.connected
    assert f'ConnInfoError: private key file "{pair.key}"' in ours.error


# -- certificate revocation lists ------------------------------------------------------------


@pytest.fixture
def revoked_server(cluster: ThrowawayCluster, tmp_path: Path) -> Path:
    """A CRL from the cluster's CA that revokes the server's certificate."""
    assert cluster.ca is not None and cluster.server_pair is not None
    return revocation_list(cluster.ca, tmp_path / "crl", [cluster.server_pair.cert])


@needs_psql
@pytest.mark.parametrize(
    ("mode", "expected"),
    [(PREFER, NONE), (REQUIRE, REFUSED), (VERIFY_CA, REFUSED), (VERIFY_FULL, REFUSED)],
)
async def test_revoked_server_certificate_as_psql(
    cluster: ThrowawayCluster,
    revoked_server: Path,
    hermetic_environment: Path,
    mode: SslMode,
    expected: TlsState | None,
) -> None:
    params = params_for(cluster, "postgres", sslmode=mode, sslcrl=revoked_server)
    ours = await _same_as_psql(params, hermetic_environment)
    assert ours.state is expected, str(ours)
    if mode is VERIFY_FULL:
        assert "revoked" in ours.error


@needs_psql
async def test_crl_without_the_server_certificate_verifies(
    cluster: ThrowawayCluster, tmp_path: Path, hermetic_environment: Path
) -> None:
    assert cluster.ca is not None
    crl = revocation_list(cluster.ca, tmp_path / "crl")
    ours = await _same_as_psql(params_for(cluster, "postgres", sslcrl=crl), hermetic_environment)
    assert ours.state is VERIFIED


@needs_psql
async def test_default_crl_comes_from_home(
    cluster: ThrowawayCluster, revoked_server: Path, hermetic_environment: Path
) -> None:
    (hermetic_environment / ".postgresql").mkdir()
    shutil.copy(revoked_server, hermetic_environment / ".postgresql" / "root.crl")
    ours = await _same_as_psql(params_for(cluster, "postgres"), hermetic_environment)
    assert not ours.connected
    assert "revoked" in ours.error
