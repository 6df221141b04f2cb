"""The session overview's time limits: in effect, pgconsole's and the server's, at 80 columns."""

from __future__ import annotations

from dataclasses import replace

import pytest
from rich.cells import cell_len

from pgconsole.db.connection.params import PoolSettings, Timeouts
from pgconsole.db.connection.pool import ServerInfo, TlsInfo, TlsState
from pgconsole.widgets.overview import overview_text, timeout_lines

INFO = ServerInfo(
    target="dba@db1.example.com:5432/shop",
    server_version="16.4",
    server_version_num=160004,
    current_user="dba",
    is_superuser=False,
    tls=TlsInfo(TlsState.VERIFIED, "TLSv1.3", "TLS_AES_256_GCM_SHA384"),
    read_only=False,
    statement_timeout="30s",
    lock_timeout="5s",
    idle_in_transaction_session_timeout="10s",
    idle_session_timeout="0",
    pgconsole_timeouts=Timeouts("30s", "5s", "2min"),
    server_timeouts=Timeouts("0", "0", "10s", "0"),
)


def test_each_limit_shows_what_is_in_effect_and_both_sources() -> None:
    assert timeout_lines(INFO) == [
        "in effect (pgconsole's · server's)",
        "statement     30s (30s · none)",
        "lock          5s (5s · none)",
        "idle in tx    10s (2min · 10s)",
        "idle session  none (none · none)",
    ]


def test_a_server_without_idle_session_timeout_says_so() -> None:
    old = Timeouts("0", "0", "10s", None)
    lines = timeout_lines(replace(INFO, idle_session_timeout=None, server_timeouts=old))
    assert lines[-1] == "idle session  n/a (none · n/a)"


def test_the_lines_fit_the_panel_at_80_columns() -> None:
    # The panel holds 44 columns at 80 (the tree beside it), 10 of them the label.
    assert max(len(line) for line in timeout_lines(INFO)) <= 34


@pytest.mark.parametrize("width", [44, 64])
def test_the_panel_wraps_with_a_hanging_indent_and_keeps_values_with_units(width: int) -> None:
    # 44 columns is the panel's text at 80 columns, 64 about the width at 100.
    info = replace(INFO, server_version="15.18 (Debian 15.18-0+deb12u1)")
    lines = overview_text(info, PoolSettings(), width).plain.split("\n")
    assert all(cell_len(line) <= width for line in lines)
    labels = {"Server", "Session", "Role", "TLS", "Mode", "Timeouts", "Pool"}
    for line in lines:  # every line starts with a label or under the values, never at column 0
        assert line[:10].strip() in labels or line.startswith(" " * 10), line
    pool = [line for line in lines if "max 4" in line or "close idle" in line]
    assert pool[-1].endswith("close idle after 300 s")
    assert pool[0].startswith("Pool      min 1 max 4 · query limit 60 s")


@pytest.mark.parametrize("width", [34, 44, 200])
def test_a_narrow_panel_wraps_the_limits_between_words_never_inside_one(width: int) -> None:
    # 34 columns is the panel's text at 80 columns beside a tree pane of half the screen.
    lines = overview_text(INFO, PoolSettings(), width).plain.split("\n")
    first = next(i for i, line in enumerate(lines) if line.startswith("Timeouts"))
    last = next(i for i, line in enumerate(lines) if line.startswith("Pool"))
    assert all(cell_len(line) <= width for line in lines)
    words = " ".join(lines[first:last]).split()
    assert words == ["Timeouts", *" ".join(timeout_lines(INFO)).split()]
    limits = [line.strip() for line in lines[first + 1 : last]]
    assert any(line.startswith("statement") and "30s" in line for line in limits)
