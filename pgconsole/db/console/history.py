"""Every statement the console ran, kept in a file (JSON Lines, size-capped, mode 0600).

`$XDG_DATA_HOME/pgconsole/history.jsonl` (else `~/.local/share/pgconsole/history.jsonl`), as
psql keeps `~/.psql_history`. Passwords in `CREATE/ALTER ROLE … PASSWORD '…'`, user mappings
and connection strings are replaced by `***` before anything is written.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pgconsole.db.sqltext import TokenKind, tokens

MAX_BYTES = 1_000_000
"""The file's cap; past it the newest entries that fit in half of it are kept."""
REDACTED = "'***'"


class HistoryError(Exception):
    """The history file could not be written (read-only home, full disk, …)."""


@dataclass(frozen=True)
class Entry:
    """One statement run."""

    at: datetime
    """When it ran (UTC)."""
    target: str
    """`user@host:port/dbname`, never a password."""
    sql: str
    """The statement as run, passwords redacted."""
    ok: bool
    elapsed_ms: float | None


def default_history_path(environ: Mapping[str, str] = os.environ) -> Path:
    """`$XDG_DATA_HOME/pgconsole/history.jsonl`, else `~/.local/share/pgconsole/…`."""
    base = environ.get("XDG_DATA_HOME") or ""
    if not base or not os.path.isabs(base):
        home = environ.get("HOME") or str(Path.home())
        base = os.path.join(home, ".local", "share")
    return Path(base) / "pgconsole" / "history.jsonl"


_SECRET_LEAD = re.compile(r"^(password|passwd|pwd)$", re.IGNORECASE)
_CONNINFO_SECRET = re.compile(
    # Inside a SQL literal a quoted conninfo value has its quotes doubled: ''se cret''.
    r"(password\s*=\s*)(''(?:[^']|'''')*(?:''|$)|'(?:[^'\\]|\\.)*'|[^\s']+)",
    re.IGNORECASE,
)
_URI_SECRET = re.compile(r"(postgres(?:ql)?://[^:/@\s']*:)([^@\s']*)(@)", re.IGNORECASE)
"""`postgresql://user:secret@host` inside a literal (dblink, postgres_fdw, subscriptions)."""


def redact_passwords(sql: str) -> str:
    """`sql` with each password replaced by `'***'`.

    The literal after the word PASSWORD (roles), after `password` in an OPTIONS list (user
    mappings, servers), and `password=…` or the password of a `postgresql://user:…@` URI inside
    any literal (connection strings for dblink, postgres_fdw or CREATE SUBSCRIPTION). Literals
    are found by the lexer, so a quote inside a password cannot leak its tail.
    """
    found = tokens(sql)
    pieces: list[str] = []
    previous_word = ""
    for token in found:
        text = token.text
        if token.kind is TokenKind.STRING:
            if _SECRET_LEAD.match(previous_word):
                text = REDACTED
            else:
                if "password" in text.lower():
                    text = _CONNINFO_SECRET.sub(r"\g<1>***", text)
                text = _URI_SECRET.sub(r"\g<1>***\g<3>", text)
        pieces.append(text)
        if token.kind is TokenKind.WORD:
            previous_word = token.text
        elif token.kind not in (TokenKind.SPACE, TokenKind.COMMENT):
            previous_word = ""
    return "".join(pieces)


