"""The fleet view and the SSH tunnel against the fleet issue's targets: one run, one report.

    .venv/bin/python -m benchmarks.fleet [--quick] [--repeat N] [--tunnel-repeat N] [--scale N]

1. **A fleet of 30 + 5 dead.** Three throwaway servers (pg_stat_statements preloaded), ten
   databases each: 30 live members. Beside them 5 dead addresses on 127.0.0.1: 3 that refuse
   (a port bound and never listening) and 2 that never answer (one listening and never
   accepting, one accepting and never replying). A real config file names the 35 as
   `[profiles.NAME]` (verify-full against each server's CA; `connect_timeout = 2` on the dead
   ones), the passwords in a 0600 passfile named by PGPASSFILE, `[fleet]` at its defaults.
   - `pgconsole fleet --once` as a process; `read_fleet_once` in this process;
   - `pgconsole fleet` in tmux at 80x24 and 200x50: launch → every live row read (the title's
     `K of 35 servers · D down` with K - D = 30), and → all 35 read (`read in X s`);
   - `Fleet.refresh(on_row=...)` directly: each row's arrival, live only and with the dead
     ones first, in the config's order and last; a dead row's `elapsed`;
   - statements per server per refresh (`Fleet.statements` and pg_stat_statements), and the
     second refresh with `keep_connections` false and true.
2. **The SSH tunnel.** `pgbench -i -s SCALE` on the first server, a throwaway sshd
   (`ThrowawaySshd`, a `bastion` entry in its ssh_config); `pgconsole 'host=localhost ...'
   --table public.pgbench_accounts` in tmux, direct and with `--ssh bastion`
   (`PGCONSOLE_SSH_COMMAND`), taking turns, at 80x24 and 200x50: launch → first page. Raw
   asyncpg does the same in this process, with an `ssh -N -L` of its own for the tunnel.

`--quick` (3 repetitions, scale 10) takes about 3 minutes; the full run (7 repetitions, scale
100 = 10M rows) about 8. Prints the table and writes the whole report to
`benchmarks/results/fleet-latest.md` (a `--quick` run too: its command line says so).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from importlib.metadata import version
from pathlib import Path

import asyncpg

from benchmarks import report
from benchmarks.activity_raw import (
    SAMPLER_ROLE,
    create_sampler_role,
    read_statements,
    reset_statements,
)
from benchmarks.common import commit, hermetic_home, machine
from benchmarks.data import (
    CLUSTER_SETTINGS,
    ROWS_PER_SCALE,
    Target,
    admin_connect,
    create_database,
    load_pgbench,
)
from benchmarks.load import PG_STAT_STATEMENTS
from benchmarks.peers import (
    PGCONSOLE_PAGE,
    QUIT_KEYS,
    Tools,
    cell,
    fmt,
    progress,
    terminal_env,
)
from benchmarks.sql import BrowseSql, describe
from benchmarks.terminal import TerminalError, Tmux, tmux_server
from pgconsole.config import read_config_file
from pgconsole.db.connection.tunnel import Bastion, Tunnel, accepts, free_local_port
from pgconsole.db.fleet import Fleet, FleetRow, Member
from pgconsole.fleet import fleet_members, read_fleet_once
from pgconsole.server_list import FleetOptions, server_list
from pgconsole.throwaway.cluster import LOOPBACK, ThrowawayCluster
from pgconsole.throwaway.sshd import ThrowawaySshd, find_sshd

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results" / "fleet-latest.md"
STARTED = time.monotonic()

CLUSTERS = 3
DATABASES = 10
"""Databases per server: 30 live members."""
LIVE = CLUSTERS * DATABASES
REFUSING = 3
SILENT = 2
DEAD_TIMEOUT = 2
"""`connect_timeout` of the dead profiles, seconds."""
OPTIONS = FleetOptions()
"""`[fleet]` as written to the config: pgconsole's defaults, spelled out."""
SIZES = ((80, 24), (200, 50))
TABLE_LIMIT = 2.0
"""First full table (every live row), seconds."""
STATEMENT_LIMIT = 3
DELAY_LIMIT = 0.05
"""Seconds the dead members may add to the last live row before that counts as a delay."""
DEAD_GRACE = 0.1
"""A dead member's row may come this long after its connect timeout (timers, the loop)."""
TUNNEL_LIMIT = 0.05
SLOW_LAUNCH = 3.0
"""A launch with no first page after this many seconds gets its screen and logs reported."""
TABLE = "public.pgbench_accounts"
TITLE = re.compile(r"^\s*Fleet ·.*$", re.MULTILINE)
READ_IN = re.compile(r"read in ([\d.]+) s")
ONCE_LAST = re.compile(r"^(\d+) servers read in ([\d.]+) s, (\d+) down$", re.MULTILINE)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fleet", description=__doc__)
    parser.add_argument("--repeat", type=int, help="repetitions of each fleet series (7)")
    parser.add_argument(
        "--tunnel-repeat", type=int, help="direct/tunnel launches per terminal size (7)"
    )
    parser.add_argument("--scale", type=int, help="pgbench scale (100: 10M rows)")
    parser.add_argument("--quick", action="store_true", help="3 repetitions, scale 10")
    args = parser.parse_args(argv)
    args.repeat = args.repeat or (3 if args.quick else 7)
    args.tunnel_repeat = args.tunnel_repeat or (3 if args.quick else 7)
    args.scale = args.scale or (10 if args.quick else 100)
    if min(args.repeat, args.tunnel_repeat, args.scale) < 1:
        parser.error("--repeat, --tunnel-repeat and --scale must be at least 1")
    return args


# -- the fleet's servers, dead addresses, config and passfile --------------------------------


@dataclass(frozen=True)
class Dead:
    """An address on 127.0.0.1 that is no server."""

    name: str
    port: int
    kind: str
    silent: bool
    """It never answers (else it refuses at once)."""


class Holder:
    """A port that accepts connections and never says a word (until `close`)."""

    def __init__(self) -> None:
        self.listener = socket.create_server((LOOPBACK, 0), backlog=128)
        self.listener.settimeout(0.2)
        self.port: int = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, name="silent-holder", daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                conn, _ = self.listener.accept()
                self.held.append(conn)  # never read from, never written to

    def close(self) -> None:
        """Stop accepting; close everything held."""
        self.stop.set()
        self.thread.join(5)
        for conn in [*self.held, self.listener]:
            conn.close()


