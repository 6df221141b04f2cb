"""What the console's completion offers: the catalog, read through the pool and kept fresh.

The editor asks `complete(text, offset)` on every keystroke that wants candidates: it answers
from the copy in memory, never waiting on the server. The copy is read again in a worker of
the screen after a statement that may change the schema, and when the user comes back to the
console and it is older than `FRESH_SECONDS` (another session may have changed it).
"""

from __future__ import annotations

import time
from typing import Any

from textual.screen import Screen
from textual.worker import Worker

from pgconsole.db.connection.errors import DB_ERRORS
from pgconsole.db.connection.failures import describe_error
from pgconsole.db.connection.pool import Database
from pgconsole.db.console.completion import (
    Candidate,
    CompletionCatalog,
    complete,
    load_completion_catalog,
)
from pgconsole.db.sqltext import Statement

DDL_KEYWORDS = frozenset({"CREATE", "ALTER", "DROP", "COMMENT", "IMPORT"})
"""Statements after which the completion catalog is read again."""
FRESH_SECONDS = 10.0
"""Coming back to the console, completion keeps a catalog read this recently."""


class CompletionSource:
    """The completion catalog of one console screen."""

    def __init__(self, screen: Screen[Any], database: Database) -> None:
        self.screen = screen
        self.database = database
        self.catalog: CompletionCatalog | None = None
        """What completion offers; None until first read (or when it could not be)."""
        self.read_at: float | None = None
        """When the catalog was last read (`time.monotonic()`)."""

    def complete(self, text: str, offset: int) -> list[Candidate]:
        """The candidates at `offset` in `text` (the editor's `completer`)."""
        if self.catalog is None:
            return []
        return list(complete(self.catalog, text, offset))

    async def load(self) -> None:
        """(Re)read the catalog through the pool; when it cannot be, say that completion is off."""
        try:
            async with self.database.transaction(readonly=True) as conn:
                self.catalog = await load_completion_catalog(conn)
            self.read_at = time.monotonic()
        except DB_ERRORS as error:
            self.screen.notify(
                "Completion is off: " + describe_error(error), severity="warning", markup=False
            )

    def refresh(self) -> Worker[None]:
        """Read the catalog again in the background (a newer request replaces an older one)."""
        return self.screen.run_worker(
            self.load(),
            name="refresh_catalog",
            group="console-catalog",
            exclusive=True,
            exit_on_error=False,
        )

    def refresh_if_stale(self) -> None:
        """Back in the console: read the catalog again if its copy is older than
        `FRESH_SECONDS` (never before the first read, which is on its way)."""
        if self.read_at is not None and time.monotonic() - self.read_at > FRESH_SECONDS:
            self.refresh()

    def ran(self, statement: Statement) -> None:
        """`statement` ran: after DDL, or the COMMIT that may have ended some, read again."""
        if statement.keyword in DDL_KEYWORDS or (
            statement.keyword in {"COMMIT", "END"} and self.catalog is not None
        ):
            self.refresh()
