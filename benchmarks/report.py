"""The browse benchmark's report: medians, ratios to raw asyncpg, targets, and the details."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Unit = Literal["time", "MB"]
Samples = dict[str, list[float]]


@dataclass(frozen=True)
class Op:
    """One line of the table: a pgconsole measurement, its raw baseline and its target."""

    label: str
    pg: str
    raw: str | None = None
    limit: float | None = None
    """Pass when pgconsole's median is at most this (seconds, or MiB)."""
    target: str = "-"
    unit: Unit = "time"
    ratio: bool = True
    """False where a ratio means nothing (a difference near zero)."""


OPS: tuple[Op, ...] = (
    Op("app start → schema tree painted (in-process)", "tree", "tree"),
    Op(
        "`pgconsole CONNINFO --table public.pgbench_accounts` → first page painted "
        "(new process on a pty)",
        "launch_process",
        "launch_process",
        0.6,
        "≤ 0.6 s",
    ),
    Op(
        "app start with `--table` → first page painted (in-process: no interpreter start, "
        "no imports)",
        "launch_inproc",
        "launch_inproc",
    ),
    Op(
        "open pgbench_accounts (Enter in the tree) → first page painted",
        "open_accounts",
        "open_accounts",
    ),
    Op("open `wide` (20 mixed-type columns) → first page painted", "open_wide", "open_wide"),
    Op(
        "PgDn/PgUp at any depth: key → screen painted (median of every press)",
        "press_any",
        None,
        0.03,
        "≤ 30 ms",
    ),
    Op(
        "PgDn/PgUp at any depth: key → screen painted (p90 of every press)",
        "press_any_p90",
        None,
        0.03,
        "≤ 30 ms",
    ),
    Op(
        "PgDn at row 1, press that fetches → fetched page painted",
        "pgdn_start",
        "after_start",
        0.03,
        "≤ 30 ms",
    ),
    Op(
        "PgDn at row MIDDLE, press that fetches → fetched page painted",
        "pgdn_middle",
        "after_middle",
        0.03,
        "≤ 30 ms",
    ),
    Op(
        "PgDn near the last row, press that fetches → fetched page painted",
        "pgdn_end",
        "after_end",
        0.03,
        "≤ 30 ms",
    ),
    Op(
        "PgUp from the last row, press that fetches → fetched page painted",
        "pgup_end",
        "before_end",
        0.03,
        "≤ 30 ms",
    ),
    Op(
        "PgDn in `wide`, press that fetches → fetched page painted",
        "pgdn_wide",
        "wide_after",
        0.03,
        "≤ 30 ms",
    ),
    Op(
        "every keyset PgDn/PgUp above that fetches, at 80x24: key → page asked for painted, p95",
        "fetch_shown_p95_small",
        None,
        0.016,
        "≤ 16 ms (issue 17)",
    ),
    Op(
        "PgDn that fetches at row 1 and at row MIDDLE, at 200x50: key → page asked for "
        "painted, p95",
        "fetch_shown_p95_large",
        None,
        0.016,
        "≤ 16 ms (issue 17)",
    ),
    Op(
        "every keyset PgDn/PgUp above that fetches, at 80x24: key → fetched rows painted "
        "(in the same frame or a later one), p95",
        "fetch_p95_small",
        None,
        0.016,
        "≤ 16 ms (issue 17)",
    ),
    Op(
        "PgDn that fetches at row 1 and at row MIDDLE, at 200x50: key → fetched rows painted "
        "(in the same frame or a later one), p95",
        "fetch_p95_large",
        None,
        0.016,
        "≤ 16 ms (issue 17)",
    ),
    Op("End → last page painted", "end", "last", 0.2, "≤ 200 ms"),
    Op("Home → first page painted", "home", "first"),
    Op("sort by abalance (no index): `s` → first sorted page painted", "sort", "sort"),
    Op(
        "PgDn in that sort (a cursor), press that fetches → fetched page painted",
        "cursor_next",
        "cursor_next",
        0.03,
        "≤ 30 ms",
    ),
    Op("PgDn after the idle cursor was closed (reopened: sorts again)", "cursor_reopen", "sort"),
    Op(
        "peak RSS after paging through PAGES pages",
        "rss_peak",
        "rss_peak",
        64,
        "≤ 64 MB (issue 17)",
        "MB",
    ),
    Op(
        "RSS growth from page 1,000 to PAGES",
        "rss_growth",
        "rss_growth",
        5,
        "flat (≤ 5 MB)",
        "MB",
        ratio=False,
    ),
    Op(
        "longest `idle in transaction`, keyset browsing",
        "idle_keyset",
        None,
        5.0,
        "≤ idle setting (5 s)",
    ),
    Op(
        "longest `idle in transaction`, cursor mode (cursor_idle_seconds = 1)",
        "idle_cursor",
        None,
        1.0,
        "≤ idle setting (1 s)",
    ),
)