@contextlib.contextmanager
def dead_addresses() -> Iterator[list[Dead]]:
    """3 refusing and 2 silent addresses on 127.0.0.1 for the duration of the block."""
    with contextlib.ExitStack() as stack:
        dead: list[Dead] = []
        for number in range(1, REFUSING + 1):
            # Bound and never listening: the kernel refuses, and no one else can take it.
            bound = stack.enter_context(socket.socket())
            bound.bind((LOOPBACK, 0))
            dead.append(Dead(f"refused-{number}", bound.getsockname()[1], "refuses", False))
        # A backlog no run fills: every connection of the run stays queued, never accepted.
        backlog = stack.enter_context(socket.create_server((LOOPBACK, 0), backlog=4096))
        dead.append(
            Dead("silent-backlog", backlog.getsockname()[1], "listens, never accepts", True)
        )
        holder = Holder()
        stack.callback(holder.close)
        dead.append(Dead("silent-accept", holder.port, "accepts, never replies", True))
        yield dead


@dataclass
class Servers:
    """The three servers and what the fleet needs of them."""

    clusters: list[ThrowawayCluster]
    probe_passwords: list[str] = field(default_factory=list)
    """`SAMPLER_ROLE`'s password on each: the role the fleet's profiles log in as."""
    versions: list[str] = field(default_factory=list)

    def admin_target(self, index: int) -> Target:
        """The superuser on server `index`, database postgres."""
        return replace(Target.of(self.clusters[index]), database="postgres")


def database(number: int) -> str:
    """The fleet's databases: fleet_01 to fleet_10."""
    return f"fleet_{number:02d}"


def live_names() -> list[str]:
    """pg1-fleet_01 ... pg3-fleet_10."""
    return [f"pg{c + 1}-{database(d + 1)}" for c in range(CLUSTERS) for d in range(DATABASES)]


async def prepare_servers(servers: Servers) -> None:
    """On each server: pg_stat_statements, the probe role, ten databases."""
    for index, cluster in enumerate(servers.clusters):
        admin = await admin_connect(servers.admin_target(index), cluster.password)
        try:
            await admin.execute("CREATE EXTENSION pg_stat_statements")
            servers.probe_passwords.append(await create_sampler_role(admin))
            servers.versions.append(str(await admin.fetchval("SHOW server_version")))
            for number in range(1, DATABASES + 1):
                await admin.execute(f"CREATE DATABASE {database(number)}")
        finally:
            await admin.close()


def toml_string(value: object) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(str(value))


def write_config(
    path: Path, passfile: Path, servers: Servers, dead: list[Dead], tunnel: ThrowawayCluster
) -> list[str]:
    """The config file (35 profiles, the dead ones interleaved) and the passfile (0600).

    Returns:
        The profiles' names in the config's order.
    """
    lives = live_names()
    profiles: list[tuple[str, dict[str, object]]] = []
    dead_left = list(dead)
    for index, name in enumerate(lives):
        cluster_index, number = divmod(index, DATABASES)
        cluster = servers.clusters[cluster_index]
        profile = {
            "host": LOOPBACK,
            "port": cluster.port,
            "user": SAMPLER_ROLE,
            "dbname": database(number + 1),
            "sslmode": "verify-full",
            "sslrootcert": cluster.ca_file,
        }
        profiles.append((name, profile))
        if index % 6 == 5 and dead_left:  # a dead one after every sixth live one
            gone = dead_left.pop(0)
            profiles.append(
                (
                    gone.name,
                    {
                        "host": LOOPBACK,
                        "port": gone.port,
                        "user": "postgres",
                        "dbname": "postgres",
                        "sslmode": "verify-full",
                        "sslrootcert": servers.clusters[0].ca_file,
                        "connect_timeout": DEAD_TIMEOUT,
                    },
                )
            )
    lines = [
        "# benchmarks.fleet: 30 live members, 5 dead addresses",
        "[fleet]",
        f"concurrency = {OPTIONS.concurrency}",
        f"keep_connections = {str(OPTIONS.keep_connections).lower()}",
        f"connect_timeout = {OPTIONS.connect_timeout:g}",
        f"statement_timeout = {OPTIONS.statement_timeout:g}",
        f"interval = {OPTIONS.interval:g}",
    ]
    for name, profile in profiles:
        lines += ["", f"[profiles.{toml_string(name)}]"]
        for key, value in profile.items():
            shown = value if isinstance(value, int) else toml_string(value)
            lines.append(f"{key} = {shown}")
    path.write_text("\n".join(lines) + "\n")
    entries = [
        f"{LOOPBACK}:{cluster.port}:*:{SAMPLER_ROLE}:{password}"
        for cluster, password in zip(servers.clusters, servers.probe_passwords, strict=True)
    ]
    # The tunnel's server, by the name the connection uses (and .pgpass matches).
    entries.append(f"localhost:{tunnel.port}:*:{tunnel.superuser}:{tunnel.password}")
    fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("\n".join(entries) + "\n")
    return [name for name, _ in profiles]


# -- server-side statements --------------------------------------------------------------------


async def reset_all(servers: Servers) -> None:
    """Forget the probe role's statements on every server."""
    for index, cluster in enumerate(servers.clusters):
        admin = await admin_connect(servers.admin_target(index), cluster.password)
        try:
            await reset_statements(admin)
        finally:
            await admin.close()


async def statements_seen(servers: Servers) -> tuple[int, list[str]]:
    """The probe role's statements since the reset on every server: calls, and each
    statement's first line with its calls."""
    calls = 0
    labels: dict[str, int] = {}
    for index, cluster in enumerate(servers.clusters):
        admin = await admin_connect(servers.admin_target(index), cluster.password)
        try:
            for statement in await read_statements(admin):
                calls += statement.calls
                labels[statement.label] = labels.get(statement.label, 0) + statement.calls
        finally:
            await admin.close()
    return calls, [f"`{label}` x {n}" for label, n in labels.items()]


# -- results --------------------------------------------------------------------------------


@dataclass
class Results:
    """Every series, by key, and what goes beside them."""

    series: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)
    once_output: str = ""
    down_reasons: dict[str, str] = field(default_factory=dict)

    def add(self, key: str, value: float) -> None:
        """One sample."""
        self.series.setdefault(key, []).append(value)

    def values(self, key: str) -> list[float]:
        """A series (empty when nothing was measured)."""
        return self.series.get(key, [])

    def median(self, key: str) -> float | None:
        """A series' median, or None."""
        values = self.values(key)
        return statistics.median(values) if values else None


# -- 1a. headless: `pgconsole fleet --once` and `read_fleet_once` ------------------------------


def pgconsole_argv() -> list[str]:
    """The app's `pgconsole` command, as the peers' benchmark runs it."""
    return Tools(dsn="").pgconsole


def once_process(config: Path, env: dict[str, str], repeat: int, results: Results) -> None:
    """`pgconsole fleet --once --config PATH` as a process, `repeat` times (one more first,
    not counted: the OS's caches)."""
    argv = [*pgconsole_argv(), "fleet", "--once", "--config", str(config)]
    for index in range(repeat + 1):
        started = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
        took = time.perf_counter() - started
        last = ONCE_LAST.search(done.stdout)
        if done.returncode != 1 or last is None:
            results.failures.append(
                f"`pgconsole fleet --once` exited {done.returncode}: "
                f"{(done.stderr or done.stdout).strip()[-500:]}"
            )
            continue
        if index == 0:
            continue
        results.add("once_process", took)
        results.add("once_reported", float(last[2]))
        results.add("once_down", float(last[3]))
        results.once_output = done.stdout


