"""The activity screen's server panel: the server's counters as rates, each with a sparkline.

Below `WIDE_PANELS` columns (or after `p`) the panel is folded into three lines, the last the
pool's (`pool_line`), and the pool panel beside it is hidden.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping
from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from pgconsole.db.activity import stats
from pgconsole.text import visible
from pgconsole.widgets.pool_panel import PoolFigures, pool_line
from pgconsole.widgets.sparkline import duration, human, sparkline

SPARK = 5
"""Samples shown in each sparkline."""
LABEL_WIDTH = 9
"""Cells for a figure's label (`oldest tx`, the longest, fills them)."""
VALUE_WIDTH = 6
"""Cells a figure's value is right-aligned in (`21m30s`, `999.9k` fill them); a longer one
(`999.9kB`) takes more, still a space from its label and its sparkline."""
FIGURE_WIDTH = LABEL_WIDTH + 1 + VALUE_WIDTH + 1 + SPARK + 1
"""Cells for one figure of the server panel: label, value and sparkline, each a space from the
next, and a space before the next figure."""
HISTORY = 120
"""Samples kept for the sparklines (two minutes at one a second)."""
WIDE_PANELS = 100
"""From this width the pool and server panels are drawn in full; below, in three lines."""


@dataclass(frozen=True)
class ServerFigures:
    """What the server panel shows: the latest counters, the rates since the ones before and
    the sparkline of each figure's series."""

    server: stats.ServerCounters
    rates: stats.ServerRates | None
    """None at the first sample: there is none before it."""
    sparklines: Mapping[str, str]
    """By series name (`ServerHistory.SERIES`): the latest `SPARK` samples, drawn."""
    pool: PoolFigures | None = None
    """Given when the panels are folded: the figures in three lines, the last the pool's."""
    folded: bool = False
    """Folded without the pool's line (a moment of the past: the pool is now's)."""


class ServerHistory:
    """The samples behind the server panel: the counters before (for the rates) and the series
    of each figure (for the sparklines)."""

    SERIES = (
        "connections", "oldest", "xmin", "commits", "rollbacks", "cache", "returned", "fetched",
        "inserted", "updated", "deleted", "temp", "deadlocks",
    )  # fmt: skip

    def __init__(self) -> None:
        self.previous: stats.ServerCounters | None = None
        self.rates: stats.ServerRates | None = None
        self.values: dict[str, collections.deque[float | None]] = collections.defaultdict(
            lambda: collections.deque(maxlen=HISTORY)
        )

    def add(self, server: stats.ServerCounters) -> None:
        """Take one sample: the rates since the one before, and a point on each series."""
        rates = stats.rates(self.previous, server) if self.previous else None
        self.previous, self.rates = server, rates
        values = self.values
        values["connections"].append(float(sum(server.connections.values())))
        values["oldest"].append(server.oldest_xact_age)
        values["xmin"].append(server.xmin_horizon_age)
        if rates is None:
            return
        for name, value in (
            ("commits", rates.commits),
            ("rollbacks", rates.rollbacks),
            ("cache", rates.cache_hit_ratio),
            ("returned", rates.returned),
            ("fetched", rates.fetched),
            ("inserted", rates.inserted),
            ("updated", rates.updated),
            ("deleted", rates.deleted),
            ("temp", rates.temp_bytes),
            ("deadlocks", rates.deadlocks),
        ):
            values[name].append(value)

    def figures(
        self, pool: PoolFigures | None = None, *, folded: bool = False
    ) -> ServerFigures | None:
        """What the panel shows now (None before the first sample); folded with `pool`, or
        `folded` without it."""
        if self.previous is None:
            return None
        lines = {name: sparkline(self.values[name], SPARK) for name in self.SERIES}
        return ServerFigures(self.previous, self.rates, lines, pool, folded)


