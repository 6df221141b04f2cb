"""A small certificate authority for throwaway servers, made with the `openssl` command.

The test suite and the demo need a CA the client can verify against, a server certificate for
`localhost`/`127.0.0.1`, and (in tests) certificates that should *not* verify: another CA, or a
server certificate for the wrong name. `openssl` ships wherever PostgreSQL's server does.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LOOPBACK_NAMES: tuple[str, ...] = ("DNS:localhost", "IP:127.0.0.1", "IP:::1")
"""Subject alternative names of a certificate for a server on this machine."""

_VALID_DAYS = "30"


class CertificateError(RuntimeError):
    """`openssl` is missing or refused to make a key or certificate."""


def _openssl(*args: str | Path) -> None:
    binary = shutil.which("openssl")
    if binary is None:
        raise CertificateError("the `openssl` command is needed to make test certificates")
    result = subprocess.run(
        [binary, *map(str, args)], capture_output=True, text=True, check=False, timeout=60
    )
    if result.returncode != 0:
        raise CertificateError(f"openssl {args[0]} failed: {result.stderr.strip()}")


@dataclass(frozen=True)
class KeyPair:
    """A certificate and its private key, both PEM files."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class CertificateAuthority:
    """A self-signed CA that can issue server certificates."""

    pair: KeyPair

    @property
    def cert(self) -> Path:
        """The CA certificate a client passes as `sslrootcert`."""
        return self.pair.cert

    @classmethod
    def create(cls, directory: Path, name: str = "pgconsole throwaway CA") -> CertificateAuthority:
        """Make a new CA key and self-signed certificate in `directory`."""
        directory.mkdir(parents=True, exist_ok=True)
        stem = directory / _slug(name)
        pair = KeyPair(stem.with_suffix(".crt"), stem.with_suffix(".key"))
        _openssl(
            "req", "-x509", "-new", "-nodes",
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-keyout", pair.key, "-out", pair.cert, "-days", _VALID_DAYS,
            "-subj", f"/CN={name}",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        )  # fmt: skip
        pair.key.chmod(0o600)
        return cls(pair)

    def issue(
        self,
        directory: Path,
        common_name: str = "localhost",
        alt_names: tuple[str, ...] = LOOPBACK_NAMES,
        *,
        client: bool = False,
    ) -> KeyPair:
        """Issue a certificate signed by this CA.

        Args:
            directory: Where the `.crt` and `.key` files are written.
            common_name: The subject's CN (a user name for a client certificate).
            alt_names: subjectAltName entries such as `DNS:localhost` or `IP:127.0.0.1`.
            client: Issue a client-authentication certificate instead of a server one.
        """
        directory.mkdir(parents=True, exist_ok=True)
        stem = directory / _slug(("client-" if client else "server-") + common_name)
        pair = KeyPair(stem.with_suffix(".crt"), stem.with_suffix(".key"))
        request = stem.with_suffix(".csr")
        extensions = stem.with_suffix(".ext")
        lines = [
            "basicConstraints=critical,CA:FALSE",
            "keyUsage=critical,digitalSignature,keyEncipherment",
            f"extendedKeyUsage={'clientAuth' if client else 'serverAuth'}",
            "subjectKeyIdentifier=hash",
            "authorityKeyIdentifier=keyid,issuer",
        ]
        if alt_names:
            lines.append("subjectAltName=" + ",".join(alt_names))
        extensions.write_text("\n".join(lines) + "\n")
        _openssl(
            "req", "-new", "-nodes",
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-keyout", pair.key, "-out", request, "-subj", f"/CN={common_name}",
        )  # fmt: skip
        _openssl(
            "x509", "-req", "-in", request, "-CA", self.pair.cert, "-CAkey", self.pair.key,
            "-CAcreateserial", "-out", pair.cert, "-days", _VALID_DAYS, "-extfile", extensions,
        )  # fmt: skip
        request.unlink()
        extensions.unlink()
        pair.key.chmod(0o600)
        return pair


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-") or "cert"