@dataclass(frozen=True)
class _Stamp:
    """The file as the index last saw it: another process's append or shrink changes it."""

    device: int
    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, status: os.stat_result) -> _Stamp:
        return cls(status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


class History:
    """The history file, and an index of its entries in memory that searching reads.

    Every file operation runs on one worker thread of this History's own, in the order asked
    (as `pgconsole.db.browse.export` writes its file): a slow or full disk stalls the history,
    never the event loop, and appends reach the file in the order the statements ran. The
    index is filled by `load` and kept current by each append, on that thread and only after
    the file changed; `entries` and `search` read it on the loop, without touching the file.
    The thread ends once the History is dropped and its queued appends are written.
    """

    def __init__(self, path: Path, *, max_bytes: int = MAX_BYTES) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pgconsole-history")
        self._lock = threading.Lock()
        """Guards the index: changed on the file thread, read on the loop."""
        self._index: list[tuple[Entry, str]] = []
        """Each entry with its SQL in lower case (what search compares), oldest first."""
        self._loaded = False
        self._stamp: _Stamp | None = None
        """The file the index reflects; None when it has to be read again (or is missing)."""
        self._last: tuple[str, str] | None = None
        """The last (target, SQL) written: only the file thread reads or sets it."""

    @property
    def loaded(self) -> bool:
        """Whether `load` has read the file once (until then the index is empty)."""
        return self._loaded

    async def load(self) -> None:
        """Read the file into the index, on the file thread; after the first time, only when
        another process (another pgconsole) changed the file since this one last saw it."""
        await asyncio.wrap_future(self._executor.submit(self._load_now))

    def append(self, entry: Entry) -> asyncio.Future[None]:
        """Queue `entry` for the file (its SQL redacted there); consecutive repeats are kept once.

        The write is queued before this returns, so entries reach the file in the order
        `append` was called, whenever their futures are awaited.

        Returns:
            Done once the entry is in the file and the index. It raises `HistoryError` when
            the file could not be written.
        """
        return asyncio.wrap_future(self._executor.submit(self._append_now, entry))

    def entries(self, limit: int | None = None) -> list[Entry]:
        """The entries loaded, newest first; lines that are not entries are skipped."""
        with self._lock:
            return [entry for entry, _ in itertools.islice(reversed(self._index), limit)]

    def search(self, text: str, limit: int = 200) -> list[Entry]:
        """Entries loaded holding every word of `text` (any case), newest first."""
        words = text.lower().split()
        matches = []
        with self._lock:
            for entry, sql in reversed(self._index):
                if all(word in sql for word in words):
                    matches.append(entry)
                    if len(matches) >= limit:
                        break
        return matches

    # -- on the file thread ------------------------------------------------------------------

    def _load_now(self) -> None:
        try:
            with self.path.open("rb") as handle:
                stamp = _Stamp.of(os.fstat(handle.fileno()))
                if self._loaded and stamp == self._stamp:
                    return
                # Read after the stamp: a line appended meanwhile is read again next time.
                raw = handle.read()
        except OSError:
            stamp, raw = None, b""
        self._reindex(raw, stamp)

    def _reindex(self, raw: bytes, stamp: _Stamp | None) -> None:
        index = []
        for line in raw.decode("utf-8", errors="replace").splitlines():
            entry = _entry(line)
            if entry is not None:
                index.append((entry, entry.sql.lower()))
        with self._lock:
            self._index = index
            self._loaded = True
            self._stamp = stamp

    def _append_now(self, entry: Entry) -> None:
        sql = redact_passwords(entry.sql)
        if self._last == (entry.target, sql):
            return
        line = json.dumps(
            {
                "at": entry.at.isoformat(),
                "target": entry.target,
                "sql": sql,
                "ok": entry.ok,
                "ms": entry.elapsed_ms,
            },
            ensure_ascii=False,
        )
        data = (line + "\n").encode()
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, data)  # one write of one line: whole, even beside another app
                status = os.fstat(fd)
            finally:
                os.close(fd)
            if status.st_size > self.max_bytes:
                self._shrink()
            else:
                self._indexed(line, data, status)
        except OSError as error:
            raise HistoryError(f"{self.path}: {error.strerror or error}") from error
        self._last = (entry.target, sql)

    def _indexed(self, line: str, data: bytes, status: os.stat_result) -> None:
        """Put the line just written in the index (as reading it back would give it)."""
        stamp = _Stamp.of(status)
        with self._lock:
            if not self._loaded:
                return  # `load` reads it with the rest
            known = self._stamp
            # Only this line was added since the index was made: else another process wrote
            # too, and the next `load` reads the file again.
            if known is None:
                in_step = stamp.size == len(data)
            else:
                in_step = (known.device, known.inode, known.size + len(data)) == (
                    stamp.device,
                    stamp.inode,
                    stamp.size,
                )
            self._stamp = stamp if in_step else None
            entry = _entry(line)
            if entry is not None:
                self._index.append((entry, entry.sql.lower()))

    def _shrink(self) -> None:
        """Keep the newest lines that fit in half the cap (a new file, then a rename)."""
        lines = self.path.read_bytes().splitlines(keepends=True)
        kept: list[bytes] = []
        size = 0
        for line in reversed(lines):
            if size + len(line) > self.max_bytes // 2:
                break
            kept.append(line)
            size += len(line)
        data = b"".join(reversed(kept))
        temporary = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
            status = os.fstat(fd)
        finally:
            os.close(fd)
        os.replace(temporary, self.path)
        if self._loaded:
            self._reindex(data, _Stamp.of(status))


def _entry(line: str) -> Entry | None:
    try:
        data = json.loads(line)
        at = datetime.fromisoformat(data["at"])
        sql, target = data["sql"], data["target"]
        if not isinstance(sql, str) or not isinstance(target, str):
            return None
        ms = data.get("ms")
        return Entry(at, target, sql, bool(data.get("ok")), float(ms) if ms is not None else None)
    except (ValueError, KeyError, TypeError):
        return None
