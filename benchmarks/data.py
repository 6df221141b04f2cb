"""The benchmark's server and data: pgbench's tables at a chosen scale and a wide mixed-type table.

Everything here runs against a `ThrowawayCluster`, over loopback only. Child processes (the
pty launch, the memory runs, the activity monitor) get the server's address in `BENCH_TARGET`
and the password in `PGPASSWORD`, never on a command line.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from urllib.parse import quote, urlencode

import asyncpg

import benchmarks
import pgconsole
from pgconsole.db.connection.params import ConnectParams, SslMode
from pgconsole.throwaway.cluster import ThrowawayCluster, find_bindir

DATABASE = "bench"
ROWS_PER_SCALE = 100_000
"""pgbench_accounts holds this many rows per unit of scale."""
WIDE_ROWS_PER_SCALE = 10_000
"""The wide table holds this many rows per unit of scale (1M at scale 100)."""
ADMIN_APP_NAME = "pgconsole-bench"
"""application_name of the benchmark's own connections (never pgconsole's)."""

CLUSTER_SETTINGS: dict[str, str] = {
    # A load of 10M rows writes a few GB of WAL: no checkpoint in the middle of it, and
    # `minimal` WAL lets pgbench's COPY FREEZE skip WAL for the tables it has just created.
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "16GB",
    "checkpoint_timeout": "1h",
    "maintenance_work_mem": "512MB",  # the primary key builds in memory
    "shared_buffers": "512MB",  # pgbench_accounts (1.3 GB) is read through the OS cache
    "track_io_timing": "on",
}


@dataclass(frozen=True)
class Target:
    """Where the benchmark's server listens, as child processes need it (no password)."""

    host: str
    port: int
    user: str
    ca_file: str
    database: str = DATABASE

    @classmethod
    def of(cls, cluster: ThrowawayCluster) -> Target:
        """The cluster's address, its superuser and its CA."""
        return cls(cluster.host, cluster.port, cluster.superuser, str(cluster.ca_file))

    def dsn(self, password: str | None = None, **params: str) -> str:
        """A verify-full URI; with `password=None` libpq and asyncpg read `PGPASSWORD`."""
        auth = quote(self.user, safe="")
        if password:
            auth += ":" + quote(password, safe="")
        query = urlencode({"sslmode": "verify-full", "sslrootcert": self.ca_file, **params})
        return f"postgresql://{auth}@{self.host}:{self.port}/{quote(self.database)}?{query}"

    def params(self, password: str) -> ConnectParams:
        """What pgconsole connects with: the superuser, verify-full against the cluster's CA."""
        return ConnectParams(
            host=self.host,
            port=self.port,
            user=self.user,
            password=password,
            database=self.database,
            sslmode=SslMode.VERIFY_FULL,
            sslrootcert=Path(self.ca_file),
            connect_timeout=10.0,
        )

    def child_env(self, password: str, home: Path) -> dict[str, str]:
        """A hermetic environment for a child: no PG*/PGCONSOLE_* of ours, an empty HOME, and
        the same pgconsole and benchmarks packages as this process."""
        packages = {_root_of(pgconsole), _root_of(benchmarks)}
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": os.pathsep.join(sorted(packages)),
            "LANG": "C.UTF-8",
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "PGPASSWORD": password,
            "BENCH_TARGET": json.dumps(asdict(self)),
        }

    @classmethod
    def from_env(cls) -> tuple[Target, str]:
        """The target and password a parent handed to this child process."""
        return cls(**json.loads(os.environ["BENCH_TARGET"])), os.environ["PGPASSWORD"]


def _root_of(package: ModuleType) -> str:
    """The directory a package was imported from (the one holding its folder)."""
    assert package.__file__ is not None
    return str(Path(package.__file__).resolve().parent.parent)


async def admin_connect(target: Target, password: str) -> asyncpg.Connection:
    """A superuser connection labelled as the benchmark's (not counted as pgconsole's)."""
    return await asyncpg.connect(
        target.dsn(password), server_settings={"application_name": ADMIN_APP_NAME}
    )


@dataclass(frozen=True)
class LoadTimes:
    """How long each part of loading the data took, in seconds."""

    pgbench: float
    pgbench_detail: str
    """pgbench's own `done in ...` line (generate, vacuum, primary keys)."""
    wide: float
    analyze: float


