"""What the activity screen's sessions table lists: a line per backend, the columns that fit,
the order and the filter. Plain functions of the sample, drawn by `SessionTable`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from rich.cells import cell_len

from pgconsole.cells import fit
from pgconsole.db.activity import stats
from pgconsole.text import visible
from pgconsole.widgets.sparkline import duration

if TYPE_CHECKING:
    from pgconsole.db.console.connection import ConsoleConnection

LONG_QUERY_SECONDS = 60.0
"""A query or transaction running this long is highlighted."""
HEADERS = (
    "pid", "user", "state", "xact", "query age", "wait", "db", "app", "client", "backend",
    "query",
)  # fmt: skip
"""The sessions table's columns: what matters on call first; the query takes what is left."""
ALWAYS = (0, 2, 3, 4, 5, 10)
"""Columns shown at any width: pid, state, xact, query age, wait and the query."""
OPTIONAL = (1, 6, 7, 8, 9)
"""The other columns, most useful first: user, db, app, client, backend type."""
QUERY_MIN = 40
"""Cells the query keeps at least before an optional column is added."""
STATES = {
    "idle in transaction": "idle in tx",
    "idle in transaction (aborted)": "idle in tx (aborted)",
    "fastpath function call": "fastpath call",
}
"""Long states, shortened for the sessions table."""

MAX_WIDTH = 30
"""Widest a column other than the last grows."""


@dataclass(frozen=True)
class SessionRow:
    """One line: the session's pid, its cells (already made visible), and how to mark it."""

    pid: int
    cells: tuple[str, ...]
    mark: str = ""
    """"" or a component class suffix: `own` (pgconsole's), `idle-tx`, `long`, `waiting`."""


def column_widths(headers: Sequence[str], rows: Sequence[SessionRow]) -> list[int]:
    """Each column's width in cells: its widest cell or header, at most `MAX_WIDTH` (the last
    column, the query, takes what is left of the line)."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row.cells[:-1]):
            widths[i] = max(widths[i], min(cell_len(cell), MAX_WIDTH))
    return widths


def line_text(cells: Sequence[str], widths: Sequence[int], width: int) -> str:
    """One line of the table, `width` cells at most: each column fitted to its width (cut with
    an ellipsis), the last one cut at the line's end."""
    parts = [fit(cell, widths[i], right=False) + " " for i, cell in enumerate(cells[:-1])]
    parts.extend(cells[-1:])
    return fit("".join(parts), width, right=False) if width > 0 else ""


SORTS = (
    "xact_age", "query_age", "pid", "state", "user", "database", "application", "client",
    "backend_type", "wait_event", "query",
)  # fmt: skip
"""The orders `o` steps through: a `stats.Backend` attribute each."""


def one_line(text: str | None, limit: int = 200) -> str:
    """A query on one line, control characters visible, cut to `limit`."""
    if text is None:
        return ""
    return visible(" ".join(text.split()))[:limit]


def query_of(session: stats.Backend, console: ConsoleConnection | None) -> str | None:
    """What the session runs, in words (`stats.shown_query`): the app's console's backend
    shows the statement behind its cursor."""
    known = None
    if console is not None and console.pid is not None and console.pid == session.pid:
        known = console.cursor_statement
    return stats.shown_query(session, known)


def whole_query(session: stats.Backend, shown: str | None) -> str | None:
    """What Enter shows of the session's query: `shown` (`query_of`), then what
    pg_stat_activity shows when that says something else."""
    if shown != session.query and session.query:
        return f"{shown}\n\n-- pg_stat_activity shows:\n{session.query}"
    return shown