async def once_in_process(config: Path, repeat: int, results: Results) -> None:
    """`read_fleet_once(server_list(read_config_file(path)))`, and `fleet_members` alone."""
    for index in range(repeat + 1):
        servers = server_list(read_config_file(config))
        started = time.perf_counter()
        await fleet_members(servers)
        members = time.perf_counter() - started
        started = time.perf_counter()
        rows, elapsed = await read_fleet_once(servers)
        took = time.perf_counter() - started
        if index == 0:
            continue
        results.add("members", members)
        results.add("once_inproc", took)
        results.add("once_inproc_reported", elapsed)
        results.add("once_inproc_live", max(r.elapsed for r in rows if r.reachable))
        results.add("once_inproc_down", float(sum(not r.reachable for r in rows)))
        for row in rows:
            if not row.reachable and row.reason:
                results.down_reasons[row.name] = row.reason


MEMBERS_SCRIPT = """
import asyncio, sys, time
from pathlib import Path
from pgconsole.config import read_config_file
from pgconsole.fleet import fleet_members
from pgconsole.server_list import server_list

servers = server_list(read_config_file(Path(sys.argv[1])))
started = time.perf_counter()
asyncio.run(fleet_members(servers))
print(time.perf_counter() - started)
"""
"""`fleet_members` in a new interpreter: the passwords' cost as `pgconsole fleet` pays it."""


