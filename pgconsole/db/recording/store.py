"""The recording file: one SQLite database of activity samples (`Writer` adds, `Recording` reads).

The file is created readable by its owner only (0600, and its `-wal` and `-shm` files too):
it holds query texts, role and host names. It is in WAL mode and every sample is committed
as it is added, so a recorder killed at any moment (SIGKILL, a power cut once the disk has
it) leaves a file that opens with every sample added before. A full disk, or the size limit,
rolls back the sample being added and stops the writer (`RecordingFull`); the file stays as
it was before that sample. The tables are in `schema.sql`, beside this module, and in the
README's "Recording format".
"""

from __future__ import annotations

import bisect
import contextlib
import fcntl
import functools
import itertools
import json
import os
import sqlite3
import stat
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

from pgconsole import __version__
from pgconsole.db.activity.moments import Moment, from_row, moment, to_row
from pgconsole.db.activity.stats import Sample
from pgconsole.db.connection.pool import Database
from pgconsole.db.recording.codec import (
    BlockReader,
    Delta,
    Encoder,
    join_block,
    micros,
    redacted,
)

FORMAT = 1
"""The format this pgconsole writes and reads: raised when a table or a frame key changes
meaning or goes away (a new key an older reader may ignore does not raise it)."""
BLOCK_SIZE = 60
"""Samples per block: a seek decodes at most this many (a minute at 1 s)."""
MODE = 0o600
"""The file's permissions, and its `-wal`'s and `-shm`'s."""


