"""Ranking the fleet's servers worst first: one score per server, and why, in a few words.

A server's `Score` is a (level, weight) pair. Rows sort by level, highest first; within a
level by weight, highest first; then by name (`sort_key`). The level is the first of these
that holds, with the default `Thresholds`:

| level     | when (default `Thresholds`)                     | weight        | `worst`          |
|-----------|-------------------------------------------------|---------------|------------------|
| 5 down    | not reachable, or the probe failed or timed out | 0             | `down`           |
| 4 blocked | sessions wait for a lock another holds          | blocked count | `3 blocked`      |
| 3 horizon | oldest xmin ≥ 50M transactions old, or a        | ratio to its  | `xmin age 52M`   |
|           | transaction idle in transaction ≥ 5 min         | threshold     |                  |
| 2 lag     | ≥ 16 MiB or ≥ 30 s behind, or not streaming     | ratio         | `lag 40 MB`      |
| 1 load    | connections ≥ 80 % of max_connections, or       | ratio         | `load 40 active` |
|           | ≥ 32 active sessions                            |               |                  |
| 0 ok      | none of the above                               | load ratio    | `ok`             |

- blocked: sessions whose `pg_blocking_pids()` is not empty (asked only of the sessions that
  wait on a heavyweight lock, `wait_event_type = 'Lock'`, the only ones it can name).
- horizon: the oldest of the sessions' snapshots and transaction ids, replication slots'
  xmin and catalog_xmin, and prepared transactions; or the oldest transaction of a session
  now idle in transaction (`idle in transaction 7 min`).
- lag: on a primary, its worst standby's replay lag (pg_stat_replication); on a standby, WAL
  received and not replayed, and the seconds since the last replayed commit while it is
  behind (`lag 45 s` when the seconds weigh more); `not streaming` (weight 1) for a standby
  without a walreceiver.
- load and ok: the larger of the connections' share of max_connections over 80 % and the
  active sessions over 32, so that among healthy servers the busier comes first.
- Weights (a count, or how many times past the threshold) compare only within a level.

Why this order: a server that is down answers nobody; blocked sessions are users waiting
now; a held-back horizon costs bloat and, in the end, wraparound, but over hours; lag costs
reads on standbys that are stale, and WAL kept on the primary; load is a trend to watch.

Pure functions of numbers, tested without a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple


class Level(IntEnum):
    """How bad a server's worst problem is, the worst highest."""

    OK = 0
    LOAD = 1
    LAG = 2
    HORIZON = 3
    BLOCKED = 4
    DOWN = 5


class Score(NamedTuple):
    """Where a server ranks: its level first, then the weight within that level."""

    level: Level
    weight: float
    """How far past the level's threshold (a count or a ratio); only compared within one
    level."""


DOWN = Score(Level.DOWN, 0.0)
"""The score of every server that could not be read."""


@dataclass(frozen=True)
class Thresholds:
    """Where each level starts. The defaults are those of the module's table."""

    horizon_xids: int = 50_000_000
    """Age of the oldest xmin, in transactions, from which the horizon counts (autovacuum's
    freeze age is 200M by default: 50M leaves time to act)."""
    idle_in_transaction_seconds: float = 300.0
    """A transaction left idle this long is a forgotten session holding the horizon."""
    lag_bytes: int = 16 * 1024 * 1024
    """Replication lag in bytes (one WAL segment) from which lag counts."""
    lag_seconds: float = 30.0
    """Replication lag in seconds from which lag counts."""
    connections_share: float = 0.8
    """Share of max_connections in use from which load counts."""
    active_sessions: int = 32
    """Sessions running a statement at once from which load counts."""


DEFAULT_THRESHOLDS = Thresholds()
"""The module's table."""


