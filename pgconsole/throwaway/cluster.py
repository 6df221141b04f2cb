"""A throwaway PostgreSQL server: the test suite's database and the demo's.

`ThrowawayCluster` finds the system's server binaries, runs `initdb` in a fresh temporary
directory (as the `postgres` user when we are root: initdb refuses to run as root), makes its
own CA and a server certificate for localhost, and starts the server on a free loopback port
with `ssl = on` and SCRAM password authentication. Leaving the `with` block stops the server
and deletes the directory. A small reaper process does the same if this process dies first
(a crashed or killed test run), so no server outlives the run that started it.

The superuser's password lives only in this process's memory: `initdb` is given a SCRAM
verifier, from which the password cannot be recovered.
"""

from __future__ import annotations

import base64
import contextlib
import glob
import hashlib
import hmac
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import quote, urlencode

from pgconsole.throwaway.certs import CertificateAuthority, KeyPair

LOOPBACK = "127.0.0.1"
_SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
_FAST_SETTINGS: dict[str, str] = {
    # A throwaway cluster trades durability for speed: nothing in it must survive a crash.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "120",
    "shared_buffers": "128MB",
    "log_min_messages": "warning",
}


class ClusterError(RuntimeError):
    """The throwaway server could not be created, started or stopped."""


def find_bindir() -> Path:
    """Find a directory holding PostgreSQL's server programs (initdb, pg_ctl, postgres).

    Looks, in order, at `$PGCONSOLE_PG_BINDIR`, `pg_config --bindir`, the directory of an
    `initdb` on PATH, and the newest `/usr/lib/postgresql/<version>/bin`.

    Raises:
        ClusterError: No directory with all three programs was found.
    """
    for candidate in _bindir_candidates():
        if all((candidate / program).is_file() for program in _SERVER_PROGRAMS):
            return candidate
    raise ClusterError(
        "PostgreSQL server programs (initdb, pg_ctl, postgres) were not found: install them "
        "(Debian/Ubuntu: apt-get install postgresql) or set PGCONSOLE_PG_BINDIR"
    )


