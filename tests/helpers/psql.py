"""Run the real psql client, to compare pgconsole's rows with what a DBA sees there."""

from __future__ import annotations

import asyncio
import os
import shutil

from pgconsole.throwaway.cluster import ThrowawayCluster

NULL_MARK = "\x00NULL\x00"


def psql_available() -> bool:
    return shutil.which("psql") is not None


async def psql_rows(
    cluster: ThrowawayCluster, dbname: str, sql: str
) -> list[tuple[str | None, ...]]:
    """Rows of `sql` as psql prints them (text output), NULL as None."""
    env = {**os.environ, "PGPASSWORD": cluster.password}
    process = await asyncio.create_subprocess_exec(
        "psql",
        "-X", "-q", "-A", "-t",
        "-F", "\x1f", "-R", "\x1e",
        "-P", "null=\x01NULL\x01",
        "-v", "ON_ERROR_STOP=1",
        "-d", cluster.dsn(dbname),
        "-c", sql,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )  # fmt: skip
    out, err = await process.communicate()
    if process.returncode != 0:
        raise AssertionError(f"psql failed: {err.decode()}")
    text = out.decode().rstrip("\n")
    if not text:
        return []
    return [
        tuple(None if cell == "\x01NULL\x01" else cell for cell in record.split("\x1f"))
        for record in text.split("\x1e")
        if record != ""
    ]
