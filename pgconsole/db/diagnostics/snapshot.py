"""The incident snapshot: everything the diagnostics know about a server, in one bundle, for
tools (JSON) and for people (Markdown, to paste into a ticket).

`take_snapshot` watches the server for a window (10 s by default): pg_stat_statements'
counters at its start and at its end give each statement's cost over the window, and the
wait events are sampled 10 times a second in between. Then it reads the sessions and their
blocking chains, the vacuum horizon, the operations in progress (with their pace over the
window), replication, and the settings an incident report needs. The bundle holds plain JSON
values only: `json.dumps` takes it as it is.

Query texts carry the application's data (literals in WHERE clauses, names in SELECT lists).
With `redact=True` every one of them, in every section, is replaced by its first keywords
and its length (`redact_queries`, the one place that does it). `write_bundle` writes the
bundle as `.json` and `.md`, readable by its owner only, and never over an existing file.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from pgconsole.db.activity import stats
from pgconsole.db.connection.pool import Conn
from pgconsole.db.diagnostics.horizon import Horizon, read_horizon
from pgconsole.db.diagnostics.progress import ProgressRates, read_progress
from pgconsole.db.diagnostics.replication import read_replication
from pgconsole.db.diagnostics.statements import StatementsUnavailable, StatementWatch
from pgconsole.db.diagnostics.waits import DETAIL_SECONDS, WaitHistory, from_backends, read_waits
from pgconsole.db.sqlfiles import load_sql

Bundle = dict[str, Any]
"""A snapshot: plain JSON values (dicts, lists, str, numbers, bools, None)."""

FORMAT = 1
"""The bundle's `format`: raised when a key changes meaning or goes away."""
SECTIONS = ("format", "taken_at", "source", "server", "window_seconds", "sessions", "locks",
            "waits", "statements", "horizon", "progress", "replication", "settings")  # fmt: skip
