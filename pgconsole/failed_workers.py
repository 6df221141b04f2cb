"""The error boundary: a worker that fails with anything but a database error is a bug.

Every screen forwards its failed workers here (`ReportsFailedWorkers`); the app shows one
readable line, keeps running, and appends the traceback to `errors.log` for a bug report.
"""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass
from os import environ
from pathlib import Path
from typing import cast

from textual.message import Message
from textual.message_pump import MessagePump
from textual.worker import Worker, WorkerState

from pgconsole.db.connection.failures import describe_error


def errors_log_path() -> Path:
    """`$XDG_STATE_HOME/pgconsole/errors.log` (XDG's default is `~/.local/state`)."""
    base = environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "pgconsole" / "errors.log"


def log_traceback(error: BaseException, where: str) -> Path | None:
    """Append `error`'s traceback to the errors log (0600); its path, or None if unwritable."""
    path = errors_log_path()
    text = "".join(traceback.format_exception(error))
    stamp = time.strftime("%Y-%m-%d %H:%M:%S%z")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as file:
            file.write(f"--- {stamp} in {where}\n{text}\n")
    except OSError:
        return None
    return path


@dataclass
class WorkerFailed(Message):
    """A worker ended with an error nobody caught (bubbles from its screen to the app)."""

    worker_name: str
    error: BaseException


def failure_line(error: BaseException, log: Path | None) -> str:
    """One readable line for the user: what failed, and where the details went."""
    first = describe_error(error).split("\n", 1)[0]
    where = f" (details in {log})" if log is not None else ""
    return f"Something failed unexpectedly: {type(error).__name__}: {first}{where}"


class ReportsFailedWorkers:
    """Mixin for screens (and widgets) that run workers: a failed one is reported upwards,
    after `worker_failed` lets the owner reset what it was waiting for.

    Put it first: `class MainScreen(ReportsFailedWorkers, Screen[None])`.
    """

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is WorkerState.ERROR and worker.error is not None:
            self.worker_failed(worker)
            # A plain mixin (a MessagePump base would change the screen's class hierarchy):
            # the class it is mixed into is the message pump.
            cast(MessagePump, self).post_message(
                WorkerFailed(worker.name or worker.group, worker.error)
            )

    def worker_failed(self, worker: Worker[object]) -> None:
        """Reset the owner's pending state for `worker` (override where there is some)."""
