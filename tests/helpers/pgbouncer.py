"""A throwaway pgbouncer in front of the test suite's throwaway PostgreSQL.

`ThrowawayPgBouncer` runs pgbouncer (transaction pooling by default) in a fresh temporary
directory on a free loopback port, with verified TLS to the server and, by default, TLS to its
clients under a certificate from the cluster's own CA. Leaving the `with` block stops it and
deletes the directory; a small reaper process does the same if the test run dies first.

Authentication: clients log in to pgbouncer with SCRAM-SHA-256, and pgbouncer logs in to the
server by SCRAM pass-through. That only works when pgbouncer's `auth_file` holds the *same*
SCRAM secret as the server (same salt and iterations, not merely the same password), so the
secret is read from `pg_authid` when pgbouncer starts. The plain password is never written.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import asyncpg

from pgconsole.throwaway.certs import KeyPair
from pgconsole.throwaway.cluster import LOOPBACK, ThrowawayCluster, free_port

_FALLBACK_BINARY = Path("/usr/sbin/pgbouncer")
_START_TIMEOUT = 15.0
_STOP_TIMEOUT = 10.0
_SERVER_USER = "postgres"


class PgBouncerError(RuntimeError):
    """pgbouncer could not be configured, started or stopped."""


def find_pgbouncer() -> Path | None:
    """The pgbouncer program: the one on PATH, else Debian's `/usr/sbin/pgbouncer`.

    `/usr/sbin` is not on an ordinary user's PATH, which is where Debian installs it.
    """
    if found := shutil.which("pgbouncer"):
        return Path(found)
    if _FALLBACK_BINARY.is_file() and os.access(_FALLBACK_BINARY, os.X_OK):
        return _FALLBACK_BINARY
    return None


def _ini_value(value: str | int) -> str:
    # pgbouncer's ini parser ends a value at a newline and strips blanks around it; nothing we
    # write has either, but a path with a newline would silently change the configuration.
    text = str(value)
    if "\n" in text or text != text.strip():
        raise PgBouncerError(f"cannot write {text!r} into pgbouncer.ini")
    return text


def _userlist_field(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


class ThrowawayPgBouncer:
    """pgbouncer in a temporary directory, in front of a `ThrowawayCluster`.

    ```python
    with ThrowawayPgBouncer(cluster) as bouncer:
        conn = await asyncpg.connect(bouncer.dsn(), statement_cache_size=0)
    ```
    """

    def __init__(
        self,
        cluster: ThrowawayCluster,
        *,
        pool_mode: str = "transaction",
        tls: bool = True,
        pool_size: int = 5,
    ) -> None:
        """Prepare (but do not start) a pgbouncer for a started cluster.

        Args:
            cluster: The server to pool connections to; it must be running.
            pool_mode: pgbouncer's `pool_mode`: `session`, `transaction` or `statement`.
            tls: Whether clients must connect with TLS (`client_tls_sslmode = require`).
            pool_size: Server connections per (database, user) pair (`default_pool_size`).
        """
        if pool_mode not in ("session", "transaction", "statement"):
            raise ValueError(f"unknown pool_mode {pool_mode!r}")
        self.cluster = cluster
        self.pool_mode = pool_mode
        self.tls = tls
        self.pool_size = pool_size
        self.host = LOOPBACK
        self.port = 0
        self._root: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._reaper: subprocess.Popen[bytes] | None = None
        self._client_pair: KeyPair | None = None

    # -- paths -----------------------------------------------------------------------------

    @property
    def root(self) -> Path:
        """The temporary directory holding pgbouncer's configuration, logs and keys."""
        if self._root is None:
            raise PgBouncerError("pgbouncer has not been started")
        return self._root

    @property
    def config_file(self) -> Path:
        """pgbouncer's configuration."""
        return self.root / "pgbouncer.ini"

    @property
    def log_file(self) -> Path:
        """pgbouncer's log (`logfile`)."""
        return self.root / "pgbouncer.log"

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
        """Write the configuration and start pgbouncer; return once it accepts connections.

        Raises:
            PgBouncerError: pgbouncer is missing, or did not start within 15 seconds.
        """
        if self._root is not None:
            raise PgBouncerError("pgbouncer is already running")
        binary = find_pgbouncer()
        if binary is None:
            raise PgBouncerError("pgbouncer is not installed (Debian: apt-get install pgbouncer)")
        if self.tls and self.cluster.ca is None:
            raise PgBouncerError("client TLS needs the cluster's CA (cluster started with ssl)")
        # mkdtemp makes the directory 0700: the userlist and the TLS key inside it stay private.
        self._root = Path(tempfile.mkdtemp(prefix="pgconsole-pgbouncer-"))
        try:
            self._spawn_reaper()
            self._write_userlist()
            if self.tls:
                assert self.cluster.ca is not None
                self._client_pair = self.cluster.ca.issue(self.root / "tls")
            self._launch(binary)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop pgbouncer (immediate shutdown) and delete its directory."""
        if self._process is not None:
            _terminate(self._process)
            self._process = None
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None
            self._client_pair = None
        if self._reaper is not None:
            # With pgbouncer gone and the directory removed, EOF leaves the reaper nothing to do.
            if self._reaper.stdin is not None:
                self._reaper.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._reaper.wait(timeout=5)
            self._reaper = None

    # -- connecting ------------------------------------------------------------------------

    def dsn(self, dbname: str = "postgres", *, sslmode: str | None = None) -> str:
        """A `postgresql://` URI reaching `database` through pgbouncer.

        It names the cluster's superuser and password; with TLS, `sslrootcert` is the cluster's
        CA, which also signed pgbouncer's certificate.

        Args:
            database: The database to connect to.
            sslmode: Defaults to `verify-full` with client TLS and `disable` without it.
        """
        if self._root is None:
            raise PgBouncerError("pgbouncer has not been started")
        if sslmode is None:
            sslmode = "verify-full" if self.tls else "disable"
        return self.cluster.dsn(dbname, sslmode=sslmode, host=self.host, port=self.port)

    # -- internals -------------------------------------------------------------------------

    def _write_userlist(self) -> None:
        secret = _server_secret(self.cluster)
        userlist = self.root / "userlist.txt"
        # Created 0600 from the start: the SCRAM secret is never readable by anyone else.
        fd = os.open(userlist, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(f"{_userlist_field(self.cluster.superuser)} {_userlist_field(secret)}\n")

    def _config(self) -> str:
        settings: dict[str, str | int] = {
            "listen_addr": self.host,
            "listen_port": self.port,
            # No Unix socket: a stray /tmp/.s.PGSQL.<port> could clash with another instance.
            "unix_socket_dir": "",
            "pool_mode": self.pool_mode,
            "auth_type": "scram-sha-256",
            "auth_file": str(self.root / "userlist.txt"),
            "max_client_conn": 50,
            "default_pool_size": self.pool_size,
            # Only what drivers send on their own: pgconsole must cope with pgbouncer refusing
            # anything else (statement_timeout, ...), so the tests must see those refusals.
            "ignore_startup_parameters": "extra_float_digits",
            # A failed server login is retried after 15 s by default: too long for a test.
            "server_login_retry": 1,
            # A test that exhausts the pool should fail, not hang for the default 120 s.
            "query_wait_timeout": 30,
            "logfile": str(self.log_file),
            "pidfile": str(self.root / "pgbouncer.pid"),
        }
        if self.cluster.ca is not None:
            settings["server_tls_sslmode"] = "verify-full"
            settings["server_tls_ca_file"] = str(self.cluster.ca_file)
        else:
            settings["server_tls_sslmode"] = "disable"
        if self._client_pair is not None:
            settings["client_tls_sslmode"] = "require"
            settings["client_tls_cert_file"] = str(self._client_pair.cert)
            settings["client_tls_key_file"] = str(self._client_pair.key)
        else:
            settings["client_tls_sslmode"] = "disable"
        lines = ["[databases]", f"* = host={self.cluster.host} port={self.cluster.port}", ""]
        lines.append("[pgbouncer]")
        lines += [f"{name} = {_ini_value(value)}" for name, value in settings.items()]
        return "\n".join(lines) + "\n"

    def _launch(self, binary: Path) -> None:
        # Another process can take the port between our probe and pgbouncer's bind: retry.
        for attempt in range(5):
            self.port = free_port(self.host)
            self.config_file.write_text(self._config())
            self.log_file.unlink(missing_ok=True)
            self._chown_to_server_user()
            console = (self.root / "console.log").open("wb")
            with console:
                # Without -d pgbouncer stays our child, so stop() can terminate and wait for
                # it. As root it runs as postgres directly (it refuses to run as root): not via
                # runuser, whose pid would stand between us and pgbouncer's.
                self._process = subprocess.Popen(
                    [str(binary), str(self.config_file)],
                    stdin=subprocess.DEVNULL,
                    stdout=console,
                    stderr=subprocess.STDOUT,
                    cwd=self.root,
                    start_new_session=True,  # a Ctrl-C aimed at the test run is ours to handle
                    **_server_user_credentials(),
                )
            self._tell_reaper(self._process.pid)
            if self._wait_until_listening():
                return
            _terminate(self._process)
            self._process = None
            if attempt == 4 or "Address already in use" not in self._log_tail():
                raise PgBouncerError(f"pgbouncer did not start:\n{self._log_tail()}")

    def _wait_until_listening(self) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), 1):
                return True
            time.sleep(0.05)
        return False

    def _log_tail(self, lines: int = 20) -> str:
        # The console output also holds what pgbouncer says before it opens its logfile
        # (configuration errors), so it is the more complete of the two.
        for path in (self.root / "console.log", self.log_file):
            with contextlib.suppress(OSError):
                text = path.read_text(errors="replace").strip()
                if text:
                    return "\n".join(text.splitlines()[-lines:])
        return "(no pgbouncer log)"

    def _chown_to_server_user(self) -> None:
        if os.geteuid() != 0:
            return
        uid, gid = _server_user_ids()
        for path in [self.root, *self.root.rglob("*")]:
            os.chown(path, uid, gid, follow_symlinks=False)

    def _spawn_reaper(self) -> None:
        # The reaper waits for EOF on a pipe only we hold, collecting the pids we write into
        # it. However this process ends, the kernel closes the pipe and the reaper stops
        # pgbouncer and removes the directory. It runs this file as a script, so it needs no
        # particular working directory or sys.path.
        self._reaper = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "reap", str(self.root)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C aimed at the test run must not kill it
        )

    def _tell_reaper(self, pid: int) -> None:
        assert self._reaper is not None and self._reaper.stdin is not None
        self._reaper.stdin.write(f"{pid}\n".encode())
        self._reaper.stdin.flush()


def _server_user_ids() -> tuple[int, int]:
    import pwd  # Unix only, and only needed as root

    try:
        entry = pwd.getpwnam(_SERVER_USER)
    except KeyError as error:
        raise PgBouncerError("running as root needs a `postgres` system user") from error
    return entry.pw_uid, entry.pw_gid


def _server_user_credentials() -> dict[str, Any]:
    """Popen arguments that drop root to the postgres user (none when we are not root)."""
    if os.geteuid() != 0:
        return {}
    uid, gid = _server_user_ids()
    return {"user": uid, "group": gid, "extra_groups": []}


def _terminate(process: subprocess.Popen[bytes]) -> None:
    # SIGTERM is pgbouncer 1.18's immediate shutdown (SIGINT would wait for clients to leave).
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            process.wait(timeout=_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=_STOP_TIMEOUT)


def _server_secret(cluster: ThrowawayCluster) -> str:
    """The superuser's SCRAM secret exactly as the server stores it."""

    async def fetch() -> str:
        sslmode = "verify-full" if cluster.ca is not None else "disable"
        conn = await asyncpg.connect(cluster.dsn(sslmode=sslmode), timeout=10)
        try:
            secret = await conn.fetchval(
                "SELECT rolpassword FROM pg_authid WHERE rolname = $1", cluster.superuser
            )
        finally:
            await conn.close()
        if not isinstance(secret, str) or not secret.startswith("SCRAM-SHA-256$"):
            raise PgBouncerError(f"{cluster.superuser} has no SCRAM secret on the server")
        return secret

    # A thread of its own, so this works whether or not the caller runs an event loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, fetch()).result()


def _is_our_pgbouncer(pid: int, root: Path) -> bool:
    # The pid may have been reused once pgbouncer is gone: only a process whose command line
    # names our configuration file is ours to kill.
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return str(root / "pgbouncer.ini").encode() in argv


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


def _reap(root: Path) -> None:
    """Wait until our parent is gone, then stop its pgbouncer and remove its directory."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    received = b""
    while chunk := sys.stdin.buffer.read(4096):
        received += chunk
    pids = [int(line) for line in received.split() if line.isdigit()]
    if not root.exists():
        return
    for pid in pids:
        if not _is_our_pgbouncer(pid, root):
            continue
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + _STOP_TIMEOUT
        while not _gone(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not _gone(pid) and _is_our_pgbouncer(pid, root):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "reap":
    _reap(Path(sys.argv[2]))
