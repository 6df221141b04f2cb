"""Driving terminal programs as a user does: a private tmux server, read through control mode.

Every tool (pgconsole, pgcli, harlequin, pg_activity, and the raw asyncpg scripts) runs in a
tmux session of its own at a fixed size, started as the tool's own process (no shell in
between, so the pane's pid is the tool's). Keys go in with `send-keys`; the screen is read with
`capture-pane -p`, polled every `POLL` seconds, until a pattern that marks the moment being
timed is on it. The same polling times every tool, so its cost and its resolution (a few ms)
are the same for all of them.

Commands go to the server through one `tmux -C` control-mode client, over its stdin: polling
spawns no process, and nothing the benchmark types (a password in `new-session -e`, say) is
ever on a command line. The server is started with the environment every pane inherits, the
password in PGPASSWORD among it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

POLL = 0.01
"""Seconds between two reads of a pane's screen while waiting for a pattern."""
TERMINAL = "tmux-256color"
"""$TERM inside the panes, as a user running tmux has it."""


class TerminalError(RuntimeError):
    """tmux failed, or a tool never showed what it was waited for."""


def quote(word: str) -> str:
    """One argument for tmux's command parser: single-quoted, taken literally."""
    if "'" in word or "\n" in word:
        raise ValueError(f"cannot pass {word!r} to tmux: it holds a quote or a newline")
    return f"'{word}'"


@dataclass(frozen=True)
class ProcStats:
    """CPU seconds and memory of one process, read from /proc."""

    cpu: float
    """User + system seconds so far."""
    rss_mb: float
    peak_mb: float
    """VmHWM: the resident set's peak."""


