"""pgconsole beside its peers: pgcli, harlequin and pg_activity, and raw asyncpg, in one run.

    .venv/bin/python -m benchmarks.peers [--quick] [--scale N] [--repeat N] [--seconds N]
                                         [--clients N] [--only launch,table,console,activity]

Starts one throwaway server (verify-full TLS, pg_stat_statements), loads `pgbench -i -s SCALE`
and drives every tool in a tmux pane of its own at 200x50, exactly as a user would: launch it,
type, press keys, read the screen (see `benchmarks.terminal`). The peers come from their own
virtualenv (`.venv-bench`, made by `make bench-venv`), never from the app's. Every tool connects
to the same server with the same verify-full conninfo; the password is in PGPASSWORD only.

Sections, each repeated REPEAT times with the tools taking turns:
- launch: launch → first paint, and → usable screen;
- table: launch → the first page of pgbench_accounts (`pgconsole CONNINFO --table`; pgcli and
  harlequin: launch, then the query a user types for it);
- console: the first statement of a session, run key → first rows painted, then a second one;
  the tool's peak RSS after them;
- activity: under CLIENTS pgbench clients, launch → first refresh painted, then a SECONDS window
  at a 1 s refresh: client CPU % and RSS, and the statements and server time per refresh from
  pg_stat_statements (the tools log in as a role nothing else uses).

Prints one table (median and min-max of every series, and each tool's ratio to pgconsole) and
writes it, with every sample and the notes on noise, to `benchmarks/results/peers-latest.md`
(`peers-SECTIONS-latest.md` for some sections only, `…-quick-latest.md` for `--quick`).
`--quick` (scale 10, one repetition, 10 s windows) takes about 3 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

from benchmarks.activity_raw import (
    SAMPLER_ROLE,
    create_sampler_role,
    read_statements,
    reset_statements,
    sampler_target,
)
from benchmarks.common import commit, extract, hermetic_home, machine
from benchmarks.data import ROWS_PER_SCALE, Target, admin_connect, create_database, load_pgbench
from benchmarks.load import PG_STAT_STATEMENTS, Load, cluster_settings
from benchmarks.sql import BrowseSql, describe
from benchmarks.terminal import Pane, TerminalError, Tmux, proc_stats, tmux_server
from pgconsole.throwaway.cluster import ThrowawayCluster

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
SECTIONS = ("launch", "table", "console", "activity")
BENCH_VENV = Path(os.environ.get("PGCONSOLE_BENCH_VENV", REPO / ".venv-bench"))
"""The peers' virtualenv (`make bench-venv`); never the app's."""
RAW_SCRIPT = Path(__file__).with_name("peer_raw.py")
ACTIVITY_SQL = Path("pgconsole", "db", "activity", "sql")
ACTIVITY_FILES = ("activity_sample.sql",)
"""What pgconsole's activity screen sends per refresh, which raw asyncpg sends once a second."""
SIZE = (200, 50)
SMALL = (80, 24)
INTERVAL = 1.0
WARM_SECONDS = 3.0
"""Refreshes let pass after an activity screen's first paint, before its window opens."""
READ_SECONDS = 1.0
"""The user reads the first result this long before the next statement (harlequin moves the
focus to its results a while after painting them)."""
SLICE_SECONDS = 5.0
"""An activity window is cut in slices of about this long: the spread of its CPU %."""
STARTED = time.monotonic()

QUERY = "SELECT * FROM pgbench_accounts ORDER BY aid LIMIT 100"
"""What a user of pgcli or harlequin types to see the table's first page."""
QUERY_2 = "SELECT * FROM pgbench_accounts WHERE aid > 1000 ORDER BY aid LIMIT 100"
"""The session's second statement (its first row, 1001, tells its result from the first's)."""

PGCONSOLE, RAW, PGCLI, HARLEQUIN, PG_ACTIVITY = (
    "pgconsole",
    "raw asyncpg",
    "pgcli",
    "harlequin",
    "pg_activity",
)
TOOLS = (PGCONSOLE, RAW, PGCLI, HARLEQUIN, PG_ACTIVITY)
PEER_PACKAGES = {PGCLI: "pgcli", HARLEQUIN: "harlequin", PG_ACTIVITY: "pg_activity"}


def marker(text: str) -> re.Pattern[str]:
    """A pattern looked for on a captured screen (one line at a time with ^ and $)."""
    return re.compile(text, re.MULTILINE)


