"""Watching processes the tests started (servers, poolers, reapers)."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path


def process_gone(pid: int, within: float = 10.0) -> bool:
    """Whether `pid` exits (or is left only as a zombie) within `within` seconds.

    A server started through pg_ctl is not our child, so nobody may reap it at once: a zombie
    counts as gone.
    """
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def kill_owner(owner: subprocess.Popen[str], within: float = 30.0) -> tuple[Path, int, bool]:
    """SIGKILL a process that printed `<directory> <child pid>`, as a crashed test run would.

    Returns:
        The directory, the child's pid, and whether the directory was removed (by the
        reaper) within `within` seconds.
    """
    assert owner.stdout is not None
    root_text, pid_text = owner.stdout.readline().split()
    root, child = Path(root_text), int(pid_text)
    assert root.exists()
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    deadline = time.monotonic() + within
    while root.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return root, child, not root.exists()
