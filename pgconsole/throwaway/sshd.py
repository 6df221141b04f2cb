"""A throwaway OpenSSH server: the bastion the tests and benchmarks tunnel through.

`ThrowawaySshd` runs the system's `sshd` in a fresh temporary directory, on a free loopback
port, with a configuration, an ed25519 host key and a client key pair of its own: nothing in
`/etc/ssh` is read, and only that client key may log in, as the current user. It also writes
what a client needs to trust it: a `known_hosts` file naming its host key, and an `ssh_config`
with a `bastion` entry, so `ssh -F <ssh_config> -N -L ... bastion` checks the host key strictly
and never asks anything. Leaving the `with` block stops sshd (and the sessions it serves) and
deletes the directory; a small reaper process does the same if this process dies first.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from pgconsole.throwaway.cluster import LOOPBACK, free_port

_FALLBACK_BINARY = Path("/usr/sbin/sshd")
_PRIVSEP_DIR = Path("/run/sshd")
"""Where sshd, started as root, chroots its unprivileged child; it refuses to start without it."""
_START_TIMEOUT = 15.0
_STOP_TIMEOUT = 10.0
_PENALTIES_SINCE = (9, 8)
"""OpenSSH 9.8 penalises addresses whose connections fail: the tests' own refusals would
lock 127.0.0.1 out. Older versions reject the option that turns this off."""


class SshdError(RuntimeError):
    """sshd (or ssh-keygen) is missing, or sshd could not be configured, started or stopped."""


def find_sshd() -> Path | None:
    """The sshd program: the one on PATH, else Debian's `/usr/sbin/sshd`, else None.

    `/usr/sbin` is not on an ordinary user's PATH, which is where Debian installs it.
    """
    if found := shutil.which("sshd"):
        return Path(found).resolve()  # sshd re-executes itself: it needs an absolute path
    if _FALLBACK_BINARY.is_file() and os.access(_FALLBACK_BINARY, os.X_OK):
        return _FALLBACK_BINARY
    return None


def _config_value(value: str | int | Path) -> str:
    # sshd_config and ssh_config split arguments at blanks unless double-quoted, and a quote
    # or newline inside a value cannot be written at all.
    text = str(value)
    if any(c in text for c in '"\n\r'):
        raise SshdError(f"cannot write {text!r} into an ssh configuration file")
    return f'"{text}"' if (" " in text or "\t" in text) else text


def _config_lines(settings: dict[str, str | int | Path]) -> str:
    return "\n".join(f"{key} {_config_value(value)}" for key, value in settings.items()) + "\n"


def _write_private(path: Path, text: str) -> None:
    # Created 0600 from the start: ssh refuses a config file others could write.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


class ThrowawaySshd:
    """sshd in a temporary directory, listening on 127.0.0.1 only.

    ```python
    with ThrowawaySshd() as bastion:
        argv = [*shlex.split(bastion.ssh_command), "-N", "-L", f"{local}:localhost:{pg}", "bastion"]
    ```
    """

    def __init__(self) -> None:
        """Prepare (but do not start) an sshd that lets the current user in by key."""
        self.host = LOOPBACK
        self.port = 0
        self.user = getpass.getuser()
        self._root: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._reaper: subprocess.Popen[bytes] | None = None

    # -- paths -----------------------------------------------------------------------------

    @property
    def root(self) -> Path:
        """The temporary directory holding sshd's configuration, keys and log."""
        if self._root is None:
            raise SshdError("sshd has not been started")
        return self._root

    @property
    def config_file(self) -> Path:
        """sshd's own sshd_config."""
        return self.root / "sshd_config"

    @property
    def host_key(self) -> Path:
        """sshd's ed25519 host key (the public half is `host_key` + `.pub`)."""
        return self.root / "ssh_host_ed25519_key"

    @property
    def client_key(self) -> Path:
        """The private key (ed25519, no passphrase) that may log in."""
        return self.root / "client_ed25519"

    @property
    def known_hosts(self) -> Path:
        """A known_hosts file with one line, `[127.0.0.1]:<port> <host key>`."""
        return self.root / "known_hosts"

    @property
    def ssh_config(self) -> Path:
        """A client configuration: Host `bastion` (and `127.0.0.1`) with strict host key
        checking against `known_hosts`, `client_key` only, no agent, never a prompt."""
        return self.root / "ssh_config"

    @property
    def ssh_command(self) -> str:
        """`ssh -F <ssh_config>`: what a user puts in a setting like GIT_SSH_COMMAND."""
        return f"ssh -F {shlex.quote(str(self.ssh_config))}"

    @property
    def log_file(self) -> Path:
        """sshd's log (its stderr: `-e`)."""
        return self.root / "sshd.log"

    @property
    def pid(self) -> int:
        """The process id of the listening sshd."""
        if self._process is None:
            raise SshdError("sshd is not running")
        return self._process.pid

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
        """Make the keys and configuration and start sshd; return once it greets clients.

        Raises:
            SshdError: sshd or ssh-keygen is missing, or sshd did not start within 15 s.
        """
        if self._root is not None:
            raise SshdError("sshd is already running")
        binary = find_sshd()
        if binary is None:
            raise SshdError("sshd is not installed (Debian: apt-get install openssh-server)")
        # mkdtemp makes the directory 0700: the private keys inside it stay ours.
        self._root = Path(tempfile.mkdtemp(prefix="pgconsole-sshd-"))
        try:
            self._spawn_reaper()
            self._make_keys()
            if os.geteuid() == 0:
                _PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
            self._launch(binary)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop sshd and every session it serves, and delete its directory."""
        if self._process is not None:
            _stop_tree(self._process.pid, self._process)
            self._process = None
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None
        if self._reaper is not None:
            # With sshd gone and the directory removed, EOF leaves the reaper nothing to do.
            if self._reaper.stdin is not None:
                self._reaper.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._reaper.wait(timeout=5)
            self._reaper = None

    # -- internals -------------------------------------------------------------------------

    def _make_keys(self) -> None:
        keygen = shutil.which("ssh-keygen")
        if keygen is None:
            raise SshdError("ssh-keygen is not installed (Debian: apt-get install openssh-client)")
        for path, comment in ((self.host_key, "host"), (self.client_key, "client")):
            argv = [keygen, "-q", "-t", "ed25519", "-N", "", "-C", f"pgconsole-throwaway-{comment}"]
            result = subprocess.run(
                [*argv, "-f", str(path)],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            if result.returncode != 0:
                raise SshdError(f"ssh-keygen failed: {(result.stderr or result.stdout).strip()}")
        authorized = self.client_key.with_suffix(".pub").read_text()
        _write_private(self.root / "authorized_keys", authorized)

    def _sshd_config(self, binary: Path) -> str:
        settings: dict[str, str | int | Path] = {
            "ListenAddress": f"{self.host}:{self.port}",
            "HostKey": self.host_key,
            "PidFile": self.root / "sshd.pid",
            "AuthorizedKeysFile": self.root / "authorized_keys",
            "AllowUsers": self.user,
            "AuthenticationMethods": "publickey",
            "PubkeyAuthentication": "yes",
            "PasswordAuthentication": "no",
            "KbdInteractiveAuthentication": "no",
            "HostbasedAuthentication": "no",
            # Tests run as root too; a key is the only way in either way.
            "PermitRootLogin": "prohibit-password",
            # The temporary directory is not laid out as a home's .ssh would be.
            "StrictModes": "no",
            "UsePAM": "no",
            "AllowTcpForwarding": "yes",
            "AllowAgentForwarding": "no",
            "X11Forwarding": "no",
            "PermitTunnel": "no",
            "PrintMotd": "no",
            "PrintLastLog": "no",
            "UseDNS": "no",
            # Tests may open many tunnels at once; the default starts refusing at 10.
            "MaxStartups": 100,
            "LogLevel": "VERBOSE",
        }
        if _openssh_version(binary) >= _PENALTIES_SINCE:
            settings["PerSourcePenalties"] = "no"
        return "# pgconsole throwaway sshd\n" + _config_lines(settings)

    def _ssh_config(self) -> str:
        settings: dict[str, str | int | Path] = {
            "HostName": self.host,
            "Port": self.port,
            "User": self.user,
            "IdentityFile": self.client_key,
            "IdentitiesOnly": "yes",
            "IdentityAgent": "none",
            "AddKeysToAgent": "no",
            "ForwardAgent": "no",
            "PreferredAuthentications": "publickey",
            "UserKnownHostsFile": self.known_hosts,
            "GlobalKnownHostsFile": "/dev/null",
            "StrictHostKeyChecking": "yes",
            "UpdateHostKeys": "no",
            "BatchMode": "yes",
            "ControlMaster": "no",
            "ControlPath": "none",
            "ConnectTimeout": 10,
        }
        entry = _config_lines(settings).replace("\n", "\n    ").rstrip() + "\n"
        return f"# pgconsole throwaway sshd\nHost bastion {self.host}\n    {entry}"

    def _write_config(self, binary: Path) -> None:
        _write_private(self.config_file, self._sshd_config(binary))
        _write_private(self.ssh_config, self._ssh_config())
        algorithm, key = self.host_key.with_suffix(".pub").read_text().split()[:2]
        _write_private(self.known_hosts, f"[{self.host}]:{self.port} {algorithm} {key}\n")

    def _launch(self, binary: Path) -> None:
        # Another process can take the port between our probe and sshd's bind: retry.
        for attempt in range(5):
            self.port = free_port(self.host)
            self._write_config(binary)
            with self.log_file.open("wb") as log:
                self._process = subprocess.Popen(
                    [str(binary), "-D", "-e", "-f", str(self.config_file)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.root,
                    start_new_session=True,  # a Ctrl-C aimed at the test run is ours to handle
                )
            self._tell_reaper(self._process.pid)
            if self._wait_until_greeting():
                return
            _stop_tree(self._process.pid, self._process)
            self._process = None
            if attempt == 4 or "Address already in use" not in self._log_tail():
                raise SshdError(f"sshd did not start:\n{self._log_tail()}")

    def _wait_until_greeting(self) -> bool:
        """Whether sshd answers with its SSH banner (not merely something on its port)."""
        assert self._process is not None
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.host, self.port), 1) as probe,
            ):
                if probe.recv(8).startswith(b"SSH-"):
                    return True
            time.sleep(0.02)
        return False

    def _log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            text = self.log_file.read_text(errors="replace").strip()
            if text:
                return "\n".join(text.splitlines()[-lines:])
        return "(no sshd log)"

    def _spawn_reaper(self) -> None:
        # The reaper waits for EOF on a pipe only we hold, collecting the pids we write into
        # it. However this process ends, the kernel closes the pipe and the reaper stops sshd
        # with its sessions and removes the directory.
        self._reaper = subprocess.Popen(
            [sys.executable, "-m", "pgconsole.throwaway.sshd", "reap", str(self.root)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C aimed at the test run must not kill it
        )

    def _tell_reaper(self, pid: int) -> None:
        assert self._reaper is not None and self._reaper.stdin is not None
        self._reaper.stdin.write(f"{pid}\n".encode())
        self._reaper.stdin.flush()


def _openssh_version(binary: Path) -> tuple[int, int]:
    """OpenSSH's (major, minor) version, from `sshd -V` (a version without that option
    names itself in the usage message it prints instead)."""
    result = subprocess.run(
        [str(binary), "-V"], capture_output=True, text=True, timeout=10, check=False
    )
    match = re.search(r"OpenSSH_(\d+)\.(\d+)", result.stderr + result.stdout)
    if match is None:
        raise SshdError(f"cannot tell the version of {binary}: {result.stderr.strip()}")
    return int(match[1]), int(match[2])


def _parents() -> dict[int, int]:
    """Every live process's parent, from /proc; zombies, only waiting to be reaped, left out."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            state, parent = stat.read_text().rsplit(")", 1)[1].split()[:2]
            if state not in ("Z", "X"):
                parents[int(stat.parent.name)] = int(parent)
    return parents


