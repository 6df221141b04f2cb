"""The benchmarks' raw baselines send pgconsole's own SQL files: those files exist."""

from __future__ import annotations

from pathlib import Path

from benchmarks.peers import ACTIVITY_FILES, ACTIVITY_SQL

REPO = Path(__file__).resolve().parent.parent


def test_the_raw_activity_baseline_reads_files_that_exist() -> None:
    missing = [name for name in ACTIVITY_FILES if not (REPO / ACTIVITY_SQL / name).is_file()]
    assert missing == []
