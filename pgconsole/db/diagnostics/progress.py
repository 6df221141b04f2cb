"""Long operations in progress: what each has done of what, how fast, and when it may finish.

The server reports VACUUM, ANALYZE, CREATE INDEX (and REINDEX), CLUSTER (and VACUUM FULL),
base backups and COPY as they run, each in its own `pg_stat_progress_*` view with its own
counters. `read_progress` reads them all in one statement (`progress.sql`), with the
statement, role and start of each from `pg_stat_activity`, and says for each what the phase
it is in counts (`done` of `total`, in `unit`), since a phase's counters mean nothing in the
next one.

The server gives no rate: `ProgressRates` derives it from two readings, and the time left
from the rate, for the operations still in the same phase.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pgconsole.db.activity.stats import Backend
from pgconsole.db.connection.pool import Conn
from pgconsole.db.sqlfiles import load_sql

Kind = Literal["vacuum", "analyze", "create index", "cluster", "basebackup", "copy"]
OperationKey = tuple[int, str, str, datetime.datetime | None]
"""(pid, kind, phase, started): one operation in one phase."""
COPY_SINCE = 14
"""The server version that reports COPY (`pg_stat_progress_copy`)."""
COPY_MARKER = "    -- copy: 14+"
"""The line of `progress.sql` that begins the COPY branch, cut for an older server."""


@dataclass(frozen=True)
class Operation:
    """One operation running now, in the phase it is in."""

    kind: Kind
    pid: int
    database: str | None
    """None for a base backup (a walsender reads every database)."""
    schema: str | None
    relation: str | None
    """Known only in the current database (and only with the view's relid: none for a base
    backup or a `COPY (query) TO`); see `relid`."""
    phase: str
    """As the view says it; for COPY, which has none, the command and its end: `COPY FROM
    (pipe)`. Empty when the server hides another role's operation from this role."""
    done: int | None
    """What this phase has done, in `unit`; None when the phase counts nothing."""
    total: int | None
    """What this phase will have done at its end; None when unknown."""
    unit: str
    """`blocks`, `tuples`, `bytes`, `lockers`, `partitions`...; empty when `done` is None."""
    started: datetime.datetime | None
    """When its statement started (a transaction's start moves on within CREATE INDEX
    CONCURRENTLY)."""
    query: str | None
    role: str | None
    """None for an autovacuum worker."""
    relid: int | None = None
    """The relation's oid, also when it is another database's and has no name here."""
    command: str | None = None
    """What ran, where the view tells more than `kind`: `VACUUM FULL` (a cluster),
    `CREATE INDEX CONCURRENTLY`, `REINDEX`, `COPY TO`..."""

    @property
    def percent(self) -> float | None:
        """`done` as a percentage of `total`; None when either is unknown."""
        if self.done is None or not self.total:
            return None
        # An estimated total (a base backup's) may be passed before it is corrected.
        return min(100.0, 100.0 * self.done / self.total)

    @property
    def key(self) -> OperationKey:
        """The same operation in the same phase, across readings (a pid is reused)."""
        return (self.pid, self.kind, self.phase, self.started)


async def read_progress(conn: Conn) -> tuple[Operation, ...]:
    """Every operation in progress on the server, oldest first: one statement.

    Relation names are read from the current database's catalog only.
    """
    rows = await conn.fetch(progress_statement(conn.get_server_version().major))
    return tuple(_operation(r) for r in rows)


def progress_statement(major: int) -> str:
    """`progress.sql` for a server of version `major`: without COPY before 14."""
    sql = load_sql(__name__, "progress.sql")
    if major >= COPY_SINCE:
        return sql
    start = sql.index(COPY_MARKER)
    return sql[:start] + sql[sql.index("\n)", start) + 1 :]


def _operation(row: Any) -> Operation:
    # The statement's columns are the fields, by name.
    return Operation(**dict(row.items()))


def on_relation(
    operations: Iterable[Operation], schema: str, relation: str
) -> tuple[Operation, ...]:
    """The operations on one relation of the current database (its details view)."""
    return tuple(o for o in operations if o.schema == schema and o.relation == relation)


# --- rates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pace:
    """How fast an operation's phase goes, and how long it may still take."""

    rate: float | None
    """`unit`s per second since the previous reading; None on an operation's first reading
    in this phase, or when its phase counts nothing."""
    eta_seconds: float | None
    """Seconds left at this rate; None without a rate or a total, or at a standstill."""


UNKNOWN = Pace(None, None)


def rates(
    previous: Sequence[Operation], current: Sequence[Operation], seconds: float
) -> dict[OperationKey, Pace]:
    """The pace of each operation of `current`, from `previous`, read `seconds` earlier.

    An operation is compared with itself in the same phase only: a new phase counts
    something else (`OperationKey`).
    """
    before = {o.key: o for o in previous}
    return {o.key: _pace(before.get(o.key), o, seconds) for o in current}


def _pace(before: Operation | None, now: Operation, seconds: float) -> Pace:
    if before is None or before.done is None or now.done is None or seconds <= 0:
        return UNKNOWN
    # A counter that went back started over (a new index pass): no rate from it.
    if now.done < before.done:
        return UNKNOWN
    rate = (now.done - before.done) / seconds
    if now.total is None or rate == 0:
        return Pace(rate, None)
    return Pace(rate, max(0, now.total - now.done) / rate)


class ProgressRates:
    """Keeps the last reading and its time, to give each new reading its pace."""

    def __init__(self) -> None:
        self._previous: Sequence[Operation] = ()
        self._at: float | None = None

    def update(self, current: Sequence[Operation], at: float) -> Mapping[OperationKey, Pace]:
        """The pace of each operation of `current`, read at `at` (`time.monotonic()`)."""
        seconds = 0.0 if self._at is None else at - self._at
        paces = rates(self._previous, current, seconds)
        self._previous, self._at = current, at
        return paces


# --- when to look --------------------------------------------------------------------------

_REPORTING = re.compile(
    r"^\s*(vacuum|analy[sz]e|create\s+(unique\s+)?index|reindex|cluster|copy|base_backup)\b",
    re.IGNORECASE,
)
"""The statements that report progress (after any leading comments)."""
_COMMENTS = re.compile(r"^(\s*(--[^\n]*\n|/\*.*?\*/))*", re.DOTALL)


def may_be_running(backends: Iterable[Backend]) -> bool:
    """Whether a sample of pg_stat_activity shows something that may report progress: an
    autovacuum worker or an active statement of a reporting kind. The activity screen reads
    progress only then, so a quiet server costs it no statement more. Other roles' sessions
    hidden from the role are left out: their progress is hidden from it too."""
    for backend in backends:
        if backend.backend_type == "autovacuum worker":
            return True
        if backend.state != "active" or backend.is_self or backend.query is None:
            continue
        if _REPORTING.match(_COMMENTS.sub("", backend.query, count=1)):
            return True
    return False
