"""The live activity screen's data: sessions, server counters, rates, blocking chains, signals.

Headless (no textual). `sample` reads everything one refresh shows in one statement: the
sessions (blocking pids and the lock each waits for included), and on the sampling session's
own row the server (counters, sessions by state, settings, xmin horizon, standbys), so that it
can run every second against a production server. `rates` and `lock_tree` are pure functions
of samples.

A role without pg_read_all_stats (or pg_monitor) still gets a sample: the server returns other
roles' sessions with most columns NULL, and every field that can be NULL is Optional here.
`read_capabilities` says what is hidden and why, in words (`Capabilities.limits`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pgconsole.db.connection.params import APPLICATION_NAME
from pgconsole.db.connection.pool import Conn
from pgconsole.db.sqlfiles import load_sql, sql_file_names

CONNECTION_STATES = (
    "active",
    "idle",
    "idle in transaction",
    "idle in transaction (aborted)",
    "fastpath function call",
    "disabled",
    "other",
)
"""The keys of `ServerCounters.connections`, always all present (0 when none)."""


# --- capabilities --------------------------------------------------------------------------


@dataclass(frozen=True)
class Capabilities:
    """What the current role may see and do on the activity screen."""

    superuser: bool
    """Sees everything, may signal every session."""
    monitor: bool
    """Has the privileges of pg_monitor (or is a superuser)."""
    read_all_stats: bool
    """Has the privileges of pg_read_all_stats, directly or through pg_monitor (or is a
    superuser): sees the state, query and ages of every role's sessions."""
    signal_backend: bool
    """Has the privileges of pg_signal_backend (or is a superuser): may cancel and terminate
    other roles' sessions (a superuser's only if a superuser itself)."""

    def limits(self) -> list[str]:
        """What the role cannot see or do here, one sentence each (empty for a superuser)."""
        if self.superuser:
            return []
        limits: list[str] = []
        if not self.read_all_stats:
            limits.append(
                "queries of other roles' sessions are hidden: the role is not a member of "
                "pg_read_all_stats (or pg_monitor), so their state, query, wait event and "
                "ages show as blank, and they are counted as 'other'"
            )
            limits.append(
                "standbys' addresses, state and lag are hidden for the same reason "
                "(pg_stat_replication needs pg_read_all_stats)"
            )
        if not self.signal_backend:
            limits.append(
                "cancelling or terminating other roles' sessions is refused: the role is not "
                "a member of pg_signal_backend, so it may only signal its own sessions"
            )
        limits.append(
            "superusers' sessions cannot be cancelled or terminated: only a superuser may "
            "signal them"
        )
        return limits


async def read_capabilities(conn: Conn) -> Capabilities:
    """What the connection's current role may see and signal (one query).

    Membership counts as the server counts it for these checks: through inherited privileges,
    so a role granted pg_monitor with NOINHERIT has none of its powers until it SET ROLEs.
    """
    row = await conn.fetchrow(load_sql(__name__, "activity_capabilities.sql"))
    assert row is not None  # current_user always has a pg_roles row
    superuser = bool(row["superuser"])
    monitor = superuser or bool(row["pg_monitor"])
    return Capabilities(
        superuser=superuser,
        monitor=monitor,
        read_all_stats=monitor or bool(row["pg_read_all_stats"]),
        signal_backend=superuser or bool(row["pg_signal_backend"]),
    )


