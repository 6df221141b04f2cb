"""The console's status line drawn from its facts, without an app or a server."""

from __future__ import annotations

from textual.app import App, ComposeResult

from pgconsole.db.console.connection import Waiter
from pgconsole.widgets.console_status import (
    ConsoleState,
    ConsoleStatus,
    UserTransaction,
    status_line,
    transaction_text,
    waiters_text,
)


def waiter(pid: int) -> Waiter:
    return Waiter(pid, "alice", "psql", 12.7, "UPDATE t SET a = 1")


def test_mode_timeout_and_a_running_statement() -> None:
    line = status_line(ConsoleState(read_only=True, statement_timeout="30s", running_for=4.2))
    assert line.plain == " READ ONLY   timeout 30s   running 4 s · ctrl+c cancels  "
    assert status_line(ConsoleState(read_only=False, statement_timeout="")).plain == (
        " timeout …  "
    )


def test_the_transaction_with_its_countdown_and_waiters_in_red() -> None:
    tx = UserTransaction(age=102.5, statements=3, aborted=False, idle_left=20.4)
    assert transaction_text(tx) == "TX open 01:42 · 3 statements · idle: rolled back in 20 s"
    calm = status_line(ConsoleState(read_only=False, statement_timeout="0", transaction=tx))
    assert calm.plain.endswith(f" {transaction_text(tx)}  ")
    assert "on cyan" in str(calm.spans[-1].style)
    blocking = UserTransaction(age=5, statements=1, aborted=False, waiters=(waiter(123),))
    line = status_line(ConsoleState(read_only=False, statement_timeout="0", transaction=blocking))
    assert "blocks pid 123 (alice, 12 s)" in line.plain
    assert "on red" in str(line.spans[-1].style)
    failed = UserTransaction(age=5, statements=2, aborted=True)
    assert transaction_text(failed).startswith("TX failed: ROLLBACK needed 00:05")


def test_one_statement_is_singular() -> None:
    one = UserTransaction(age=5, statements=1, aborted=False, waiters=(waiter(123),))
    assert transaction_text(one) == "TX open 00:05 · 1 statement · blocks pid 123 (alice, 12 s)"
    failed = UserTransaction(age=5, statements=1, aborted=True)
    assert transaction_text(failed) == "TX failed: ROLLBACK needed 00:05 · 1 statement"


def test_a_cursor_of_ours_shows_only_outside_the_users_transaction() -> None:
    state = ConsoleState(read_only=False, statement_timeout="0", cursor_open=True)
    assert status_line(state).plain.endswith(" cursor open  ")


def test_waiters_past_three_are_counted() -> None:
    text = waiters_text([waiter(pid) for pid in (1, 2, 3, 4, 5)])
    assert text.startswith("blocks pid 1 (alice, 12 s), pid 2")
    assert "pid 4" not in text and text.endswith(" and 2 more")


def test_at_80_columns_the_sessions_blocked_stay_in_sight() -> None:
    # 124 cells in full: wrapped in its one line, "blocks …" was lost with the second line.
    tx = UserTransaction(
        age=102.5,
        statements=12,
        aborted=False,
        idle_left=20.4,
        waiters=tuple(waiter(pid) for pid in (31001, 31002, 31003, 31004)),
    )
    state = ConsoleState(read_only=True, statement_timeout="30s", transaction=tx)
    assert status_line(state).cell_len > 120
    line = status_line(state, 80)
    assert line.cell_len <= 80
    assert line.plain == (
        " READ ONLY   TX open 01:42 · idle: rolled back in 20 s · blocks 4 sessions  "
    )
    # Less narrow, it keeps what it can: one session named, then the count and three, but
    # not the timeout.
    assert "blocks pid 31001 (alice, 12 s) and 3 more" in status_line(state, 100).plain
    wider = status_line(state, 170).plain
    assert "timeout" not in wider and "12 statements" in wider and "pid 31003" in wider
    assert status_line(state, 200).plain == status_line(state).plain
    # Narrower than the shortest, it is cut with an ellipsis, never wrapped.
    assert status_line(state, 40).plain.endswith("…") and status_line(state, 40).cell_len == 40


async def test_the_widget_fits_its_line_to_its_width() -> None:
    class StatusApp(App[None]):
        def compose(self) -> ComposeResult:
            yield ConsoleStatus()

    tx = UserTransaction(age=5, statements=3, aborted=False, waiters=(waiter(1), waiter(2)))
    app = StatusApp()
    async with app.run_test(size=(60, 5)) as pilot:
        status = app.query_one(ConsoleStatus)
        status.state = ConsoleState(read_only=False, statement_timeout="30s", transaction=tx)
        await pilot.pause()
        assert status.render_line(0).text.rstrip() == (
            " TX open 00:05 · blocks pid 1 (alice, 12 s) and 1 more"
        )
        await pilot.resize_terminal(120, 5)
        await pilot.pause()
        assert "timeout 30s" in status.render_line(0).text