def _bindir_candidates() -> Iterator[Path]:
    if explicit := os.environ.get("PGCONSOLE_PG_BINDIR"):
        yield Path(explicit)
    if pg_config := shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            if out:
                yield Path(out)
    if initdb := shutil.which("initdb"):
        yield Path(initdb).resolve().parent
    versioned = glob.glob("/usr/lib/postgresql/*/bin")
    for path in sorted(versioned, key=_version_key, reverse=True):
        yield Path(path)


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path))


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """Compute the SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802/7677).

    The server accepts a verifier wherever it accepts a password, so a file or statement can
    carry this instead of the secret itself.
    """
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def free_port(host: str = LOOPBACK) -> int:
    """Return a TCP port on `host` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _conf_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class ThrowawayCluster:
    """A PostgreSQL server in a temporary directory, removed when the block ends.

    ```python
    with ThrowawayCluster() as cluster:
        dsn = cluster.dsn()  # verify-full against the cluster's own CA
    ```
    """

    def __init__(
        self,
        *,
        superuser: str = "postgres",
        ssl: bool = True,
        settings: Mapping[str, str] | None = None,
        bindir: Path | None = None,
    ) -> None:
        """Prepare (but do not start) a cluster.

        Args:
            superuser: Name of the bootstrap superuser.
            ssl: Whether the server starts with `ssl = on`.
            settings: Extra postgresql.conf settings.
            bindir: Server programs to use; found with `find_bindir()` when omitted.
        """
        self.superuser = superuser
        self.password = secrets.token_urlsafe(24)
        self.host = LOOPBACK
        self.port = 0
        self.ssl = ssl
        self._settings = {**_FAST_SETTINGS, **(settings or {})}
        self._bindir = bindir
        self._root: Path | None = None
        self._reaper: subprocess.Popen[bytes] | None = None
        self.ca: CertificateAuthority | None = None
        self.server_pair: KeyPair | None = None

    # -- paths -----------------------------------------------------------------------------

    @property
    def root(self) -> Path:
        """The temporary directory holding everything this cluster owns."""
        if self._root is None:
            raise ClusterError("the cluster has not been started")
        return self._root

    @property
    def datadir(self) -> Path:
        """The cluster's data directory."""
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        """Directory of the server's Unix-domain socket."""
        return self.root / "sock"

    @property
    def ca_file(self) -> Path:
        """The CA certificate that signed the server's certificate."""
        if self.ca is None:
            raise ClusterError("the cluster has no CA (started with ssl=False?)")
        return self.ca.cert

    @property
    def log_file(self) -> Path:
        """The server's log."""
        return self.root / "server.log"

    # -- life cycle ------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Create the cluster, its certificates and start the server.

        Raises:
            ClusterError: The binaries are missing, or initdb or the server failed.
        """
        bindir = self._bindir or find_bindir()
        self._bindir = bindir
        self._root = Path(tempfile.mkdtemp(prefix="pgconsole-pg-"))
        try:
            self._spawn_reaper()
            self._initdb()
            self._write_config()
            self._chown_to_server_user()
            self._start_server()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete the cluster's directory."""
        if self._root is None:
            return
        if (self.datadir / "postmaster.pid").exists():
            with contextlib.suppress(ClusterError):
                self._pg_ctl("stop", "-m", "fast", "-w", "-t", "30")
        shutil.rmtree(self._root, ignore_errors=True)
        self._root = None
        if self._reaper is not None:
            if self._reaper.stdin is not None:
                self._reaper.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._reaper.wait(timeout=5)
            self._reaper = None

    def shut_down(self) -> None:
        """Stop the server (fast shutdown), keeping its data: `start_again` brings it back."""
        self._pg_ctl("stop", "-m", "fast", "-w", "-t", "30")

    def start_again(self) -> None:
        """Start a server stopped by `shut_down`, on the same port."""
        self._pg_ctl(
            "start", "-w", "-t", "60", "-l", str(self.log_file), "-o", f"-p {self.port}"
        )  # fmt: skip

    def restart(self) -> None:
        """Restart the server in place (connections are dropped; data is kept)."""
        self._pg_ctl("restart", "-m", "fast", "-w", "-t", "60", "-l", str(self.log_file))

    def reload(self) -> None:
        """Make the server re-read its configuration files (pg_hba.conf, postgresql.conf)."""
        self._pg_ctl("reload")

    # -- connecting ------------------------------------------------------------------------

    def dsn(
        self,
        database: str = "postgres",
        *,
        user: str | None = None,
        password: str | None = None,
        sslmode: str = "verify-full",
        host: str | None = None,
        port: int | None = None,
        sslrootcert: Path | None = None,
        **params: str,
    ) -> str:
        """A `postgresql://` URI for this server.

        By default it names the superuser, its password and `sslmode=verify-full` against the
        cluster's own CA.
        """
        user = user or self.superuser
        password = self.password if password is None else password
        query: dict[str, str] = {"sslmode": sslmode, **params}
        if sslmode != "disable" and self.ca is not None:
            query["sslrootcert"] = str(sslrootcert or self.ca_file)
        auth = quote(user, safe="")
        if password:
            auth += ":" + quote(password, safe="")
        netloc = f"{auth}@{host or self.host}:{port or self.port}"
        return f"postgresql://{netloc}/{quote(database, safe='')}?{urlencode(query)}"

    # -- internals -------------------------------------------------------------------------

    def _as_server_user(self, argv: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return argv
        if shutil.which("runuser") is None:
            raise ClusterError("running as root needs `runuser` to start PostgreSQL as postgres")
        return ["runuser", "-u", "postgres", "--", *argv]

    def _run(self, argv: list[str], what: str, timeout: float = 120) -> str:
        try:
            result = subprocess.run(
                self._as_server_user(argv),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise ClusterError(f"{what} failed: {error}") from error
        if result.returncode != 0:
            output = (result.stderr or result.stdout).strip()
            raise ClusterError(f"{what} failed (exit {result.returncode}): {output}")
        return result.stdout

    def _pg_ctl(self, *args: str) -> str:
        assert self._bindir is not None
        return self._run(
            [str(self._bindir / "pg_ctl"), "-D", str(self.datadir), *args], f"pg_ctl {args[0]}"
        )

    def _chown_to_server_user(self) -> None:
        if os.geteuid() != 0:
            return
        import pwd  # Unix only, and only needed as root

        try:
            entry = pwd.getpwnam("postgres")
        except KeyError as error:
            raise ClusterError("running as root needs a `postgres` system user") from error
        for path in [self.root, *self.root.rglob("*")]:
            os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)

    def _initdb(self) -> None:
        assert self._bindir is not None
        self.datadir.mkdir(mode=0o700)
        self.socket_dir.mkdir(mode=0o700)
        pwfile = self.root / "initdb.pw"
        pwfile.write_text(scram_verifier(self.password) + "\n")
        pwfile.chmod(0o600)
        self._chown_to_server_user()
        try:
            self._run(
                [
                    str(self._bindir / "initdb"),
                    "-D", str(self.datadir),
                    "-U", self.superuser,
                    "--pwfile", str(pwfile),
                    "--auth", "scram-sha-256",
                    "--encoding", "UTF8",
                    "--locale", "C.UTF-8",
                    "--no-sync",
                    "--no-instructions",
                ],
                "initdb",
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)

    def _write_config(self) -> None:
        settings = dict(self._settings)
        settings["listen_addresses"] = self.host
        settings["unix_socket_directories"] = str(self.socket_dir)
        if self.ssl:
            self.ca = CertificateAuthority.create(self.root / "tls")
            self.server_pair = self.ca.issue(self.root / "tls")
            settings["ssl"] = "on"
            settings["ssl_cert_file"] = str(self.server_pair.cert)
            settings["ssl_key_file"] = str(self.server_pair.key)
            # With a CA file the server asks clients for a certificate (and verifies any it
            # gets), so tests can check that pgconsole sends one.
            settings["ssl_ca_file"] = str(self.ca.cert)
        else:
            settings["ssl"] = "off"
        lines = [f"{name} = {_conf_quote(value)}" for name, value in settings.items()]
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write("\n# pgconsole throwaway cluster\n" + "\n".join(lines) + "\n")

    def _start_server(self) -> None:
        # Another process can take the port between our probe and the server's bind: retry.
        for attempt in range(5):
            self.port = free_port(self.host)
            try:
                self._pg_ctl(
                    "start", "-w", "-t", "60", "-l", str(self.log_file),
                    "-o", f"-p {self.port}",
                )  # fmt: skip
                return
            except ClusterError:
                if attempt == 4 or "could not bind" not in self._log_tail():
                    raise ClusterError(f"the server did not start:\n{self._log_tail()}") from None

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def _spawn_reaper(self) -> None:
        assert self._bindir is not None
        # The reaper waits for EOF on a pipe only we hold. However this process ends, the
        # kernel closes the pipe and the reaper stops the server and removes the directory.
        self._reaper = subprocess.Popen(
            [
                sys.executable, "-m", "pgconsole.throwaway.cluster",
                "reap", str(self.root), str(self._bindir),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C aimed at the test run must not kill it
        )  # fmt: skip


def _reap(root: Path, bindir: Path) -> None:
    """Wait until our parent is gone, then stop its server and remove its directory."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while sys.stdin.buffer.read(4096):
        pass
    if not root.exists():
        return
    datadir = root / "data"
    if (datadir / "postmaster.pid").exists():
        argv = [str(bindir / "pg_ctl"), "-D", str(datadir), "stop", "-m", "immediate", "-w"]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(argv, capture_output=True, timeout=60, check=False)
    # A server that was gone already or refused to stop leaves nothing we can do but wait.
    deadline = time.monotonic() + 30
    while (datadir / "postmaster.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "reap":
    _reap(Path(sys.argv[2]), Path(sys.argv[3]))
