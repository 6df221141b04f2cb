"""What the browser's editing asks and says: its questions, and the lines built from counts.

Each function builds a line, or the modal screen that asks a question, from plain values:
nothing here touches a server or the screen, so the wording is tested without an app. The
controller in `screens/editing.py` decides when each is asked or said.
"""

from __future__ import annotations

from collections.abc import Sequence

from pgconsole.db.browse.catalog import RelationDetail
from pgconsole.db.browse.pages import BrowseSpec, Column, Row
from pgconsole.db.connection.failures import describe_error
from pgconsole.db.edit.transaction import Change, blocking_pids
from pgconsole.screens.confirm import ChoiceScreen, ConfirmScreen

COMMIT = "commit"
"""The answer to `open_transaction_question` that commits."""
ROLL_BACK = "roll back"
"""The answer to `open_transaction_question` that rolls back."""
DISCARD = "discard them"
"""The answer to `kept_changes_question` that lets the kept changes go."""


def changes_text(count: int) -> str:
    """`1 change`, `3 changes`."""
    return f"{count} change{'' if count == 1 else 's'}"


def edit_error(error: BaseException) -> str:
    """One readable line and the server's details; who blocked a lock wait, when known."""
    text = describe_error(error)
    pids = blocking_pids(error)
    if pids:
        text += "\nBlocked by pid " + ", ".join(str(p) for p in pids)
    return text


def summary_text(changes: Sequence[Change], spec: BrowseSpec) -> str:
    """`2 updates, 1 insert, 1 delete in schema.table`, in the order first made."""
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.kind] = counts.get(change.kind, 0) + 1
    parts = [f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in counts.items()]
    return (", ".join(parts) or "no changes") + f" in {spec.schema}.{spec.name}"


def row_text(columns: Sequence[Column], row: Row) -> str:
    """`id=1, name=tea, note=NULL`, each value cut at 40 characters, the whole at 600."""
    shown = ", ".join(
        f"{c.name}={'NULL' if v is None else v[:40]}"
        for c, v in zip(columns, row.cells, strict=True)
    )
    return shown[:600]


# -- questions ---------------------------------------------------------------------------------


def physical_row_question(detail: RelationDetail) -> ConfirmScreen:
    """A table without a key: edit it by ctid and xmin instead?"""
    return ConfirmScreen(
        f"{detail.schema}.{detail.name} has no key: edit by physical row?",
        "Rows are found by ctid and checked against xmin: a change touches exactly "
        "the row you see, or is refused. The rows are read again now.",
    )


def delete_question(columns: Sequence[Column], row: Row) -> ConfirmScreen:
    """Delete this row, shown with its values?"""
    return ConfirmScreen("Delete this row? (inside the open transaction)", row_text(columns, row))


def commit_question(summary: str) -> ConfirmScreen:
    """Commit what the transaction changed (`summary`)?"""
    return ConfirmScreen("Commit?", summary)


def rollback_question(summary: str, spec: BrowseSpec, changed: bool) -> ConfirmScreen:
    """Roll back what was changed, or end a transaction on `spec` that changed nothing."""
    if changed:
        return ConfirmScreen("Roll back?", summary + " will be undone.")
    return ConfirmScreen(
        "End the transaction?",
        f"Nothing to roll back: no change was made in {spec.schema}.{spec.name}.",
    )


def discard_question(count: int) -> ConfirmScreen:
    """Forget the kept changes for good?"""
    return ConfirmScreen(
        f"Discard {changes_text(count)} not applied?",
        "They were never committed; once discarded they cannot be applied again.",
    )


def open_transaction_question(summary: str) -> ChoiceScreen:
    """Before leaving the table or quitting: `COMMIT`, `ROLL_BACK`, or cancel."""
    return ChoiceScreen(
        "A transaction is open: " + summary,
        [("c", COMMIT), ("r", ROLL_BACK), ("escape", "cancel")],
    )


def kept_changes_question(count: int) -> ChoiceScreen:
    """Before leaving the table or quitting with kept changes: `DISCARD`, or cancel."""
    return ChoiceScreen(
        f"{changes_text(count)} not applied (kept after a lost connection "
        "or an idle rollback): they are lost if you go on.",
        [("d", DISCARD), ("escape", "cancel")],
    )


# -- what happened -----------------------------------------------------------------------------


def nothing_to_commit_text(kept: int) -> str:
    """Ctrl+s without an open transaction."""
    if kept:
        return (
            f"Nothing to commit: {changes_text(kept)} not applied "
            "(A applies again, ctrl+r discards)."
        )
    return "No open transaction."


def commit_failed_text(error: BaseException, kept: int) -> str:
    """The server refused COMMIT: nothing was committed, and the changes are kept."""
    return (
        "COMMIT failed, nothing was committed: "
        + edit_error(error)
        + f"\n{changes_text(kept)} kept (A applies again, ctrl+r discards)."
    )


def lost_text(error: BaseException | str, kept: int) -> str:
    """The transaction's connection is gone: nothing was committed, the changes are kept."""
    return (
        f"Connection lost: {error}. Nothing was committed; "
        f"{changes_text(kept)} kept (A applies again, ctrl+r discards)."
    )


def idle_rollback_text(kept: int) -> str:
    """pgconsole rolled back an idle transaction before the server would end the session."""
    return (
        "The transaction sat idle too long and was rolled back before the server's "
        f"idle_in_transaction_session_timeout: {changes_text(kept)} kept, "
        "A applies again, ctrl+r discards."
    )