def members_cold(config: Path, env: dict[str, str], repeat: int, results: Results) -> None:
    """`fleet_members` in a new process each time (keyring not yet initialised)."""
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, "-c", MEMBERS_SCRIPT, str(config)],
            env={**env, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        try:
            results.add("members_cold", float(done.stdout.strip()))
        except ValueError:
            results.failures.append(f"fleet_members in a new process: {done.stderr[-300:]}")


# -- 1b. Fleet directly: arrivals, dead members, statements, keep_connections -----------------


@dataclass
class Refresh:
    """One `Fleet.refresh`: when each row arrived, seconds from its start."""

    arrived: dict[str, float]
    rows: dict[str, FleetRow]
    total: float


async def refresh_once(fleet: Fleet) -> Refresh:
    """One refresh, each row's arrival noted as `on_row` sees it."""
    arrived: dict[str, float] = {}
    rows: dict[str, FleetRow] = {}
    started = time.perf_counter()

    def on_row(row: FleetRow) -> None:
        arrived[row.name] = time.perf_counter() - started
        rows[row.name] = row

    await fleet.refresh(on_row=on_row)
    return Refresh(arrived, rows, time.perf_counter() - started)


def new_fleet(members: Sequence[Member], keep: bool = False) -> Fleet:
    """A fleet with the config's `[fleet]` options."""
    return Fleet(
        members,
        concurrency=OPTIONS.concurrency,
        keep_connections=keep,
        connect_timeout=OPTIONS.connect_timeout,
        statement_timeout=OPTIONS.statement_timeout,
    )


ORDERS: dict[str, Callable[[list[Member], set[str]], list[Member]]] = {
    "live": lambda ms, dead: [m for m in ms if m.name not in dead],
    "dead_first": lambda ms, dead: sorted(ms, key=lambda m: m.name not in dead),
    "config": lambda ms, dead: ms,
    "dead_last": lambda ms, dead: sorted(ms, key=lambda m: m.name in dead),
}
"""The members as the fleet gets them: the 30 live alone; the 35 with the dead ones first
(they take slots before anyone), in the config's order, last."""


async def arrivals(members: list[Member], dead: list[Dead], repeat: int, results: Results) -> None:
    """A first refresh (a new Fleet each time) of each order, `repeat` times, in turns."""
    silent = {d.name for d in dead if d.silent}
    refused = {d.name for d in dead if not d.silent}
    for index in range(repeat + 1):
        alone = 0.0  # this round's last live row with the 30 alone ("live" comes first)
        for order, arrange in ORDERS.items():
            async with new_fleet(arrange(members, silent | refused)) as fleet:
                seen = await refresh_once(fleet)
            if index == 0:
                continue
            live = [t for name, t in seen.arrived.items() if name not in silent | refused]
            up = sum(row.reachable for name, row in seen.rows.items() if name not in silent)
            results.add(f"arrive_{order}_last_live", max(live))
            results.add(f"arrive_{order}_all", seen.total)
            if up < LIVE:
                results.failures.append(f"{order}: only {up} of {LIVE} live members were read")
            if order == "live":
                alone = max(live)
                continue
            results.add(f"delay_{order}", max(live) - alone)
            first_silent = min(seen.arrived[name] for name in silent)
            results.add(f"arrive_{order}_live_before_silent", float(max(live) < first_silent))
            for name in silent:
                results.add(f"silent_elapsed_{order}", seen.rows[name].elapsed)
                results.add(f"silent_arrived_{order}", seen.arrived[name])
            for name in refused:
                results.add(f"refused_elapsed_{order}", seen.rows[name].elapsed)


async def crowded(members: list[Member], dead: list[Dead], repeat: int, results: Results) -> None:
    """As many silent members as the fleet has slots, first, then the 30 live: each slot is
    held by a connect that never answers until its timeout."""
    gone = {d.name for d in dead}
    silent = [m for m in members if m.name in {d.name for d in dead if d.silent}]
    extra = [
        replace(silent[i % len(silent)], name=f"silent-{i + 1:02d}")
        for i in range(OPTIONS.concurrency)
    ]
    live = [m for m in members if m.name not in gone]
    for _ in range(repeat):
        async with new_fleet([*extra, *live]) as fleet:
            seen = await refresh_once(fleet)
        results.add("crowded_last_live", max(seen.arrived[m.name] for m in live))
        results.add("crowded_first_live", min(seen.arrived[m.name] for m in live))


async def keep_series(
    members: list[Member], dead: list[Dead], servers: Servers, repeat: int, results: Results
) -> None:
    """`repeat + 1` refreshes of the 35 (config order) with keep_connections false, then
    true: each refresh after the first timed; statements counted on both sides."""
    silent = {d.name for d in dead if d.silent}
    gone = {d.name for d in dead}
    for keep in (False, True):
        key = "keep" if keep else "nokeep"
        await reset_all(servers)
        refreshes = repeat + 1
        async with new_fleet(members, keep=keep) as fleet:
            for index in range(refreshes):
                seen = await refresh_once(fleet)
                live = [t for name, t in seen.arrived.items() if name not in gone]
                if index:
                    results.add(f"{key}_later_live", max(live))
                    results.add(f"{key}_later_all", seen.total)
                    results.add(
                        f"{key}_later_silent",
                        statistics.median(seen.rows[n].elapsed for n in silent),
                    )
                else:
                    results.add(f"{key}_first_live", max(live))
            sent = fleet.statements
        calls, labels = await statements_seen(servers)
        live_sent = [sent[m.name] / refreshes for m in members if m.name not in gone]
        results.series[f"{key}_statements_client"] = live_sent
        results.add(f"{key}_statements_server", calls / (LIVE * refreshes))
        results.notes.append(
            f"keep_connections = {str(keep).lower()}: {refreshes} refreshes of the 35; "
            f"the fleet counted {sum(sent.values())} statements "
            f"({', '.join(sorted({f'{v}' for v in sent.values()}))} per member), "
            f"the servers' pg_stat_statements {calls} for `{SAMPLER_ROLE}`: "
            + ("; ".join(labels) or "none")
        )


async def fleet_direct(
    config: Path, dead: list[Dead], servers: Servers, repeat: int, results: Results
) -> None:
    """Arrivals, then keep_connections, with the config's members."""
    members, broken = await fleet_members(server_list(read_config_file(config)))
    if broken:
        results.failures.append(f"profiles that did not resolve: {[r.name for r in broken]}")
    progress(f"Fleet.refresh: arrivals, {repeat} x {len(ORDERS)} orders")
    await arrivals(members, dead, repeat, results)
    progress(f"Fleet.refresh: {OPTIONS.concurrency} silent members first, x {repeat}")
    await crowded(members, dead, repeat, results)
    progress("Fleet.refresh: keep_connections false, then true")
    await keep_series(members, dead, servers, repeat, results)


async def server_side_once(config: Path, servers: Servers, repeat: int, results: Results) -> None:
    """`read_fleet_once`'s statements as the servers count them."""
    await reset_all(servers)
    for _ in range(repeat):
        await read_fleet_once(server_list(read_config_file(config)))
    calls, labels = await statements_seen(servers)
    results.add("once_statements_server", calls / (LIVE * repeat))
    results.notes.append(
        f"`read_fleet_once` x {repeat}: the servers' pg_stat_statements counted {calls} "
        f"statements of `{SAMPLER_ROLE}`: " + ("; ".join(labels) or "none")
    )


# -- 1c. the fleet view in tmux ---------------------------------------------------------------


def live_title() -> re.Pattern[str]:
    """The title once every live member is read: `K of 35 servers · D down`, K - D = 30."""
    total = LIVE + REFUSING + SILENT
    options = [rf"{LIVE} of {total} servers(?! · \d+ down)"]
    options += [rf"{LIVE + d} of {total} servers · {d} down" for d in range(1, total - LIVE)]
    options.append(rf"{total} servers · {total - LIVE} down")
    return re.compile(r"Fleet · (?:" + "|".join(options) + ")")


def tui_series(term: Tmux, config: Path, repeat: int, results: Results) -> None:
    """`pgconsole fleet` at each size, taking turns, one untimed round first."""
    argv = [*pgconsole_argv(), "fleet", "--config", str(config)]
    total = LIVE + REFUSING + SILENT
    wanted = {
        "paint": re.compile(r"Fleet"),
        "live": live_title(),
        "all": re.compile(rf"Fleet · {total} servers · .*read in"),
    }
    for index in range(repeat + 1):
        for columns, lines in SIZES:
            name = f"fleet-{columns}x{lines}-{index}"
            pane = term.launch(name, argv, size=(columns, lines))
            try:
                seen = term.wait_for(pane, wanted, within=60)
                title = TITLE.search(term.screen(pane))
            except TerminalError as error:
                results.failures.append(f"fleet view {columns}x{lines}: {error}")
                continue
            finally:
                term.close_pane(pane, QUIT_KEYS["pgconsole"])
            if index == 0:
                continue
            for key, seconds in seen.items():
                results.add(f"tui_{key}_{columns}", seconds)
            shown = READ_IN.search(title[0]) if title else None
            if shown:
                results.add(f"tui_read_in_{columns}", float(shown[1]))


# -- 2. the tunnel -----------------------------------------------------------------------------


def tunnel_series(
    term: Tmux,
    conninfo: str,
    ssh_command: str,
    sshd: ThrowawaySshd,
    cluster: ThrowawayCluster,
    repeat: int,
    results: Results,
) -> None:
    """`pgconsole CONNINFO --table ...`, direct and `--ssh bastion`, taking turns at each size
    (the first of each round alternating), one untimed round first. A launch with no page
    after `SLOW_LAUNCH` seconds gets its screen then, and what sshd and the server logged
    meanwhile, in the report."""
    direct = [*pgconsole_argv(), conninfo, "--table", TABLE]
    ways = {
        "direct": (direct, {}),
        "tunnel": ([*direct, "--ssh", "bastion"], {"PGCONSOLE_SSH_COMMAND": ssh_command}),
    }
    page = {"page": PGCONSOLE_PAGE}
    logins = 0
    for index in range(repeat + 1):
        order = ["direct", "tunnel"] if index % 2 else ["tunnel", "direct"]
        for columns, lines in SIZES:
            for way in order:
                argv, env = ways[way]
                before, server_before = sshd_log(sshd), log_text(cluster.log_file)
                pane = term.launch(f"{way}-{columns}-{index}", argv, env=env, size=(columns, lines))
                stalled = ""
                try:
                    try:
                        seen = term.wait_for(pane, page, within=SLOW_LAUNCH)
                    except TerminalError as slow:
                        stalled = one_line(str(slow))
                        seen = term.wait_for(pane, page, within=60)
                except TerminalError as error:
                    results.failures.append(f"{way} {columns}x{lines}: {one_line(str(error))}")
                    continue
                finally:
                    term.close_pane(pane, QUIT_KEYS["pgconsole"])
                said = sshd_log(sshd)[len(before) :]
                count = said.count("Accepted publickey")
                logins += count
                if count != (way == "tunnel"):
                    results.failures.append(
                        f"{way} {columns}x{lines}: {count} sshd logins during the launch"
                    )
                if stalled or count != (way == "tunnel"):
                    server = log_text(cluster.log_file)[len(server_before) :]
                    results.notes.append(
                        f"**Slow launch**, {way} at {columns}x{lines}, round {index}: first page "
                        f"at {fmt(seen['page'], 's')}; the screen at {SLOW_LAUNCH:g} s: "
                        f"{stalled}; sshd's log meanwhile: {one_line(said) or 'nothing'}; the "
                        f"server's: {one_line(server) or 'nothing'}"
                    )
                if index:
                    results.add(f"{way}_{columns}", seen["page"])
    results.notes.append(
        f"sshd's log shows {logins} logins for the {2 * (repeat + 1)} tunnelled launches "
        "(every tunnelled launch went through the bastion, no direct one did)."
    )


def one_line(text: str, most: int = 25) -> str:
    """Up to `most` non-blank lines of `text` (no box drawing), joined with ` / `."""
    lines = [line.strip() for line in text.splitlines() if re.search(r"\w", line)]
    return " / ".join(lines[:most])


def log_text(path: Path) -> str:
    """A log file so far."""
    with contextlib.suppress(OSError):
        return path.read_text(errors="replace")
    return ""


def sshd_log(sshd: ThrowawaySshd) -> str:
    """sshd's log so far."""
    return log_text(sshd.log_file)


async def raw_tunnel(
    target: Target, password: str, ssh_command: str, first_page: str, repeat: int, results: Results
) -> None:
    """Raw asyncpg, in this process: connect + first page direct, and through an `ssh -N -L`
    started for it (ssh's login counted; the local port polled every 2 ms), taking turns."""
    direct_dsn = target.dsn(password)
    for index in range(repeat + 1):
        started = time.perf_counter()
        conn = await asyncpg.connect(direct_dsn)
        await conn.fetch(first_page, 101)
        direct = time.perf_counter() - started
        await conn.close()
        local = free_local_port()
        started = time.perf_counter()
        ssh = await asyncio.create_subprocess_exec(
            *shlex.split(ssh_command),
            "-N", "-o", "ExitOnForwardFailure=yes", "-o", "BatchMode=yes",
            "-L", f"{LOOPBACK}:{local}:localhost:{target.port}", "bastion",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            while not await accepts(local):
                if ssh.returncode is not None:
                    raise RuntimeError(f"ssh -L ended with {ssh.returncode}")
                await asyncio.sleep(0.002)
            login = time.perf_counter() - started
            conn = await asyncpg.connect(replace(target, port=local).dsn(password))
            await conn.fetch(first_page, 101)
            tunnel = time.perf_counter() - started
            await conn.close()
        finally:
            ssh.terminate()
            await ssh.wait()
        opened = await tunnel_open(target, ssh_command)
        if index:
            results.add("raw_direct", direct)
            results.add("raw_tunnel", tunnel)
            results.add("raw_login", login)
            results.add("tunnel_open", opened)


async def tunnel_open(target: Target, ssh_command: str) -> float:
    """pgconsole's `Tunnel.local()` in this process: ssh started, its port found open."""
    tunnel = Tunnel(Bastion.parse("bastion"), (("localhost", target.port),), command=ssh_command)
    started = time.perf_counter()
    try:
        await tunnel.local("localhost", target.port)
        return time.perf_counter() - started
    finally:
        await tunnel.close()


async def first_page_sql(target: Target, password: str) -> str:
    """pgconsole's first-page statement for pgbench_accounts."""
    conn = await admin_connect(target, password)
    try:
        return BrowseSql(await describe(conn, "public", "pgbench_accounts")).first
    finally:
        await conn.close()


# -- the report -------------------------------------------------------------------------------


def spread(values: Sequence[float], unit: str = "s") -> str:
    """`min / median / p90 / max (n)`."""
    if not values:
        return "-"
    points = (min(values), statistics.median(values), report.p90(values), max(values))
    return " / ".join(fmt(v, unit) for v in points) + f" ({len(values)})"


def verdict(ok: bool | None) -> str:
    """`met`, `**not met**` or `-`."""
    return "-" if ok is None else "met" if ok else "**not met**"


def at_most(r: Results, key: str, limit: float) -> bool | None:
    """Whether the series' median is at most `limit` (None without samples)."""
    median = r.median(key)
    return None if median is None else median <= limit


def difference(r: Results, later: str, base: str) -> float | None:
    """Median of `later` minus median of `base`."""
    a, b = r.median(later), r.median(base)
    return None if a is None or b is None else a - b


def signed(value: float | None) -> str:
    """`+12.3 ms`."""
    if value is None:
        return "-"
    return ("+" if value >= 0 else "-") + fmt(abs(value), "s")


Row = tuple[str, str, str, str]


def fleet_rows(r: Results) -> list[Row]:
    """The fleet's lines: what, target, measured (median (min-max)), result."""
    rows: list[Row] = []
    for columns, lines in SIZES:
        rows.append(
            (
                f"`pgconsole fleet` in tmux at {columns}x{lines}: launch → every live row read "
                f"(title `K of 35 servers · D down`, K - D = {LIVE})",
                f"≤ {TABLE_LIMIT:g} s",
                cell(r.values(f"tui_live_{columns}"), "s", None),
                verdict(at_most(r, f"tui_live_{columns}", TABLE_LIMIT)),
            )
        )
        rows.append(
            (
                "same, launch → all 35 read (`35 servers · 5 down · read in …`); the title's "
                "own `read in`",
                f"≤ {DEAD_TIMEOUT} s timeout of the silent ones + the launch",
                f"{cell(r.values(f'tui_all_{columns}'), 's', None)}; title "
                f"{cell(r.values(f'tui_read_in_{columns}'), 's', None)}",
                "-",
            )
        )
    rows += [
        (
            "`pgconsole fleet --once` (a process: start, imports, 35 servers, print)",
            "-",
            cell(r.values("once_process"), "s", None)
            + f"; its own `read in` {cell(r.values('once_reported'), 's', None)}",
            "-",
        ),
        (
            "`read_fleet_once` in this process: all 35 (passwords found included)",
            "-",
            cell(r.values("once_inproc"), "s", None),
            "-",
        ),
        (
            "same: the slowest live row's `elapsed` (connect + probe)",
            f"≤ {TABLE_LIMIT:g} s",
            cell(r.values("once_inproc_live"), "s", None),
            verdict(at_most(r, "once_inproc_live", TABLE_LIMIT)),
        ),
        (
            "`fleet_members` alone: 35 profiles' passwords (keyring probe, passfile); in "
            "this process (keyring initialised), and in a new process (as `pgconsole fleet`)",
            "-",
            f"{cell(r.values('members'), 's', None)}; new process "
            f"{cell(r.values('members_cold'), 's', None)}",
            "-",
        ),
        (
            f"`Fleet.refresh`, {LIVE} live members only: last row in (a new Fleet each time)",
            f"≤ {TABLE_LIMIT:g} s",
            cell(r.values("arrive_live_last_live"), "s", None),
            verdict(at_most(r, "arrive_live_last_live", TABLE_LIMIT)),
        ),
    ]
    silent_all = [
        v for order in ORDERS if order != "live" for v in r.values(f"silent_elapsed_{order}")
    ]
    refused_all = [
        v for order in ORDERS if order != "live" for v in r.values(f"refused_elapsed_{order}")
    ]
    rows += [
        (
            "a silent member's row: its `elapsed` (every order, every repetition)",
            f"≤ its connect_timeout ({DEAD_TIMEOUT} s; + {fmt(DEAD_GRACE, 's')} for timers)",
            cell(silent_all, "s", None),
            verdict(bool(silent_all) and max(silent_all) <= DEAD_TIMEOUT + DEAD_GRACE),
        ),
        (
            "a refusing member's row: its `elapsed`",
            f"≤ {DEAD_TIMEOUT} s",
            cell(refused_all, "s", None),
            verdict(bool(refused_all) and max(refused_all) <= DEAD_TIMEOUT),
        ),
    ]
    for order, label in (
        ("dead_first", "the 5 dead first"),
        ("config", "in the config's order (a dead one after every sixth live one)"),
        ("dead_last", "the 5 dead last"),
    ):
        before = r.values(f"arrive_{order}_live_before_silent")
        delays = r.values(f"delay_{order}")
        delay = statistics.median(delays) if delays else None
        ok = None if not before or delay is None else all(before) and delay <= DELAY_LIMIT
        rows.append(
            (
                f"35 members, {label}: last live row in; its delay over the 30 alone in the "
                "same round (median, min-max); live rows all before the silent ones",
                f"no delay (median ≤ {fmt(DELAY_LIMIT, 's')}), every live row first",
                f"{cell(r.values(f'arrive_{order}_last_live'), 's', None)}; delay "
                f"{signed(delay)} ({signed(min(delays, default=None))} to "
                f"{signed(max(delays, default=None))}); live first in {int(sum(before))} of "
                f"{len(before)}",
                verdict(ok),
            )
        )
    crowded_delay = difference(r, "crowded_last_live", "arrive_live_last_live")
    rows.append(
        (
            f"{OPTIONS.concurrency} silent members (= concurrency) first, then the 30 live: "
            "first and last live row in; delay over the 30 alone",
            f"no delay (≤ {fmt(DELAY_LIMIT, 's')})",
            f"{cell(r.values('crowded_first_live'), 's', None)}; "
            f"{cell(r.values('crowded_last_live'), 's', None)}; {signed(crowded_delay)}",
            verdict(None if crowded_delay is None else crowded_delay <= DELAY_LIMIT),
        )
    )
    for key, label in (("nokeep", "false"), ("keep", "true")):
        client = r.values(f"{key}_statements_client")
        server = r.values(f"{key}_statements_server")
        worst = max([*client, *server], default=None)
        rows += [
            (
                f"statements per live server per refresh, keep_connections = {label} "
                "(the fleet's count, per member; the servers' pg_stat_statements)",
                f"≤ {STATEMENT_LIMIT}",
                f"{cell(client, 'n', None)}; server side {cell(server, 'n', None)}",
                verdict(None if worst is None else worst <= STATEMENT_LIMIT),
            ),
            (
                f"refreshes after the first, keep_connections = {label}: last live row in; all 35",
                "-",
                f"{cell(r.values(f'{key}_later_live'), 's', None)}; "
                f"{cell(r.values(f'{key}_later_all'), 's', None)}",
                "-",
            ),
        ]
    server = r.values("once_statements_server")
    rows.append(
        (
            "statements per live server, `read_fleet_once` (pg_stat_statements)",
            f"≤ {STATEMENT_LIMIT}",
            cell(server, "n", None),
            verdict(None if not server else max(server) <= STATEMENT_LIMIT),
        )
    )
    return rows


def tunnel_rows(r: Results) -> list[Row]:
    """The tunnel's lines."""
    rows: list[Row] = []
    for columns, lines in SIZES:
        delta = difference(r, f"tunnel_{columns}", f"direct_{columns}")
        rows += [
            (
                f"`pgconsole CONNINFO --table {TABLE}` at {columns}x{lines}: launch → first "
                "page, direct",
                "-",
                cell(r.values(f"direct_{columns}"), "s", None),
                "-",
            ),
            (
                "same through the tunnel (`--ssh bastion`: ssh's login counted)",
                "-",
                cell(r.values(f"tunnel_{columns}"), "s", None),
                "-",
            ),
            (
                "tunnel - direct (difference of medians)",
                f"≤ {fmt(TUNNEL_LIMIT, 's')}",
                signed(delta),
                verdict(None if delta is None else delta <= TUNNEL_LIMIT),
            ),
        ]
    raw = difference(r, "raw_tunnel", "raw_direct")
    rows += [
        (
            "raw asyncpg in this process: connect + first page, direct; through `ssh -N -L` "
            "started for it",
            "-",
            f"{cell(r.values('raw_direct'), 's', None)}; {cell(r.values('raw_tunnel'), 's', None)}",
            "-",
        ),
        (
            "raw: ssh start → its local port accepts (the login alone); tunnel - direct",
            "-",
            f"{cell(r.values('raw_login'), 's', None)}; {signed(raw)}",
            "-",
        ),
        (
            "pgconsole's `Tunnel.local()` in this process: ssh start → tunnel open (its port "
            "polled at 10, 20, 40 … 250 ms intervals)",
            "-",
            f"{cell(r.values('tunnel_open'), 's', None)}; over the raw login "
            f"{signed(difference(r, 'tunnel_open', 'raw_login'))}",
            "-",
        ),
    ]
    return rows


def table(rows: list[Row]) -> list[str]:
    """A markdown table."""
    out = ["| what | target | measured: median (min-max) | result |", "|---|---|---|---|"]
    return out + [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]


SERIES: tuple[tuple[str, str, str], ...] = (
    ("tui_paint_80", "fleet view 80x24: launch → first paint (title)", "s"),
    ("tui_live_80", "fleet view 80x24: launch → every live row read", "s"),
    ("tui_all_80", "fleet view 80x24: launch → all 35 read", "s"),
    ("tui_read_in_80", "fleet view 80x24: the title's `read in`", "s"),
    ("tui_paint_200", "fleet view 200x50: launch → first paint (title)", "s"),
    ("tui_live_200", "fleet view 200x50: launch → every live row read", "s"),
    ("tui_all_200", "fleet view 200x50: launch → all 35 read", "s"),
    ("tui_read_in_200", "fleet view 200x50: the title's `read in`", "s"),
    ("once_process", "`pgconsole fleet --once`: process wall time", "s"),
    ("once_reported", "`pgconsole fleet --once`: its `read in`", "s"),
    ("once_inproc", "`read_fleet_once`: all 35", "s"),
    ("once_inproc_live", "`read_fleet_once`: slowest live row's elapsed", "s"),
    ("members", "`fleet_members`: passwords of 35 profiles", "s"),
    ("members_cold", "`fleet_members` in a new process", "s"),
    ("arrive_live_last_live", "Fleet, 30 live only: last row", "s"),
    ("arrive_dead_first_last_live", "Fleet, dead first: last live row", "s"),
    ("arrive_config_last_live", "Fleet, config order: last live row", "s"),
    ("arrive_dead_last_last_live", "Fleet, dead last: last live row", "s"),
    ("delay_dead_first", "Fleet, dead first: last live row minus the 30 alone's, same round", "s"),
    ("delay_config", "Fleet, config order: last live row minus the 30 alone's", "s"),
    ("delay_dead_last", "Fleet, dead last: last live row minus the 30 alone's", "s"),
    ("arrive_dead_first_all", "Fleet, dead first: whole refresh", "s"),
    ("arrive_config_all", "Fleet, config order: whole refresh", "s"),
    ("arrive_dead_last_all", "Fleet, dead last: whole refresh", "s"),
    ("silent_arrived_dead_first", "Fleet, dead first: silent rows' arrival", "s"),
    ("silent_arrived_config", "Fleet, config order: silent rows' arrival", "s"),
    ("silent_arrived_dead_last", "Fleet, dead last: silent rows' arrival", "s"),
    ("silent_elapsed_dead_first", "Fleet, dead first: silent rows' elapsed", "s"),
    ("silent_elapsed_config", "Fleet, config order: silent rows' elapsed", "s"),
    ("silent_elapsed_dead_last", "Fleet, dead last: silent rows' elapsed", "s"),
    ("refused_elapsed_config", "Fleet, config order: refused rows' elapsed", "s"),
    ("crowded_first_live", f"Fleet, {OPTIONS.concurrency} silent first: first live row", "s"),
    ("crowded_last_live", f"Fleet, {OPTIONS.concurrency} silent first: last live row", "s"),
    ("nokeep_first_live", "keep false: first refresh, last live row", "s"),
    ("nokeep_later_live", "keep false: later refreshes, last live row", "s"),
    ("nokeep_later_all", "keep false: later refreshes, whole", "s"),
    ("nokeep_later_silent", "keep false: later refreshes, silent rows' elapsed", "s"),
    ("keep_first_live", "keep true: first refresh, last live row", "s"),
    ("keep_later_live", "keep true: later refreshes, last live row", "s"),
    ("keep_later_all", "keep true: later refreshes, whole", "s"),
    ("keep_later_silent", "keep true: later refreshes, silent rows' elapsed", "s"),
    ("nokeep_statements_client", "keep false: statements per refresh, per live member", "n"),
    ("keep_statements_client", "keep true: statements per refresh, per live member", "n"),
    ("direct_80", "tunnel benchmark 80x24: direct, launch → first page", "s"),
    ("tunnel_80", "tunnel benchmark 80x24: --ssh bastion, launch → first page", "s"),
    ("direct_200", "tunnel benchmark 200x50: direct, launch → first page", "s"),
    ("tunnel_200", "tunnel benchmark 200x50: --ssh bastion, launch → first page", "s"),
    ("raw_direct", "raw asyncpg: connect + first page, direct", "s"),
    ("raw_tunnel", "raw asyncpg: ssh -L + connect + first page", "s"),
    ("raw_login", "raw: ssh start → local port accepts", "s"),
    ("tunnel_open", "pgconsole's `Tunnel.local()` in this process (ssh start → open)", "s"),
)


def spread_table(r: Results) -> list[str]:
    """Every series: min / median / p90 / max (n)."""
    out = ["| series | min / median / p90 / max (n) |", "|---|---|"]
    for key, label, unit in SERIES:
        if r.values(key):
            out.append(f"| {label} | {spread(r.values(key), unit)} |")
    return out


def every_sample(r: Results) -> list[str]:
    """Every sample of the timed series, in the order taken."""
    return [
        f"- `{key}`: " + ", ".join(fmt(v, unit) for v in r.values(key))
        for key, _, unit in SERIES
        if r.values(key)
    ]


def notes(r: Results, args: argparse.Namespace) -> list[str]:
    """What the tables do not say."""
    out = [
        "The machine is shared and noisy (2 cores; other sessions' work runs beside this "
        "one): read each spread before its median, and the load averages above.",
        "**First full table**: a server that never answers cannot be in a table before its "
        f"connect timeout ({DEAD_TIMEOUT} s here), so the ≤ {TABLE_LIMIT:g} s target is read "
        "on every live row (the title's `K of 35 servers · D down` with K - D = 30: every "
        "row but the silent two's, the refusing three counted down as they come), and the "
        "35 on the dead servers' own line: each costs at most its connect timeout.",
        f"The fleet: {CLUSTERS} throwaway servers, {DATABASES} databases each, read as "
        f"`{SAMPLER_ROLE}` (a superuser used by nothing else, so pg_stat_statements' entries "
        "of that role are the fleet's), verify-full TLS against each server's own CA, on "
        f"127.0.0.1. The dead: {REFUSING} ports bound and never listening (refused at "
        "once), one listening with a backlog and never accepting, one accepting and never "
        f"replying; their profiles set `connect_timeout = {DEAD_TIMEOUT}`. `[fleet]`: "
        f"concurrency {OPTIONS.concurrency}, keep_connections "
        f"{str(OPTIONS.keep_connections).lower()}, connect_timeout "
        f"{OPTIONS.connect_timeout:g}, statement_timeout {OPTIONS.statement_timeout:g}, "
        f"interval {OPTIONS.interval:g} (pgconsole's defaults, written out).",
        "Passwords: a 0600 passfile named by PGPASSFILE (none in the config, none in the "
        "environment); the keyring is looked up first for each profile, as a user's "
        "pgconsole does (no D-Bus session here: keyring's `fail` backend).",
        "`Fleet.refresh` series: a new Fleet for each refresh (a first refresh, as at launch), "
        "the orders taking turns, one untimed round first; `elapsed` is the row's own (its "
        "wait for a slot aside), arrival the time `on_row` saw it from the refresh's start. "
        "A delay is the last live row's arrival minus the 30 live members' alone in the same "
        "round (the orders take turns, so each pair shares the machine's moment); the silent "
        "members' slot-holding line uses the difference of medians.",
        "The fleet view and the tunnel's launches run in tmux (`benchmarks.terminal`): the "
        "clock runs from asking tmux for the session to the first capture of the pane showing "
        "the marker, polled every 10 ms; one untimed round first.",
        "Tunnel: `pgconsole 'host=localhost port=P user=postgres dbname=bench "
        "sslmode=verify-full sslrootcert=CA' --table public.pgbench_accounts`, with `--ssh "
        "bastion` and `PGCONSOLE_SSH_COMMAND='ssh -F <throwaway ssh_config>'` for the "
        "tunnel (the bastion: a throwaway sshd on 127.0.0.1, ed25519 keys, strict host key "
        "checking); the password from the same passfile (`localhost:P:*:postgres:…`). The "
        "first page's marker is pgconsole's `N rows in memory`. Each round alternates which "
        "goes first.",
    ]
    if args.scale != 100:
        out.append(
            f"The table holds {args.scale * ROWS_PER_SCALE:,} rows (scale {args.scale}), "
            "not 10M: a quick run. The first page is an index scan of the primary key either "
            "way."
        )
    if r.down_reasons:
        out.append(
            "Why each dead member is down (as `read_fleet_once` said): "
            + "; ".join(f"{name}: {why}" for name, why in sorted(r.down_reasons.items()))
        )
    out += r.notes
    out += [f"**Failed**: {failure}" for failure in r.failures]
    return out


def markdown(r: Results, args: argparse.Namespace) -> str:
    """The whole report."""
    doc = ["# Fleet benchmark: 30 servers + 5 dead, and the SSH tunnel", ""]
    doc += [f"- {k}: {v}" for k, v in r.facts.items()]
    doc += ["", "## Fleet of 30 + 5 dead", "", *table(fleet_rows(r)), ""]
    doc += ["## SSH tunnel", "", *table(tunnel_rows(r)), ""]
    doc += ["## Spread: min / median / p90 / max (n) of every series", "", *spread_table(r)]
    doc += ["", "## Notes", "", *(f"- {n}" for n in notes(r, args)), ""]
    if r.once_output:
        doc += ["## `pgconsole fleet --once`, the last run's output", "", "```"]
        doc += [r.once_output.rstrip(), "```", ""]
    doc += ["## Every sample", "", *every_sample(r), ""]
    return "\n".join(doc)


# -- the command ------------------------------------------------------------------------------


def start_all(clusters: list[ThrowawayCluster]) -> None:
    """Start the servers side by side (initdb mostly waits on the disk)."""
    with ThreadPoolExecutor(len(clusters)) as pool:
        for future in [pool.submit(cluster.start) for cluster in clusters]:
            future.result()


def ssh_version() -> str:
    """`OpenSSH_9.2p1 …`."""
    with contextlib.suppress(OSError):
        done = subprocess.run(["ssh", "-V"], capture_output=True, text=True, check=False)
        return (done.stderr or done.stdout).strip()
    return "?"


def measure(args: argparse.Namespace, home: Path, results: Results) -> None:
    """Everything, with the servers, the dead addresses and sshd up for the block."""
    preload = {"shared_preload_libraries": "pg_stat_statements"}
    # The tunnel's server logs its connections: the report shows them for a slow launch.
    logged = {"log_connections": "on", "log_disconnections": "on", "log_line_prefix": "%m [%p] "}
    clusters = [ThrowawayCluster(settings={**CLUSTER_SETTINGS, **preload, **logged})]
    clusters += [ThrowawayCluster(settings=preload) for _ in range(CLUSTERS - 1)]
    with contextlib.ExitStack() as stack:
        for cluster in clusters:
            stack.callback(cluster.stop)
        progress(f"{CLUSTERS} throwaway servers, {DATABASES} databases each")
        start_all(clusters)
        servers = Servers(clusters)
        asyncio.run(prepare_servers(servers))
        dead = stack.enter_context(dead_addresses())
        sshd = stack.enter_context(ThrowawaySshd())
        config, passfile = home / "fleet.toml", home / "pgpass"
        names = write_config(config, passfile, servers, dead, clusters[0])
        os.environ["PGPASSFILE"] = str(passfile)
        results.facts["PostgreSQL"] = servers.versions[0]
        results.facts["config order"] = ", ".join(names)

        env = {k: v for k, v in terminal_env(home, "").items() if k != "PGPASSWORD"}
        env["PGPASSFILE"] = str(passfile)
        progress(f"`pgconsole fleet --once` x {args.repeat} (+1)")
        once_process(config, env, args.repeat, results)
        progress(f"read_fleet_once x {args.repeat} (+1)")
        asyncio.run(once_in_process(config, args.repeat, results))
        members_cold(config, env, args.repeat, results)
        asyncio.run(server_side_once(config, servers, args.repeat, results))
        asyncio.run(fleet_direct(config, dead, servers, args.repeat, results))
        with tmux_server(env) as term:
            progress(f"`pgconsole fleet` in tmux x {args.repeat} (+1) at each size")
            tui_series(term, config, args.repeat, results)

            target = Target.of(clusters[0])
            password = clusters[0].password
            asyncio.run(create_database(clusters[0]))
            progress(f"pgbench -i -s {args.scale} -q")
            loaded, detail = load_pgbench(target, password, args.scale)
            results.facts["pgbench -i"] = (
                f"-s {args.scale} ({args.scale * ROWS_PER_SCALE:,} rows): {loaded:.1f} s ({detail})"
            )
            first_page = asyncio.run(first_page_sql(target, password))
            conninfo = (
                f"host=localhost port={target.port} user={target.user} dbname={target.database}"
                f" sslmode=verify-full sslrootcert={target.ca_file}"
            )
            progress(f"direct and tunnelled launches x {args.tunnel_repeat} (+1) at each size")
            tunnel_series(
                term, conninfo, sshd.ssh_command, sshd, clusters[0], args.tunnel_repeat, results
            )
        for log in home.rglob("errors.log"):  # pgconsole's own, if anything failed in a pane
            results.notes.append(f"pgconsole's {log.name}: " + log.read_text()[-1500:])
        progress("raw asyncpg, direct and through ssh -L")
        localhost = replace(target, host="localhost")
        asyncio.run(
            raw_tunnel(
                localhost, password, sshd.ssh_command, first_page, args.tunnel_repeat, results
            )
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the tables; write the report."""
    args = parse(argv)
    if not Path(PG_STAT_STATEMENTS).exists():
        print(f"pg_stat_statements is missing ({PG_STAT_STATEMENTS})", file=sys.stderr)
        return 2
    if shutil.which("tmux") is None or find_sshd() is None:
        print(
            "the fleet benchmark needs tmux and sshd (apt-get install tmux openssh-server)",
            file=sys.stderr,
        )
        return 2
    busy = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    results = Results()
    command = (
        f"python -m benchmarks.fleet --repeat {args.repeat} --tunnel-repeat "
        f"{args.tunnel_repeat} --scale {args.scale}"
    )
    results.facts = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine() + " (shared, noisy)",
        "load average before the run (1 / 5 / 15 min)": busy,
    }
    with hermetic_home() as home:
        measure(args, home, results)
    took = time.monotonic() - STARTED
    results.facts |= {
        "load average at the end": " / ".join(f"{v:.2f}" for v in os.getloadavg()),
        "software": f"Python {platform.python_version()}, asyncpg {version('asyncpg')}, "
        f"textual {version('textual')}, {ssh_version()}, pgconsole {commit()}",
        "took": f"{took / 60:.1f} min",
        "command": f"`{command}`" + (" (`--quick`)" if args.quick else ""),
    }
    print("\n".join(table(fleet_rows(results))))
    print()
    print("\n".join(table(tunnel_rows(results))))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(markdown(results, args))
    for failure in results.failures:
        print(f"failed: {failure[:300]}", file=sys.stderr)
    progress(f"done in {took / 60:.1f} min; the full report is in {RESULTS.relative_to(REPO)}")
    return 1 if results.failures else 0


if __name__ == "__main__":
    sys.exit(main())