"""The bundle's top-level keys, in order."""
SAMPLE_INTERVAL = 0.1
"""Seconds between two wait samples (10 Hz, as the diagnostics screen samples)."""
STATEMENTS_LISTED = 25
"""Statements in the bundle, the costliest over the window by time first."""
QUERY = "query"
"""The key every query text of every section is kept under (and redacted from)."""
REDACTED_WORDS = 3
"""Leading keywords a redacted query keeps at most (`CREATE UNIQUE INDEX`)."""
KEYWORDS = frozenset((
    "ABORT", "ALL", "ALTER", "ANALYSE", "ANALYZE", "AND", "BEGIN", "CALL", "CHECKPOINT", "CLOSE",
    "CLUSTER", "COMMENT", "COMMIT", "CONCURRENTLY", "COPY", "CREATE", "DATABASE", "DEALLOCATE",
    "DECLARE", "DELETE", "DISCARD", "DISTINCT", "DO", "DROP", "END", "EXECUTE", "EXISTS",
    "EXPLAIN", "EXTENSION", "FETCH", "FOR", "FREEZE", "FROM", "FULL", "FUNCTION", "GRANT", "IF",
    "IMPORT", "INDEX", "INSERT", "INTO", "ISOLATION", "LEVEL", "LISTEN", "LOAD", "LOCK",
    "MATERIALIZED", "MERGE", "MOVE", "NOT", "NOTIFY", "ON", "OR", "PREPARE", "PREPARED",
    "PROCEDURE", "READ", "RECURSIVE", "REFRESH", "REINDEX", "RELEASE", "REPLACE", "RESET",
    "REVOKE", "ROLLBACK", "SAVEPOINT", "SCHEMA", "SELECT", "SEQUENCE", "SET", "SHOW", "START",
    "TABLE", "TEMP", "TEMPORARY", "TRANSACTION", "TRIGGER", "TRUNCATE", "UNIQUE", "UNLISTEN",
    "UPDATE", "VACUUM", "VALUES", "VERBOSE", "VIEW", "WITH", "WORK"
))  # fmt: skip
"""The words a redacted query may keep: SQL's own, never a name or a value of the user's."""
_LEADING_NOISE = re.compile(r"(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.DOTALL)
_WORD = re.compile(r"([A-Za-z]+)\b\s*")


# --- taking it -----------------------------------------------------------------------------


async def take_snapshot(
    conn: Conn,
    *,
    window: float = 10.0,
    redact: bool = False,
    clock: Callable[[], float] = time.time,
    endpoint: tuple[str, int] | None = None,
) -> Bundle:
    """Watch the server for `window` seconds, then read everything else once.

    About 10 statements a second of `window`, and 12 more,, one at a time, on `conn`.

    Args:
        conn: A connection outside any transaction: in one, the statistics views would show
            the same instant all along the window.
        window: Seconds to sample the waits and measure the statements over.
        redact: Replace every query text by its first keywords and length.
        clock: Seconds since the epoch (`time.time`): when the snapshot is taken, and the
            seconds the wait samples are counted in.
        endpoint: The host and port the client connected to, as it named them; without
            one the bundle names the server's address of this connection.

    Raises:
        ValueError: `window` is not positive.
        One of asyncpg's or OSError: the server failed a reading or the connection broke
            (pg_stat_statements missing is said in the bundle instead).
    """
    if not window > 0:
        raise ValueError(f"the window must be longer than 0 seconds, not {window}")
    started = clock()
    watch = StatementWatch()
    unavailable: str | None = None
    try:
        await watch.refresh(conn)
    except StatementsUnavailable as error:
        unavailable = str(error)
    paces = ProgressRates()
    paces.update(await read_progress(conn), clock())
    history = await sample_waits(conn, window, clock)
    if unavailable is None:
        await watch.refresh(conn, STATEMENTS_LISTED, "time")
    sample = await stats.sample(conn)
    horizon = await read_horizon(conn)
    operations = await read_progress(conn)
    pace = paces.update(operations, clock())
    replication = await read_replication(conn)
    settings = await conn.fetch(load_sql(__name__, "snapshot_settings.sql"))
    server = await conn.fetchrow(load_sql(__name__, "snapshot_server.sql"))
    assert server is not None  # one row, always
    host, port = endpoint or (server["address"], server["port"])
    bundle: Bundle = {
        "format": FORMAT,
        "taken_at": plain(datetime.datetime.fromtimestamp(started, datetime.UTC)),
        "source": "live",
        "server": {
            "host": host,
            "port": port,
            "database": server["database"],
            "user": server["user"],
            "version": server["version"],
            "version_num": server["version_num"],
            "in_recovery": server["in_recovery"],
            "server_time": plain(server["server_time"]),
        },
        "window_seconds": window,
        "sessions": [plain(b) for b in sample.backends],
        "locks": lock_rows(stats.lock_tree(sample.backends)),
        "waits": waits_section(history),
        "statements": (
            {"available": False, "reason": unavailable}
            if unavailable is not None
            else statements_section(watch)
        ),
        "horizon": horizon_section(horizon),
        "progress": [
            {**plain(o), "percent": o.percent, "rate": p.rate, "eta_seconds": p.eta_seconds}
            for o in operations
            for p in [pace[o.key]]
        ],
        "replication": plain(replication),
        "settings": [plain(dict(row.items())) for row in settings],
    }
    return redact_queries(bundle) if redact else bundle


NOT_RECORDED = (
    "a recording (and the rewind buffer) keeps only the activity screen's samples: "
    "sessions, locks, waits, the server's counters"
)


def from_samples(
    samples: Sequence[stats.Sample],
    *,
    source: str,
    host: str,
    port: int,
    database: str,
    version: str,
    redact: bool = False,
) -> Bundle:
    """A snapshot of recorded samples: the sessions and locks of the last, the waits over all
    of them; what a recording does not keep says so (`available` false, with the reason),
    never an empty list that would claim there was nothing.

    Args:
        samples: In order, at least one: the window ends at the last.
        source: Where they come from: `recording FILE`, `rewind buffer`.

    Raises:
        ValueError: No samples.
    """
    if not samples:
        raise ValueError("a snapshot needs one sample at least")
    first, last = samples[0].server, samples[-1].server
    history = WaitHistory()
    for sample in samples:
        history.add(from_backends(sample.backends), at=sample.server.taken_at)
    history.add((), at=float(int(last.taken_at) + 1))  # closes the last second
    taken = plain(datetime.datetime.fromtimestamp(last.taken_at, datetime.UTC))
    missing = {"available": False, "reason": NOT_RECORDED}
    bundle: Bundle = {
        "format": FORMAT,
        "taken_at": taken,
        "source": source,
        "server": {
            "host": host,
            "port": port,
            "database": database,
            "user": None,
            "version": version,
            "version_num": None,
            "in_recovery": None,
            "server_time": taken,
        },
        "window_seconds": last.taken_at - first.taken_at,
        "sessions": [plain(b) for b in samples[-1].backends],
        "locks": lock_rows(stats.lock_tree(samples[-1].backends)),
        "waits": waits_section(history),
        "statements": missing,
        "horizon": {
            **missing,
            "xmin_horizon_age": last.xmin_horizon_age,
            "oldest_xact_age": last.oldest_xact_age,
        },
        "progress": missing,
        "replication": {**missing, "replay": plain(last.replication)},
        "settings": missing,
    }
    return redact_queries(bundle) if redact else bundle


async def sample_waits(conn: Conn, window: float, clock: Callable[[], float]) -> WaitHistory:
    """`read_waits` every `SAMPLE_INTERVAL` for `window` seconds, each sample counted in its
    clock second; the last second is closed, so every sample is in `WaitHistory.seconds`."""
    history = WaitHistory()
    start = clock()
    taken = 0
    at = start
    while taken == 0 or at - start < window:
        history.add(await read_waits(conn), at=at)
        taken += 1
        # On schedule, not SAMPLE_INTERVAL after each sample: a slow sample is not a drift.
        await asyncio.sleep(max(0.0, start + taken * SAMPLE_INTERVAL - clock()))
        at = clock()
    # An empty sample in the next second closes the last one (and is never counted).
    history.add((), at=float(int(at) + 1))
    return history


# --- sections ------------------------------------------------------------------------------


def plain(value: object) -> Any:
    """`value` as JSON values: a dataclass or mapping a dict, a tuple a list, a datetime its
    ISO text, a Decimal a number, an interval its seconds; anything else (an address) its
    text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return str(value)


def lock_rows(roots: Iterable[stats.LockNode]) -> list[dict[str, Any]]:
    """The blocking tree as rows in depth-first order, each with its `depth` (0: a root
    blocker): flat, since a queue for one row can nest deeper than a JSON reader recurses."""
    rows: list[dict[str, Any]] = []
    stack = [(node, 0) for node in reversed(tuple(roots))]
    while stack:
        node, depth = stack.pop()
        b = node.backend
        rows.append(
            {
                "depth": depth,
                "pid": b.pid,
                "blocked_by": list(b.blocked_by),
                "user": b.user,
                "database": b.database,
                "backend_type": b.backend_type,
                "state": b.state,
                "wait_event_type": b.wait_event_type,
                "wait_event": b.wait_event,
                "lock_mode": b.lock_mode,
                "lock_relation": b.lock_relation,
                "xact_age": b.xact_age,
                "repeated": node.repeated,
                QUERY: b.query,
            }
        )
        stack.extend((child, depth + 1) for child in reversed(node.children))
    return rows


def waits_section(history: WaitHistory) -> dict[str, Any]:
    """The window's active time by event, session and statement, and each second by type."""

    def shares(group: Any) -> list[Any]:
        return history.breakdown(group, DETAIL_SECONDS)

    return {
        "samples": sum(s.samples for s in history.seconds),
        "interval_seconds": SAMPLE_INTERVAL,
        "by_event": [
            {"event": s.label, "type": s.top_event, "sessions": s.sessions, "share": s.share}
            for s in shares("event")
        ],
        "by_session": [
            {"pid": int(s.label), "sessions": s.sessions, "share": s.share, "event": s.top_event}
            for s in shares("session")
        ],
        "by_statement": [
            {
                "query_id": None if s.label == "-" else int(s.label),
                "sessions": s.sessions,
                "share": s.share,
                "event": s.top_event,
                QUERY: s.query,
            }
            for s in shares("statement")
        ],
        "per_second": [
            {
                "at": plain(datetime.datetime.fromtimestamp(s.start, datetime.UTC)),
                "samples": s.samples,
                "sessions_by_type": s.by_type(),
            }
            for s in history.seconds
        ],
    }


def statements_section(watch: StatementWatch) -> dict[str, Any]:
    """The statements that cost most over the window (the two readings), by time."""
    last = watch.readings[-1]
    top = []
    for d in watch.top(None, "time", STATEMENTS_LISTED):
        text = watch.texts.get(d.key)
        top.append(
            {
                "query_id": d.key[2],
                "toplevel": d.key[3],
                "role": text.role if text else None,
                "database": text.database if text else None,
                "calls": d.calls,
                "total_ms": d.time_ms,
                "mean_ms": d.mean_ms,
                "rows": d.rows,
                "shared_blocks_hit": d.hit,
                "shared_blocks_read": d.read,
                "hit_share": d.hit_share,
                "temp_blocks": d.temp,
                "wal_bytes": d.wal_bytes,
                QUERY: text.query if text else None,
            }
        )
    return {
        "available": True,
        "seconds": watch.span(None),
        "sort": "time",
        "stats_reset": plain(last.reset),
        "hidden_entries": last.hidden,
        "top": top,
    }


def horizon_section(horizon: Horizon) -> dict[str, Any]:
    """The holders of the xmin horizon, oldest first, and what it costs this database."""
    section: dict[str, Any] = plain(horizon)
    section["holders"] = [
        {
            **plain(h),
            "scope": h.scope,
            "remedy": h.remedy,
            "keeps_dead_tuples": h.keeps(horizon.totals),
        }
        for h in horizon.holders
    ]
    return section


# --- redaction -----------------------------------------------------------------------------


def redact_query(text: str) -> str:
    """`SELECT … (redacted, 84 chars)`: the statement's first SQL keywords (after any
    comment) and its length; never a literal, a name or a comment of it."""
    rest = text[_LEADING_NOISE.match(text).end() :]  # type: ignore[union-attr]
    words: list[str] = []
    position = 0
    while len(words) < REDACTED_WORDS:
        match = _WORD.match(rest, position)
        if match is None or match.group(1).upper() not in KEYWORDS:
            break
        words.append(match.group(1).upper())
        position = match.end()
    head = " ".join(words)
    return f"{head + ' ' if head else ''}… (redacted, {len(text)} chars)"


def redact_queries(value: Any) -> Any:
    """A copy of a bundle (or of any part of one) with the text under every `query` key, in
    every section, redacted (`redact_query`); an empty one stays empty."""
    if isinstance(value, dict):
        return {
            key: redact_query(item)
            if key == QUERY and isinstance(item, str) and item
            else redact_queries(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_queries(item) for item in value]
    return value


# --- for people ----------------------------------------------------------------------------

SESSIONS_SHOWN = 30
"""Sessions in the report (blocked and blocking first, then the oldest transactions); the
JSON has them all."""
STATEMENTS_SHOWN = 10
QUERY_SHOWN = 100
"""Characters of a query a table cell shows."""


def to_markdown(bundle: Bundle) -> str:
    """The bundle as a report to paste into a ticket: a heading and a short table a section."""
    server = bundle["server"]
    role = {None: "primary or standby not recorded", True: "standby"}.get(
        server["in_recovery"], "primary"
    )
    source = bundle.get("source", "live")
    taken = "Taken" if source == "live" else f"From the {_cell(source)}, at"
    lines = [
        "# pgconsole incident snapshot",
        "",
        f"{taken} {bundle['taken_at']} (UTC) over {_number(bundle['window_seconds'])} s on "
        f"{_cell(server['host'])}:{_cell(server['port'])}, database {_cell(server['database'])}"
        + (f" as {_cell(server['user'])}" if server["user"] is not None else "")
        + f": PostgreSQL {_cell(server['version'])}, {role}.",
    ]
    for section in (_sessions, _locks, _waits, _statements, _horizon, _progress, _replication):
        lines += ["", *section(bundle)]
    lines += ["", "## Settings", ""]
    if isinstance(bundle["settings"], dict):
        lines.append(f"Not in this snapshot: {_cell(bundle['settings']['reason'])}")
    else:
        lines += _table(
            ("name", "setting", "unit", "source"),
            [(s["name"], s["setting"], s["unit"], s["source"]) for s in bundle["settings"]],
        )
    return "\n".join(lines) + "\n"


def _not_recorded(title: str, section: dict[str, Any], *figures: tuple[str, object]) -> list[str]:
    """A section a recorded snapshot does not hold, with the figures it does."""
    lines = [f"## {title}", "", f"Not in this snapshot: {_cell(section['reason'])}"]
    known = [f"{name}: {_cell(value)}" for name, value in figures if value is not None]
    return lines + (["", "Recorded: " + ", ".join(known) + "."] if known else [])


def _sessions(bundle: Bundle) -> list[str]:
    sessions = [s for s in bundle["sessions"] if not s["is_self"]]
    blocking = {pid for s in sessions for pid in s["blocked_by"]}

    def urgency(s: dict[str, Any]) -> tuple[bool, bool, float]:
        involved = bool(s["blocked_by"]) or s["pid"] in blocking
        background = s["backend_type"] not in (None, "client backend")
        return (not involved, background, -(s["xact_age"] or s["query_age"] or 0.0))

    shown = sorted(sessions, key=urgency)[:SESSIONS_SHOWN]
    lines = ["## Sessions", ""]
    if len(sessions) > len(shown):
        lines += [f"{len(shown)} of {len(sessions)} (blocked and blocking first, then the "
                  "oldest transactions; all of them in the JSON).", ""]  # fmt: skip
    return lines + _table(
        ("pid", "user", "database", "state", "wait", "transaction", "query age", "blocked by",
         "query"),
        [
            (s["pid"], s["user"], s["database"], s["state"] or s["backend_type"], _wait(s),
             _seconds(s["xact_age"]), _seconds(s["query_age"]),
             ", ".join(map(str, s["blocked_by"])), _code(s[QUERY]))
            for s in shown
        ],
    )  # fmt: skip


def _locks(bundle: Bundle) -> list[str]:
    rows = bundle["locks"]
    lines = ["## Locks", ""]
    if not rows:
        return [*lines, "No session waits for another."]
    return lines + _table(
        ("pid (waiters below their blocker)", "waits for", "lock", "relation", "state",
         "transaction", "query"),
        [
            ("↳ " * r["depth"] + str(r["pid"]) + (" (above)" if r["repeated"] else ""),
             ", ".join(map(str, r["blocked_by"])), r["lock_mode"], r["lock_relation"],
             r["state"] or r["backend_type"], _seconds(r["xact_age"]), _code(r[QUERY]))
            for r in rows
        ],
    )  # fmt: skip


def _waits(bundle: Bundle) -> list[str]:
    waits = bundle["waits"]
    lines = [
        "## Waits",
        "",
        f"{waits['samples']} samples of the active sessions over "
        f"{_number(bundle['window_seconds'])} s; sessions: the average number in that wait "
        "(1 = one session all the time).",
        "",
    ]
    if not waits["by_event"]:
        return [*lines, "No active session was seen."]
    lines += _table(
        ("wait event", "sessions", "share"),
        [(w["event"], _number(w["sessions"]), _share(w["share"])) for w in waits["by_event"]],
    )
    lines += ["", "By statement:", ""]
    return lines + _table(
        ("query id", "sessions", "main wait", "query"),
        [
            (w["query_id"], _number(w["sessions"]), w["event"], _code(w[QUERY]))
            for w in waits["by_statement"][:STATEMENTS_SHOWN]
        ],
    )


def _statements(bundle: Bundle) -> list[str]:
    statements = bundle["statements"]
    if statements.get("reason") == NOT_RECORDED:
        return _not_recorded("Statements", statements)
    lines = ["## Statements", ""]
    if not statements["available"]:
        return [*lines, f"pg_stat_statements is not available: {_cell(statements['reason'])}"]
    top = statements["top"][:STATEMENTS_SHOWN]
    lines += [f"The costliest over {_number(statements['seconds'])} s, by time.", ""]
    return lines + _table(
        ("time ms", "calls", "mean ms", "rows", "blocks read", "temp blocks", "role", "query"),
        [
            (_number(s["total_ms"]), _number(s["calls"]), _number(s["mean_ms"]),
             _number(s["rows"]), _number(s["shared_blocks_read"]), _number(s["temp_blocks"]),
             s["role"], _code(s[QUERY]))
            for s in top
        ],
    )  # fmt: skip


def _horizon(bundle: Bundle) -> list[str]:
    horizon = bundle["horizon"]
    if horizon.get("available") is False:
        return _not_recorded(
            "Horizon",
            horizon,
            ("xmin horizon age", horizon["xmin_horizon_age"]),
            ("oldest transaction", _seconds(horizon["oldest_xact_age"])),
        )
    lines = ["## Horizon", ""]
    if horizon["holders"]:
        lines += _table(
            ("holder", "name", "xmin age", "held for", "state", "scope", "query"),
            [
                (h["kind"], h["name"], h["xmin_age"], _seconds(h["seconds"]), h["state"],
                 h["scope"], _code(h[QUERY]))
                for h in horizon["holders"]
            ],
        )  # fmt: skip
    else:
        lines.append("Nothing holds the xmin horizon back.")
    totals = horizon["totals"]
    lines += ["", f"Dead tuples in this database: {totals['user']} in user tables, "
              f"{totals['catalog']} in catalogs.", ""]  # fmt: skip
    return lines + _table(
        ("database", "frozen xid age", "of autovacuum_freeze_max_age"),
        [(d["name"], d["age"], _share(d["age"] / d["max_age"] if d["max_age"] else None))
         for d in horizon["databases"]],
    )  # fmt: skip


def _progress(bundle: Bundle) -> list[str]:
    if isinstance(bundle["progress"], dict):
        return _not_recorded("Progress", bundle["progress"])
    lines = ["## Progress", ""]
    if not bundle["progress"]:
        return [*lines, "No operation in progress."]
    return lines + _table(
        ("pid", "operation", "relation", "phase", "done", "finishes in", "query"),
        [
            (o["pid"], o["command"] or o["kind"],
             ".".join(p for p in (o["schema"], o["relation"]) if p) or o["relid"], o["phase"],
             _share(o["percent"] / 100 if o["percent"] is not None else None)
             or (f"{o['done']} {o['unit']}" if o["done"] is not None else ""),
             _seconds(o["eta_seconds"]), _code(o[QUERY]))
            for o in bundle["progress"]
        ],
    )  # fmt: skip


def _replication(bundle: Bundle) -> list[str]:
    replication = bundle["replication"]
    if replication.get("available") is False:
        lines = _not_recorded("Replication", replication)
        if not replication["replay"]:
            return lines
        return [*lines, "", *_table(
            ("standby", "state", "not replayed", "replay lag"),
            [(r["name"] or r["client"], r["state"], _bytes(r["lag_bytes"]),
              _seconds(r["replay_lag"])) for r in replication["replay"]],
        )]  # fmt: skip
    lines = ["## Replication", ""]
    upstream = replication["upstream"]
    if upstream is not None:
        lines += [
            f"A standby of {_cell(upstream['sender_host'])} ({_cell(upstream['status'])}): "
            f"{_bytes(upstream['unreplayed_bytes'])} not replayed, replay lag "
            f"{_seconds(upstream['replay_lag'])}, paused: {upstream['paused']}.",
            "",
        ]
    lines += _table(
        ("standby", "state", "sync", "not replayed", "replay lag", "xmin age"),
        [(s["application_name"] or s["client_addr"] or s["pid"], s["state"], s["sync_state"],
          _bytes(s["unreplayed_bytes"]), _seconds(s["replay_lag"]), s["xmin_age"])
         for s in replication["standbys"]],
    ) if replication["standbys"] else ["No standby streams from this server."]  # fmt: skip
    lines.append("")
    lines += _table(
        ("slot", "type", "active", "WAL retained", "wal_status", "xmin age"),
        [(s["name"], s["slot_type"], s["active"], _bytes(s["retained_bytes"]), s["wal_status"],
          s["xmin_age"] if s["xmin_age"] is not None else s["catalog_xmin_age"])
         for s in replication["slots"]],
    ) if replication["slots"] else ["No replication slot."]  # fmt: skip
    return lines


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines if len(lines) > 2 else [*lines, "| " + " | ".join("" for _ in headers) + " |"]


def _cell(value: object) -> str:
    """One line of Markdown table text: no newline, no column break."""
    if value is None:
        return ""
    text = " ".join(str(value).split())
    return text.replace("\\", "\\\\").replace("|", "\\|")


def _code(text: str | None) -> str:
    """A query as code, cut to `QUERY_SHOWN` characters; pgconsole's own by its name."""
    if not text:
        return ""
    label = stats.pgconsole_label(text)
    if label is not None:
        return _cell(f"({label})")
    flat = " ".join(text.split())
    flat = flat if len(flat) <= QUERY_SHOWN else flat[: QUERY_SHOWN - 1] + "…"
    fence = "``" if "`" in flat else "`"
    return f"{fence} {flat} {fence}".replace("|", "\\|")


def _wait(session: dict[str, Any]) -> str | None:
    kind, event = session["wait_event_type"], session["wait_event"]
    return f"{kind}:{event}" if kind else None


def _seconds(value: float | None) -> str:
    if value is None:
        return ""
    if value < 120:
        return f"{value:.1f} s"
    if value < 7200:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.0f}" if value == int(value) or abs(value) >= 100 else f"{value:.2f}"


def _share(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.0f}%"


def _bytes(value: int | None) -> str:
    if value is None:
        return ""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("kiB", 1 << 10)):
        if abs(value) >= size:
            return f"{value / size:.1f} {unit}"
    return f"{value} B"