QUIT_KEYS = {
    PGCONSOLE: ["C-q"],
    RAW: ["Enter"],
    PGCLI: ["q", "C-d"],
    HARLEQUIN: ["C-q"],
    PG_ACTIVITY: ["q"],
}
PAINT = {
    PGCONSOLE: marker(r"F4 SQL console"),  # the key bar of the first screen
    RAW: marker(r"^raw>\s*$"),
    PGCLI: marker(r":bench>\s*$"),  # the prompt, printed once connected
    HARLEQUIN: marker(r"Query Editor"),  # the editor's title, on the first screen
    PG_ACTIVITY: marker(r"RUNNING QUERIES"),  # drawn with the first sample
}
CONNECTED = {
    **PAINT,
    PGCONSOLE: marker(r"\d+ relations? in \d+ schemas?"),  # the schema tree, listed
    HARLEQUIN: marker(r"[▶▼] bench db"),  # the data catalog, listed
}
USABLE = {**PAINT, PGCONSOLE: CONNECTED[PGCONSOLE]}
"""The issue's 'usable screen': pgcli's prompt, harlequin's and pg_activity's first paint,
pgconsole's first screen with its schema tree."""
TYPED = marker(re.escape(QUERY))
"""The query as typed, on the screen."""
PGCONSOLE_PAGE = marker(r"\d rows in memory")
PGCONSOLE_CONSOLE = marker(r"F5 Run")
ACTIVITY_PAINT = {
    PGCONSOLE: marker(r"refreshed \d\d:\d\d:\d\d"),  # the text frame, then the screen
    RAW: marker(r"refreshed \d\d:\d\d:\d\d"),
    PG_ACTIVITY: PAINT[PG_ACTIVITY],
}
ACTIVITY_SCREEN = {
    **ACTIVITY_PAINT,
    PGCONSOLE: marker(r"refreshed \d\d:\d\d:\d\d · every"),  # the screen's status line
}
"""The whole activity screen: pgconsole's Textual screen after its text frame; the others
draw theirs at once."""


def row(tool: str, aid: int) -> re.Pattern[str]:
    """The row of `aid` (bid 1) as each tool draws it."""
    if tool == HARLEQUIN:
        return marker(rf"│\s+{aid}\s+1\s+-?\d+\s")
    if tool == PGCONSOLE:
        return marker(rf"^\s*{aid}\s+1\s+-?\d+\s*$")
    return marker(rf"^\| {aid}\s*\| 1\s*\|")  # pgcli's table, and raw asyncpg's


def progress(text: str) -> None:
    """One line on stderr, with the time since the start."""
    print(f"[{time.monotonic() - STARTED:6.1f} s] {text}", file=sys.stderr, flush=True)


# -- the tools ---------------------------------------------------------------------------------