class _ClosedOnExit:
    """`with` closes it."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class RecordingError(Exception):
    """A file that cannot be read or written as a recording; the message names it and says
    why, in words."""


class RecordingFull(RecordingError):
    """The disk is full, or the file reached its size limit: the sample being added was not
    written, every one before it was."""

    def __init__(self, message: str, *, limit: bool) -> None:
        super().__init__(message)
        self.limit = limit
        """The size limit was reached (rather than the disk's space)."""


@dataclass(frozen=True)
class Meta:
    """What a recording is of: the `meta` table."""

    host: str
    """The host the recorder connected to, as it was named (a Unix socket's directory)."""
    port: int
    database: str
    server_version: str
    """`15.4`, as the server reported it when the recording started."""
    interval: float
    """Seconds between two samples, as asked (a sample may come later on a slow server)."""
    redacted: bool
    """Query texts are replaced by their first keywords and length."""
    started_at: float = field(default_factory=time.time)
    """When the file was created (this machine's clock, seconds since the epoch)."""
    pgconsole_version: str = __version__
    """The pgconsole that created the file."""
    format: int = FORMAT

    @classmethod
    def of(cls, database: Database, *, interval: float, redacted: bool) -> Meta:
        """What a recording of `database`'s server is of: the host, port and database it
        was reached by, as named (the server's own name for itself when the pool was made
        without them)."""
        params, info = database.params, database.info
        return cls(
            host=params.host if params is not None else info.target,
            port=params.port if params is not None else 0,
            database=params.database if params is not None else "",
            server_version=info.server_version,
            interval=interval,
            redacted=redacted,
        )

    @property
    def server(self) -> str:
        """`host:port/database`, how messages name the server."""
        return f"{self.host}:{self.port}/{self.database}"

    def same_server(self, other: Meta) -> bool:
        """Recording the same server, database and way (interval, redaction)."""
        return (self.host, self.port, self.database, self.interval, self.redacted) == (
            other.host,
            other.port,
            other.database,
            other.interval,
            other.redacted,
        )


_META_KEYS = ("format", "host", "port", "database", "server_version", "started_at", "interval",
              "redacted", "pgconsole_version")  # fmt: skip


# --- writing -------------------------------------------------------------------------------


class Writer(_ClosedOnExit):
    """Adds samples to a recording, each durable when `add` returns. Not thread-safe.

    Open with `Writer.open`; close (or use as a context manager) to compress the unfinished
    block and give back the file's lock.
    """

    def __init__(
        self,
        path: Path,
        descriptor: int,
        conn: sqlite3.Connection,
        meta: Meta,
        *,
        block_size: int,
        max_bytes: int | None,
    ) -> None:
        self.path = path
        self.meta = meta
        """The file's meta: this writer's when it created the file, else the file's own."""
        self.added = 0
        """Samples this writer added."""
        self.max_bytes = max_bytes
        self._descriptor = descriptor
        self._conn = conn
        self._block_size = block_size
        self._encoder = Encoder()
        self._pending: list[Delta] = []
        self._pending_moments: list[str] = []
        """Each pending sample's moment, as JSON (`to_row`)."""
        """The unfinished block's deltas, as in the `pending` table."""
        self._failed: str | None = None
        self._last = 0.0
        self._before = 0

    @classmethod
    def open(
        cls,
        path: Path | str,
        meta: Meta,
        *,
        block_size: int = BLOCK_SIZE,
        max_bytes: int | None = None,
    ) -> Writer:
        """Create the recording at `path`, or append to the one there.

        An existing file is appended to only when it is a recording of this format of the
        same server, database, interval and redaction (`Meta.same_server`); its unfinished
        block, if a recorder was killed, is closed first.

        Args:
            path: The file.
            meta: What is recorded (kept only when the file is created).
            block_size: Samples per compressed block.
            max_bytes: Stop (`RecordingFull`) rather than let the file grow past this size.

        Raises:
            RecordingError: The file exists and is not such a recording, another recorder is
                writing to it, or it cannot be created.
            RecordingFull: The file is at `max_bytes` already, or the disk is full.
        """
        path = Path(path)
        flags = os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            # O_EXCL: never through a link someone left there; 0600 from the first byte.
            descriptor = os.open(path, flags | os.O_CREAT | os.O_EXCL, MODE)
            created = True
        except FileExistsError:
            created = False
            descriptor = _open_existing(path, flags)
        except OSError as error:
            raise RecordingError(f"cannot create {path}: {error.strerror}") from None
        conn: sqlite3.Connection | None = None
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RecordingError(f"{path}: another recorder is writing to it") from None
            conn = _connect(path)
            if created:
                _create(conn, path, meta)
            else:
                found = _read_meta(conn, path)
                if not found.same_server(meta):
                    raise RecordingError(
                        f"{path} is a recording of {found.server} every {found.interval:g} s"
                        f"{', redacted' if found.redacted else ''}: it is appended to only by "
                        f"the same recording, give another file"
                    )
                meta = found
            _private(path)
            writer = cls(path, descriptor, conn, meta, block_size=block_size, max_bytes=max_bytes)
            writer._limit()
            writer._close_pending()
        except BaseException:
            if conn is not None:
                conn.close()
            os.close(descriptor)
            if created:
                for leftover in (path, *_companions(path)):
                    leftover.unlink(missing_ok=True)
            raise
        return writer

    @property
    def count(self) -> int:
        """Samples in the file: those there before this writer opened it, and its own."""
        return self._before + self.added

    def add(self, sample: Sample) -> None:
        """Add the sample, committed (durable) when this returns.

        Raises:
            ValueError: The sample is not later than the last one added (the server's clock
                went back): nothing was written, the writer goes on.
            RecordingFull: The disk is full or the size limit is reached: the sample was not
                written, and the writer adds no more.
            RecordingError: Another write error (the same), or the writer failed before.
        """
        if self._failed is not None:
            raise RecordingError(f"{self.path}: the recording stopped: {self._failed}")
        if self.meta.redacted:
            sample = redacted(sample)
        if sample.server.taken_at <= self._last:
            raise ValueError(
                f"sample at {sample.server.taken_at} not after the last ({self._last})"
            )
        if not self._pending:
            self._encoder.reset()
        delta = self._encoder.encode(sample)
        summary = json.dumps(to_row(moment(sample)), separators=(",", ":"))
        try:
            self._check_size()
            with self._transaction():
                if len(self._pending) + 1 >= self._block_size:
                    self._insert_block([*self._pending, delta], [*self._pending_moments, summary])
                else:
                    self._conn.execute(
                        "INSERT INTO pending (taken_at, frame, moment) VALUES (?, ?, ?)",
                        (delta.taken_at, delta.data, summary),
                    )
        except RecordingError as error:
            self._failed = str(error)
            raise
        except sqlite3.Error as error:  # outside a transaction: reading the file's size
            failure = self._failure(error)
            self._failed = str(failure)
            raise failure from None
        if len(self._pending) + 1 >= self._block_size:
            self._pending, self._pending_moments = [], []
        else:
            self._pending.append(delta)
            self._pending_moments.append(summary)
        self.added += 1
        self._last = sample.server.taken_at

    def close(self) -> None:
        """Compress the unfinished block, checkpoint the WAL into the file and unlock it.

        After a failure the unfinished block stays in `pending`, where readers find it.
        """
        if self._descriptor < 0:
            return
        try:
            if self._failed is None:
                with contextlib.suppress(RecordingError):
                    self._close_pending()
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            self._conn.close()
            os.close(self._descriptor)
            self._descriptor = -1

    # --- inside ---

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN … COMMIT; any sqlite error rolled back and raised as a RecordingError."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            yield
            self._conn.execute("COMMIT")
        except BaseException as error:
            # SQLite rolls back by itself after some errors (SQLITE_FULL among them).
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            if isinstance(error, sqlite3.Error):
                raise self._failure(error) from error
            raise

    def _failure(self, error: sqlite3.Error) -> RecordingError:
        if getattr(error, "sqlite_errorcode", None) != sqlite3.SQLITE_FULL:
            return RecordingError(f"cannot write to {self.path}: {error}")
        if self.max_bytes is not None and self._near_limit():
            return self._limit_reached()
        return RecordingFull(
            f"the disk holding {self.path} is full: the recording stopped", limit=False
        )

    def _limit_reached(self) -> RecordingFull:
        assert self.max_bytes is not None
        return RecordingFull(
            f"{self.path} reached its size limit ({size_text(self.max_bytes)}): "
            "the recording stopped",
            limit=True,
        )

    def _pages(self) -> tuple[int, int]:
        """The file's size in pages (WAL included) and the page size."""
        pages = self._conn.execute("PRAGMA page_count").fetchone()[0]
        size = self._conn.execute("PRAGMA page_size").fetchone()[0]
        return int(pages), int(size)

    def _limit(self) -> None:
        """Make `max_bytes` a limit SQLite enforces (`max_page_count`: SQLITE_FULL past it)."""
        if self.max_bytes is None:
            return
        self._check_size()
        _, size = self._pages()
        self._conn.execute(f"PRAGMA max_page_count = {max(1, self.max_bytes // size)}")

    def _near_limit(self) -> bool:
        # SQLITE_FULL comes from the page limit or the disk: a transaction adds one block at
        # most (a few dozen pages); a file that far from its limit hit the disk's.
        pages, size = self._pages()
        assert self.max_bytes is not None
        return (pages + 256) * size >= self.max_bytes

    def _check_size(self) -> None:
        """Stop before a sample when the file has no room for another page."""
        if self.max_bytes is not None:
            pages, size = self._pages()
            if (pages + 1) * size > self.max_bytes:
                raise self._limit_reached()

    def _insert_block(self, deltas: Sequence[Delta], moments: Sequence[str]) -> None:
        stamps = [micros(d.taken_at) for d in deltas]
        times = [stamps[0], *(b - a for a, b in itertools.pairwise(stamps))]
        self._conn.execute(
            "INSERT INTO blocks (first_at, last_at, count, times, data, moments)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                deltas[0].taken_at,
                deltas[-1].taken_at,
                len(deltas),
                json.dumps(times, separators=(",", ":")),
                join_block(deltas, small=True),
                "[" + ",".join(moments) + "]",
            ),
        )
        self._conn.execute("DELETE FROM pending")

    def _close_pending(self) -> None:
        """Move the unfinished block (this writer's, or a killed one's) into `blocks`."""
        rows = self._conn.execute(
            "SELECT taken_at, frame, moment FROM pending ORDER BY seq"
        ).fetchall()
        if rows:
            deltas = [Delta(row[0], i == 0, row[1]) for i, row in enumerate(rows)]
            with self._transaction():
                self._insert_block(deltas, [row[2] for row in rows])
        self._pending, self._pending_moments = [], []
        count, last = self._conn.execute("SELECT sum(count), max(last_at) FROM blocks").fetchone()
        self._last = max(self._last, last or 0.0)
        self._before = (count or 0) - self.added