@dataclass(frozen=True)
class Signals:
    """What a reachable server's score is made of (None: not known, e.g. not visible to the
    role)."""

    blocked: int = 0
    xmin_age: int | None = None
    idle_in_transaction_age: float | None = None
    """Seconds since the oldest transaction now idle in transaction began."""
    standby: bool = False
    streaming: bool = True
    """A standby's walreceiver is running (always True for a primary)."""
    lag_bytes: int | None = None
    lag_seconds: float | None = None
    connections: int = 0
    max_connections: int = 0
    active: int = 0


def score(signals: Signals, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> tuple[Score, str]:
    """The score of a reachable server and its worst problem in a few words (`3 blocked`)."""
    if signals.blocked > 0:
        return Score(Level.BLOCKED, float(signals.blocked)), f"{signals.blocked} blocked"
    horizon = _horizon(signals, thresholds)
    if horizon is not None:
        return horizon
    lag = _lag(signals, thresholds)
    if lag is not None:
        return lag
    load, text = _load(signals, thresholds)
    if load >= 1.0:
        return Score(Level.LOAD, load), text
    return Score(Level.OK, load), "ok"


def _horizon(signals: Signals, thresholds: Thresholds) -> tuple[Score, str] | None:
    by_age = (signals.xmin_age or 0) / thresholds.horizon_xids
    by_idle = (signals.idle_in_transaction_age or 0.0) / thresholds.idle_in_transaction_seconds
    if max(by_age, by_idle) < 1.0:
        return None
    if by_age >= by_idle:
        return Score(Level.HORIZON, by_age), f"xmin age {compact(signals.xmin_age or 0)}"
    idle = signals.idle_in_transaction_age or 0.0
    return Score(Level.HORIZON, by_idle), f"idle in tx {duration(idle)}"


def _lag(signals: Signals, thresholds: Thresholds) -> tuple[Score, str] | None:
    if signals.standby and not signals.streaming:
        return Score(Level.LAG, 1.0), "not streaming"
    by_bytes = (signals.lag_bytes or 0) / thresholds.lag_bytes
    by_seconds = (signals.lag_seconds or 0.0) / thresholds.lag_seconds
    if max(by_bytes, by_seconds) < 1.0:
        return None
    if by_bytes >= by_seconds:
        return Score(Level.LAG, by_bytes), f"lag {size(signals.lag_bytes or 0)}"
    return Score(Level.LAG, by_seconds), f"lag {duration(signals.lag_seconds or 0.0)}"


def _load(signals: Signals, thresholds: Thresholds) -> tuple[float, str]:
    share = signals.connections / signals.max_connections if signals.max_connections else 0.0
    by_connections = share / thresholds.connections_share
    by_active = signals.active / thresholds.active_sessions
    if by_connections >= by_active:
        text = f"load {signals.connections}/{signals.max_connections} conn"
        return by_connections, text
    return by_active, f"load {signals.active} active"


def sort_key(score: Score, name: str) -> tuple[int, float, str]:
    """Ascending order of this key is worst first: level, then weight, then name."""
    return (-score.level, -score.weight, name)


# -- a few words for numbers ----------------------------------------------------------------


def compact(count: int) -> str:
    """A count in three digits or fewer: `950`, `12k`, `1.2M`, `52M`, `2.1G`."""
    for divisor, unit in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if abs(count) >= divisor:
            value = count / divisor
            return f"{value:.1f}{unit}" if abs(value) < 10 else f"{value:.0f}{unit}"
    return str(count)


def size(count: int) -> str:
    """Bytes in binary units, as PostgreSQL's pg_size_pretty says them: `40 MB`, `512 kB`."""
    value = float(count)
    for unit in ("bytes", "kB", "MB", "GB"):
        if abs(value) < 1024:
            return f"{value:.0f} {unit}"
        value /= 1024
    return f"{value:.0f} TB"


def duration(seconds: float) -> str:
    """`45 s`, `7 min`, `3 h`, `2 d`: the largest unit, rounded down."""
    for length, unit in ((86_400, "d"), (3_600, "h"), (60, "min")):
        if seconds >= length:
            return f"{int(seconds // length)} {unit}"
    return f"{int(seconds)} s"
