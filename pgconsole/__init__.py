"""pgconsole: a keyboard-driven terminal admin console for PostgreSQL."""

import os

__version__ = "0.1.0"
"""Kept in step with pyproject.toml (a test checks); importlib.metadata costs 40 ms at start."""

# Textual paints only when something changed, at most TEXTUAL_FPS times a second (60 by
# default), and a frame asked for right after another waits one to two periods. A key that
# fetches a page needs two frames (the cursor, then the rows), so at 60 it waits up to 33 ms
# for nothing; 240 makes that 4-8 ms. An idle app paints nothing either way. Read when Textual
# is first imported; a TEXTUAL_FPS the user set wins.
os.environ.setdefault("TEXTUAL_FPS", "240")
