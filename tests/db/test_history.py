"""The statement history file: where it is, what it keeps, its cap, its modes, redaction."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pgconsole.db.console.history import (
    Entry,
    History,
    HistoryError,
    default_history_path,
    redact_passwords,
)

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def entry(sql: str, n: int = 0, *, ok: bool = True, target: str = "me@db:5432/app") -> Entry:
    return Entry(T0 + timedelta(seconds=n), target, sql, ok, 1.5)


def test_the_path_follows_xdg_then_home() -> None:
    assert default_history_path({"XDG_DATA_HOME": "/x", "HOME": "/h"}) == Path(
        "/x/pgconsole/history.jsonl"
    )
    assert default_history_path({"HOME": "/h"}) == Path("/h/.local/share/pgconsole/history.jsonl")
    # A relative XDG_DATA_HOME is ignored, as the XDG spec says.
    assert default_history_path({"XDG_DATA_HOME": "rel", "HOME": "/h"}) == Path(
        "/h/.local/share/pgconsole/history.jsonl"
    )


def test_entries_come_back_newest_first_with_private_modes(tmp_path: Path) -> None:
    path = tmp_path / "data" / "pgconsole" / "history.jsonl"
    history = History(path)
    history.append(entry("SELECT 1", 1))
    history.append(entry("SELECT 2\nFROM t", 2, ok=False))
    history.append(entry("SELECT 2\nFROM t", 3, ok=False))  # a repeat is kept once
    found = history.entries()
    assert [e.sql for e in found] == ["SELECT 2\nFROM t", "SELECT 1"]
    assert found[0].ok is False and found[0].at == T0 + timedelta(seconds=2)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_the_file_stays_under_its_cap_and_keeps_the_newest(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    history = History(path, max_bytes=5_000)
    for n in range(200):
        history.append(entry(f"SELECT {n} AS number_{n}", n))
        assert path.stat().st_size <= 5_000
    kept = history.entries()
    assert kept[0].sql == "SELECT 199 AS number_199"
    assert 10 < len(kept) < 200
    assert [e.at for e in kept] == sorted((e.at for e in kept), reverse=True)


def test_broken_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    history = History(path)
    history.append(entry("SELECT 1", 1))
    with path.open("a") as handle:
        handle.write('not json\n{"at": "never"}\n{"sql": 1}\n')
    history.append(entry("SELECT 2", 2))
    assert [e.sql for e in history.entries()] == ["SELECT 2", "SELECT 1"]


def test_search_needs_every_word(tmp_path: Path) -> None:
    history = History(tmp_path / "h.jsonl")
    for n, sql in enumerate(["SELECT * FROM orders", "select id from Users", "DELETE FROM orders"]):
        history.append(entry(sql, n))
    assert [e.sql for e in history.search("from orders")] == [
        "DELETE FROM orders",
        "SELECT * FROM orders",
    ]
    assert [e.sql for e in history.search("USERS select")] == ["select id from Users"]
    assert len(history.search("")) == 3


@pytest.mark.parametrize(
    ("sql", "secret"),
    [
        ("ALTER ROLE x PASSWORD 'se''cret'", "se''cret"),
        ("CREATE USER x WITH ENCRYPTED PASSWORD 'hunter2' LOGIN", "hunter2"),
        ("ALTER USER x PASSWORD E'a\\'b-secret'", "b-secret"),
        ("ALTER ROLE x PASSWORD $$dollar-secret$$", "dollar-secret"),
        (
            "CREATE USER MAPPING FOR me SERVER s OPTIONS (user 'u', password 'map-secret')",
            "map-secret",
        ),
        ("SELECT dblink_connect('host=h password=conn-secret dbname=d')", "conn-secret"),
        ("SELECT dblink_connect('host=h password = ''q-secret'' dbname=d')", "q-secret"),
        ("SELECT dblink_connect('postgresql://u:uri-secret@h/d')", "uri-secret"),
        (
            "CREATE SUBSCRIPTION s CONNECTION 'postgres://rep:sub-secret@primary/db' PUBLICATION p",
            "sub-secret",
        ),
    ],
)
def test_passwords_never_reach_the_file(tmp_path: Path, sql: str, secret: str) -> None:
    assert secret not in redact_passwords(sql)
    path = tmp_path / "h.jsonl"
    History(path).append(entry(sql))
    assert secret.encode() not in path.read_bytes()
    assert secret.replace("''", "'").encode() not in path.read_bytes()


def test_redaction_leaves_other_text_alone() -> None:
    sql = "SELECT 'password' AS word, name FROM users WHERE note = 'x'"
    assert redact_passwords(sql) == sql


def test_an_unwritable_place_raises_history_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    history = History(blocker / "pgconsole" / "history.jsonl")
    with pytest.raises(HistoryError):
        history.append(entry("SELECT 1"))
    assert history.entries() == []
