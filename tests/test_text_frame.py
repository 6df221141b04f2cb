"""The text frame `pgconsole --activity` writes before Textual has loaded: the activity screen's
first sample in its columns and order, fitted to the terminal, server text made visible."""

from __future__ import annotations

import re
import time
from dataclasses import replace

from rich.cells import cell_len

from pgconsole.db.activity import stats
from pgconsole.text_frame import ENTER, FirstFrame, frame_lines, frame_text
from tests.ui.test_snapshot_gallery import SESSIONS, counters

TAKEN = time.time()
FRAME = FirstFrame(
    "dba@db1.example:5432/shop", stats.Sample(SESSIONS, counters(TAKEN, 1), 1), TAKEN
)
"""30 client sessions (a lock chain among them) and the checkpointer."""


def pids(lines: list[str]) -> list[int]:
    return [int(m.group(1)) for line in lines[2:] if (m := re.match(r"(\d+)\*? ", line))]


def test_at_80x24_the_longest_transactions_first_and_how_many_did_not_fit() -> None:
    lines = frame_lines(FRAME, 80, 24)
    assert len(lines) == 24
    assert all(cell_len(line) <= 80 for line in lines)
    stamp = time.strftime("%H:%M:%S", time.localtime(TAKEN))
    assert lines[0].startswith(f"pgconsole · refreshed {stamp} · 30 sessions · dba@db1")
    assert lines[1].split()[:3] == ["pid", "state", "xact"]
    assert pids(lines)[:3] == [4101, 4102, 4103]  # 312 s, 41 s, 12 s in their transactions
    assert len(pids(lines)) == 21
    assert lines[-1] == "… 9 more sessions"


def test_at_200x50_every_client_session_and_no_background_process() -> None:
    lines = frame_lines(FRAME, 200, 50)
    assert len(lines) == 32
    assert sorted(pids(lines)) == sorted(s.pid for s in SESSIONS if s.pid != 24)
    assert "more session" not in lines[-1]
    assert "user" in lines[1]  # the optional columns that fit, as on the screen


def test_server_text_is_shown_never_sent_to_the_terminal() -> None:
    hostile = replace(SESSIONS[0], query="SELECT 1 \x1b[2J\x1b]0;owned\x07 [red]x[/red]")
    frame = replace(FRAME, sample=stats.Sample((hostile,), FRAME.sample.server, 1))
    text = frame_text(frame, 120, 10)
    assert text.startswith(ENTER)
    ours = re.sub(r"\x1b\[\d+;1H", "", text.removeprefix(ENTER))
    assert "\x1b" not in ours and "\x07" not in ours
    assert "SELECT 1 ␛[2J␛]0;owned␇ [red]x[/red]" in ours


def test_a_tiny_terminal_gets_what_fits() -> None:
    assert frame_lines(FRAME, 0, 24) == []
    lines = frame_lines(FRAME, 12, 3)
    assert len(lines) == 3 and all(cell_len(line) <= 12 for line in lines)
    assert lines[-1].startswith("… ")
