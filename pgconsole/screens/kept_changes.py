"""Changes kept after a transaction ended without a commit, applied again through conflicts.

A transaction lost with its connection, refused at COMMIT or rolled back while idle leaves its
changes with the edit controller, oldest first. They live until applied again (A) or discarded
by the user. `apply_again` replays them in a new transaction: each applied change leaves the
list and shows in the grid as the server stored it; one that meets a changed or deleted row
opens the conflict view through `write_or_ask`, the flow a first save goes through too. What
is not applied stays kept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from textual.app import App

from pgconsole.db.browse.pages import Column, Row
from pgconsole.db.edit.transaction import Change, Conflict, EditRefused, EditTransaction
from pgconsole.screens.edit_questions import changes_text, edit_error
from pgconsole.widgets.grid import DataGrid, row_identity

# The conflict view is imported when first used: most sessions never meet one.

Outcome = Literal["applied", "discarded", "cancelled"]
"""One kept change: applied, let go for the row someone else stored, or left kept."""
T = TypeVar("T")


@dataclass(frozen=True)
class Declined:
    """At a conflict the user did not overwrite: `reload` (show their row) or `cancel`."""

    choice: Literal["reload", "cancel"]
    conflict: Conflict


async def write_or_ask(
    app: App[Any],
    columns: tuple[Column, ...],
    action: str,
    write: Callable[[Row | None], Awaitable[T]],
) -> T | Declined:
    """What `write` returns, or how the user declined at a conflict.

    `write` is given the row it must find: None for the row as read, then, after the user
    chose to overwrite (`action` names it on the view's key), the row someone else stored.
    Errors other than a conflict are the caller's.
    """
    from pgconsole.screens.conflict import ConflictScreen

    expected: Row | None = None
    while True:
        try:
            return await write(expected)
        except Conflict as conflict:
            choice = await app.push_screen_wait(ConflictScreen(conflict, columns, action))
            if choice == "overwrite" and conflict.current is not None:
                expected = conflict.current
                continue
            return Declined("reload" if choice == "reload" else "cancel", conflict)


@dataclass(frozen=True)
class Reapplied:
    """How a replay of the kept changes ended, short of an error."""

    applied: int
    """Changes applied in the transaction (a change let go for theirs is not counted)."""
    stopped: bool
    """The user cancelled at a conflict: that change and those after it are still kept."""


async def apply_again(
    kept: list[Change], tx: EditTransaction, grid: DataGrid, app: App[Any]
) -> Reapplied:
    """Apply `kept` in order inside `tx`, taking each from the list once it is settled.

    Raises:
        EditRefused, TransactionLost, DB_ERRORS: As the transaction raises them; the change
            that met it and those after it are still in `kept`.
    """
    applied = 0
    while kept:
        outcome = await _apply_one(tx, kept[0], grid, app)
        if outcome == "cancelled":
            return Reapplied(applied, stopped=True)
        kept.pop(0)
        applied += outcome == "applied"
    return Reapplied(applied, stopped=False)


async def _apply_one(tx: EditTransaction, change: Change, grid: DataGrid, app: App[Any]) -> Outcome:
    """Apply one kept change, asking at a conflict."""
    if change.kind == "insert":  # an insert finds no row, so it meets no conflict
        grid.insert_row(await tx.insert(dict(change.values)))
        return "applied"
    original = change.original
    if original is None:
        raise EditRefused(f"a kept {change.kind} has no row to find")
    values = dict(change.values)
    written: Row | Declined | None  # the row stored by an update, None after a delete
    if change.kind == "update":
        written = await write_or_ask(
            app,
            grid.columns,
            "overwrite",
            lambda expected: tx.update(original, values, expected=expected),
        )
    else:
        written = await write_or_ask(
            app, grid.columns, "delete", lambda expected: tx.delete(expected or original)
        )
    if isinstance(written, Declined):
        if written.choice == "reload":
            show_stored(grid, original, written.conflict.current)
            return "discarded"
        return "cancelled"
    show_stored(
        grid, original, written, {i for i, c in enumerate(grid.columns) if c.name in values}
    )
    return "applied"


def show_stored(
    grid: DataGrid, original: Row, stored: Row | None, changed: set[int] | None = None
) -> None:
    """Show a row as it is now wherever the grid holds it (found by its identity: the grid's
    rows were read again since the change was first made); None removes it."""
    identity = row_identity(original)
    shown = next((r for r in grid.rows if row_identity(r) == identity), None)
    if shown is None:
        return
    if stored is None:
        grid.remove_row(shown)
    else:
        grid.replace_row(shown, stored, changed or set())


def reapplied_text(result: Reapplied | BaseException, kept: int, open_: bool) -> tuple[str, bool]:
    """What A says after it ran, and whether it is an error: `result` is how the replay
    ended, `kept` the changes still not applied, `open_` whether a transaction holds some."""
    if isinstance(result, BaseException):
        return (
            f"A change could not be applied again: {edit_error(result)}\n"
            f"{changes_text(kept)} still not applied (A tries again, ctrl+r discards).",
            True,
        )
    if result.stopped:
        return (
            f"Stopped at a conflict: {changes_text(kept)} still not applied "
            "(A tries again, ctrl+r discards).",
            True,
        )
    if open_:
        return f"Applied {changes_text(result.applied)} again: ctrl+s commits.", False
    return "Nothing was applied: every kept change met a newer row.", False