def proc_stats(pid: int) -> ProcStats:
    """The process's CPU time and memory now."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    rss = peak = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
        elif line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    return ProcStats(cpu, round(rss, 1), round(peak, 1))


@dataclass
class Pane:
    """One tool running in a session of its own."""

    name: str
    started: float
    """`time.perf_counter()` just before the session was asked for."""
    pid: int = 0
    seen: dict[str, float] = field(default_factory=dict)
    """Pattern name → seconds from `started` to the first screen showing it."""


class Tmux:
    """A tmux server of our own (its socket in a temporary directory) and its control client."""

    def __init__(self, env: Mapping[str, str], size: tuple[int, int] = (200, 50)) -> None:
        tmux = shutil.which("tmux")
        if tmux is None:
            raise TerminalError("tmux is not installed (apt-get install tmux)")
        self.size = size
        self.directory = Path(tempfile.mkdtemp(prefix="pgconsole-bench-tmux-"))
        self.base = [tmux, "-S", str(self.directory / "socket"), "-f", "/dev/null"]
        self.env = dict(env)
        columns, lines = size
        subprocess.run(
            [
                *self.base,
                "new-session",
                "-d",
                "-s",
                "idle",
                "-x",
                str(columns),
                "-y",
                str(lines),
                "sleep",
                "2147483647",
            ],
            env=self.env,
            check=True,
        )
        self.client = subprocess.Popen(
            [*self.base, "-C", "attach-session", "-t", "idle"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=self.env,
        )
        self._read_block("attach-session")  # the reply to the client's own command
        for option, value in (
            ("default-terminal", TERMINAL),
            ("escape-time", "0"),
            ("remain-on-exit", "on"),  # a tool that dies leaves its last screen to read
            ("history-limit", "0"),
        ):
            self.command("set-option", "-g", option, value)

    def command(self, *words: str) -> list[str]:
        """Run one tmux command through the control client; its output lines."""
        assert self.client.stdin is not None
        self.client.stdin.write((" ".join(quote(w) for w in words) + "\n").encode())
        self.client.stdin.flush()
        return self._read_block(*words)

    def _read_block(self, *words: str) -> list[str]:
        """The lines between the next `%begin` and its `%end`; other notifications skipped."""
        assert self.client.stdout is not None
        lines: list[str] = []
        inside = False
        while True:
            raw = self.client.stdout.readline()
            if not raw:
                raise TerminalError(f"the tmux control client ended during {words[0]}")
            line = raw.decode(errors="replace").rstrip("\n")
            if not inside:
                inside = line.startswith("%begin ")
                continue
            if line.startswith(("%end ", "%error ")):
                if line.startswith("%error "):
                    raise TerminalError(f"tmux {' '.join(words[:3])}: {' '.join(lines)}")
                return lines
            lines.append(line)

    def launch(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        size: tuple[int, int] | None = None,
    ) -> Pane:
        """Start `argv` in a new session `name`; the clock starts just before."""
        columns, lines = size or self.size
        extra = [w for k, v in (env or {}).items() for w in ("-e", f"{k}={v}")]
        words = ["new-session", "-d", "-s", name, "-x", str(columns), "-y", str(lines), *extra]
        started = time.perf_counter()
        self.command(*words, "--", *argv)
        pane = Pane(name, started)
        pane.pid = int(self.command("display-message", "-p", "-t", name, "#{pane_pid}")[0])
        return pane

    def screen(self, pane: Pane) -> str:
        """What the pane shows now, as text."""
        return "\n".join(self.command("capture-pane", "-p", "-t", pane.name))

    def dead(self, pane: Pane) -> bool:
        """Whether the tool has exited."""
        return self.command("display-message", "-p", "-t", pane.name, "#{pane_dead}") == ["1"]

    def wait_for(
        self,
        pane: Pane,
        patterns: Mapping[str, re.Pattern[str]],
        within: float = 60,
        since: float | None = None,
    ) -> dict[str, float]:
        """Poll the screen until every pattern has been seen; seconds from `since` (default:
        the launch) to the first screen showing each. Raises with the screen if one never is."""
        start = pane.started if since is None else since
        deadline = time.perf_counter() + within
        seen: dict[str, float] = {}
        screen = ""
        while len(seen) < len(patterns):
            screen = self.screen(pane)
            now = time.perf_counter()
            for key, pattern in patterns.items():
                if key not in seen and pattern.search(screen):
                    seen[key] = now - start
            if len(seen) == len(patterns):
                break
            if now > deadline or self.dead(pane):
                missing = ", ".join(k for k in patterns if k not in seen)
                shown = "\n".join(line.rstrip() for line in screen.splitlines() if line.strip())
                raise TerminalError(f"{pane.name}: no {missing} within {within:g} s:\n{shown}")
            time.sleep(POLL)
        pane.seen.update(seen)
        return seen

    def keys(self, pane: Pane, *keys: str, pause: float = 0.3) -> None:
        """Press keys (tmux key names: Enter, F5, C-q), with a pause after each."""
        for key in keys:
            self.command("send-keys", "-t", pane.name, key)
            time.sleep(pause)

    def type(self, pane: Pane, text: str, pause: float = 0.5) -> None:
        """Type `text` in one burst, then leave the tool `pause` seconds to settle."""
        self.command("send-keys", "-t", pane.name, "-l", text)
        time.sleep(pause)

    def press(self, pane: Pane, key: str) -> float:
        """Press one key; the time it was sent (the clock of a timed key)."""
        sent = time.perf_counter()
        self.command("send-keys", "-t", pane.name, key)
        return sent

    def close_pane(self, pane: Pane, keys: Sequence[str] = (), within: float = 10) -> None:
        """Quit the tool with `keys`, then end its session (killing it if it lingers)."""
        with contextlib.suppress(TerminalError):
            for key in keys:
                self.command("send-keys", "-t", pane.name, key)
                time.sleep(0.2)
            deadline = time.monotonic() + within
            while keys and not self.dead(pane) and time.monotonic() < deadline:
                time.sleep(0.05)
            self.command("kill-session", "-t", pane.name)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pane.pid, 0)
            os.kill(pane.pid, 9)

    def close(self) -> None:
        """Stop the server and the control client; remove the socket's directory."""
        with contextlib.suppress(TerminalError, OSError, ValueError):
            self.command("kill-server")
        with contextlib.suppress(OSError, ValueError):
            if self.client.stdin is not None:
                self.client.stdin.close()
        try:
            self.client.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.client.kill()
            self.client.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


@contextlib.contextmanager
def tmux_server(env: Mapping[str, str], size: tuple[int, int] = (200, 50)) -> Iterator[Tmux]:
    """A private tmux server for the duration of the block."""
    server = Tmux(env, size)
    try:
        yield server
    finally:
        server.close()