def session_row(session: stats.Backend, query: str | None = None) -> SessionRow:
    """The table's line for one session, every column of `HEADERS`; waiting, long-running and
    idle in transaction marked, pgconsole's own sessions dim with a `*` after the pid.

    Args:
        session: The backend.
        query: What to show as its query (`stats.shown_query`); its own query if None.
    """
    state = session.state or ""
    mark = "own" if session.is_pgconsole else ""
    if state.startswith("idle in transaction"):
        mark = "idle-tx"
    if (session.xact_age or 0) >= LONG_QUERY_SECONDS and state != "idle":
        mark = "long"
    if session.blocked_by:
        mark = "waiting"
    wait = session.wait_event or session.wait_event_type or ""
    if query is None:
        query = stats.shown_query(session)
    query = one_line(query, 300)
    if session.is_self:
        query += " (this screen)"
    values = (
        str(session.pid) + ("*" if session.is_pgconsole else ""),
        session.user or "",
        STATES.get(state, state),
        duration(session.xact_age),
        duration(session.query_age),
        wait,
        session.database or "",
        session.application or "",
        session.client or "",
        session.backend_type or "",
        query,
    )
    return SessionRow(session.pid, tuple(visible(v) for v in values), mark)


def chosen_columns(rows: Sequence[SessionRow], width: int) -> tuple[int, ...]:
    """The columns (indexes into `HEADERS`) that fit in `width` cells for these rows.

    pid, state, ages, wait and the query always; then user, db, app, client and backend type
    while the query keeps `QUERY_MIN` cells, a user or database that every row shares last.
    """

    def cells(index: int) -> int:
        widest = max((cell_len(row.cells[index]) for row in rows), default=0)
        return min(max(len(HEADERS[index]), widest), MAX_WIDTH) + 1

    def shared(index: int) -> bool:
        # A user or database every session shares says little: it goes after the others.
        return HEADERS[index] in ("user", "db") and len({row.cells[index] for row in rows}) <= 1

    left = width - sum(cells(i) for i in ALWAYS[:-1])
    chosen = set(ALWAYS)
    for index in sorted(OPTIONAL, key=lambda i: (shared(i), OPTIONAL.index(i))):
        if left - cells(index) < QUERY_MIN:
            break
        left -= cells(index)
        chosen.add(index)
    return tuple(sorted(chosen))


def fitted(rows: Sequence[SessionRow], width: int) -> tuple[list[SessionRow], tuple[str, ...]]:
    """The rows cut down to the columns that fit in `width` cells, and those columns' headers."""
    columns = chosen_columns(rows, width)
    return (
        [SessionRow(r.pid, tuple(r.cells[i] for i in columns), r.mark) for r in rows],
        tuple(HEADERS[i] for i in columns),
    )


def sort_key(session: stats.Backend, column: str) -> tuple[int, object]:
    """Sessions with a value first (largest age first), then the rest by pid."""
    value = getattr(session, column)
    if value is None:
        return (1, session.pid)
    if column.endswith("_age"):
        return (0, -float(value))
    return (0, value)


@dataclass(frozen=True)
class SessionView:
    """Which sessions the table lists, and in what order."""

    show_idle: bool = True
    show_background: bool = False
    """The server's own processes (checkpointer, walwriter, autovacuum...) too."""
    text: str = ""
    """Only the sessions with this text in a column, in any case; every one when empty."""
    sort: str = SORTS[0]
    """One of `SORTS`."""

    def next_sort(self) -> SessionView:
        """Sorted by the next of `SORTS`, after the last the first."""
        return replace(self, sort=SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)])


def listed(
    sessions: Iterable[stats.Backend],
    view: SessionView,
    query_text: Callable[[stats.Backend], str | None] = stats.shown_query,
) -> list[stats.Backend]:
    """The sessions `view` keeps, in its order.

    Args:
        sessions: Every session of the sample.
        view: What to keep and how to sort.
        query_text: What a session runs, in words, searched as well as its own query.
    """
    wanted = view.text.lower()
    rows = []
    for session in sessions:
        if not view.show_idle and session.state == "idle":
            continue
        if not view.show_background and session.is_background:
            continue
        if wanted and not any(
            wanted in str(value).lower()
            for value in (
                session.pid,
                session.user,
                session.database,
                session.application,
                session.client,
                session.state,
                session.query,
                query_text(session),
                session.lock_relation,
            )
            if value is not None
        ):
            continue
        rows.append(session)
    rows.sort(key=lambda s: sort_key(s, view.sort))
    return rows
