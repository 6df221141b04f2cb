"""TLS the way libpq does it, for all six sslmodes.

What libpq does, and pgconsole with it (asyncpg alone differs in several of these):

| sslmode     | first try  | fallback        | certificate chain                  | host name |
|-------------|------------|-----------------|------------------------------------|-----------|
| disable     | plain      | none            | -                                  | -         |
| allow       | plain      | TLS             | checked if a root certificate file exists | no |
| prefer      | TLS        | plain           | checked if a root certificate file exists | no |
| require     | TLS        | none            | checked if a root certificate file exists | no |
| verify-ca   | TLS        | none            | always (the root file must exist)  | no        |
| verify-full | TLS        | none            | always (the root file must exist)  | yes       |

The root certificate file is `sslrootcert`, else `~/.postgresql/root.crt`; `sslrootcert=system`
uses the system's trusted roots and, as in libpq 16+, demands `verify-full` (even of
`disable`). A client certificate (`sslcert`, else `~/.postgresql/postgresql.crt`) is sent when
its file exists; its key must not be readable by group or others. A certificate revocation list
(`sslcrl`/`sslcrldir`, else `~/.postgresql/root.crl`) is checked along the whole chain.

libpq reads the root and client certificate files only when it starts TLS. So in `allow` and
`prefer` mode a file it cannot use (a key others can read, a root file that is not PEM) is no
error: the session stays in, or falls back to, plaintext, as psql's would.
"""

from __future__ import annotations

import contextlib
import ssl
import stat
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from pgconsole.db.connection.params import ConnectParams, ConnInfoError, SslMode

_PROTOCOLS = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}


_REAL_SERVER_NAME: ContextVar[str | None] = ContextVar("pgconsole_real_server_name", default=None)


