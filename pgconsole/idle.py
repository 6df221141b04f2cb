"""The idle countdown of a user's open transaction, shared by the browser's edits and the console.

A server with `idle_in_transaction_session_timeout` ends the whole session of a transaction
left idle past it. pgconsole rolls the transaction back itself a little earlier
(`ROLLBACK_BEFORE_SECONDS`), keeping the connection, and counts down in the status the last
`WARN_BEFORE_SECONDS` before it does.
"""

from __future__ import annotations

WARN_BEFORE_SECONDS = 30.0
"""The status counts down this long before pgconsole's rollback."""
ROLLBACK_BEFORE_SECONDS = 3.0
"""pgconsole rolls back itself this long before the server would end the session."""


def idle_left(last_used: float, limit: float | None, now: float) -> float | None:
    """Seconds before pgconsole rolls back a transaction idle since `last_used`.

    Args:
        last_used: When the transaction last ran a statement (`time.monotonic()`).
        limit: The server's idle_in_transaction_session_timeout in seconds; None or 0 for none.
        now: `time.monotonic()`.

    Returns:
        The seconds left (0 or less: the rollback is due), or None when there is no limit.
    """
    if not limit:
        return None
    return last_used + limit - ROLLBACK_BEFORE_SECONDS - now


def rollback_due(left: float | None) -> bool:
    """Whether the idle rollback is due, given `idle_left`'s answer."""
    return left is not None and left <= 0


def countdown_text(left: float | None) -> str:
    """` · idle: rolled back in 20 s` within `WARN_BEFORE_SECONDS` of the rollback, else ``."""
    if left is None or left > WARN_BEFORE_SECONDS:
        return ""
    return f" · idle: rolled back in {max(0, int(left))} s"


def clock(seconds: float) -> str:
    """`01:42`, or `1:02:03` past an hour: how long a transaction has been open."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes:02}:{secs:02}"
