"""The launch as a user sees it: `pgconsole CONNINFO --table ...` in a new process on a pty.

The clock runs from spawning the process to the moment its terminal output contains the
status line pgconsole writes with the first page (`… N rows in memory …`), which Textual
paints in the same frame as the rows. The raw baseline is a new Python process that imports
asyncpg, connects (verify-full TLS) and prints the same first page.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from benchmarks.harness import SIZE

FIRST_PAGE = re.compile(rb"\d rows in memory")
ANSI = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
CTRL_Q = b"\x11"

RAW_SCRIPT = """
import asyncio, os, sys
import asyncpg

async def main():
    conn = await asyncpg.connect(os.environ["BENCH_DSN"])
    rows = await conn.fetch(sys.argv[1], 101)
    print(len(rows), flush=True)
    await conn.close()

asyncio.run(main())
"""


class LaunchError(RuntimeError):
    """The launched process never showed its first page."""


def pgconsole_command() -> list[str]:
    """The installed `pgconsole` script next to this interpreter, else `python -m`."""
    script = Path(sys.executable).with_name("pgconsole")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pgconsole"]


def _drain(master: int, timeout: float) -> bytes:
    ready, _, _ = select.select([master], [], [], timeout)
    if not ready:
        return b""
    try:
        return os.read(master, 65536)
    except OSError:  # the child closed the terminal
        return b""


def launch_pgconsole(argv: list[str], env: dict[str, str], within: float = 30) -> float:
    """Run `argv` on a new 80x24 pty; seconds until the first page is on its screen.

    Quits with Ctrl+Q afterwards, and kills the process if it has not exited 15 s later.
    """
    master, slave = os.openpty()
    columns, lines = SIZE
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    started = time.perf_counter()
    process = subprocess.Popen(
        argv,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**env, "TERM": "xterm-256color", "COLORTERM": "truecolor"},
        start_new_session=True,
    )
    os.close(slave)
    output = b""
    shown: float | None = None
    try:
        while shown is None and time.perf_counter() - started < within:
            chunk = _drain(master, 0.5)
            if not chunk and process.poll() is not None:
                break
            output += chunk
            if FIRST_PAGE.search(ANSI.sub(b"", output)):
                shown = time.perf_counter() - started
        os.write(master, CTRL_Q)
        deadline = time.monotonic() + 15
        while process.poll() is None and time.monotonic() < deadline:
            _drain(master, 0.1)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        os.close(master)
    if shown is None:
        screen = ANSI.sub(b"", output).decode(errors="replace")[-1500:]
        raise LaunchError(f"no first page within {within} s; the terminal showed:\n{screen}")
    return shown


def launch_raw(first_page_sql: str, dsn: str, env: dict[str, str]) -> float:
    """A new Python process: import asyncpg, connect, fetch the first page, print."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", RAW_SCRIPT, first_page_sql],
        stdout=subprocess.PIPE,
        env={**env, "BENCH_DSN": dsn},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        took = time.perf_counter() - started
    finally:
        process.wait(timeout=30)
    if not line.strip().isdigit():
        raise LaunchError("the raw asyncpg launch printed nothing")
    return took


def import_seconds(env: dict[str, str]) -> float:
    """A new interpreter importing what `pgconsole` imports before its first frame."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import pgconsole.__main__, pgconsole.app"],
        env=env,
        check=True,
    )
    return time.perf_counter() - started