class _NamedContext(ssl.SSLContext):
    """An SSL context that checks the certificate against the database's real host name while
    a tunnel carries the connection to a local port (asyncpg would check `127.0.0.1`)."""

    def wrap_bio(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLObject:
        name = _REAL_SERVER_NAME.get() or server_hostname
        return super().wrap_bio(incoming, outgoing, server_side, name, session)


@contextlib.contextmanager
def real_server_name(host: str) -> Iterator[None]:
    """Within the block, TLS set up by this task sends `host` (SNI) and checks the server's
    certificate against it, whatever address the socket is connected to."""
    token = _REAL_SERVER_NAME.set(host)
    try:
        yield
    finally:
        _REAL_SERVER_NAME.reset(token)


@dataclass(frozen=True)
class TlsPlan:
    """How one connection attempt uses TLS, decided before connecting."""

    context: ssl.SSLContext | None
    """The context for encrypted attempts; None when sslmode=disable."""
    plain_first: bool
    """Try plaintext first (allow)."""
    fallback: bool
    """Try the other way if the first fails before authentication (allow, prefer)."""
    verifies_chain: bool
    """The server's certificate must chain to a trusted root."""
    checks_hostname: bool
    """The certificate must name the host (verify-full)."""
    rootcert: str | None = None
    """The root certificates used: a file path, `system`, or None."""
    client_cert: Path | None = None
    """The client certificate sent, if any."""
    unusable: ConnInfoError | None = None
    """Why TLS cannot be set up in allow or prefer mode (then `context` is None): an attempt
    with TLS fails with this error, and the plaintext one goes ahead, as in libpq."""

    @property
    def uses_tls(self) -> bool:
        """Whether any attempt is to be made with TLS (all but sslmode=disable)."""
        return self.context is not None or self.unusable is not None


def _default_dir(home: Path | None) -> Path:
    return (home or Path.home()) / ".postgresql"


def plan_tls(params: ConnectParams, home: Path | None = None) -> TlsPlan:
    """Build the TLS plan (and its SSL context) for `params`.

    Raises:
        ConnInfoError: A missing root certificate in a verify mode, `sslrootcert=system` with a
            weaker mode, an unknown protocol version, an unreadable CRL, or (in require and
            verify modes) a private key readable by others or unreadable certificate files.
    """
    mode = params.sslmode
    if params.sslrootcert == "system" and mode is not SslMode.VERIFY_FULL:
        # libpq 16+ checks this with the other options, before any connection and any mode.
        raise ConnInfoError(
            f'weak sslmode "{mode}" may not be used with sslrootcert=system (use "verify-full")'
        )
    if mode is SslMode.DISABLE:
        return TlsPlan(None, True, False, False, False)
    context = _NamedContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    _set_protocols(context, params)

    try:
        rootcert = _load_roots(context, params, home)
        client_cert = _load_client_cert(context, params, home)
    except ConnInfoError as error:
        if mode not in (SslMode.ALLOW, SslMode.PREFER):
            raise
        # libpq meets these files only once it starts TLS, and in allow or prefer mode a
        # failure there leaves the session in plaintext rather than refusing it.
        return TlsPlan(None, mode is SslMode.ALLOW, True, False, False, unusable=error)
    verifies_chain = rootcert is not None
    if verifies_chain:
        context.verify_mode = ssl.CERT_REQUIRED
        context.check_hostname = mode is SslMode.VERIFY_FULL
        if rootcert != "system":  # libpq reads CRLs only alongside a root certificate file
            _load_crl(context, params, home)
    return TlsPlan(
        context=context,
        plain_first=mode is SslMode.ALLOW,
        fallback=mode in (SslMode.ALLOW, SslMode.PREFER),
        verifies_chain=verifies_chain,
        checks_hostname=mode is SslMode.VERIFY_FULL,
        rootcert=rootcert,
        client_cert=client_cert,
    )


def _set_protocols(context: ssl.SSLContext, params: ConnectParams) -> None:
    for value, attribute in (
        (params.ssl_min_protocol_version, "minimum_version"),
        (params.ssl_max_protocol_version, "maximum_version"),
    ):
        if not value:
            continue
        if value not in _PROTOCOLS:
            names = ", ".join(_PROTOCOLS)
            raise ConnInfoError(f'invalid TLS protocol version "{value}" (one of: {names})')
        setattr(context, attribute, _PROTOCOLS[value])


def _load_roots(context: ssl.SSLContext, params: ConnectParams, home: Path | None) -> str | None:
    mode = params.sslmode
    if params.sslrootcert == "system":  # verify-full: plan_tls has refused any other mode
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
        return "system"
    explicit = params.sslrootcert is not None
    path = Path(params.sslrootcert).expanduser() if params.sslrootcert else None
    path = path or _default_dir(home) / "root.crt"
    if not path.is_file():
        if mode.verifies_certificate:
            what = "root certificate file" if explicit else "default root certificate file"
            raise ConnInfoError(
                f'{what} "{path}" does not exist: provide it, use the system\'s roots with '
                "sslrootcert=system, or lower sslmode to skip server certificate verification"
            )
        return None
    try:
        context.load_verify_locations(cafile=str(path))
    except (OSError, ssl.SSLError) as error:
        raise ConnInfoError(f'could not read root certificate file "{path}": {error}') from error
    return str(path)


def _load_crl(context: ssl.SSLContext, params: ConnectParams, home: Path | None) -> None:
    # As libpq: sslcrl and/or sslcrldir, else ~/.postgresql/root.crl, each only if present,
    # and then revocation is checked for every certificate of the chain.
    crl = Path(params.sslcrl).expanduser() if params.sslcrl else None
    if crl is None and not params.sslcrldir:
        crl = _default_dir(home) / "root.crl"
    if crl is not None and crl.is_file():
        try:
            context.load_verify_locations(cafile=str(crl))
        except (OSError, ssl.SSLError) as error:
            raise ConnInfoError(f'could not read SSL CRL file "{crl}": {error}') from error
        context.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN
    if params.sslcrldir and Path(params.sslcrldir).expanduser().is_dir():
        context.load_verify_locations(capath=str(Path(params.sslcrldir).expanduser()))
        context.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN


def _load_client_cert(
    context: ssl.SSLContext, params: ConnectParams, home: Path | None
) -> Path | None:
    cert = (
        Path(params.sslcert).expanduser()
        if params.sslcert
        else _default_dir(home) / "postgresql.crt"
    )
    if not cert.is_file():
        return None  # as libpq: no client certificate file, no client certificate
    key = (
        Path(params.sslkey).expanduser() if params.sslkey else _default_dir(home) / "postgresql.key"
    )
    check_key_permissions(key)
    try:
        context.load_cert_chain(str(cert), str(key), password=params.sslpassword or None)
    except (OSError, ssl.SSLError) as error:
        raise ConnInfoError(
            f'could not load client certificate "{cert}" with key "{key}": {error}'
        ) from error
    return cert


def check_key_permissions(key: Path) -> None:
    """libpq's rule for private keys: 0640 or less if owned by root, else 0600 or less.

    As in libpq, the rule depends on the file's owner only, not on who reads it: root may use
    a group-readable key that root owns, and nobody a readable key that someone else owns.

    Raises:
        ConnInfoError: The key is missing, not a file, or readable by too many.
    """
    try:
        info = key.stat()
    except OSError as error:
        raise ConnInfoError(f'certificate present, but not private key file "{key}"') from error
    if not stat.S_ISREG(info.st_mode):
        raise ConnInfoError(f'private key file "{key}" is not a regular file')
    mode = stat.S_IMODE(info.st_mode)
    if mode & (0o037 if info.st_uid == 0 else 0o077):
        raise ConnInfoError(
            f'private key file "{key}" has group or world access ({mode:04o}); file must have '
            "permissions u=rw (0600) or less if owned by the current user, or permissions "
            "u=rw,g=r (0640) or less if owned by root"
        )
