"""Raw asyncpg as a terminal program, the floor of every line of the peers' table.

Run as a script (`python benchmarks/peer_raw.py MODE DSN ...`, not as a module, so that it
imports asyncpg and nothing of pgconsole) in a tmux pane beside the tools, and timed the same
way: by polling the pane's screen for what it prints. The password comes from PGPASSWORD.

- `connect DSN`: connect, print the prompt `raw>`; wait for a line, then exit.
- `page DSN SQL`: connect, fetch the first page (`SQL` with `$1` = 101), print it; wait.
- `console DSN`: connect, print `raw>`; run each line typed as a cursor (`BEGIN READ ONLY;
  DECLARE … CURSOR FOR line; FETCH 101`), print its first rows as pgcli does; `\\q` ends.
- `activity DSN SQLFILE...`: run each file's statement once a second, as the activity screen
  sends them, printing `refreshed HH:MM:SS · N sessions` after each refresh; a line ends it.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from pathlib import Path

import asyncpg

SHOWN = max(5, shutil.get_terminal_size().lines - 10)
"""Rows printed of a page: what the screen shows, the first row still in sight."""


def show(records: list[asyncpg.Record]) -> None:
    """Rows as pgcli prints them: `| 1 | 1 | 0 | ... |`."""
    for record in records[:SHOWN]:
        print("| " + " | ".join("" if v is None else str(v).strip() for v in record) + " |")
    print(f"{len(records)} rows", flush=True)


async def readline() -> str:
    """A line typed on the terminal, without blocking the loop."""
    return await asyncio.to_thread(sys.stdin.readline)


async def connect(dsn: str) -> asyncpg.Connection:
    """A plain connection (verify-full TLS, as the DSN says)."""
    return await asyncpg.connect(dsn, server_settings={"application_name": "raw-asyncpg"})


async def console(conn: asyncpg.Connection) -> None:
    """Each line a statement, run through a cursor; its first page printed."""
    while True:
        print("raw>", flush=True)
        line = (await readline()).strip().rstrip(";")
        if not line or line == "\\q":
            return
        async with conn.transaction(readonly=True):
            await conn.execute(f"DECLARE c NO SCROLL CURSOR FOR {line}")
            show(await conn.fetch("FETCH FORWARD 101 FROM c"))


async def activity(conn: asyncpg.Connection, statements: list[str]) -> None:
    """The statements once a second until a line is typed."""
    stop = asyncio.ensure_future(readline())
    started = time.monotonic()
    tick = 0
    while not stop.done():
        sessions = 0
        for statement in statements:
            rows = await conn.fetch(statement)
            sessions = max(sessions, len(rows))
        print(f"refreshed {time.strftime('%H:%M:%S')} · {sessions} sessions", flush=True)
        tick += 1
        await asyncio.wait([stop], timeout=max(0.0, started + tick - time.monotonic()))


async def main(mode: str, dsn: str, args: list[str]) -> None:
    """Run one mode."""
    conn = await connect(dsn)
    try:
        if mode == "connect":
            print("raw>", flush=True)
            await readline()
        elif mode == "page":
            show(await conn.fetch(args[0], 101))
            await readline()
        elif mode == "console":
            await console(conn)
        elif mode == "activity":
            await activity(conn, [Path(f).read_text() for f in args])  # noqa: ASYNC240
        else:
            raise SystemExit(f"unknown mode {mode}")
    finally:
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
