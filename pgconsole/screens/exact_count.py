"""The exact count (`c`): count(*) with the current filters, in the background, Esc stops it.

The browser shows the planner's estimate in its title; an exact count reads every row, so it
runs READ ONLY under the statement timeout, says its time while it runs, and is cancelled on
the server when the user presses Esc.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from pgconsole.db.browse.filtering import without_alias
from pgconsole.db.browse.pages import ALIAS, BrowseSpec, count_rows
from pgconsole.db.connection.errors import DB_ERRORS
from pgconsole.db.connection.failures import describe_error
from pgconsole.db.connection.pool import Database
from pgconsole.widgets.browser_message import BrowserMessage
from pgconsole.words import counted

GROUP = "count"
"""The count's worker group: Esc cancels it, and a new count replaces a running one."""


class CountHost(Protocol):
    """What the count needs of the browser."""

    database: Database | None
    spec: BrowseSpec | None

    @property
    def message(self) -> BrowserMessage: ...

    def say(self, text: str, *, error: bool = False) -> None: ...


def count_text(total: int, spec: BrowseSpec) -> str:
    """`exactly 1,234 rows`, `(filtered)` when a filter is on."""
    filtered = " (filtered)" if spec.filter or spec.equals else ""
    return f"exactly {counted(total, 'row')}{filtered}"


async def count_exactly(host: CountHost) -> None:
    """Count the host's relation with its filters and say how many (run in a worker of the
    `count` group: cancelling it stops the count on the server)."""
    spec = host.spec
    if host.database is None or spec is None:
        return
    started = host.message.start_work(GROUP, "counting", "Esc stops", at_once=True)
    try:
        total = await count_rows(host.database, spec)
    except asyncio.CancelledError:
        took = host.message.end_work(GROUP, started)
        if took is not None:  # stopped, not replaced by a newer count
            host.say(f"count stopped after {took:.1f} s")
        raise
    except DB_ERRORS as error:
        host.message.end_work(GROUP, started)
        host.say("Count failed: " + without_alias(describe_error(error), ALIAS), error=True)
        return
    host.message.end_work(GROUP, started)
    host.say(count_text(total, host.spec or spec))