async def create_database(cluster: ThrowawayCluster) -> None:
    """CREATE DATABASE bench."""
    conn = await asyncpg.connect(cluster.dsn())
    try:
        await conn.execute(f"CREATE DATABASE {DATABASE}")
    finally:
        await conn.close()


def load_pgbench(target: Target, password: str, scale: int) -> tuple[float, str]:
    """`pgbench -i -s SCALE -q`: tables, client-side COPY, VACUUM ANALYZE, primary keys.

    pgbench is a client, so it runs as whoever we are; the password travels in PGPASSWORD.
    """
    started = time.perf_counter()
    result = subprocess.run(
        [str(find_bindir() / "pgbench"), "-i", "-s", str(scale), "-q", target.dsn()],
        env={**os.environ, "PGPASSWORD": password, "PGAPPNAME": ADMIN_APP_NAME},
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"pgbench -i failed (exit {result.returncode}):\n{result.stderr}")
    done = re.search(r"^done in .*$", result.stderr, re.MULTILINE)
    return elapsed, done.group(0) if done else ""


WIDE_SQL = """
CREATE TABLE public.wide (
    id bigint NOT NULL,
    qty integer,
    small smallint,
    big bigint,
    price numeric(14, 4),
    ratio double precision,
    flag boolean,
    name text NOT NULL,
    note text,
    code varchar(12),
    created timestamptz,
    day date,
    at_time time,
    span interval,
    doc jsonb,
    ints integer[],
    tags text[],
    blob bytea,
    uid uuid,
    addr inet
);
INSERT INTO public.wide
SELECT g,
    CASE WHEN g % 7 = 0 THEN NULL ELSE (g * 7919) % 1000003 END,
    (g % 32000)::smallint,
    g * 1000003,
    CASE WHEN g % 11 = 0 THEN NULL ELSE round(g * 0.3137, 4) END,
    (g % 1000) / 7.0,
    CASE WHEN g % 3 = 0 THEN NULL ELSE g % 2 = 0 END,
    'name ' || g,
    -- every tenth note is 320 characters: cut to 200 on the wire, marked truncated
    CASE WHEN g % 10 = 0 THEN repeat(md5(g::text), 10)
         WHEN g % 5 = 0 THEN NULL ELSE 'note ' || md5(g::text) END,
    'C-' || (g % 100000),
    timestamptz '2020-01-01 00:00+00' + g * interval '17 seconds',
    date '2000-01-01' + (g % 9000)::integer,
    time '00:00' + (g % 86400) * interval '1 second',
    CASE WHEN g % 4 = 0 THEN NULL ELSE (g % 1000) * interval '1 minute' END,
    CASE WHEN g % 6 = 0 THEN NULL ELSE jsonb_build_object(
        'id', g, 'even', g % 2 = 0, 'tags', jsonb_build_array('a', g % 10, null),
        'nested', jsonb_build_object('depth', 2, 'label', 'n' || g % 97)) END,
    ARRAY[g, g + 1, g + 2]::integer[],
    CASE WHEN g % 9 = 0 THEN NULL ELSE ARRAY['t' || g % 10, 't' || g % 7, 'x y'] END,
    CASE WHEN g % 8 = 0 THEN NULL ELSE decode(md5(g::text), 'hex') END,
    md5(g::text)::uuid,
    ('10.' || (g >> 16) % 256 || '.' || (g >> 8) % 256 || '.' || g % 256)::inet
FROM generate_series(1::bigint, $ROWS) AS g;
ALTER TABLE public.wide ADD PRIMARY KEY (id);
"""


async def create_wide(target: Target, password: str, rows: int) -> tuple[float, float]:
    """The wide table (one row per `id`, every common type, NULLs), then VACUUM ANALYZE.

    Returns:
        Seconds to fill it and seconds to vacuum and analyze it.
    """
    conn = await admin_connect(target, password)
    try:
        started = time.perf_counter()
        await conn.execute(WIDE_SQL.replace("$ROWS", str(int(rows))))
        filled = time.perf_counter()
        await conn.execute("VACUUM (FREEZE, ANALYZE) public.wide")
        return filled - started, time.perf_counter() - filled
    finally:
        await conn.close()
