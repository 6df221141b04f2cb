"""Messages the whole app exchanges (a widget's own messages live inside the widget)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from pgconsole.db.failures import ConnectFailure
from pgconsole.db.pool import Database


@dataclass
class Connected(Message):
    """The pool is open and the server described."""

    database: Database


@dataclass
class ConnectFailed(Message):
    """A connection attempt failed; `failure` says why in a DBA's words."""

    failure: ConnectFailure


class RetryRequested(Message):
    """The user asked to try connecting again."""
