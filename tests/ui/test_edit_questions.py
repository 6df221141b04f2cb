"""What the browser's editing asks and says, built from plain values: no app, no server."""

from __future__ import annotations

import time
from typing import Any, cast

import pytest

from pgconsole.db.browse.pages import BrowseSpec, Column, Row
from pgconsole.db.connection.pool import Database
from pgconsole.db.edit.transaction import BLOCKERS_ATTRIBUTE, Change, EditTransaction
from pgconsole.screens.edit_questions import (
    COMMIT,
    DISCARD,
    ROLL_BACK,
    changes_text,
    commit_failed_text,
    commit_question,
    delete_question,
    discard_question,
    edit_error,
    idle_rollback_text,
    kept_changes_question,
    lost_text,
    nothing_to_commit_text,
    open_transaction_question,
    rollback_question,
    row_text,
    summary_text,
)
from pgconsole.screens.edit_state import EditHost, EditState
from pgconsole.screens.kept_changes import Reapplied, reapplied_text

SPEC = BrowseSpec("shop", "item", (Column("id", "integer"), Column("name", "text")))
ROW = Row(("1", "tea"), ident=("1",))


def change(kind: Any) -> Change:
    return Change(kind, None if kind == "insert" else ROW, (), None)


@pytest.mark.parametrize(("count", "text"), [(0, "0 changes"), (1, "1 change"), (3, "3 changes")])
def test_changes_are_counted_in_words(count: int, text: str) -> None:
    assert changes_text(count) == text


def test_the_summary_counts_each_kind_in_the_order_first_made() -> None:
    changes = [change("update"), change("delete"), change("update"), change("insert")]
    assert summary_text(changes, SPEC) == "2 updates, 1 delete, 1 insert in shop.item"
    assert summary_text([], SPEC) == "no changes in shop.item"


def test_a_row_to_delete_is_shown_with_null_marked_and_long_values_cut() -> None:
    columns = (Column("id", "integer"), Column("note", "text"), Column("body", "text"))
    row = Row(("7", None, "x" * 50))
    assert row_text(columns, row) == f"id=7, note=NULL, body={'x' * 40}"
    wide = tuple(Column(f"c{i}", "text") for i in range(20))
    assert len(row_text(wide, Row(tuple("y" * 40 for _ in wide)))) == 600


def test_an_error_names_who_blocked_the_lock_wait() -> None:
    error = RuntimeError("canceling statement due to lock timeout")
    assert edit_error(error) == "canceling statement due to lock timeout"
    setattr(error, BLOCKERS_ATTRIBUTE, [12, 34])
    assert edit_error(error).endswith("\nBlocked by pid 12, 34")


def test_the_questions_say_what_is_at_stake() -> None:
    assert (commit_question("1 update in shop.item").question, commit_question("s").detail) == (
        "Commit?",
        "s",
    )
    undo = rollback_question("1 update in shop.item", SPEC, changed=True)
    assert (undo.question, undo.detail) == ("Roll back?", "1 update in shop.item will be undone.")
    empty = rollback_question("no changes in shop.item", SPEC, changed=False)
    assert empty.question == "End the transaction?"
    assert empty.detail == "Nothing to roll back: no change was made in shop.item."
    assert discard_question(2).question == "Discard 2 changes not applied?"
    assert "cannot be applied again" in discard_question(2).detail
    assert delete_question(SPEC.columns, ROW).detail == "id=1, name=tea"


def test_leaving_with_changes_offers_the_answers_the_controller_acts_on() -> None:
    open_ = open_transaction_question("1 insert in shop.item")
    assert open_.question == "A transaction is open: 1 insert in shop.item"
    assert open_.choices == [("c", COMMIT), ("r", ROLL_BACK), ("escape", "cancel")]
    kept = kept_changes_question(1)
    assert kept.question.startswith("1 change not applied (kept after a lost connection")
    assert kept.question.endswith("they are lost if you go on.")
    assert kept.choices == [("d", DISCARD), ("escape", "cancel")]


def test_every_line_about_kept_changes_says_how_many_and_what_to_do() -> None:
    assert nothing_to_commit_text(0) == "No open transaction."
    assert nothing_to_commit_text(2) == (
        "Nothing to commit: 2 changes not applied (A applies again, ctrl+r discards)."
    )
    failed = commit_failed_text(RuntimeError("serialization failure"), 1)
    assert failed == (
        "COMMIT failed, nothing was committed: serialization failure\n"
        "1 change kept (A applies again, ctrl+r discards)."
    )
    assert lost_text("closed while idle", 3) == (
        "Connection lost: closed while idle. Nothing was committed; "
        "3 changes kept (A applies again, ctrl+r discards)."
    )
    assert "idle_in_transaction_session_timeout: 1 change kept" in idle_rollback_text(1)


@pytest.mark.parametrize(
    ("result", "kept", "open_", "text", "error"),
    [
        (Reapplied(2, stopped=False), 0, True, "Applied 2 changes again: ctrl+s commits.", False),
        (
            Reapplied(0, stopped=False),
            0,
            False,
            "Nothing was applied: every kept change met a newer row.",
            False,
        ),
        (
            Reapplied(1, stopped=True),
            2,
            True,
            "Stopped at a conflict: 2 changes still not applied (A tries again, ctrl+r discards).",
            True,
        ),
        (
            RuntimeError("no such column"),
            1,
            False,
            "A change could not be applied again: no such column\n"
            "1 change still not applied (A tries again, ctrl+r discards).",
            True,
        ),
    ],
)
def test_applying_again_says_how_it_ended(
    result: Reapplied | BaseException, kept: int, open_: bool, text: str, error: bool
) -> None:
    assert reapplied_text(result, kept, open_) == (text, error)


class Host:
    """The one thing the status line asks of its screen: the server's idle limit."""

    def idle_in_transaction_seconds(self) -> float | None:
        return 60.0


@pytest.mark.parametrize(
    ("age", "idle", "kept", "text"),
    [
        (None, 0.0, 0, None),
        (None, 0.0, 2, "2 changes not applied · A applies again"),
        (102.5, 5.5, 0, "TX open 01:42 · 1 change"),  # 51.5 s before the idle rollback
        (50.5, 40.5, 1, "TX open 00:50 · 1 change · 1 not applied · idle: rolled back in 16 s"),
    ],
)
def test_the_status_line_shows_the_transaction_its_kept_changes_and_the_countdown(
    age: float | None, idle: float, kept: int, text: str | None
) -> None:
    now = time.monotonic()  # half-second margins: the line is read a moment later
    state = EditState(cast(EditHost, Host()))
    started = None if age is None else now - age
    tx = EditTransaction(cast(Database, None), SPEC, started_at=started, last_used=now - idle)
    tx.changes.append(change("update"))
    state.tx = tx
    state.kept.extend(change("update") for _ in range(kept))
    assert state.status_text() == text
