"""Copy the accepted 80x24 snapshots into docs/: the README's screenshot and its gallery.

The pictures are the snapshot tests' own (tests/ui/test_snapshot_gallery.py and
tests/ui/test_snapshots.py): drawn from fixed data, never a live server, and each read by a
person before it was accepted. So the README shows exactly what the tests check, and the same
every time. After a change of the screens:

    .venv/bin/pytest tests/ui/test_snapshot_gallery.py tests/ui/test_snapshots.py --snapshot-update
    # read every changed snapshot (the report, or the SVGs), then:
    .venv/bin/python scripts/screenshot.py
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = ROOT / "tests" / "ui" / "__snapshots__"
DOCS = ROOT / "docs"

PICTURES = {
    "screenshot.svg": "test_snapshot_gallery/test_browser.svg",
    "gallery/browser.svg": "test_snapshot_gallery/test_browser.svg",
    "gallery/browser-tree.svg": "test_snapshot_gallery/test_browser_tree.svg",
    "gallery/browser-120x36.svg": "test_snapshot_gallery/test_browser_at_120x36.svg",
    "gallery/filter-error.svg": "test_snapshot_gallery/test_filter_error.svg",
    "gallery/activity.svg": "test_snapshot_gallery/test_activity.svg",
    "gallery/activity-120x36.svg": "test_snapshot_gallery/test_activity_at_120x36.svg",
    "gallery/replay.svg": "test_snapshot_gallery/test_replay.svg",
    "gallery/console-result.svg": "test_snapshot_gallery/test_console_result.svg",
    "gallery/console-error.svg": "test_snapshot_gallery/test_console_error.svg",
    "gallery/help.svg": "test_snapshots/test_help_screen.svg",
    "gallery/session-overview.svg": "test_snapshots/test_connected_shell.svg",
    "gallery/statements.svg": "test_snapshot_diagnostics/test_statements.svg",
    "gallery/waits.svg": "test_snapshot_diagnostics/test_waits.svg",
    "gallery/horizon.svg": "test_snapshot_diagnostics/test_horizon.svg",
    "gallery/progress.svg": "test_snapshot_diagnostics/test_progress.svg",
    "gallery/replication.svg": "test_snapshot_diagnostics/test_replication.svg",
}
"""docs/ file: the snapshot it is a copy of."""


def main() -> int:
    missing = [source for source in PICTURES.values() if not (SNAPSHOTS / source).is_file()]
    if missing:
        print("missing snapshots (run the snapshot tests first):", *missing, file=sys.stderr)
        return 1
    for target, source in PICTURES.items():
        path = DOCS / target
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SNAPSHOTS / source, path)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