def size_text(size: int) -> str:
    """`200 MB`, `64 kB`: a size in decimal units, as `--max-size` takes them."""
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= factor:
            return f"{size / factor:g} {unit}"
    return f"{size} bytes"


def _open_existing(path: Path, flags: int) -> int:
    try:
        return os.open(path, flags)
    except OSError as error:
        raise RecordingError(f"cannot open {path}: {error.strerror}") from None


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    mode = "ro" if read_only else "rw"  # never "rwc": a missing file is not created here
    uri = f"file:{quote(str(path.absolute()))}?mode={mode}"
    try:
        return sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error as error:
        raise RecordingError(f"cannot open {path}: {error}") from None


def _create(conn: sqlite3.Connection, path: Path, meta: Meta) -> None:
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("BEGIN IMMEDIATE")
        for statement in _schema_statements():
            conn.execute(statement)
        conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            [(key, _meta_value(getattr(meta, key))) for key in _META_KEYS],
        )
        conn.execute("COMMIT")
    except sqlite3.Error as error:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        full = getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
        if full:
            raise RecordingFull(f"the disk holding {path} is full", limit=False) from None
        raise RecordingError(f"cannot create {path}: {error}") from None


@functools.cache
def _schema_statements() -> tuple[str, ...]:
    """`schema.sql`'s statements, one by one: executescript() would COMMIT first, and the
    tables and the meta go in one transaction."""
    script = (files(__name__.rpartition(".")[0]) / "schema.sql").read_text(encoding="utf-8")
    statements: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current)
            current = ""
    return tuple(statements)