@dataclass
class Tools:
    """How to start each tool, and which could not be."""

    dsn: str
    python: str = sys.executable
    missing: dict[str, str] = field(default_factory=dict)
    """Tool → why it is not measured."""
    versions: dict[str, str] = field(default_factory=dict)
    root: Path | None = None
    """pgconsole as of a git revision (`--pgconsole`), else the working tree's."""
    pgconsole: list[str] = field(default_factory=list)
    """The `pgconsole` command of the app's virtualenv."""
    pgconsole_env: dict[str, str] = field(default_factory=dict)
    """Added to pgconsole's environment (PYTHONPATH for a revision's copy)."""

    def __post_init__(self) -> None:
        pgconsole = Path(sys.executable).with_name("pgconsole")
        self.pgconsole = (
            [str(pgconsole)] if pgconsole.exists() else [self.python, "-m", "pgconsole"]
        )
        self.versions[PGCONSOLE] = commit()
        if self.root is not None:
            # The app's interpreter and packages, that revision's pgconsole first on the path.
            self.pgconsole = [self.python, "-m", "pgconsole"]
            self.pgconsole_env = {"PYTHONPATH": str(self.root)}
        self.versions[RAW] = f"asyncpg {version('asyncpg')}, textual not imported"
        for tool, program in PEER_PACKAGES.items():
            path = BENCH_VENV / "bin" / program
            if not path.exists():
                self.missing[tool] = f"not installed: no {path} (`make bench-venv` installs it)"
        if len(self.missing) < len(PEER_PACKAGES):
            out = subprocess.run(
                [str(BENCH_VENV / "bin" / "python"), "-c", PEER_VERSIONS],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            for line in out.splitlines():
                name, _, found = line.partition(" ")
                self.versions[name] = found

    def measured(self, *tools: str) -> list[str]:
        """Those of `tools` that can be run."""
        return [t for t in tools if t not in self.missing]

    def command(self, tool: str, dsn: str | None = None) -> list[str]:
        """The tool's command line for its first screen (no password on it)."""
        dsn = dsn or self.dsn
        if tool == PGCONSOLE:
            return [*self.pgconsole, dsn]
        if tool == RAW:
            return [self.python, str(RAW_SCRIPT), "connect", dsn]
        if tool == PGCLI:
            return [str(BENCH_VENV / "bin" / "pgcli"), dsn]
        if tool == HARLEQUIN:
            return [str(BENCH_VENV / "bin" / "harlequin"), "-a", "postgres", dsn]
        return [str(BENCH_VENV / "bin" / "pg_activity"), "--refresh", f"{INTERVAL:g}", dsn]


PEER_VERSIONS = """
from importlib.metadata import version
for tool, dist in (("pgcli", "pgcli"), ("harlequin", "harlequin"),
                   ("pg_activity", "pg_activity")):
    extra = " + harlequin-postgres " + version("harlequin-postgres") if tool == "harlequin" else ""
    print(tool, version(dist) + extra + ", psycopg " + version("psycopg"))
"""


def fresh_editor(home: Path) -> None:
    """Forget harlequin's saved editor buffers: it reopens them at launch, and the typed query
    must be the editor's only text. (Its catalog cache is kept, as a returning user has it.)"""
    for cache in (home / ".cache" / "harlequin").glob("cache-*.pickle"):
        cache.unlink()


# -- measurements ------------------------------------------------------------------------------

Series = dict[str, dict[str, list[float]]]
"""Line → tool → samples."""


@dataclass
class Run:
    """Everything measured, and what could not be."""

    tools: Tools
    home: Path
    repeat: int
    series: Series = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    sequence: int = 0

    def add(self, line: str, tool: str, value: float) -> None:
        """One sample."""
        self.series.setdefault(line, {}).setdefault(tool, []).append(value)

    def name(self, tool: str) -> str:
        """A new session name for `tool`."""
        self.sequence += 1
        return f"{tool.replace(' ', '-')}-{self.sequence}"

    @contextlib.contextmanager
    def pane(
        self,
        term: Tmux,
        tool: str,
        argv: list[str],
        env: dict[str, str] | None = None,
        size: tuple[int, int] | None = None,
    ) -> Iterator[Pane]:
        """A tool running for the block; quit as a user quits it afterwards."""
        if tool == HARLEQUIN:
            fresh_editor(self.home)
        if tool == PGCONSOLE:
            env = {**self.tools.pgconsole_env, **(env or {})}
        pane = term.launch(self.name(tool), argv, env=env, size=size)
        try:
            yield pane
        finally:
            term.close_pane(pane, QUIT_KEYS[tool])

    def attempt(self, what: str, tool: str, measure: Callable[[], None]) -> None:
        """Run one measurement; a failure is noted (with the screen) and the run goes on."""
        try:
            measure()
        except (TerminalError, OSError) as error:
            # The screen it showed, without the lines that hold nothing but box drawing.
            text = [t for t in str(error).strip().splitlines() if re.search(r"\w", t)]
            self.failures.append(f"{what}, {tool}: {' / '.join(t.strip() for t in text)}")
            progress(f"  {tool}: failed ({text[0] if text else error})")


def section_launch(term: Tmux, run: Run) -> None:
    """Launch → first paint, → usable screen, → connected."""
    tools = run.tools.measured(PGCONSOLE, RAW, PGCLI, HARLEQUIN, PG_ACTIVITY)
    for i in range(run.repeat + 1):  # the first round warms the caches: not counted
        for tool in tools:

            def measure(tool: str = tool, i: int = i) -> None:
                wanted = {
                    "paint": PAINT[tool],
                    "usable": USABLE[tool],
                    "connected": CONNECTED[tool],
                }
                with run.pane(term, tool, run.tools.command(tool)) as pane:
                    seen = term.wait_for(pane, wanted)
                if i:
                    for line, seconds in seen.items():
                        run.add(line, tool, seconds)

            run.attempt("launch", tool, measure)


def section_table(term: Tmux, run: Run, first_page_sql: str) -> None:
    """Launch → the first page of pgbench_accounts on the screen."""
    tools = run.tools.measured(PGCONSOLE, RAW, PGCLI, HARLEQUIN)
    table = [*run.tools.pgconsole, run.tools.dsn, "--table", "public.pgbench_accounts"]
    raw = [run.tools.python, str(RAW_SCRIPT), "page", run.tools.dsn, first_page_sql]
    for _ in range(run.repeat):
        for tool in tools:

            def measure(tool: str = tool) -> None:
                if tool == PGCONSOLE:
                    for size, line in ((SIZE, "table"), (SMALL, "table_small")):
                        with run.pane(term, tool, table, size=size) as pane:
                            seen = term.wait_for(pane, {"page": PGCONSOLE_PAGE})
                        run.add(line, tool, seen["page"])
                    return
                if tool == RAW:
                    for size, line in ((SIZE, "table"), (SMALL, "table_small")):
                        with run.pane(term, tool, raw, size=size) as pane:
                            seen = term.wait_for(pane, {"page": row(RAW, 1)})
                        run.add(line, tool, seen["page"])
                    return
                with run.pane(term, tool, run.tools.command(tool)) as pane:
                    term.wait_for(pane, {"connected": CONNECTED[tool]})
                    # Typing takes no time here: the figure is the tool's, not the user's. The
                    # run key goes once the query is on the screen, as a user presses it.
                    term.type(pane, QUERY + (";" if tool == PGCLI else ""), pause=0)
                    term.wait_for(pane, {"typed": TYPED}, within=10)
                    term.press(pane, "C-j" if tool == HARLEQUIN else "Enter")
                    run.add("table", tool, term.wait_for(pane, {"page": row(tool, 1)})["page"])

            run.attempt("table", tool, measure)


RUN_KEY = {PGCONSOLE: "F5", RAW: "Enter", PGCLI: "Enter", HARLEQUIN: "C-j"}


def section_console(term: Tmux, run: Run) -> None:
    """A session's first statement and its second: run key → first rows painted; peak RSS."""
    tools = run.tools.measured(PGCONSOLE, RAW, PGCLI, HARLEQUIN)
    for _ in range(run.repeat):
        for tool in tools:

            def measure(tool: str = tool) -> None:
                argv = run.tools.command(tool)
                if tool == RAW:
                    argv = [run.tools.python, str(RAW_SCRIPT), "console", run.tools.dsn]
                with run.pane(term, tool, argv) as pane:
                    term.wait_for(pane, {"connected": CONNECTED[tool]})
                    if tool == PGCONSOLE:
                        term.keys(pane, "F4")
                        term.wait_for(pane, {"console": PGCONSOLE_CONSOLE})
                    for line, query, aid in (("first", QUERY, 1), ("next", QUERY_2, 1001)):
                        if line == "next":  # replace the editor's text, or leave the pager
                            time.sleep(READ_SECONDS)
                            term.keys(pane, *NEXT_KEYS.get(tool, []))
                        term.type(pane, query + (";" if tool == PGCLI else ""))
                        term.wait_for(pane, {"typed": marker(re.escape(query))}, within=10)
                        sent = term.press(pane, RUN_KEY[tool])
                        shown = term.wait_for(pane, {"rows": row(tool, aid)}, since=sent)
                        run.add(f"console_{line}", tool, shown["rows"])
                    run.add("console_peak", tool, proc_stats(pane.pid).peak_mb)

            run.attempt("console", tool, measure)


NEXT_KEYS = {
    PGCONSOLE: ["End", "S-Home"],  # select the statement's line; typing replaces it
    HARLEQUIN: ["F2", "C-a"],  # back to the editor (the results took the focus), select all
    PGCLI: ["q"],  # leave the pager (less) the result was shown in
}


@dataclass
class Window:
    """One tool's activity window."""

    cpu: list[float] = field(default_factory=list)
    """CPU % of one core in each slice."""
    rss: float = 0.0
    statements: int = 0
    server_ms: float = 0.0
    refreshes: int = 0


def activity_command(run: Run, tool: str, dsn: str) -> list[str]:
    """The tool's live activity view, as the sampler role."""
    if tool == PGCONSOLE:
        return [*run.tools.pgconsole, dsn, "--activity"]
    if tool == RAW:
        sql = (run.tools.root or REPO) / ACTIVITY_SQL
        files = [str(sql / name) for name in ACTIVITY_FILES]
        return [run.tools.python, str(RAW_SCRIPT), "activity", dsn, *files]
    return run.tools.command(tool, dsn)


async def _statements(target: Target, password: str, reset: bool) -> tuple[int, float]:
    admin = await admin_connect(target, password)
    try:
        if reset:
            await reset_statements(admin)
            return 0, 0.0
        found = await read_statements(admin)
        return sum(s.calls for s in found), sum(s.exec_ms + s.plan_ms for s in found)
    finally:
        await admin.close()


def section_activity(
    term: Tmux, run: Run, target: Target, password: str, sampler: str, seconds: float
) -> None:
    """Under the load: first paint (REPEAT launches), then one window per tool."""
    tools = run.tools.measured(PGCONSOLE, RAW, PG_ACTIVITY)
    dsn = sampler_target(target).dsn()
    env = {"PGPASSWORD": sampler}  # through tmux's control client: on no command line
    for _ in range(run.repeat):
        for tool in tools:

            def paint(tool: str = tool) -> None:
                with run.pane(term, tool, activity_command(run, tool, dsn), env=env) as pane:
                    seen = term.wait_for(
                        pane, {"paint": ACTIVITY_PAINT[tool], "screen": ACTIVITY_SCREEN[tool]}
                    )
                    run.add("activity_paint", tool, seen["paint"])
                    run.add("activity_screen", tool, seen["screen"])

            run.attempt("activity first paint", tool, paint)
    slices = max(1, round(seconds / SLICE_SECONDS))
    for tool in tools:

        def window(tool: str = tool) -> None:
            with run.pane(term, tool, activity_command(run, tool, dsn), env=env) as pane:
                term.wait_for(pane, {"paint": ACTIVITY_SCREEN[tool]})
                time.sleep(WARM_SECONDS)
                asyncio.run(_statements(target, password, reset=True))
                before, at = proc_stats(pane.pid), time.perf_counter()
                started = at
                for _ in range(slices):
                    time.sleep(seconds / slices)
                    now, then = proc_stats(pane.pid), time.perf_counter()
                    run.add("activity_cpu", tool, 100 * (now.cpu - before.cpu) / (then - at))
                    before, at = now, then
                calls, server_ms = asyncio.run(_statements(target, password, reset=False))
                refreshes = max(1, round((at - started) / INTERVAL))
                run.add("activity_rss", tool, before.rss_mb)
                run.add("activity_statements", tool, calls / refreshes)
                run.add("activity_server", tool, server_ms / 1000 / refreshes)
                if term.dead(pane):
                    raise TerminalError(f"{tool} exited during its window")

        run.attempt("activity window", tool, window)


# -- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Goal:
    """What pgconsole's median must not exceed (issue 17): a value in the line's unit, or a
    share of a peer's median in the same run."""

    limit: float | None = None
    """Seconds for `s` and `ms` lines, else in the line's unit."""
    peer: str | None = None
    share: float = 1.0

    def text(self, unit: str) -> str:
        if self.peer is not None:
            share = "" if self.share == 1 else ("½ of " if self.share == 0.5 else f"{self.share}x ")
            return f"≤ {share}{self.peer}'s"
        assert self.limit is not None
        return f"≤ {fmt(self.limit, unit)}"

    def met(self, mine: float, peers: dict[str, list[float]]) -> bool | None:
        """Whether `mine` meets it; None when the peer has no figure in this run."""
        if self.peer is None:
            assert self.limit is not None
            return mine <= self.limit
        theirs = peers.get(self.peer)
        return mine <= self.share * statistics.median(theirs) if theirs else None


@dataclass(frozen=True)
class Line:
    """One line of the table."""

    key: str
    label: str
    unit: str = "s"
    """`s`, `MB`, `%`, `n` (a count) or `ms`."""
    goal: Goal | None = None


LINES = (
    Line("usable", "launch → usable screen (pgconsole: schema tree listed; pgcli: prompt; "
         "harlequin, pg_activity: first paint)"),
    Line("paint", "launch → first paint (pgconsole: key bar; pgcli: prompt; harlequin: editor)"),
    Line("connected", "launch → connected screen (pgconsole: tree listed; harlequin: catalog "
         "listed)"),
    Line("table", "launch → first page of pgbench_accounts at 200x50 (pgconsole `--table`; "
         "pgcli, harlequin: launch, then `" + QUERY + "`)", goal=Goal(0.45)),
    Line("table_small", "same at 80x24 (pgconsole `--table`)", goal=Goal(0.45)),
    Line("console_first", "console, first statement of a session: run key (F5, Enter, Ctrl+j) "
         "→ first rows painted", goal=Goal(0.1)),
    Line("console_next", "console, the session's second statement → first rows painted",
         goal=Goal(0.03)),
    Line("console_peak", "peak RSS after those two pages", "MB", Goal(64)),
    Line("activity_paint", "activity at 1 s refresh under load: launch → first refresh painted "
         "(pgconsole: its text frame, drawn before Textual has loaded)", goal=Goal(0.5)),
    Line("activity_screen", "same: launch → the whole activity screen (pgconsole: its Textual "
         "screen; the others draw theirs at once)"),
    Line("activity_cpu", "same: client CPU, % of one core", "%", Goal(peer=PG_ACTIVITY)),
    Line("activity_rss", "same: client RSS at the window's end", "MB"),
    Line("activity_statements", "same: statements per refresh (pg_stat_statements)", "n",
         Goal(3)),
    Line("activity_server", "same: server time per refresh (exec + plan)", "ms",
         Goal(peer=PG_ACTIVITY, share=0.5)),
)  # fmt: skip


def fmt(value: float, unit: str) -> str:
    """A value in its unit."""
    if unit == "MB":
        return f"{value:.0f} MB"
    if unit == "%":
        return f"{value:.2f} %"
    if unit == "n":
        return f"{value:.1f}"
    if unit == "ms" or value < 1:
        return f"{value * 1000:.1f} ms" if value * 1000 < 100 else f"{value * 1000:.0f} ms"
    return f"{value:.2f} s"


def cell(values: list[float] | None, unit: str, base: float | None) -> str:
    """`median (min-max)`, and pgconsole's median ÷ this one (`· 1.7x`) for others."""
    if not values:
        return "-"
    median = statistics.median(values)
    text = fmt(median, unit)
    if len(values) > 1:
        text += f" ({fmt(min(values), unit)}-{fmt(max(values), unit)})"
    if base is not None and median:
        text += f" · {base / median:.2f}x"
    return text


def table(run: Run) -> list[str]:
    """The side-by-side table."""
    lines = [
        "| what | " + " | ".join(TOOLS) + " | target | met |",
        "|---|" + "---:|" * len(TOOLS) + "---|---|",
    ]
    for line in LINES:
        found = run.series.get(line.key, {})
        if not found:
            continue
        mine = found.get(PGCONSOLE)
        base = statistics.median(mine) if mine else None
        cells = [cell(mine, line.unit, None)]
        cells += [cell(found.get(t), line.unit, base) for t in TOOLS[1:]]
        cells += _target_cells(line, base, found)
        lines.append(f"| {line.label} | " + " | ".join(cells) + " |")
    return lines


def _target_cells(line: Line, mine: float | None, found: dict[str, list[float]]) -> list[str]:
    """The line's target and whether pgconsole's median meets it (`-`: no target here)."""
    if line.goal is None:
        return ["-", "-"]
    met = None if mine is None else line.goal.met(mine, found)
    return [line.goal.text(line.unit), {True: "yes", False: "**no**", None: "-"}[met]]


def samples(run: Run) -> list[str]:
    """Every sample, for the report."""
    out = []
    for line in LINES:
        for tool, values in run.series.get(line.key, {}).items():
            shown = ", ".join(fmt(v, line.unit) for v in values)
            out.append(f"- `{line.key}` {tool}: {shown}")
    return out


# -- the run -----------------------------------------------------------------------------------


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peers", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="scale 10, 1 repetition, 10 s")
    parser.add_argument("--scale", type=int, help="pgbench scale (default 100: 10M rows)")
    parser.add_argument("--repeat", type=int, help="repetitions of each measurement (default 5)")
    parser.add_argument("--seconds", type=int, help="activity window per tool (default 30)")
    parser.add_argument("--clients", type=int, default=50, help="pgbench clients for activity")
    parser.add_argument("--only", default=",".join(SECTIONS), help="sections, comma-separated")
    parser.add_argument(
        "--pgconsole", metavar="REV|DIR", help="run pgconsole as of REV (default: working tree)"
    )
    parser.add_argument("--note", default="", help="a note on the machine's noise for the report")
    args = parser.parse_args(argv)
    args.scale = args.scale or (10 if args.quick else 100)
    args.repeat = args.repeat or (1 if args.quick else 5)
    args.seconds = args.seconds or (10 if args.quick else 30)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.only) - set(SECTIONS)
    if unknown or args.scale < 1 or args.repeat < 1 or args.seconds < 5:
        parser.error(f"bad --only {sorted(unknown)}, or --scale/--repeat < 1, or --seconds < 5")
    return args