def _descendants(pid: int, parents: dict[int, int]) -> list[int]:
    # sshd serves each connection in a child that calls setsid(): neither a process group
    # nor the listener's death ends it, so the sessions are found by their parents.
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        children = [child for child, its_parent in parents.items() if its_parent == parent]
        found += children
        pending += children
    return found


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


def _signal(pids: list[int], signum: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def _wait_gone(pids: list[int], deadline: float) -> None:
    while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.02)


def _end_sessions(listener: int, deadline: float) -> None:
    """SIGTERM the processes under `listener`, innermost first, until none is left.

    Each then exits under a living parent that reaps it: a process orphaned by its parent's
    death is left to init, which in a container may never reap it (a zombie per session).
    """
    while time.monotonic() < deadline:
        parents = _parents()
        tree = _descendants(listener, parents)
        if not tree:
            return
        innermost = [pid for pid in tree if pid not in parents.values()]
        _signal(innermost, signal.SIGTERM)
        _wait_gone(innermost, deadline)


def _stop_tree(pid: int, process: subprocess.Popen[bytes] | None = None) -> None:
    """Stop the sessions, then the listening sshd; SIGKILL whatever is left after 10 s."""
    deadline = time.monotonic() + _STOP_TIMEOUT
    _end_sessions(pid, deadline)
    _signal(_descendants(pid, _parents()), signal.SIGKILL)
    _signal([pid], signal.SIGTERM)
    _wait_gone([pid], time.monotonic() + _STOP_TIMEOUT)
    if not _gone(pid):
        _signal([pid], signal.SIGKILL)
    if process is not None:
        process.wait(timeout=_STOP_TIMEOUT)


def _is_our_sshd(pid: int, root: Path) -> bool:
    # The pid may have been reused once sshd is gone: only a process whose command line
    # names our configuration file is ours to kill. sshd rewrites its command line into one
    # title ("sshd: /usr/sbin/sshd -D -e -f <config> [listener] ..."), so it is searched.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return str(root / "sshd_config").encode() in cmdline


def _reap(root: Path) -> None:
    """Wait until our parent is gone, then stop its sshd and remove its directory."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    received = b""
    while chunk := sys.stdin.buffer.read(4096):
        received += chunk
    if not root.exists():
        return
    for pid in (int(line) for line in received.split() if line.isdigit()):
        if _is_our_sshd(pid, root):
            _stop_tree(pid)
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "reap":
    _reap(Path(sys.argv[2]))
