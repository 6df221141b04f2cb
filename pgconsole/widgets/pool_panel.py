"""The activity screen's pool panel: what pgconsole's own connection pool is doing."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from pgconsole.db.connection.pool import Database, PoolMetrics, PoolStats
from pgconsole.widgets.sparkline import human


@dataclass(frozen=True)
class PoolFigures:
    """The pool at one instant: its connections, its acquire waits and its queries."""

    stats: PoolStats
    waiting: int
    """Acquirers waiting for a connection."""
    acquire_p50: float | None
    """Seconds; None before the first acquire."""
    acquire_p95: float | None
    queries: int
    """Statements run so far (cumulative)."""
    queries_per_second: float | None
    """Since the figures before these; None for the first."""
    errors: int
    tls: str
    """What the pool's sessions verified (`TlsState`'s value)."""
    taken_at: float
    """`time.monotonic()` when read."""


def pool_figures(
    stats: PoolStats,
    metrics: PoolMetrics,
    tls: str,
    previous: PoolFigures | None,
    now: float,
) -> PoolFigures:
    """The pool's figures at `now`, its queries per second since `previous`."""
    qps: float | None = None
    if previous is not None and now > previous.taken_at:
        qps = (metrics.queries - previous.queries) / (now - previous.taken_at)
    return PoolFigures(
        stats=stats,
        waiting=metrics.waiting,
        acquire_p50=metrics.wait_percentile(0.5),
        acquire_p95=metrics.wait_percentile(0.95),
        queries=metrics.queries,
        queries_per_second=qps,
        errors=metrics.errors,
        tls=tls,
        taken_at=now,
    )


def read_pool(database: Database, previous: PoolFigures | None = None) -> PoolFigures:
    """The app's pool now (no round trip); queries per second since `previous`."""
    return pool_figures(
        database.stats(),
        database.metrics,
        database.info.tls.state.value,
        previous,
        time.monotonic(),
    )


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}ms"


def pool_lines(figures: PoolFigures) -> Text:
    """The panel in full: size, use, acquire waits, queries and TLS, a line each."""
    pool = figures.stats
    text = Text()
    text.append("pgconsole pool\n", style="bold")
    text.append(f"  size {pool.size} (min {pool.min_size}, max {pool.max_size})\n")
    text.append(f"  in use {pool.in_use} · idle {pool.idle} · waiting {figures.waiting}\n")
    text.append(f"  acquire p50 {_ms(figures.acquire_p50)} p95 {_ms(figures.acquire_p95)}\n")
    text.append(f"  queries/s {human(figures.queries_per_second)} · errors {figures.errors}\n")
    text.append(f"  {figures.tls}")
    return text


def pool_line(figures: PoolFigures) -> Text:
    """The panel in one line, for the folded panels (under the server's figures)."""
    text = Text("pgconsole pool ", style="bold")
    text.append(
        f"{figures.stats.in_use}/{figures.stats.size} in use · waiting {figures.waiting}"
        f" · acquire p95 {_ms(figures.acquire_p95)}"
        f" · errors {figures.errors} · {figures.tls}"
        " · p: more",  # the key that unfolds the panels
    )
    return text


class PoolPanel(Static):
    """`pool_lines` of the figures it is given."""

    # Drawn again at every set, never compared with the figures before (they differ at each
    # sample anyway); the watcher repaints.
    figures: reactive[PoolFigures | None] = reactive(
        None, always_update=True, init=False, repaint=False
    )
    """The pool's latest figures; None until the first sample."""

    def watch_figures(self, figures: PoolFigures | None) -> None:
        # A fixed height (activity.tcss): a new sample repaints, never lays the screen out.
        self.update(Text() if figures is None else pool_lines(figures), layout=False)
