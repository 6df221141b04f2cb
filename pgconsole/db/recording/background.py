"""A recording written off the event loop: the app's screens record the samples they take
without waiting for SQLite's commit (an fsync a sample) or a block's compression.

The `Writer` lives on one thread of its own (an SQLite connection stays on the thread that
opened it); each `add` is queued there in order.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import time
from pathlib import Path

from pgconsole.db.activity.stats import Sample
from pgconsole.db.recording.store import Meta, RecordingError, Writer


def recording_name(meta: Meta, now: float | None = None) -> str:
    """`pgconsole-HOST-20261206-031205.pgrec`: a file name that sorts by time."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if now is None else now))
    host = "".join(c if c.isalnum() or c in "-." else "_" for c in meta.host) or "server"
    return f"pgconsole-{host}-{stamp}.pgrec"


class BackgroundWriter:
    """A `Writer` on a thread of its own."""

    def __init__(self, writer: Writer, thread: concurrent.futures.ThreadPoolExecutor) -> None:
        self.writer = writer
        self._thread = thread
        self.started = time.monotonic()

    @classmethod
    async def open(cls, path: Path, meta: Meta) -> BackgroundWriter:
        """Create the file (refused if it exists and is not this server's recording).

        Raises:
            RecordingError: It cannot be created or appended to; the message says why.
        """
        thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="pgconsole-rec")
        try:
            writer = await asyncio.get_running_loop().run_in_executor(
                thread, Writer.open, path, meta
            )
        except BaseException:
            thread.shutdown(wait=False)
            raise
        return cls(writer, thread)

    @property
    def path(self) -> Path:
        return self.writer.path

    @property
    def added(self) -> int:
        """Samples written by this writer."""
        return self.writer.added

    async def add(self, sample: Sample) -> None:
        """Write a sample (committed when this returns).

        Raises:
            RecordingFull: The size limit or a full disk: nothing more is written.
            RecordingError: Another failure.
        """
        # A sample not later than the last one (the server's clock went back) is skipped.
        with contextlib.suppress(ValueError):
            await asyncio.get_running_loop().run_in_executor(self._thread, self.writer.add, sample)

    async def close(self) -> None:
        """Finish the file (its last block compressed) and end the thread."""
        try:
            await asyncio.get_running_loop().run_in_executor(self._thread, self.writer.close)
        except RecordingError:
            pass  # what was committed stays readable
        finally:
            self._thread.shutdown(wait=False)
