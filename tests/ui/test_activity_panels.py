"""The activity screen's pool panel and server panel, drawn from fixed figures (no app, no
database)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from pgconsole.db.activity import stats
from pgconsole.db.connection.pool import PoolMetrics, PoolStats
from pgconsole.widgets.pool_panel import PoolFigures, pool_figures, pool_line, pool_lines
from pgconsole.widgets.server_panel import (
    FIGURE_WIDTH,
    SPARK,
    ServerFigures,
    ServerHistory,
    server_text,
)
from tests.ui.test_snapshot_gallery import counters

POOL = PoolStats(size=4, min_size=1, max_size=10, idle=3)


def metrics(queries: int, waits: tuple[float, ...] = (0.001, 0.002, 0.010)) -> PoolMetrics:
    measured = PoolMetrics(waiting=2, queries=queries, errors=1)
    measured.waits.extend(waits)
    return measured


def figures(
    queries: int = 100, previous: PoolFigures | None = None, now: float = 10.0
) -> PoolFigures:
    return pool_figures(POOL, metrics(queries), "TLS verified", previous, now)


def test_queries_per_second_since_the_figures_before() -> None:
    first = figures(100, now=10.0)
    assert first.queries_per_second is None
    assert figures(130, first, now=12.0).queries_per_second == 15.0
    assert figures(130, first, now=10.0).queries_per_second is None  # no time went by


def test_the_pool_panel_in_full() -> None:
    shown = pool_lines(figures(130, figures(100, now=10.0), now=12.0)).plain.split("\n")
    assert shown == [
        "pgconsole pool",
        "  size 4 (min 1, max 10)",
        "  in use 1 · idle 3 · waiting 2",
        "  acquire p50 2.0ms p95 10.0ms",
        "  queries/s 15 · errors 1",
        "  TLS verified",
    ]


def test_the_pool_in_one_line_says_how_to_see_more() -> None:
    quiet = pool_figures(POOL, PoolMetrics(), "local socket", None, 1.0)
    assert pool_line(quiet).plain == (
        "pgconsole pool 1/4 in use · waiting 0 · acquire p95 - · errors 0 · local socket · p: more"
    )


def history(samples: int) -> ServerHistory:
    kept = ServerHistory()
    for step in range(samples):
        kept.add(counters(1_000.0 + step, step))
    return kept


def test_the_history_takes_rates_from_the_second_sample() -> None:
    assert ServerHistory().figures() is None
    first = history(1).figures()
    assert first is not None and first.rates is None
    assert first.sparklines["connections"].strip() and not first.sparklines["commits"].strip()
    later = history(4).figures()
    assert later is not None and later.rates is not None
    assert later.rates.commits == 198  # LOAD[2]: the commits of the second before the last
    assert all(len(line) == SPARK for line in later.sparklines.values())


@pytest.mark.parametrize(("width", "per_line"), [(2 * FIGURE_WIDTH, 2), (2 * FIGURE_WIDTH - 1, 1)])
def test_two_figures_to_a_line_when_they_fit(width: int, per_line: int) -> None:
    shown = history(4).figures()
    assert shown is not None
    lines = server_text(shown, width).plain.split("\n")
    assert lines[0] == "Server 35/200 · active 20 · idle 9 · in tx 1"
    assert lines[1].startswith("conns         35 ")
    assert len(lines[1]) == per_line * FIGURE_WIDTH
    assert len([line for line in lines[1:] if line]) == -(-13 // per_line)  # 13 figures


def test_without_rates_the_figures_are_dashes() -> None:
    shown = history(1).figures()
    assert shown is not None
    text = server_text(shown, 80).plain
    assert "commit/s       - " in text and "cache hit      - " in text


LONG_VALUES = {
    "oldest_xact_age": 21 * 60 + 30.0,  # 21m30s: ran into `oldest tx`
    "deadlocks": 1_234_567,
    "xmin_horizon_age": 1_500_000_000,
    "max_connections": 10_000,
}


@pytest.mark.parametrize("width", [2 * FIGURE_WIDTH, 2 * FIGURE_WIDTH - 1, 164])
def test_labels_and_values_never_run_together(width: int) -> None:
    kept = ServerHistory()
    kept.add(counters(1_000.0, 0))
    # The next second: 999.9 kB of temp files (`999.9kB`, longer than the value's cells).
    later = counters(1_001.0, 1)
    kept.add(replace(later, temp_bytes=999_900, **LONG_VALUES))  # type: ignore[arg-type]
    shown = kept.figures()
    assert shown is not None
    text = server_text(shown, width).plain
    for label, value in [
        ("oldest tx", "21m30s"), ("deadlocks", "1234567"), ("xmin age", "1.5G"),
        ("temp/s", "999.9kB"), ("conns", "35"), ("commit/s", "212"),
    ]:  # fmt: skip
        assert re.search(rf"(^| ){re.escape(label)} +{re.escape(value)} ", text, re.M), label
    for line in filter(None, text.split("\n")[1:]):
        # Each figure is its label, its value and its sparkline (5 cells), then a space.
        assert re.fullmatch(r"([a-z/ ]+ +\S+ [ ▁-█]{5} +)+", line), line


def test_folded_the_panel_is_three_lines_the_last_the_pools() -> None:
    shown = history(4).figures(pool=figures())
    assert shown is not None
    lines = server_text(shown, 78).plain.split("\n")
    assert len(lines) == 3
    assert lines[0].startswith("Server 35/200 · active 20 · idle 9 · in tx 1 · commit/s 198")
    assert lines[1] == "cache hit 99% · oldest tx 5m09s · xmin age 1.8k · deadlocks 0"
    assert lines[2] == pool_line(figures()).plain


def test_standbys_follow_the_figures() -> None:
    shown = history(2).figures()
    assert shown is not None
    replica = stats.Replica(
        name="standby1", client="10.0.0.2", state="streaming", replay_lag=1.5, lag_bytes=2048
    )
    with_standby = ServerFigures(replace(shown.server, replication=(replica,)), None, {})
    last = server_text(with_standby, 80).plain.split("\n")[-1]
    assert last == "standby standby1 streaming: replay lag 1.5s (2.0kB)"