def _meta_value(value: object) -> object:
    return int(value) if isinstance(value, bool) else value


def _private(path: Path) -> None:
    """Owner-only `-wal` and `-shm` (SQLite gives them the file's mode; make sure)."""
    for companion in _companions(path):
        with contextlib.suppress(FileNotFoundError):
            if stat.S_IMODE(companion.stat().st_mode) & ~MODE:
                companion.chmod(MODE)


def _companions(path: Path) -> tuple[Path, ...]:
    return tuple(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal"))


def _read_meta(conn: sqlite3.Connection, path: Path) -> Meta:
    """The file's meta, once it is known to be a recording this pgconsole reads.

    Raises:
        RecordingError: Not an SQLite database, not a recording, or another format.
    """
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if "meta" not in tables:
            raise RecordingError(f"{path} is not a pgconsole recording (an SQLite database "
                                 "without a meta table)")  # fmt: skip
        values: dict[str, Any] = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError as error:
        raise RecordingError(
            f"{path} is not a pgconsole recording: not an SQLite database ({error})"
        ) from None
    version = values.get("format")
    if not isinstance(version, int):
        raise RecordingError(f"{path} is not a pgconsole recording (no format in its meta)")
    if version > FORMAT:
        raise RecordingError(
            f"{path} was made by a newer pgconsole: format {version}, this one reads {FORMAT}"
        )
    if version < FORMAT or not {"blocks", "pending"} <= tables:
        raise RecordingError(f"{path} is a recording of format {version}, which this "
                             f"pgconsole (format {FORMAT}) cannot read")  # fmt: skip
    try:
        return Meta(
            host=str(values["host"]),
            port=int(values["port"]),
            database=str(values["database"]),
            server_version=str(values["server_version"]),
            interval=float(values["interval"]),
            redacted=bool(values["redacted"]),
            started_at=float(values["started_at"]),
            pgconsole_version=str(values.get("pgconsole_version")),
            format=version,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise RecordingError(f"{path}: its meta table is incomplete ({error})") from None


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Chunk:
    """A block, or the unfinished block's pending samples, as the reader indexes them."""

    first_at: float
    last_at: float
    count: int
    block_id: int | None
    """The `blocks` row; None for the pending samples."""
    times_text: str = ""
    frames: tuple[bytes, ...] = ()
    pending_times: tuple[float, ...] = ()
    moments_text: str = ""
    """JSON: the moments' rows (`to_row`), for the block or the pending samples."""

    def times(self) -> list[float]:
        if self.block_id is None:
            return list(self.pending_times)
        stamps = json.loads(self.times_text)
        total = 0
        out: list[float] = []
        for step in stamps:
            total += step
            out.append(total / 1_000_000)
        return out


class Recording(_ClosedOnExit):
    """A recording, read: its meta, its samples' instants, and any sample by instant or index.

    Instants are the server's clock in seconds since the epoch (`Sample.server.taken_at`).
    The file is read as it was at `open` (or the last `refresh`): a recorder may still be
    adding to it.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection, meta: Meta) -> None:
        self.path = path
        self.meta = meta
        self._conn = conn
        self._chunks: list[_Chunk] = []
        self._starts: list[int] = []
        """The index of each chunk's first sample."""
        self._firsts: list[float] = []
        self._count = 0
        self._times: list[float] | None = None
        self._moments: list[Moment] | None = None
        self._decoded: dict[int, BlockReader] = {}
        """The last chunks decoded (two: stepping back over a block's start decodes none)."""
        self._chunk_times: dict[int, list[float]] = {}

    @classmethod
    def open(cls, path: Path | str) -> Recording:
        """Open a recording for reading (a file cut short by a crash or a full disk too).

        Raises:
            RecordingError: No such file, not an SQLite database, not a recording, or one of
                another format; the message says which.
        """
        path = Path(path)
        if not path.is_file():
            raise RecordingError(f"{path}: no such file")
        conn = _connect(path, read_only=not os.access(path, os.W_OK))
        try:
            meta = _read_meta(conn, path)
            recording = cls(path, conn, meta)
            recording.refresh()
        except BaseException:
            conn.close()
            raise
        return recording

    def refresh(self) -> None:
        """See the samples added since (by a recorder still writing)."""
        chunks: list[_Chunk] = []
        self._conn.execute("BEGIN")  # one snapshot: a block moved out of pending is seen once
        try:
            for block_id, first, last, count, times, moments in self._conn.execute(
                "SELECT id, first_at, last_at, count, times, moments FROM blocks ORDER BY id"
            ):
                chunks.append(
                    _Chunk(first, last, count, block_id, times_text=times, moments_text=moments)
                )
            pending = self._conn.execute(
                "SELECT taken_at, frame, moment FROM pending ORDER BY seq"
            ).fetchall()
        finally:
            self._conn.execute("COMMIT")
        if pending:
            chunks.append(
                _Chunk(
                    pending[0][0],
                    pending[-1][0],
                    len(pending),
                    None,
                    frames=tuple(bytes(row[1]) for row in pending),
                    pending_times=tuple(row[0] for row in pending),
                    moments_text="[" + ",".join(row[2] for row in pending) + "]",
                )
            )
        self._chunks = chunks
        self._starts = []
        count = 0
        for chunk in chunks:
            self._starts.append(count)
            count += chunk.count
        self._count = count
        self._firsts = [chunk.first_at for chunk in chunks]
        self._times = None
        self._moments = None
        self._decoded = {}
        self._chunk_times = {}

    def close(self) -> None:
        """Close the file."""
        self._conn.close()

    @property
    def count(self) -> int:
        """Samples in the recording."""
        return self._count

    def __len__(self) -> int:
        return self._count

    @property
    def first(self) -> float | None:
        """The first sample's instant; None for a recording without samples."""
        return self._chunks[0].first_at if self._chunks else None

    @property
    def last(self) -> float | None:
        """The last sample's instant; None for a recording without samples."""
        return self._chunks[-1].last_at if self._chunks else None

    def times(self) -> list[float]:
        """Every sample's instant, in order (read from the blocks' lists, nothing decoded)."""
        if self._times is None:
            self._times = [t for k in range(len(self._chunks)) for t in self._times_of(k)]
        return list(self._times)

    def moments(self) -> list[Moment]:
        """Every sample's summary, in order (stored beside the blocks: nothing decoded)."""
        if self._moments is None:
            self._moments = [
                from_row(taken_at, row)
                for k, chunk in enumerate(self._chunks)
                for taken_at, row in zip(
                    self._times_of(k), json.loads(chunk.moments_text), strict=True
                )
            ]
        return self._moments

    def sample(self, index: int) -> Sample:
        """The sample at `index` of `moments()` (a `Tape`'s)."""
        return self[index]

    def index_of(self, at: float) -> int:
        """The index of the sample at or before `at`.

        Raises:
            LookupError: `at` is before the first sample (or there is none).
        """
        k = bisect.bisect_right(self._firsts, at) - 1
        if k < 0:
            raise LookupError(f"no sample at or before {at}: {self._span()}")
        return self._starts[k] + bisect.bisect_right(self._times_of(k), at) - 1

    def at(self, at: float) -> Sample:
        """The sample at or before `at` (decodes one block at most).

        Raises:
            LookupError: `at` is before the first sample (or there is none).
        """
        return self[self.index_of(at)]

    def step(self, at: float, by: int) -> float:
        """The instant `by` samples after (negative: before) the sample at or before `at`,
        stopping at the first and the last sample; before the first, stepping counts from it.

        Raises:
            LookupError: The recording has no samples.
        """
        if not self._count:
            raise LookupError(f"{self.path} has no samples")
        first = self.first
        assert first is not None
        index = self.index_of(at) if at >= first else 0
        target = min(max(index + by, 0), self._count - 1)
        k = bisect.bisect_right(self._starts, target) - 1
        return self._times_of(k)[target - self._starts[k]]

    def __getitem__(self, index: int) -> Sample:
        """The sample at this index (negative: from the end).

        Raises:
            IndexError: Out of range.
        """
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(f"sample {index} of {self._count}")
        k = bisect.bisect_right(self._starts, index) - 1
        return self._reader_of(k).sample(index - self._starts[k])

    def samples(self, start: float | None = None, end: float | None = None) -> Iterator[Sample]:
        """The samples taken from `start` to `end` (both included; None: no bound), in order,
        one block decoded at a time."""
        times = self.times()
        low = 0 if start is None else bisect.bisect_left(times, start)
        high = len(times) if end is None else bisect.bisect_right(times, end)
        for index in range(low, high):
            yield self[index]

    def _span(self) -> str:
        if not self._count:
            return f"{self.path} has no samples"
        return f"{self.path} holds {self.first} to {self.last}"

    def _times_of(self, k: int) -> list[float]:
        times = self._chunk_times.get(k)
        if times is None:
            times = self._chunk_times[k] = self._chunks[k].times()
        return times

    def _reader_of(self, k: int) -> BlockReader:
        reader = self._decoded.get(k)
        if reader is None:
            chunk = self._chunks[k]
            if chunk.block_id is None:
                reader = BlockReader(chunk.frames)
            else:
                row = self._conn.execute(
                    "SELECT data FROM blocks WHERE id = ?", (chunk.block_id,)
                ).fetchone()
                reader = BlockReader.of_block(row[0])
            if len(self._decoded) >= 2:
                del self._decoded[next(iter(self._decoded))]
            self._decoded[k] = reader
        return reader
