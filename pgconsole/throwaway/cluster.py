"""A throwaway PostgreSQL server: the test suite's database and the demo's.

`ThrowawayCluster` finds the system's server binaries, runs `initdb` in a fresh temporary
directory (as the `postgres` user when we are root: initdb refuses to run as root), makes its
own CA and a server certificate for localhost, and starts the server on a free loopback port
with `ssl = on` and SCRAM password authentication. Leaving the `with` block stops the server
and deletes the directory. A small reaper process does the same if this process dies first
(a crashed or killed test run), so no server outlives the run that started it.

The superuser's password lives only in this process's memory: `initdb` is given a SCRAM
verifier, from which the password cannot be recovered.

`ThrowawayStandby` is a streaming standby of a running cluster, made with `pg_basebackup`
through a physical replication slot. Its walreceiver must log in to the primary on its own, so
the password is written once, to a passfile (mode 0600, in the standby's own 0700 directory).
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

from pgconsole.throwaway.certs import LOOPBACK_NAMES, CertificateAuthority, KeyPair

LOOPBACK = "127.0.0.1"
_SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
_STANDBY_PROGRAMS = ("pg_basebackup", "psql")
_SLOT_NAME = re.compile(r"[a-z0-9_]{1,63}")
"""What the server accepts as a replication slot's name."""
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
        server_names: tuple[str, ...] | None = None,
    ) -> None:
        """Prepare (but do not start) a cluster.

        Args:
            superuser: Name of the bootstrap superuser.
            ssl: Whether the server starts with `ssl = on`.
            settings: Extra postgresql.conf settings.
            bindir: Server programs to use; found with `find_bindir()` when omitted.
            server_names: subjectAltName entries of the server's certificate, such as
                `("DNS:localhost",)`; `LOOPBACK_NAMES` (localhost, 127.0.0.1, ::1) when omitted.
        """
        self.superuser = superuser
        self.password = secrets.token_urlsafe(24)
        self.host = LOOPBACK
        self.port = 0
        self.ssl = ssl
        self._settings = {**_FAST_SETTINGS, **(settings or {})}
        self._bindir = bindir
        self.server_names = LOOPBACK_NAMES if server_names is None else server_names
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
        self._bindir = self._bindir or find_bindir()
        self._root = Path(tempfile.mkdtemp(prefix="pgconsole-pg-"))
        try:
            self._spawn_reaper()
            self._create()
            self._chown_to_server_user()
            self._start_server()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete the cluster's directory."""
        if self._root is None:
            return
        self._stop_server()
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

    def _run(
        self, argv: list[str], what: str, timeout: float = 120, stdin_text: str | None = None
    ) -> str:
        try:
            result = subprocess.run(
                self._as_server_user(argv),
                stdin=subprocess.DEVNULL if stdin_text is None else None,
                input=stdin_text,
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

    def _stop_server(self) -> None:
        if (self.datadir / "postmaster.pid").exists():
            with contextlib.suppress(ClusterError):
                self._pg_ctl("stop", "-m", "fast", "-w", "-t", "30")

    def _create(self) -> None:
        """Make the data directory and its configuration, ready to start."""
        self._initdb()
        self._write_config()

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

    def _write_config(self, extra: Mapping[str, str] | None = None) -> None:
        """Append our settings to postgresql.conf: later lines win over earlier ones."""
        settings = {**self._settings, **(extra or {})}
        settings["listen_addresses"] = self.host
        settings["unix_socket_directories"] = str(self.socket_dir)
        if self.ssl:
            self.ca = self._certificate_authority()
            self.server_pair = self.ca.issue(self.root / "tls", alt_names=self.server_names)
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

    def _certificate_authority(self) -> CertificateAuthority:
        """The CA that signs the server's certificate: a new one, the cluster's own."""
        return CertificateAuthority.create(self.root / "tls")

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


_STREAMING = """
SELECT r.state FROM pg_replication_slots AS s JOIN pg_stat_replication AS r ON r.pid = s.active_pid
WHERE s.slot_name = :'slot'
"""
"""The state of the walsender streaming through the slot (psql; `slot` is a psql variable)."""

_STREAMING_WITHOUT_SLOT = """
SELECT r.state FROM pg_stat_replication AS r WHERE r.application_name = :'slot'
"""
"""The state of the walsender of a standby not streaming through its slot: by the
application_name it connects with, the slot's name."""

_DROP_SLOT = """
SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
WHERE slot_name = :'slot' AND NOT active;
SELECT count(*) FROM pg_replication_slots WHERE slot_name = :'slot';
"""
"""Drop the slot once its walsender is gone; prints how many slots of that name are left."""


class ThrowawayStandby(ThrowawayCluster):
    """A streaming standby of a running `ThrowawayCluster`, removed when the block ends.

    ```python
    with ThrowawayCluster(settings={"wal_level": "replica"}) as primary:
        with ThrowawayStandby(primary) as standby:
            dsn = standby.dsn()  # read-only, verify-full against the primary's CA
    ```

    `pg_basebackup` copies the primary through a physical slot it creates there, and the
    standby then streams through that slot: the primary keeps the WAL the standby has not
    received, and with `hot_standby_feedback` the slot's xmin holds the primary's vacuum
    horizon for the standby's queries. The standby logs in as the primary's superuser, over
    TLS verified against the primary's CA, with SCRAM: initdb's pg_hba.conf already allows
    `host replication all 127.0.0.1/32`. It gets a server certificate of its own from the
    same CA, so the primary's `dsn()` options verify it too.

    Starting returns once the primary's walsender streams to it. Stopping drops the slot,
    which would otherwise keep WAL on the primary for ever. A lagging standby is SQL on the
    standby: `SELECT pg_wal_replay_pause()`, then `pg_wal_replay_resume()`.
    """

    def __init__(
        self,
        primary: ThrowawayCluster,
        *,
        slot: str = "pgconsole_standby",
        hot_standby_feedback: bool = True,
        stream_through_slot: bool = True,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        """Prepare (but do not start) a standby of `primary`.

        Args:
            primary: A started cluster with `wal_level` replica or logical.
            slot: The physical slot made on the primary; also the standby's
                application_name there (pg_stat_replication).
            hot_standby_feedback: Whether the standby reports its oldest snapshot, which
                then holds back the primary's horizon.
            stream_through_slot: Whether the standby streams through the slot. Without it
                no slot is made (`slot` names only its application_name), and the
                standby's feedback is held by its walsender (pg_stat_replication's
                backend_xmin).
            settings: Extra postgresql.conf settings, over those copied from the primary.

        Raises:
            ClusterError: `slot` is not a name the server accepts for a slot.
        """
        if not _SLOT_NAME.fullmatch(slot):
            raise ClusterError(f"not a slot name (a-z, 0-9 and _, up to 63): {slot!r}")
        super().__init__(superuser=primary.superuser, ssl=primary.ssl)
        self.primary = primary
        self.slot = slot
        self.stream_through_slot = stream_through_slot
        self.password = primary.password
        # The copy of the primary's postgresql.conf brings its settings; the fast ones again
        # could set one lower than the standby needs (max_connections as high as the primary's).
        self._settings = {
            "hot_standby": "on",
            "hot_standby_feedback": "on" if hot_standby_feedback else "off",
            **(settings or {}),
        }

    @property
    def passfile(self) -> Path:
        """The password file (0600) with which the standby logs in to the primary."""
        return self.root / "primary.pgpass"

    def start(self) -> None:
        """Copy the primary, start the standby and wait until it streams.

        Raises:
            ClusterError: The primary is not running, programs are missing, or the copy, the
                server or the streaming failed.
        """
        if self.primary._root is None or self.primary._bindir is None:
            raise ClusterError("a standby needs its primary running: start the primary first")
        self._bindir = self.primary._bindir
        missing = [p for p in _STANDBY_PROGRAMS if not (self._bindir / p).is_file()]
        if missing:
            raise ClusterError(f"a standby needs {', '.join(missing)} in {self._bindir}")
        super().start()
        try:
            self._wait_until_streaming()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the standby, drop its slot on the primary and delete its directory."""
        if self._root is not None:
            self._stop_server()
            self._drop_slot()
        super().stop()

    def _create(self) -> None:
        """Copy the primary through a new slot, and make the copy its standby."""
        assert self._bindir is not None
        self.socket_dir.mkdir(mode=0o700)
        self._write_passfile()
        self._chown_to_server_user()  # pg_basebackup writes the copy as the server's user
        # Without the slot, the copy streams its WAL through a temporary one of its own: no
        # slot is left behind to keep WAL that no standby reads.
        through = ["--create-slot", "--slot", self.slot] if self.stream_through_slot else []
        self._run(
            [
                str(self._bindir / "pg_basebackup"),
                "--pgdata", str(self.datadir),
                "--dbname", self._primary_conninfo(),
                "--wal-method", "stream",
                *through,
                "--checkpoint", "fast",  # not a spread checkpoint: minutes on an idle primary
                "--no-sync", "--no-manifest", "--no-password",
            ],
            "pg_basebackup",
        )  # fmt: skip
        (self.datadir / "standby.signal").touch()
        config = {"primary_conninfo": self._primary_conninfo()}
        if self.stream_through_slot:
            config["primary_slot_name"] = self.slot
        self._write_config(config)

    def _certificate_authority(self) -> CertificateAuthority:
        """The primary's CA: whoever trusts the primary trusts its standby."""
        if self.primary.ca is None:
            raise ClusterError("the primary has no CA (started with ssl=False?)")
        return self.primary.ca

    def _write_passfile(self) -> None:
        # Created 0600 from the start: libpq ignores a passfile others may read, and the
        # password must never be readable by anyone else, even for a moment.
        fields = (self.primary.host, str(self.primary.port), "*", self.superuser, self.password)
        line = ":".join(f.replace("\\", "\\\\").replace(":", "\\:") for f in fields)
        fd = os.open(self.passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(line + "\n")

    def _primary_conninfo(self, **extra: str) -> str:
        """A libpq connection string for the primary: password from the passfile."""
        params = {
            "host": self.primary.host,
            "port": str(self.primary.port),
            "user": self.superuser,
            "passfile": str(self.passfile),
            "application_name": self.slot,
            "sslmode": "verify-full" if self.ssl else "disable",
            **extra,
        }
        if self.ssl:
            params["sslrootcert"] = str(self.primary.ca_file)
        return " ".join(f"{key}={_conninfo_quote(value)}" for key, value in params.items())

    def _primary_sql(self, sql: str) -> str:
        """Run `sql` on the primary with psql; its unaligned output, without headers."""
        assert self._bindir is not None
        return self._run(
            [
                str(self._bindir / "psql"),
                "--no-psqlrc", "--quiet", "--no-align", "--tuples-only", "--no-password",
                "--set", "ON_ERROR_STOP=1", "--set", f"slot={self.slot}",
                "--dbname", self._primary_conninfo(dbname="postgres"),
            ],
            "psql",
            timeout=30,
            stdin_text=sql,
        ).strip()  # fmt: skip

    def _wait_until_streaming(self, within: float = 60.0) -> None:
        deadline = time.monotonic() + within
        streaming = _STREAMING if self.stream_through_slot else _STREAMING_WITHOUT_SLOT
        while self._primary_sql(streaming) != "streaming":
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"the standby did not stream within {within:.0f} s:\n{self._log_tail()}"
                )
            time.sleep(0.1)

    def _drop_slot(self, within: float = 30.0) -> None:
        if self.primary._root is None:
            return  # gone with its primary
        # The primary's walsender leaves a moment after the standby stopped; till then the
        # slot is active and cannot be dropped.
        deadline = time.monotonic() + within
        with contextlib.suppress(ClusterError):
            while self._primary_sql(_DROP_SLOT).splitlines()[-1:] != ["0"]:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.1)


def _conninfo_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


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