def terminal_env(home: Path, password: str) -> dict[str, str]:
    """What every pane inherits: a hermetic HOME, the password, a UTF-8 locale."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "LANG": "C.UTF-8",
        "COLORTERM": "truecolor",
        "PGPASSWORD": password,
    }


def measure(args: argparse.Namespace, cluster: ThrowawayCluster, home: Path) -> tuple[Run, str]:
    """Load, then every section asked for; the run and the server's version."""
    password = cluster.password
    asyncio.run(create_database(cluster))
    target = Target.of(cluster)
    sampler = asyncio.run(_prepare(target, password))
    progress(f"pgbench -i -s {args.scale} -q")
    loaded, detail = load_pgbench(target, password, args.scale)
    progress(f"loaded in {loaded:.1f} s")
    server, first_page = asyncio.run(_facts(target, password))
    root = extract(args.pgconsole, home, "pgconsole-rev") if args.pgconsole else None
    tools = Tools(target.dsn(), root=root)
    if args.pgconsole:
        tools.versions[PGCONSOLE] = commit(args.pgconsole)
    run = Run(tools, home, args.repeat)
    run.notes.append(f"pgbench -i -s {args.scale} -q: {loaded:.1f} s ({detail})")
    with tmux_server(terminal_env(home, password), SIZE) as term:
        if "launch" in args.only:
            progress("launch → first paint, usable screen")
            section_launch(term, run)
        if "table" in args.only:
            progress("launch → first page of pgbench_accounts")
            section_table(term, run, first_page)
        if "console" in args.only:
            progress("console: first and second statement")
            section_console(term, run)
        if "activity" in args.only:
            activity(args, term, run, target, password, sampler)
    return run, server