def server_text(figures: ServerFigures, width: int) -> Text:
    """Each figure as a number and a sparkline, two to a line when `width` holds two; folded
    (`figures.pool` given), three lines that the panel cuts with an ellipsis."""
    server, rates = figures.server, figures.rates
    states = server.connections
    total = sum(states.values())
    in_tx = states.get("idle in transaction", 0) + states.get("idle in transaction (aborted)", 0)
    text = Text()
    text.append("Server ", style="bold")
    text.append(
        f"{total}/{server.max_connections} · active {states.get('active', 0)}"
        f" · idle {states.get('idle', 0)} · in tx {in_tx}\n"
    )
    hit = None if rates is None or rates.cache_hit_ratio is None else rates.cache_hit_ratio
    if figures.pool is not None or figures.folded:
        # Three lines, each cut with an ellipsis by activity.tcss: Textual draws a Rich
        # Text as its own Content, without the Text's no_wrap and overflow.
        text.right_crop(1)  # the first line goes on
        text.append(
            f" · commit/s {human(rates.commits if rates else None)}"
            f" · rollbk/s {human(rates.rollbacks if rates else None)}\n"
            f"cache hit {'-' if hit is None else f'{hit:.0%}'}"
            f" · oldest tx {duration(server.oldest_xact_age)}"
            f" · xmin age {human(server.xmin_horizon_age)}"
            f" · deadlocks {server.deadlocks}\n"
        )
        if figures.pool is not None:
            text.append_text(pool_line(figures.pool))
        return text
    shown: list[tuple[str, str, str]] = [
        ("conns", str(total), "connections"),
        ("commit/s", human(rates.commits if rates else None), "commits"),
        ("rollbk/s", human(rates.rollbacks if rates else None), "rollbacks"),
        ("cache hit", "-" if hit is None else f"{hit:.0%}", "cache"),
        ("ret/s", human(rates.returned if rates else None), "returned"),
        ("fetch/s", human(rates.fetched if rates else None), "fetched"),
        ("ins/s", human(rates.inserted if rates else None), "inserted"),
        ("upd/s", human(rates.updated if rates else None), "updated"),
        ("del/s", human(rates.deleted if rates else None), "deleted"),
        ("temp/s", human(rates.temp_bytes if rates else None, "B"), "temp"),
        ("deadlocks", str(server.deadlocks), "deadlocks"),
        ("oldest tx", duration(server.oldest_xact_age), "oldest"),
        ("xmin age", human(server.xmin_horizon_age), "xmin"),
    ]
    per_line = 2 if width >= 2 * FIGURE_WIDTH else 1
    for number, (label, value, series) in enumerate(shown):
        # Never `oldest tx21m30s`: a space between label and value whatever their lengths.
        cell = Text(f"{label:<{LABEL_WIDTH}} {value:>{VALUE_WIDTH}} ")
        cell.append(figures.sparklines.get(series, " " * SPARK), style="cyan")
        cell.pad_right(max(1, FIGURE_WIDTH - cell.cell_len))  # a space before the next figure
        text.append_text(cell)
        if number % per_line == per_line - 1:
            text.append("\n")
    for replica in server.replication:
        text.append(
            f"\nstandby {visible(replica.name or replica.client or '?')}"
            f" {visible(replica.state or '')}: replay lag {duration(replica.replay_lag)}"
            f" ({human(replica.lag_bytes, 'B')})"
        )
    return text


class ServerPanel(Static):
    """`server_text` of the figures it is given, at its own width."""

    # Drawn again at every set, never compared with the figures before (they differ at each
    # sample anyway); the watcher repaints.
    figures: reactive[ServerFigures | None] = reactive(
        None, always_update=True, init=False, repaint=False
    )
    """The latest figures; None until the first sample."""

    def watch_figures(self, figures: ServerFigures | None) -> None:
        # A fixed height (activity.tcss): a new sample repaints, never lays the screen out.
        if figures is not None:
            self.update(server_text(figures, self.content_region.width), layout=False)
