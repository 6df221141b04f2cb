"""The activity benchmarks' load: pgbench clients in the background, and the server they need.

Shared by `benchmarks.activity` and `benchmarks.peers`; it imports nothing of the app beyond
the throwaway server, so a benchmark that drives pgconsole as a process can load it whatever
state the working tree's screens are in.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import asyncpg

from benchmarks.data import CLUSTER_SETTINGS, Target
from pgconsole.throwaway.cluster import find_bindir

LOAD_APP_NAME = "pgbench"
RAMP_SECONDS = 2.0
"""Load run after every pgbench client is connected, before the first window opens."""
PG_STAT_STATEMENTS = "/usr/lib/postgresql/15/lib/pg_stat_statements.so"


def cluster_settings(clients: int) -> dict[str, str]:
    """The browse benchmark's server settings, pg_stat_statements and room for the clients."""
    return {
        **CLUSTER_SETTINGS,
        "max_connections": str(max(120, clients + 40)),
        "shared_preload_libraries": "pg_stat_statements",
        "pg_stat_statements.track": "all",
        "pg_stat_statements.track_planning": "on",
    }


# -- the load --------------------------------------------------------------------------------


class Load:
    """`pgbench -c CLIENTS -j 2 -T DURATION -n -P 1` in the background, as the current user
    with the password in PGPASSWORD; `stop()` ends it (call it on every exit)."""

    PROGRESS = re.compile(r"^progress: ([\d.]+) s, ([\d.]+) tps", re.MULTILINE)

    def __init__(self, target: Target, password: str, clients: int, duration: int, log: Path):
        self.clients = clients
        self.duration = duration
        self.log = log
        self.started = time.monotonic()
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    str(find_bindir() / "pgbench"),
                    "-c", str(clients), "-j", "2", "-T", str(duration), "-n", "-P", "1",
                    target.dsn(),
                ],
                env={**os.environ, "PGPASSWORD": password, "PGAPPNAME": LOAD_APP_NAME},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip

    def running(self) -> bool:
        """Whether pgbench is still at work."""
        return self.process.poll() is None

    def check(self) -> None:
        """Raise if the load has stopped before the benchmark is done with it."""
        if not self.running():
            raise RuntimeError(
                f"pgbench exited early (exit {self.process.returncode}):\n{self.output()[-2000:]}"
            )

    def output(self) -> str:
        """What pgbench has printed so far."""
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGINT, then SIGTERM, then SIGKILL: pgbench is gone when this returns."""
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            if not self.running():
                return
            self.process.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)

    def tps(self, start: float, end: float) -> float | None:
        """Mean of pgbench's per-second throughput between two `time.monotonic()` instants
        (pgbench's clock starts once its clients are connected: close, not exact)."""
        values = [
            float(tps)
            for at, tps in self.PROGRESS.findall(self.output())
            if start - self.started <= float(at) <= end - self.started + 1
        ]
        return sum(values) / len(values) if values else None

    async def ready(self, admin: asyncpg.Connection, within: float = 120) -> None:
        """Until every client is connected, plus `RAMP_SECONDS`."""
        deadline = time.monotonic() + within
        while True:
            self.check()
            connected = await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE application_name = $1 AND backend_type = 'client backend'",
                LOAD_APP_NAME,
                timeout=10,
            )
            if connected >= self.clients:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {connected} of {self.clients} pgbench clients connected")
            await asyncio.sleep(0.2)
        await asyncio.sleep(RAMP_SECONDS)