def fmt(value: float | None, unit: Unit) -> str:
    """`12.3 ms`, `1.23 s`, `64.0 MB`, or `-`."""
    if value is None:
        return "-"
    if unit == "MB":
        return f"{value:.1f} MB"
    if value < 1:
        return f"{value * 1000:.1f} ms"
    return f"{value:.2f} s"


def median(values: Sequence[float] | None) -> float | None:
    """The median, or None without samples."""
    return statistics.median(values) if values else None


def p90(values: Sequence[float]) -> float:
    """The 90th percentile (the value itself for one sample)."""
    return (
        statistics.quantiles(values, n=10, method="inclusive")[-1] if len(values) > 1 else values[0]
    )


def p95(values: Sequence[float]) -> float:
    """The 95th percentile (the value itself for one sample)."""
    return (
        statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]
    )


def main_table(pg: Samples, raw: Samples, pages: int, middle: int) -> list[str]:
    """The markdown table of medians, ratios and targets."""
    lines = [
        "| operation | raw asyncpg median | pgconsole median | ratio | target | result |",
        "|---|---:|---:|---:|---|---|",
    ]
    for op in OPS:
        mine = median(pg.get(op.pg))
        base = median(raw.get(op.raw)) if op.raw else None
        ratio = f"{mine / base:.1f}x" if op.ratio and mine is not None and base else "-"
        if op.limit is None or mine is None:
            verdict = "-"
        else:
            verdict = "pass" if mine <= op.limit else "**FAIL**"
        label = op.label.replace("PAGES", f"{pages:,}").replace("MIDDLE", f"{middle:,}")
        lines.append(
            f"| {label} | {fmt(base, op.unit)} | {fmt(mine, op.unit)} | {ratio} | {op.target} "
            f"| {verdict} |"
        )
    return lines


def spread_table(pg: Samples, raw: Samples) -> list[str]:
    """n, min, median, p90 and max of every timed series."""
    lines = ["| series | n | min | median | p90 | max |", "|---|---:|---:|---:|---:|---:|"]
    for side, samples in (("pgconsole", pg), ("raw", raw)):
        for key, values in samples.items():
            if not values or key.startswith(
                ("rss", "idle", "press_any_p90", "fetch_p95", "fetch_shown_p95")
            ):
                continue
            cells = [min(values), statistics.median(values), p90(values), max(values)]
            shown = " | ".join(fmt(v, "time") for v in cells)
            lines.append(f"| {side} `{key}` | {len(values)} | {shown} |")
    return lines


def rss_table(pg: list[dict[str, Any]], raw: list[dict[str, Any]]) -> list[str]:
    """Memory every 1,000 pages, both sides."""
    lines = [
        "| pages | pgconsole peak | pgconsole RSS | raw peak | raw RSS |",
        "|---:|---:|---:|---:|---:|",
    ]
    by_pages = {s["pages"]: s for s in raw}
    for sample in pg:
        other = by_pages.get(sample["pages"], {})
        lines.append(
            f"| {sample['pages']:,} | {sample['peak_mb']:.1f} MB | {sample['rss_mb']:.1f} MB"
            f" | {other.get('peak_mb', 0):.1f} MB | {other.get('rss_mb', 0):.1f} MB |"
        )
    return lines


@dataclass
class Report:
    """Everything the report shows."""

    facts: dict[str, str]
    load: dict[str, str]
    pg: Samples
    raw: Samples
    pages: int
    middle: int
    """The row PgDn is measured at in the middle of pgbench_accounts."""
    rss_pg: list[dict[str, Any]]
    rss_raw: list[dict[str, Any]]
    idle: dict[str, str]
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        """The whole report, the main table first after the facts."""
        facts = [f"- {k}: {v}" for k, v in self.facts.items()]
        load = [f"- {k}: {v}" for k, v in self.load.items()]
        idle = [f"- {k}: {v}" for k, v in self.idle.items()]
        notes = [f"- {n}" for n in self.notes]
        return "\n".join(
            [
                "# Browse benchmark: pgbench_accounts",
                "",
                *facts,
                "",
                *main_table(self.pg, self.raw, self.pages, self.middle),
                "",
                "## Load",
                "",
                *load,
                "",
                f"## Memory while paging (PgDn held at 80x24, every {1000:,} pages)",
                "",
                *rss_table(self.rss_pg, self.rss_raw),
                "",
                "## Sessions idle in transaction (pg_stat_activity, application_name pgconsole)",
                "",
                *idle,
                "",
                "## Spread of every timed series",
                "",
                *spread_table(self.pg, self.raw),
                "",
                "## Notes",
                "",
                *notes,
                "",
            ]
        )
