"""Every statement the console ran, kept in a file (JSON Lines, size-capped, mode 0600).

`$XDG_DATA_HOME/pgconsole/history.jsonl` (else `~/.local/share/pgconsole/history.jsonl`), as
psql keeps `~/.psql_history`. Passwords in `CREATE/ALTER ROLE … PASSWORD '…'`, user mappings
and connection strings are replaced by `***` before anything is written.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
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


class History:
    """The history file."""

    def __init__(self, path: Path, *, max_bytes: int = MAX_BYTES) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._last: tuple[str, str] | None = None

    def append(self, entry: Entry) -> None:
        """Add `entry` (its SQL redacted here); consecutive repeats are kept once.

        Raises:
            HistoryError: The file could not be written.
        """
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
                size = os.fstat(fd).st_size
            finally:
                os.close(fd)
            if size > self.max_bytes:
                self._shrink()
        except OSError as error:
            raise HistoryError(f"{self.path}: {error.strerror or error}") from error
        self._last = (entry.target, sql)

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
        temporary = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"".join(reversed(kept)))
        finally:
            os.close(fd)
        os.replace(temporary, self.path)

    def entries(self, limit: int | None = None) -> list[Entry]:
        """The entries, newest first; lines that are not entries are skipped."""
        try:
            raw = self.path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        found: list[Entry] = []
        for line in reversed(raw.splitlines()):
            entry = _entry(line)
            if entry is not None:
                found.append(entry)
                if limit is not None and len(found) >= limit:
                    break
        return found

    def search(self, text: str, limit: int = 200) -> list[Entry]:
        """Entries holding every word of `text` (any case), newest first."""
        words = text.lower().split()
        matches = []
        for entry in self.entries():
            sql = entry.sql.lower()
            if all(word in sql for word in words):
                matches.append(entry)
                if len(matches) >= limit:
                    break
        return matches


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