# --- one sample ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Backend:
    """One backend of `pg_stat_activity`.

    For another role's session, a role without pg_read_all_stats gets only `pid`, `user`,
    `database` and `application`: the other fields are None (`blocked_by` and the lock fields
    still come from pg_locks, which everyone may read).
    """

    pid: int
    user: str | None
    database: str | None
    application: str | None
    client: str | None
    """The client's address, `local` for a Unix-domain socket, None for a background process
    or when hidden."""
    backend_type: str | None
    """`client backend`, `autovacuum worker`, `walsender`... None when hidden."""
    state: str | None
    """`active`, `idle`, `idle in transaction`... None for most background processes."""
    wait_event_type: str | None
    wait_event: str | None
    xact_age: float | None
    """Seconds since the current transaction started (server clock), None outside one."""
    query_age: float | None
    """Seconds since the current (or last, when idle) query started."""
    state_age: float | None
    """Seconds since the state last changed: how long it has been idle, or waiting."""
    query: str | None
    """The current or last query, None when hidden."""
    blocked_by: tuple[int, ...] = ()
    """`pg_blocking_pids()`: the sessions it waits for, sorted, each once. A prepared
    transaction that holds the lock shows as pid 0."""
    lock_mode: str | None = None
    """The mode of the lock it waits for (`AccessExclusiveLock`, `ShareLock`...)."""
    lock_relation: str | None = None
    """The relation of that lock, `"schema"."name"` quoted as needed; for a row lock (mode
    `ShareLock` on a transaction id), the relation of the row. None when the lock is not on a
    relation (an advisory lock, say)."""
    lock_relation_oid: int | None = None
    """That relation's oid, when it is in the connection's database (or a shared catalog)."""
    is_self: bool = False
    """The connection that took the sample."""

    @property
    def is_pgconsole(self) -> bool:
        """A backend of pgconsole's (this one's or another's): its application_name starts
        with `pgconsole`, or it took the sample."""
        return self.is_self or (self.application or "").startswith(APPLICATION_NAME)

    @property
    def is_background(self) -> bool:
        """A server process rather than a client's session: checkpointer, walwriter,
        autovacuum... (a session whose type is hidden from the role counts as a client's)."""
        return self.backend_type is not None and self.backend_type != "client backend"


@dataclass(frozen=True)
class Replica:
    """A standby (or logical subscriber) streaming from the server, from pg_stat_replication."""

    name: str | None
    """Its application_name."""
    client: str | None
    state: str | None
    """`streaming`, `catchup`, `backup`..."""
    replay_lag: float | None
    """Seconds between a commit here and its replay there (None when idle or hidden)."""
    lag_bytes: int | None
    """WAL bytes written here and not yet replayed there."""


@dataclass(frozen=True)
class ServerCounters:
    """The server's cumulative counters at one instant, summed over every database."""

    taken_at: float
    """Server clock, seconds since the epoch (`clock_timestamp()`), for rates."""
    xact_commit: int
    xact_rollback: int
    blks_read: int
    blks_hit: int
    tup_returned: int
    tup_fetched: int
    tup_inserted: int
    tup_updated: int
    tup_deleted: int
    temp_bytes: int
    deadlocks: int
    connections: dict[str, int]
    """Backends by state, every key of `CONNECTION_STATES` present; `other` counts background
    processes and sessions whose state the role may not read."""
    max_connections: int
    oldest_xact_age: float | None
    """Seconds of the oldest open transaction among client backends (the sampling session
    aside), None when there is none (or none visible)."""
    xmin_horizon_age: int | None
    """Age in transactions of the oldest xmin that holds back VACUUM: a session's snapshot or
    transaction id, a replication slot, a prepared transaction. None when none does."""
    replication: tuple[Replica, ...] = field(default=())


@dataclass(frozen=True)
class Sample:
    """Everything one refresh of the activity screen shows."""

    backends: tuple[Backend, ...]
    """By pid."""
    server: ServerCounters
    queries: int
    """Statements this sample sent (1)."""


async def sample(conn: Conn) -> Sample:
    """Read the sessions and the server's counters: one statement.

    It is its own implicit transaction, so it sees fresh statistics, all read at one instant.
    Inside an explicit transaction the server would keep showing the statistics it first read
    there.

    Args:
        conn: Any connection, of any role: what the role may not see comes back as None.
    """
    rows = await conn.fetch(load_sql(__name__, "activity_sample.sql"))
    # The sampling session always sees itself; its row carries the server's columns.
    server = next(row for row in rows if row["is_self"])
    return Sample(
        backends=tuple(_backend(row) for row in rows),
        server=_counters(server),
        queries=1,
    )


def _age(value: float | None) -> float | None:
    # now() is when the sampling statement started; a transaction begun a moment later, but
    # before the statistics were read, would otherwise get a negative age.
    return None if value is None else max(0.0, float(value))


