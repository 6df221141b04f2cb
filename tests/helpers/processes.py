"""Watching processes the tests started (servers, poolers, reapers)."""

from __future__ import annotations

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
