"""Operations in progress (VACUUM, ANALYZE, CREATE INDEX, CLUSTER, base backups, COPY): the
diagnostics' progress panel, and the one-line form the activity screen and the relation
details show."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from pgconsole.db.connection.pool import Conn
from pgconsole.db.diagnostics.progress import (
    UNKNOWN,
    Operation,
    OperationKey,
    Pace,
    ProgressRates,
    read_progress,
)
from pgconsole.text import visible
from pgconsole.widgets.diagnostics_panel import Panel
from pgconsole.widgets.session_rows import SessionRow, one_line
from pgconsole.widgets.session_table import SessionTable
from pgconsole.widgets.sparkline import duration, human

HEADERS = ("pid", "operation", "relation", "done", "rate", "finish", "phase")
UNITS = {"blocks": "blk", "tuples": "tup", "bytes": "B"}
"""Short units for the panel's narrow columns."""
NOTHING = "No VACUUM, ANALYZE, CREATE INDEX, CLUSTER, base backup or COPY running."


def what(op: Operation) -> str:
    """`VACUUM FULL`, `CREATE INDEX CONCURRENTLY`, `vacuum`..."""
    return visible(op.command or op.kind)


def short_what(op: Operation) -> str:
    """The panel's column: the kind, `autovacuum` for autovacuum's."""
    if (op.command or "").startswith("autovacuum"):
        return "autovacuum"
    return op.kind


def relation(op: Operation) -> str:
    if op.relation is not None:
        return visible(f"{op.schema}.{op.relation}")
    if op.relid is not None:
        return f"oid {op.relid} in {visible(op.database or '?')}"
    return "-"


def done(op: Operation) -> str:
    """`45% of 1.2M blocks`, `12.3k tuples`, `-`."""
    if op.done is None:
        return "-"
    percent = op.percent
    if percent is not None and op.total is not None:
        return f"{percent:.0f}% of {human(op.total)} {op.unit}"
    return f"{human(op.done)} {op.unit}"


def rate(op: Operation, pace: Pace) -> str:
    return "-" if pace.rate is None else f"{human(pace.rate)} {op.unit}/s"


def finish(pace: Pace) -> str:
    return "-" if pace.eta_seconds is None else f"in {duration(pace.eta_seconds)}"


def one_line_of(op: Operation, pace: Pace) -> str:
    """The activity screen's and the relation details' line for one operation."""
    parts = [f"pid {op.pid}", what(op), relation(op), visible(op.phase) or "-", done(op)]
    if pace.rate is not None:
        parts.append(rate(op, pace))
    if pace.eta_seconds is not None:
        parts.append(finish(pace))
    return " · ".join(parts)


def lines(operations: Sequence[Operation], paces: Mapping[OperationKey, Pace]) -> Text:
    """One line per operation, for a Static (the activity screen, the relation details)."""
    text = Text()
    for number, op in enumerate(operations):
        if number:
            text.append("\n")
        text.append("in progress ", "bold")
        text.append(one_line_of(op, paces.get(op.key, UNKNOWN)))
    return text


def operation_row(op: Operation, pace: Pace) -> SessionRow:
    """One line of the panel's table (keyed by pid: a backend runs one at a time)."""
    unit = UNITS.get(op.unit, op.unit)
    share = "-" if op.percent is None else f"{op.percent:.0f}%"
    count = "-" if op.done is None else f"{share} {human(op.done)}/{human(op.total)} {unit}"
    if op.done is not None and op.total is None:
        count = f"{human(op.done)} {unit}"
    return SessionRow(
        op.pid,
        (
            str(op.pid),
            short_what(op),
            relation(op),
            count,
            "-" if pace.rate is None else f"{human(pace.rate)}/s",
            "-" if pace.eta_seconds is None else duration(pace.eta_seconds),
            one_line(op.phase) or "-",
        ),
    )


def details(op: Operation, pace: Pace) -> str:
    """Enter: everything about one operation, its statement in full."""
    rows = [
        f"{what(op)} · pid {op.pid} · role {op.role or '?'} · database {op.database or '?'}",
        f"relation: {relation(op)}",
        f"phase: {op.phase or '-'}",
        f"done: {done(op)}" + ("" if op.total is None else f" ({op.done:,} of {op.total:,})"),
        f"rate: {rate(op, pace)} · finish: {finish(pace)}",
        f"started: {op.started or '-'}",
    ]
    if op.query:
        rows.extend(("", op.query))
    return visible("\n".join(rows), keep_newlines=True)


class ProgressPanel(Panel):
    """Every operation in progress on the server, oldest first."""

    TITLE = "Progress"
    INTERVAL = 1.0
    ACTIONS = frozenset({"details"})

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rates = ProgressRates()
        self.operations: tuple[Operation, ...] = ()
        self.paces: Mapping[OperationKey, Pace] = {}

    def compose(self) -> ComposeResult:
        yield Static("reading…", id="progress-summary")
        yield SessionTable(HEADERS, id="operations")

    async def read(self, conn: Conn) -> tuple[Operation, ...]:
        return await read_progress(conn)

    def show(self, reading: tuple[Operation, ...]) -> None:
        self.show_at(reading, time.monotonic())

    def show_at(self, reading: tuple[Operation, ...], at: float) -> None:
        """Show a reading taken at `at` (`time.monotonic()`), paced against the one before."""
        self.readings += 1
        self.operations = reading
        self.paces = self.rates.update(reading, at)
        rows = [operation_row(op, self.paces.get(op.key, UNKNOWN)) for op in reading]
        self.query_one("#operations", SessionTable).show(rows)
        count = len(reading)
        summary = f"{count} operation{'s' if count != 1 else ''} in progress" if count else NOTHING
        self.query_one("#progress-summary", Static).update(Text(summary))

    def selected(self) -> tuple[Operation, Pace] | None:
        pid = self.query_one("#operations", SessionTable).selected_pid
        op = next((o for o in self.operations if o.pid == pid), None)
        return None if op is None else (op, self.paces.get(op.key, UNKNOWN))