def _backend(row: Any) -> Backend:
    return Backend(
        pid=row["pid"],
        user=row["user"],
        database=row["database"],
        application=row["application"],
        client=row["client"],
        backend_type=row["backend_type"],
        state=row["state"],
        wait_event_type=row["wait_event_type"],
        wait_event=row["wait_event"],
        xact_age=_age(row["xact_age"]),
        query_age=_age(row["query_age"]),
        state_age=_age(row["state_age"]),
        query=row["query"],
        # A parallel query's leader can be listed once per worker that holds the lock.
        blocked_by=tuple(sorted(set(row["blocked_by"] or ()))),
        lock_mode=row["lock_mode"],
        lock_relation=row["lock_relation"],
        lock_relation_oid=row["lock_relation_oid"],
        is_self=row["is_self"],
    )


def _counters(row: Any) -> ServerCounters:
    connections = dict.fromkeys(CONNECTION_STATES, 0)
    for state, count in row["connections"] or ():
        connections[state] = connections.get(state, 0) + count
    return ServerCounters(
        taken_at=row["taken_at"],
        xact_commit=row["xact_commit"] or 0,
        xact_rollback=row["xact_rollback"] or 0,
        blks_read=row["blks_read"] or 0,
        blks_hit=row["blks_hit"] or 0,
        tup_returned=row["tup_returned"] or 0,
        tup_fetched=row["tup_fetched"] or 0,
        tup_inserted=row["tup_inserted"] or 0,
        tup_updated=row["tup_updated"] or 0,
        tup_deleted=row["tup_deleted"] or 0,
        temp_bytes=row["temp_bytes"] or 0,
        deadlocks=row["deadlocks"] or 0,
        connections=connections,
        max_connections=row["max_connections"],
        oldest_xact_age=_age(row["oldest_xact_age"]),
        xmin_horizon_age=row["xmin_horizon_age"],
        replication=tuple(
            Replica(name=name, client=client, state=state, replay_lag=lag, lag_bytes=lag_bytes)
            for name, client, state, lag, lag_bytes in row["replication"] or ()
        ),
    )


# --- what a session runs, in words ------------------------------------------------------------

_SQL_FILE = re.compile(r"\A--\s*([a-z][a-z0-9_]*):")
_CONSOLE_CURSOR = re.compile(
    r"\A\s*(DECLARE|FETCH|MOVE|CLOSE)\b.*?\b(pgconsole_q\d+)\b", re.IGNORECASE | re.DOTALL
)
_DECLARED = re.compile(
    # As pgconsole.db.console.connection.wrapped_query writes it: the statement on lines of its own.
    r"\A\s*DECLARE\s+pgconsole_q\d+\s+SCROLL\s+CURSOR\s+FOR\s+SELECT\b.*?FROM \(\n"
    r"(?P<statement>.*)\n\) AS q\([^()]*\)\s*\Z",
    re.DOTALL,
)


def pgconsole_label(query: str | None) -> str | None:
    """`pgconsole: activity poll` for a statement of pgconsole's own SQL files (each starts with
    a `-- <name>:` line, which pg_stat_activity shows with the rest), else None."""
    match = _SQL_FILE.match(query or "")
    if match is None or match.group(1) not in sql_file_names():
        return None
    name = match.group(1)
    if name.startswith("activity_"):
        return "pgconsole: activity poll"
    return "pgconsole: " + name.replace("_", " ")


POOL_RESET = "SELECT pg_advisory_unlock_all();"
"""How asyncpg's reset of a connection going back to its pool starts (then CLOSE ALL, UNLISTEN *,
RESET ALL): the last query pg_stat_activity shows for each idle connection of a pool."""


def console_cursor(query: str | None) -> tuple[str, str] | None:
    """(verb, cursor name) when the query is a step of a pgconsole console's cursor
    (`FETCH FORWARD 101 FROM pgconsole_q3`), else None."""
    match = _CONSOLE_CURSOR.match(query or "")
    return None if match is None else (match.group(1).upper(), match.group(2))


