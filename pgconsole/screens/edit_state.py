"""The browser's edit transaction as the client holds it, and the status line it shows.

`EditState` keeps the open `EditTransaction`, the changes kept from transactions that ended
without a commit, and the SQL sent; it moves changes from the one to the other when a
transaction ends, and shows `TX open 01:42 · 3 changes` in the status bar after each step.
`EditHost` is what it and the edit controller need of the screen they edit in.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, Protocol

from textual.app import App
from textual.notifications import SeverityLevel

from pgconsole import idle
from pgconsole.db.browse.catalog import RelationDetail
from pgconsole.db.browse.pages import BrowseSpec, Pager
from pgconsole.db.connection.errors import DB_ERRORS
from pgconsole.db.connection.pool import Database
from pgconsole.db.edit.transaction import Change, EditTransaction, Statement, TransactionLost
from pgconsole.screens.edit_questions import changes_text, lost_text, summary_text
from pgconsole.widgets.grid import DataGrid


class EditHost(Protocol):
    """What editing needs of the screen it edits in (the main screen has it)."""

    database: Database | None
    detail: RelationDetail | None
    pager: Pager | None
    spec: BrowseSpec | None

    @property
    def app(self) -> App[Any]: ...

    @property
    def grid(self) -> DataGrid: ...

    def say(self, text: str, *, error: bool = False) -> None: ...

    def notify(self, message: str, *, severity: SeverityLevel = "information") -> None: ...

    def show_transaction(self, text: str | None) -> None: ...

    def idle_in_transaction_seconds(self) -> float | None: ...

    async def reload_grid(self) -> None: ...

    def reload_grid_later(self) -> None: ...

    async def reopen_for_editing(self) -> None: ...


def kept_status(kept: int) -> str:
    """The status bar with no transaction open and changes kept."""
    return f"{changes_text(kept)} not applied · A applies again"


class EditState:
    """The open transaction, the changes kept from ended ones, and the SQL sent."""

    def __init__(self, screen: EditHost) -> None:
        self.screen = screen
        self.tx: EditTransaction | None = None
        self.kept: list[Change] = []
        """Changes of transactions that ended without a commit, oldest first: they live until
        the user applies them again (A) or discards them (ctrl+r, or when asked on quit)."""
        self.log: list[Statement] = []
        """Every statement sent for edits in this session, for the SQL log."""

    @property
    def is_open(self) -> bool:
        """A transaction with changes is open on the server."""
        return self.tx is not None and self.tx.is_open

    def summary(self) -> str:
        """`2 updates, 1 insert, 1 delete in schema.table`."""
        tx = self.tx
        return "no changes" if tx is None else summary_text(tx.changes, tx.spec)

    def status_text(self) -> str | None:
        """`TX open 01:42 · 3 changes`, the idle countdown when near, or None."""
        tx = self.tx
        if tx is None or tx.started_at is None:
            return kept_status(len(self.kept)) if self.kept else None
        now = time.monotonic()
        text = f"TX open {idle.clock(now - tx.started_at)} · {changes_text(len(tx.changes))}"
        if self.kept:
            text += f" · {len(self.kept)} not applied"
        return text + idle.countdown_text(self.idle_left(now))

    def idle_left(self, now: float) -> float | None:
        """Seconds before pgconsole rolls back an idle transaction, or None (no limit)."""
        limit = self.screen.idle_in_transaction_seconds()
        if self.tx is None or self.tx.started_at is None:
            return None
        return idle.idle_left(self.tx.last_used, limit, now)

    def transaction(self) -> EditTransaction:
        """The open transaction, or a new one: an ended one never carries changes over."""
        screen = self.screen
        assert screen.database is not None and screen.spec is not None
        if self.tx is None or not self.tx.is_open:
            self.forget()
            self.tx = EditTransaction(screen.database, screen.spec)
        return self.tx

    def forget(self) -> None:
        """The transaction ended on the server: its SQL goes to the log, the object away."""
        if self.tx is not None:
            self.log.extend(self.tx.statements)
            self.tx.statements.clear()
        self.tx = None

    def keep_uncommitted(self) -> int:
        """The transaction ended without a commit: its changes join the kept ones."""
        if self.tx is not None:
            self.kept.extend(self.tx.changes)
            self.tx.changes.clear()
        self.forget()
        return len(self.kept)

    async def end_if_empty(self) -> None:
        """A transaction left with no change (a cancelled conflict) ends at once: it would
        otherwise sit idle in transaction until the user rolls back."""
        tx = self.tx
        if tx is not None and tx.is_open and not tx.changes:
            with contextlib.suppress(*DB_ERRORS, TransactionLost):
                await tx.rollback()
            self.forget()
            self.screen.show_transaction(self.status_text())

    def lost(self, error: BaseException | str) -> str:
        """The transaction died on the server: its changes join the kept ones, the grid is
        read again, and the line to say comes back."""
        kept = self.keep_uncommitted()
        self.screen.grid.clear_changes()
        self.screen.show_transaction(self.status_text())
        self.screen.reload_grid_later()
        return lost_text(error, kept)

    def after_statement(self) -> None:
        """A statement ran: its SQL goes to the log, the status shows the transaction."""
        if self.tx is not None:
            self.log.extend(self.tx.statements)
            self.tx.statements.clear()
        self.screen.show_transaction(self.status_text())

    def statements(self) -> list[Statement]:
        """Every statement sent for edits, the open transaction's last."""
        pending = self.tx.statements if self.tx is not None else []
        return [*self.log, *pending]
