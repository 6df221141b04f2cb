"""`pgconsole CONNINFO --activity` up to its refreshes loads no other place's screen (issue 17).

Asking which place is shown used to import every place's screen for an `isinstance` (the
console's loads the SQL console's code), and naming pgconsole's own statements in the first
sample imported every package with SQL files (the console's, the fleet's). Checked in a fresh
interpreter, against the real server, as the launch takes it.
"""

from __future__ import annotations

import os
import subprocess
import sys

from pgconsole.throwaway.cluster import ThrowawayCluster

NOT_FOR_THE_ACTIVITY_SCREEN = (
    "pgconsole.screens.console",
    "pgconsole.screens.diagnostics",
    "pgconsole.db.console",
    "pgconsole.db.fleet",
    "pgconsole.throwaway",
    "tree_sitter_sql",
)

LAUNCH = """
import asyncio, os, sys, time
from pgconsole.__main__ import build_parser, resolve
from pgconsole.app import PgConsoleApp
from pgconsole.screens.activity import ActivityScreen

target = resolve(build_parser().parse_args([os.environ["DSN"], "--activity"]))

async def main() -> None:
    app = PgConsoleApp(
        target.params, target.settings, password_query=target.password_query, activity=True
    )
    async with app.run_test(size=(80, 24)) as pilot:
        deadline = time.monotonic() + 15  # not tests.helpers: it imports the fleet's fixtures
        while not (isinstance(app.screen, ActivityScreen) and app.screen.samples >= 2):
            assert time.monotonic() < deadline, "timed out waiting for two refreshes"
            await pilot.pause(0.05)
        await pilot.press("q")

asyncio.run(main())
watched = %r
loaded = {w for w in watched for m in sys.modules if m == w or m.startswith(w + ".")}
print("\\n".join(sorted(loaded)))
"""


def test_the_activity_screen_at_launch_loads_no_other_place(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    env = {**os.environ, "DSN": cluster.dsn(dbname)}
    out = subprocess.run(
        [sys.executable, "-c", LAUNCH % (NOT_FOR_THE_ACTIVITY_SCREEN,)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    assert out.split() == []