# --- files ---------------------------------------------------------------------------------


class BundleExists(FileExistsError):
    """A file of the bundle is there already: a snapshot never overwrites one."""


def snapshot_name(bundle: Bundle) -> str:
    """`pgconsole-snapshot-<host>-<YYYYmmdd-HHMMSS>` (UTC), the default name of its files."""
    host = str(bundle["server"]["host"] or "local")
    safe = re.sub(r"[^A-Za-z0-9.-]+", "_", host).strip("._") or "local"
    taken = datetime.datetime.fromisoformat(bundle["taken_at"]).astimezone(datetime.UTC)
    return f"pgconsole-snapshot-{safe}-{taken:%Y%m%d-%H%M%S}"


def write_bundle(bundle: Bundle, path_without_suffix: Path | str) -> tuple[Path, Path]:
    """Write the bundle as `<path>.json` and its report as `<path>.md`, mode 0600.

    Each file is created readable by its owner only, from the first byte: query texts,
    role and host names are nobody else's business. Neither is written unless both can be.

    Returns:
        The JSON's path and the Markdown's.

    Raises:
        BundleExists: Either file exists already; nothing was written.
        OSError: The directory is missing or not writable.
    """
    import json

    base = Path(path_without_suffix)
    paths = (base.with_name(base.name + ".json"), base.with_name(base.name + ".md"))
    texts = (json.dumps(bundle, indent=2, ensure_ascii=False) + "\n", to_markdown(bundle))
    created: list[Path] = []
    with contextlib.ExitStack() as files:
        try:
            outs = []
            for path in paths:
                try:
                    # O_EXCL: never an existing file, nor through a link someone left there.
                    descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
                except FileExistsError:
                    raise BundleExists(
                        f"{path} exists already: a snapshot never overwrites a file"
                    ) from None
                created.append(path)
                outs.append(files.enter_context(os.fdopen(descriptor, "w", encoding="utf-8")))
            for out, text in zip(outs, texts, strict=True):
                out.write(text)
        except BaseException:
            files.close()
            for path in created:
                path.unlink(missing_ok=True)
            raise
    return paths