def shown_query(
    session: Backend, cursor_statement: Callable[[str], str | None] | None = None
) -> str | None:
    """What the session runs, as a person wants to read it.

    pgconsole's own SQL gets a short name (`pgconsole: activity poll`), and so does its idle
    pool connections' last query, asyncpg's reset; a console's cursor
    step shows the user's statement: from the DECLARE itself, or from `cursor_statement`
    (the cursor's statement, for a console whose backend this is), else the verb and
    `(pgconsole console cursor)`. Any other query is returned as it is.

    Args:
        session: The backend.
        cursor_statement: The statement a cursor of this backend was declared for, by name,
            when the caller knows (the app's own console); None otherwise.
    """
    query = session.query
    label = pgconsole_label(query)
    if label is not None:
        return label
    if session.is_pgconsole and (query or "").startswith(POOL_RESET):
        return "pgconsole: pool connection, reset for its next use"
    cursor = console_cursor(query)
    if cursor is None:
        return query
    verb, name = cursor
    declared = _DECLARED.match(query or "")
    if declared is not None:
        return declared.group("statement")
    statement = None if cursor_statement is None else cursor_statement(name)
    return statement if statement is not None else f"{verb} … (pgconsole console cursor)"


# --- rates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerRates:
    """Per-second rates between two `ServerCounters`."""

    commits: float
    rollbacks: float
    returned: float
    """Rows read by sequential scans and index scans (tup_returned)."""
    fetched: float
    """Rows fetched by index scans (tup_fetched)."""
    inserted: float
    updated: float
    deleted: float
    temp_bytes: float
    """Bytes written to temporary files (sorts and hashes that did not fit in work_mem)."""
    deadlocks: float
    cache_hit_ratio: float | None
    """Share of block reads served from shared buffers over the interval (0 to 1), None when
    no block was read at all."""


def rates(before: ServerCounters, after: ServerCounters) -> ServerRates:
    """Per-second rates from `before` to `after` (no query).

    A counter that went down (statistics reset, server restart) counts as 0 over the interval,
    never as a negative rate. A zero or negative interval gives all zeros.
    """
    seconds = after.taken_at - before.taken_at

    def delta(name: str) -> int:
        return max(0, int(getattr(after, name)) - int(getattr(before, name)))

    def rate(name: str) -> float:
        return delta(name) / seconds if seconds > 0 else 0.0

    hit, read = delta("blks_hit"), delta("blks_read")
    return ServerRates(
        commits=rate("xact_commit"),
        rollbacks=rate("xact_rollback"),
        returned=rate("tup_returned"),
        fetched=rate("tup_fetched"),
        inserted=rate("tup_inserted"),
        updated=rate("tup_updated"),
        deleted=rate("tup_deleted"),
        temp_bytes=rate("temp_bytes"),
        deadlocks=rate("deadlocks"),
        cache_hit_ratio=hit / (hit + read) if seconds > 0 and hit + read > 0 else None,
    )


# --- blocking chains -----------------------------------------------------------------------


@dataclass(frozen=True)
class LockNode:
    """A session in the blocking tree, with the sessions that wait for it below."""

    backend: Backend
    children: tuple[LockNode, ...]
    """The sessions it blocks, oldest transaction first."""
    repeated: bool = False
    """This session blocks others, listed where it first appears in the tree (above): they are
    not listed again here, so the tree stays as big as the wait graph rather than growing
    with the number of paths through it (and a cycle ends)."""