def activity(
    args: argparse.Namespace, term: Tmux, run: Run, target: Target, password: str, sampler: str
) -> None:
    """The activity section, under pgbench."""
    duration = 3 * (args.repeat * 6 + args.seconds + 20) + 60
    with tempfile.TemporaryDirectory(prefix="pgconsole-bench-load-") as scratch:
        load = Load(target, password, args.clients, duration, Path(scratch) / "pgbench.log")
        try:
            asyncio.run(_ready(load, target, password))
            progress(f"activity under {args.clients} pgbench clients, {args.seconds} s windows")
            begin = time.monotonic()
            section_activity(term, run, target, password, sampler, float(args.seconds))
            tps = load.tps(begin, time.monotonic())
            load.check()
        finally:
            load.stop()
    run.notes.append(
        f"Activity load: pgbench -c {args.clients} -j 2 -n (TPC-B) on the same server, "
        f"≈{tps or 0:.0f} tps during the section."
    )


async def _ready(load: Load, target: Target, password: str) -> None:
    admin = await admin_connect(target, password)
    try:
        await load.ready(admin)
    finally:
        await admin.close()


async def _prepare(target: Target, password: str) -> str:
    """pg_stat_statements and the sampler role; the role's password."""
    admin = await admin_connect(target, password)
    try:
        await admin.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        return await create_sampler_role(admin)
    finally:
        await admin.close()


