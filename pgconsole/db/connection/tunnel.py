"""SSH tunnels through a bastion, with the system's own `ssh`.

pgconsole starts `ssh -N -L 127.0.0.1:<free port>:<db host>:<db port> [user@]bastion` and
connects to the local end, so the user's `~/.ssh/config`, agent, ProxyJump and known_hosts
apply unchanged, and nothing new is installed. The connection still names the database's
**real** host everywhere else: TLS checks the certificate against it (see
`tls.real_server_name`), and `.pgpass`, the keyring and the status bar use it.

The ssh process runs with `BatchMode=yes` (no prompt can reach a full-screen app: keys come
from the agent or an unencrypted key file), `ExitOnForwardFailure=yes` (a forward that cannot
be set up ends ssh with its reason rather than leaving a dead port) and `ServerAliveInterval`
(a bastion that vanishes is noticed within `alive_interval * 3` seconds). It is ended on
close, by its pid, and only if it is still our child.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import os
import shlex
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

LOCAL = "127.0.0.1"
ALIVE_INTERVAL = 15
"""Seconds between ssh's keepalive probes (`ServerAliveInterval`); three unanswered end it."""
READY_POLL = (0.005, 0.02)
"""First and longest pause between checks of the local port while ssh sets it up."""
_STDERR_LINES = 20
_PR_SET_PDEATHSIG = 1


class TunnelError(ConnectionError):
    """The tunnel could not be opened, or ended; the message holds ssh's own reason."""


class TunnelState(StrEnum):
    """Where a tunnel is in its life."""

    CLOSED = "closed"
    OPENING = "opening"
    OPEN = "open"
    LOST = "lost"
    """ssh ended without being asked to: reopened by the next connection attempt."""


@dataclass(frozen=True)
class Bastion:
    """`[user@]host[:port]`, as given to `--ssh` or a profile's `ssh`."""

    host: str
    user: str | None = None
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> Bastion:
        """Read `[user@]host[:port]`; an IPv6 address goes in brackets (`[::1]:2222`).

        Raises:
            ValueError: An empty host or a port that is not a number from 1 to 65535.
        """
        user, _, rest = text.strip().rpartition("@")
        host, port_text = rest, ""
        if rest.startswith("["):
            host, _, after = rest[1:].partition("]")
            port_text = after.removeprefix(":")
        elif rest.count(":") == 1:
            host, port_text = rest.split(":")
        if not host:
            raise ValueError(f"no host in ssh bastion {text!r} (expected [user@]host[:port])")
        port = None
        if port_text:
            if not port_text.isdigit() or not 0 < int(port_text) < 65536:
                raise ValueError(f"bad port in ssh bastion {text!r}")
            port = int(port_text)
        return cls(host, user or None, port)

    def destination(self) -> str:
        """What ssh is given: `user@host`, or `host` (ssh's config supplies the user)."""
        return f"{self.user}@{self.host}" if self.user else self.host

    def __str__(self) -> str:
        host = _bracketed(self.host) if self.port else self.host
        text = f"{self.user}@{host}" if self.user else host
        return f"{text}:{self.port}" if self.port else text


def free_local_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on now (ssh may still lose it in a race: then
    ExitOnForwardFailure ends ssh and `Tunnel.open` tries another)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOCAL, 0))
        port: int = probe.getsockname()[1]
        return port