def lock_tree(sessions: Sequence[Backend]) -> tuple[LockNode, ...]:
    """The blocking chains: who waits for whom, from the root blockers down.

    The roots are the sessions that block someone and wait for no one, oldest transaction
    first. A session blocked by several sessions appears under each of them. Where every
    blocker is itself blocked (a deadlock not yet detected), the sessions on the cycle are the
    roots. Sessions that neither block nor wait are left out. A blocker missing from
    `sessions` (a prepared transaction, reported as pid 0, or a session that ended between
    the readings) appears as a Backend with only its pid.

    Each session's waiters are listed once, under its first appearance in depth-first order;
    its later appearances are marked `repeated`, without children. A session already on the
    current path is never expanded again either, so a cycle ends.
    """
    known = {s.pid: s for s in sessions}
    waiters: dict[int, list[int]] = {}
    for session in sessions:
        for blocker in session.blocked_by:
            if blocker not in known:
                known[blocker] = _unknown_backend(blocker)
            waiters.setdefault(blocker, []).append(session.pid)
    if not waiters:
        return ()

    order = {
        pid: rank
        for rank, pid in enumerate(
            sorted(known, key=lambda p: (known[p].xact_age is None, -(known[p].xact_age or 0), p))
        )
    }

    def oldest_first(pids: Iterable[int]) -> list[int]:
        return sorted(set(pids), key=order.__getitem__)

    waiters = {pid: oldest_first(below) for pid, below in waiters.items()}
    blocked = {pid for pid, s in known.items() if s.blocked_by}
    roots = oldest_first(pid for pid in waiters if pid not in blocked)
    involved = set(waiters) | blocked
    unreached = involved - _reachable(roots, waiters)
    if unreached:
        # Only cycles, and what hangs below them, have no root: the cycles' members become
        # roots, after the true root blockers.
        roots += oldest_first(p for p in unreached if p in _reachable(waiters.get(p, []), waiters))

    expanded: set[int] = set()
    repeats: dict[int, LockNode] = {}

    def repeat(pid: int) -> LockNode:
        # Immutable, so one node serves every later appearance of the session.
        if pid not in repeats:
            repeats[pid] = LockNode(known[pid], (), repeated=bool(waiters.get(pid)))
        return repeats[pid]

    def build(root: int) -> LockNode:
        # Depth-first without recursion: hundreds of sessions queued for one hot row make a
        # chain deeper than Python's recursion limit. Every pid on the current path is already
        # expanded, so the `expanded` check also ends cycles.
        if root in expanded:
            return repeat(root)
        expanded.add(root)
        stack: list[tuple[int, Iterator[int], list[LockNode]]] = [
            (root, iter(waiters.get(root, [])), [])
        ]
        while True:
            pid, below, done = stack[-1]
            child = next(below, None)
            if child is None:
                stack.pop()
                finished = LockNode(known[pid], tuple(done))
                if not stack:
                    return finished
                stack[-1][2].append(finished)
            elif child in expanded:
                done.append(repeat(child))
            else:
                expanded.add(child)
                stack.append((child, iter(waiters.get(child, [])), []))

    return tuple(build(pid) for pid in roots)


def _reachable(starts: Iterable[int], waiters: dict[int, list[int]]) -> set[int]:
    seen: set[int] = set()
    stack = list(starts)
    while stack:
        pid = stack.pop()
        if pid not in seen:
            seen.add(pid)
            stack.extend(waiters.get(pid, ()))
    return seen


def _unknown_backend(pid: int) -> Backend:
    return Backend(
        pid=pid,
        user=None,
        database=None,
        application=None,
        client=None,
        backend_type="prepared transaction" if pid == 0 else None,
        state=None,
        wait_event_type=None,
        wait_event=None,
        xact_age=None,
        query_age=None,
        state_age=None,
        query=None,
    )


# --- signals -------------------------------------------------------------------------------


async def cancel_backend(conn: Conn, pid: int) -> bool:
    """Cancel the session's current query (`pg_cancel_backend`); the session stays.

    Args:
        conn: A pool connection (`Database.transaction()`), not the activity poll's own: a sample
            may be running on that one ("another operation is in progress").
        pid: A backend's pid as the server reports it in pg_stat_activity.

    Returns:
        True if the signal was sent; False if no server process has this pid (the server
        only warns).

    Raises:
        asyncpg.InsufficientPrivilegeError: Another role's session without pg_signal_backend,
            or a superuser's session when the role is not a superuser.
    """
    return bool(await conn.fetchval("SELECT pg_cancel_backend($1)", pid))


async def terminate_backend(conn: Conn, pid: int) -> bool:
    """End the session (`pg_terminate_backend`): its transaction rolls back.

    Args:
        conn, pid: As for `cancel_backend`.

    Returns:
        True if the signal was sent; False if no server process has this pid.

    Raises:
        asyncpg.InsufficientPrivilegeError: As for `cancel_backend`.
    """
    return bool(await conn.fetchval("SELECT pg_terminate_backend($1)", pid))