async def _facts(target: Target, password: str) -> tuple[str, str]:
    """The server's version and pgconsole's first-page statement for pgbench_accounts."""
    conn = await admin_connect(target, password)
    try:
        server = str(await conn.fetchval("SHOW server_version"))
        return server, BrowseSql(await describe(conn, "public", "pgbench_accounts")).first
    finally:
        await conn.close()


def notes(run: Run, args: argparse.Namespace, load_before: str, load_after: str) -> list[str]:
    """What the table does not say."""
    out = [
        "Each cell: median (min-max) over the repetitions, then `· Nx` = pgconsole's "
        "median ÷ this tool's: above 1, pgconsole is slower (or bigger) by that factor.",
        "target: issue 17's target for pgconsole's median, absolute or against a peer's "
        "median in this run; met: whether pgconsole's median meets it. Page flips and the "
        "export have their targets in the browse and export benchmarks' reports.",
        f"Noise: {os.cpu_count()} cores, shared; load average before the run "
        f"{load_before}, after it {load_after}. "
        + (args.note or "Other work on this machine may have run at the same time.")
        + " Read the min-max of each cell as the run-to-run spread.",
        "Every tool ran in a tmux pane of its own at 200x50 (80x24 where said), as its own "
        "process, started by tmux; times run from asking tmux for the session (or sending the "
        "key) to the first capture of the pane that shows the marker, polled every 10 ms "
        "through one tmux control-mode client, so each figure carries the same few ms of "
        "polling. Every launch measured came after one untimed launch of each tool.",
        "Every tool connected over TLS with sslmode=verify-full against the throwaway CA, to "
        "127.0.0.1, the password in PGPASSWORD only (pgcli, harlequin-postgres and pg_activity "
        "go through libpq via psycopg 3; pgconsole and the raw script through asyncpg).",
        "raw asyncpg: `benchmarks/peer_raw.py` in a pane of its own (the app's interpreter, "
        "asyncpg only): connect and print a prompt; fetch pgconsole's first-page statement "
        "(`LIMIT 101`); run a typed statement through a cursor (`FETCH 101`) and print its "
        "rows as pgcli does; send the activity screen's statements once a second.",
        "pgcli and harlequin have no way to open a table by name: their 'first page' is "
        "launch, wait for the prompt (pgcli) or the listed catalog (harlequin), then the "
        f"query `{QUERY}` typed in one burst (typing takes no time) and run. pgcli shows its "
        "result in its default pager (less -SRXF); harlequin applies its default row limit "
        "(500). Neither has an activity screen; pg_activity has no console or table view.",
        "Console: pgconsole F5 after F4, pgcli Enter, harlequin Ctrl+j, raw Enter; the "
        f"second statement is `{QUERY_2}` typed over the first (pgconsole End, Shift+Home; "
        "harlequin F2, Ctrl+a; pgcli after leaving the pager). Peak RSS is the process's VmHWM "
        "after both (pgcli's pager, a process of its own, not counted).",
        f"Activity: each tool logs in as `{SAMPLER_ROLE}` (used by nothing else), so "
        "pg_stat_statements' entries for it are the tool's; pg_activity runs with "
        f"`--refresh {INTERVAL:g}` and its defaults (on this host it also reads the "
        "server processes' /proc for CPU, memory and I/O); pgconsole with `--activity`. "
        "CPU % is the process's utime+stime from /proc over wall time, in slices of "
        f"≈{SLICE_SECONDS:g} s (the spread); refreshes are counted as the window ÷ {INTERVAL:g} "
        f"s, after {WARM_SECONDS:g} s of warm-up.",
    ]
    for tool, why in run.tools.missing.items():
        out.append(f"**{tool} was not measured**: {why}.")
    out += [f"**Failed**: {f}" for f in run.failures]
    return out + run.notes


