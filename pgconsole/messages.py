"""Messages the whole app exchanges (a widget's own messages live inside the widget)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from textual.message import Message

from pgconsole.db.connection.failures import ConnectFailure
from pgconsole.db.connection.passwords import PasswordChoice
from pgconsole.db.connection.pool import Database
from pgconsole.db.opening import Opening


@dataclass
class Connected(Message):
    """The pool is open and the server described."""

    database: Database
    password: PasswordChoice
    opening: Opening | None = None
    """The whole attempt, with the `--table` first page when it was read with the pool."""
    origin: object = None
    """The connector that posted it (which server window it is about)."""


@dataclass
class ConnectFailed(Message):
    """A connection attempt failed; `failure` says why in a DBA's words."""

    failure: ConnectFailure
    origin: object = None
    """The connector that posted it."""


@dataclass
class PasswordNeeded(Message):
    """The server wants a password that no source had (or that it rejected)."""

    choice: PasswordChoice
    origin: object = None
    """The connector that posted it."""


class RetryRequested(Message):
    """The user asked to try connecting again."""


Place = Literal["browser", "activity", "console", "diagnostics", "back"]
"""Where `PlaceRequested` goes: one of the four screens, or one step back."""


@dataclass
class PlaceRequested(Message):
    """A screen asks the app to show another place (F3, F4, Esc back)."""

    place: Place
    relation: str = ""
    """For the activity screen: show only the sessions about this relation."""
    text: str = ""
    """For the console: put this text in its editor (not run)."""
    panel: str = ""
    """For the diagnostics: show this panel (by default the one shown last)."""


@dataclass
class RelationRequested(Message):
    """Show this relation in the browser (from the activity screen)."""

    oid: int


class QuitRequested(Message):
    """Quit, asked for by a screen once what it had open is settled (committed, rolled back)."""


@dataclass
class ServerRequested(Message):
    """Show server `name`'s window (opening and connecting it if it is not open): from the
    server list (F10) and the fleet view."""

    name: str
    place: Literal["browser", "activity"] = "browser"


@dataclass
class WindowRequested(Message):
    """Show open window `number` (1 is the first), from the server list."""

    number: int


class FleetRequested(Message):
    """Show the fleet view (from the server list)."""