class Tunnel:
    """One ssh process forwarding a local port to each of a database's endpoints.

    Opened by the first connection that needs it (`local()`), reopened by the first one after
    it was lost, ended by `close()` (and at the latest when the interpreter exits).
    """

    def __init__(
        self,
        bastion: Bastion,
        endpoints: tuple[tuple[str, int], ...],
        *,
        command: str = "ssh",
        ready_timeout: float | None = 10.0,
        alive_interval: int = ALIVE_INTERVAL,
        on_lost: Callable[[str], None] | None = None,
    ) -> None:
        """Prepare a tunnel; nothing starts until a connection asks for it.

        Args:
            bastion: Where ssh logs in.
            endpoints: The database's (host, port) pairs, as seen from the bastion. Unix
                socket directories cannot be forwarded this way and are refused.
            command: The ssh program and any options of the user's, split like a shell would
                (`ssh -F ~/.ssh/work_config`); pgconsole's options come after them.
            ready_timeout: Longest wait for ssh to log in and listen (None: no limit).
            alive_interval: ssh's `ServerAliveInterval`.
            on_lost: Told (with ssh's last words) when ssh ends without being asked to.

        Raises:
            ValueError: A Unix socket endpoint, or an empty command.
        """
        sockets = [host for host, _ in endpoints if host.startswith("/")]
        if sockets:
            raise ValueError(
                f"an ssh tunnel forwards TCP: host {sockets[0]} is a Unix socket directory"
                " (name the database's host as the bastion sees it, e.g. localhost)"
            )
        self.program = shlex.split(command)
        if not self.program:
            raise ValueError("ssh_command is empty")
        self.bastion = bastion
        self.endpoints = endpoints
        self.ready_timeout = ready_timeout
        self.alive_interval = alive_interval
        self.on_lost = on_lost
        self.state = TunnelState.CLOSED
        self.reason: str | None = None
        """Why the tunnel is not open: ssh's last line when it ended or failed to start."""
        self.opened = 0
        """How many times ssh was started and its forwards came up."""
        self._ports: dict[tuple[str, int], int] = {}
        self._process: asyncio.subprocess.Process | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=_STDERR_LINES)
        self._watch: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._refusals: asyncio.Queue[str] = asyncio.Queue()
        atexit.register(self.end_now)

    @property
    def pid(self) -> int | None:
        """The ssh process's pid while it runs."""
        process = self._process
        return process.pid if process is not None and process.returncode is None else None

    async def local(self, host: str, port: int) -> tuple[str, int]:
        """The local address that reaches `host:port`, opening the tunnel if it is not open.

        Raises:
            TunnelError: ssh could not log in or set up the forward (its reason), or did not
                within `ready_timeout`.
        """
        async with self._lock:
            if self.pid is None and self.state is TunnelState.OPEN:
                self._lost()  # ssh ended, and this came before its watch could say so
            if self.pid is None or self.state is not TunnelState.OPEN:
                await self._open()
        return LOCAL, self._ports[(host, port)]

    async def _open(self) -> None:
        await self._end()
        self.state = TunnelState.OPENING
        try:
            async with asyncio.timeout(self.ready_timeout):
                for attempt in range(3):
                    if await self._start_and_wait():
                        break
                    if attempt == 2 or not self._port_was_taken():
                        raise TunnelError(self._failure())
        except TimeoutError:
            await self._end()
            self.state, self.reason = TunnelState.LOST, self._slow()
            raise TunnelError(self.reason) from None
        except BaseException as error:
            await self._end()
            self.state = TunnelState.LOST
            if isinstance(error, TunnelError):
                self.reason = str(error)
            raise
        self.state, self.reason = TunnelState.OPEN, None
        self.opened += 1
        process = self._process
        assert process is not None
        self._watch = asyncio.create_task(self._watch_process(process), name="ssh tunnel watch")

    def _slow(self) -> str:
        said = f": {self._stderr[-1]}" if self._stderr else ""
        limit = f"{self.ready_timeout:g} s"
        return f"ssh to {self.bastion} did not set up the tunnel within {limit}{said}"

    def _port_was_taken(self) -> bool:
        return any("Address already in use" in line for line in self._stderr)

    def _failure(self) -> str:
        last = next((line for line in reversed(self._stderr) if line.strip()), None)
        code = self._process.returncode if self._process is not None else None
        ended = f"killed by signal {-code}" if code is not None and code < 0 else f"status {code}"
        said = last or f"ssh ended ({ended})"
        return f"ssh to {self.bastion} failed: {said}"

    def argv(self) -> list[str]:
        """The full ssh command line (no secret is ever on it)."""
        forwards = [
            arg
            for (host, port), local in self._ports.items()
            for arg in ("-L", f"{LOCAL}:{local}:{_bracketed(host)}:{port}")
        ]
        options = [
            "-N",
            "-o", "BatchMode=yes",
            "-o", "ExitOnForwardFailure=yes",
            "-o", f"ServerAliveInterval={self.alive_interval}",
            "-o", "ServerAliveCountMax=3",
        ]  # fmt: skip
        if self.bastion.port is not None:
            options += ["-p", str(self.bastion.port)]
        return [*self.program, *options, *forwards, "--", self.bastion.destination()]

    async def resolved(self) -> dict[str, str]:
        """What ssh's configuration makes of the bastion (`ssh -G`: host name, port, user,
        ProxyJump...), without connecting.

        Raises:
            TunnelError: ssh is missing or refuses the options.
        """
        port = ["-p", str(self.bastion.port)] if self.bastion.port is not None else []
        try:
            process = await asyncio.create_subprocess_exec(
                *self.program, "-G", *port, "--", self.bastion.destination(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
        except OSError as error:
            raise TunnelError(f"cannot start {self.program[0]}: {error.strerror}") from None
        out, err = await process.communicate()
        if process.returncode != 0:
            said = err.decode(errors="replace").strip().splitlines()
            raise TunnelError(f"ssh -G {self.bastion}: {said[-1] if said else 'failed'}")
        lines = out.decode(errors="replace").splitlines()
        return dict(line.partition(" ")[::2] for line in lines if " " in line)

    async def _start_and_wait(self) -> bool:
        """Start ssh and wait until every local port accepts; False if ssh ended first."""
        self._ports = {endpoint: free_local_port() for endpoint in self.endpoints}
        self._stderr.clear()
        try:
            process = await asyncio.create_subprocess_exec(
                *self.argv(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,  # a Ctrl+C in the terminal is pgconsole's to handle
                preexec_fn=end_with_parent(),
            )
        except OSError as error:
            raise TunnelError(f"cannot start {self.program[0]}: {error.strerror}") from None
        self._process = process
        reader = asyncio.create_task(self._read_stderr(process), name="ssh tunnel stderr")
        pause = READY_POLL[0]
        try:
            for local in self._ports.values():
                while not await accepts(local):
                    if process.returncode is not None:
                        await reader
                        return False
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(process.wait()), pause)
                    pause = min(pause * 2, READY_POLL[1])
        except BaseException:
            reader.cancel()
            raise
        return True

    async def _read_stderr(self, process: asyncio.subprocess.Process) -> None:
        assert process.stderr is not None
        async for raw in process.stderr:
            line = raw.decode(errors="replace").rstrip()
            self._stderr.append(line)
            if "open failed" in line:  # "channel 2: open failed: connect failed: ..."
                self._refusals.put_nowait(line)

    async def refusal(self, within: float = 1.0) -> str | None:
        """After a connection through the tunnel broke off: ssh's words if the bastion could
        not reach the database (they may come just after the break), else None."""
        while self._refusals.qsize() > 1:
            self._refusals.get_nowait()
        try:
            async with asyncio.timeout(within):
                line = await self._refusals.get()
        except TimeoutError:
            return None
        return line.partition("open failed: ")[2] or line

    async def _watch_process(self, process: asyncio.subprocess.Process) -> None:
        await process.wait()
        if self._process is process and self.state is TunnelState.OPEN:  # not ended by us
            self._lost()

    def _lost(self) -> None:
        self.state, self.reason = TunnelState.LOST, self._failure()
        if self.on_lost is not None:
            self.on_lost(self.reason)

    async def close(self) -> None:
        """End ssh (by pid, if it is still our running child) and stop watching it."""
        async with self._lock:
            await self._end()
            self.state = TunnelState.CLOSED

    async def _end(self) -> None:
        process, self._process = self._process, None
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.cancel()
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 3.0)
        except TimeoutError:
            process.kill()
            await process.wait()

    def end_now(self) -> None:
        """At interpreter exit: end ssh if it is still our running child (no event loop is
        needed; a pid that is no longer our child is never signalled)."""
        process = self._process
        if process is None or process.returncode is not None:
            return
        try:
            done, _ = os.waitpid(process.pid, os.WNOHANG)
        except ChildProcessError:
            return  # reaped already: the pid may be someone else's by now
        if done == 0:
            os.kill(process.pid, signal.SIGTERM)


def end_with_parent() -> Callable[[], None] | None:
    """What the ssh child runs before it starts, on Linux: ask the kernel to send it SIGTERM
    when pgconsole ends, however it ends (a closed terminal's SIGHUP or a SIGKILL leave no
    time for `close()` or atexit). Elsewhere None: `close()` and atexit remain."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork
    parent = os.getpid()

    def arm() -> None:  # in the child: only a system call, nothing that takes a lock
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # pgconsole ended before the line above
            os._exit(1)

    return arm


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


async def accepts(port: int) -> bool:
    """Whether something listens on 127.0.0.1:`port` (the connection is closed at once)."""
    try:
        _, writer = await asyncio.open_connection(LOCAL, port)
    except OSError:
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True
