"""The activity screen's lock tree, drawn from fixed sessions (no app, no database)."""

from __future__ import annotations

from dataclasses import replace

from rich.console import Console

from pgconsole.db.activity import stats
from pgconsole.widgets.lock_tree import chain_sessions, lock_label, lock_tree_text, root_blocker
from tests.ui.test_snapshot_gallery import LOCK_CHAIN, SESSIONS

BLOCKER, WAITING, LAST = LOCK_CHAIN


def drawn(lines: int, sessions: tuple[stats.Backend, ...] = SESSIONS) -> tuple[list[str], int]:
    """The tree's lines at 80 cells, each cut with `…` as the widget's style has it, and the
    lines `lock_tree_text` says it takes."""
    drawing, taken = lock_tree_text(stats.lock_tree(sessions), lines)
    console = Console(width=80, no_color=True, legacy_windows=False)
    with console.capture() as capture:
        console.print(drawing, no_wrap=True, overflow="ellipsis")
    return capture.get().rstrip("\n").split("\n"), taken


def queue(length: int) -> tuple[stats.Backend, ...]:
    """`length` sessions queued behind the chain's last one."""
    return SESSIONS + tuple(
        replace(LAST, pid=4500 + n, blocked_by=(LAST.pid,)) for n in range(length)
    )


def test_without_a_wait_it_says_so_in_one_line() -> None:
    text, lines = lock_tree_text((), 6)
    assert str(text) == "No session waits on another." and lines == 1


def test_a_chain_is_drawn_root_first_a_line_each() -> None:
    lines, taken = drawn(6)
    assert taken == len(lines) == 4
    assert lines[0] == "Blocking chains"
    assert [line.split()[1] for line in lines[1:]] == ["4101", "4102", "4103"]


def test_a_label_says_who_wants_what_for_how_long() -> None:
    label = lock_label(WAITING).plain
    assert label.startswith("4102 shop_api waits for a row of shop.item · 41s · active: ")
    assert label.endswith("UPDATE shop.item SET stock = stock - 1 WHERE id = $1")
    assert "wants" not in lock_label(BLOCKER).plain  # it waits on no one: its transaction age
    assert " · 5m12s · " in lock_label(BLOCKER).plain


def test_a_long_queue_is_cut_and_the_rest_counted() -> None:
    lines, taken = drawn(6, queue(20))
    assert taken == len(lines) == 6
    assert lines[-1].endswith(f"… {len(LOCK_CHAIN) + 20 - 4} more not drawn")


def test_a_queue_a_thousand_deep_is_counted_without_recursion() -> None:
    deep = [BLOCKER] + [
        replace(LAST, pid=5000 + n, blocked_by=(4999 + n if n else BLOCKER.pid,))
        for n in range(1000)
    ]
    roots = stats.lock_tree(deep)
    assert chain_sessions(roots) == 1001
    assert lock_tree_text(roots, 6)[1] == 6


def test_the_root_blocker_is_found_up_the_chain() -> None:
    by_pid = {s.pid: s for s in SESSIONS}
    assert root_blocker(LAST, by_pid) is BLOCKER
    assert root_blocker(BLOCKER, by_pid) is BLOCKER
    assert root_blocker(None, by_pid) is None
    assert root_blocker(LAST, {LAST.pid: LAST}) is None  # its blocker is not listed
    cycle = {4102: replace(WAITING, blocked_by=(4103,)), 4103: LAST}
    assert root_blocker(LAST, cycle) is LAST  # met again: the walk ends


def test_a_row_wait_is_said_as_one_and_a_table_lock_as_its_mode() -> None:
    # WAITING waits on the transaction that updated the row (a ShareLock on a transaction id),
    # which "ShareLock on shop.item" made read as a lock on the whole table.
    def wanted(session: stats.Backend) -> str:
        label = lock_label(session).plain
        return label[label.index(" ", len(str(session.pid)) + 1) : label.index(" · ")]

    in_queue = replace(WAITING, wait_event="tuple", lock_mode="ExclusiveLock")
    unknown_row = replace(WAITING, lock_relation=None)  # a unique key another insert holds
    advisory = replace(LAST, wait_event="advisory", lock_mode="ExclusiveLock", lock_relation=None)
    assert wanted(WAITING) == " waits for a row of shop.item"
    assert wanted(in_queue) == " waits for a row of shop.item"
    assert wanted(unknown_row) == " waits for a transaction to end"
    assert wanted(LAST) == " wants AccessExclusiveLock on shop.item"
    assert wanted(advisory) == " wants ExclusiveLock on advisory"