def main(argv: Sequence[str] | None = None) -> int:
    """Run; print the table; write the report."""
    args = parse(argv)
    if "activity" in args.only and not Path(PG_STAT_STATEMENTS).exists():
        print(f"pg_stat_statements is missing ({PG_STAT_STATEMENTS})", file=sys.stderr)
        return 2
    before = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    with (
        hermetic_home() as home,
        ThrowawayCluster(settings=cluster_settings(args.clients)) as cluster,
    ):
        run, server = measure(args, cluster, home)
    after = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    lines = table(run)
    took = time.monotonic() - STARTED
    quick = " --quick" if args.quick else ""
    facts = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "PostgreSQL": server,
        "scale": f"{args.scale} ({args.scale * ROWS_PER_SCALE:,} rows in pgbench_accounts)",
        "repetitions": f"{args.repeat}; activity windows of {args.seconds} s under "
        f"{args.clients} pgbench clients",
        "software": f"Python {platform.python_version()}; "
        + "; ".join(f"{k}: {v}" for k, v in run.tools.versions.items()),
        "took": f"{took / 60:.1f} min",
        "command": f"`python -m benchmarks.peers{quick} --scale {args.scale} --repeat "
        f"{args.repeat} --seconds {args.seconds} --only {','.join(args.only)}"
        + (f" --pgconsole {args.pgconsole}" if args.pgconsole else "")
        + "`",
    }
    report = [
        "# pgconsole beside its peers",
        "",
        *(f"- {k}: {v}" for k, v in facts.items()),
        "",
        *lines,
        "",
        "## Notes",
        "",
        *(f"- {n}" for n in notes(run, args, before, after)),
        "",
        "## Every sample",
        "",
        *samples(run),
        "",
    ]
    # A quick run or a run of some sections never overwrites the last full run's report.
    name = "peers" + ("" if set(args.only) == set(SECTIONS) else "-" + "-".join(args.only))
    path = RESULTS / f"{name}{'-quick' if args.quick else ''}-latest.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(report))
    print("\n".join(lines))
    for failure in run.failures:
        print(f"failed: {failure[:300]}", file=sys.stderr)
    progress(f"done in {took / 60:.1f} min; the report is in {path.relative_to(REPO)}")
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main())
