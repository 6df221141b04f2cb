"""The statement history file: where it is, what it keeps, its cap, its modes, redaction."""

from __future__ import annotations

import asyncio
import stat
import threading
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
from tests.helpers.file_io import opens_of

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def entry(sql: str, n: int = 0, *, ok: bool = True, target: str = "me@db:5432/app") -> Entry:
    return Entry(T0 + timedelta(seconds=n), target, sql, ok, 1.5)


async def loaded(path: Path) -> History:
    """The file as another pgconsole reads it."""
    history = History(path)
    await history.load()
    return history


def test_the_path_follows_xdg_then_home() -> None:
    assert default_history_path({"XDG_DATA_HOME": "/x", "HOME": "/h"}) == Path(
        "/x/pgconsole/history.jsonl"
    )
    assert default_history_path({"HOME": "/h"}) == Path("/h/.local/share/pgconsole/history.jsonl")
    # A relative XDG_DATA_HOME is ignored, as the XDG spec says.
    assert default_history_path({"XDG_DATA_HOME": "rel", "HOME": "/h"}) == Path(
        "/h/.local/share/pgconsole/history.jsonl"
    )


async def test_entries_come_back_newest_first_with_private_modes(tmp_path: Path) -> None:
    path = tmp_path / "data" / "pgconsole" / "history.jsonl"
    history = History(path)
    await history.append(entry("SELECT 1", 1))
    await history.append(entry("SELECT 2\nFROM t", 2, ok=False))
    await history.append(entry("SELECT 2\nFROM t", 3, ok=False))  # a repeat is kept once
    await history.load()
    found = history.entries()
    assert [e.sql for e in found] == ["SELECT 2\nFROM t", "SELECT 1"]
    assert found[0].ok is False and found[0].at == T0 + timedelta(seconds=2)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


async def test_the_file_stays_under_its_cap_and_keeps_the_newest(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    history = History(path, max_bytes=5_000)
    await history.load()
    for n in range(200):
        await history.append(entry(f"SELECT {n} AS number_{n}", n))
        assert path.stat().st_size <= 5_000
    kept = history.entries()
    # The index kept current by the appends is what reading the file again gives.
    assert kept == (await loaded(path)).entries()
    assert kept[0].sql == "SELECT 199 AS number_199"
    assert 10 < len(kept) < 200
    assert [e.at for e in kept] == sorted((e.at for e in kept), reverse=True)


async def test_broken_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    history = History(path)
    await history.append(entry("SELECT 1", 1))
    with path.open("a") as handle:
        handle.write('not json\n{"at": "never"}\n{"sql": 1}\n')
    await history.append(entry("SELECT 2", 2))
    assert [e.sql for e in (await loaded(path)).entries()] == ["SELECT 2", "SELECT 1"]


async def test_search_needs_every_word(tmp_path: Path) -> None:
    history = History(tmp_path / "h.jsonl")
    await history.load()
    for n, sql in enumerate(["SELECT * FROM orders", "select id from Users", "DELETE FROM orders"]):
        await history.append(entry(sql, n))
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
async def test_passwords_never_reach_the_file(tmp_path: Path, sql: str, secret: str) -> None:
    assert secret not in redact_passwords(sql)
    path = tmp_path / "h.jsonl"
    await History(path).append(entry(sql))
    assert secret.encode() not in path.read_bytes()
    assert secret.replace("''", "'").encode() not in path.read_bytes()


def test_redaction_leaves_other_text_alone() -> None:
    sql = "SELECT 'password' AS word, name FROM users WHERE note = 'x'"
    assert redact_passwords(sql) == sql


async def test_an_unwritable_place_raises_history_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    history = History(blocker / "pgconsole" / "history.jsonl")
    await history.load()
    with pytest.raises(HistoryError):
        await history.append(entry("SELECT 1"))
    assert history.entries() == []


async def test_search_after_the_load_reads_no_file(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    history = History(path)
    for n in range(3):
        await history.append(entry(f"SELECT {n} FROM orders", n))
    await history.load()
    with opens_of(path) as opens:
        for typed in ["", "o", "or", "orders 1"]:  # a search per keystroke
            history.search(typed)
        history.entries()
    assert opens == []
    # Gone after the load, the file is not missed: the index answers.
    path.rename(tmp_path / "elsewhere.jsonl")
    assert [e.sql for e in history.search("orders 1")] == ["SELECT 1 FROM orders"]
    assert len(history.entries()) == 3


async def test_the_file_is_read_and_written_off_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    history = History(path, max_bytes=400)
    with opens_of(path) as opens:
        await history.load()
        for n in range(10):  # past the cap: the file is shrunk too (read, written, renamed)
            await history.append(entry(f"SELECT {n} AS number_{n}", n))
    assert path.stat().st_size <= 400
    assert len(opens) > 10
    assert threading.get_ident() not in opens
    assert history.entries()[0].sql == "SELECT 9 AS number_9"


async def test_appends_queued_at_once_are_written_in_the_order_asked(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    history = History(path)
    await history.load()
    # As a script's statements are remembered: each queued as it ends, none awaited yet.
    saved = [history.append(entry(f"SELECT {n}", n)) for n in range(50)]
    await asyncio.gather(*saved)
    expected = [f"SELECT {n}" for n in reversed(range(50))]
    assert [e.sql for e in history.entries()] == expected
    assert [e.sql for e in (await loaded(path)).entries()] == expected


async def test_two_consoles_appending_keep_both_and_each_sees_the_other(tmp_path: Path) -> None:
    """Two pgconsole processes on one file: each line whole, none lost, and the next load
    (each time the history is opened) reads the other's, however its index was kept."""
    path = tmp_path / "h.jsonl"
    ours, theirs = History(path), History(path)
    await ours.load()
    await ours.append(entry("SELECT 'ours 1'", 1))
    await theirs.append(entry("SELECT 'theirs'", 2))
    await ours.append(entry("SELECT 'ours 2'", 3))
    await ours.load()
    both = ["SELECT 'ours 2'", "SELECT 'theirs'", "SELECT 'ours 1'"]
    assert [e.sql for e in ours.entries()] == both
    assert [e.sql for e in (await loaded(path)).entries()] == both
    # The other one shrinks the file to its cap (a new file renamed over this one).
    small = History(path, max_bytes=len(path.read_bytes()))
    await small.append(entry("SELECT 'theirs, past the cap'", 4))
    await ours.load()
    assert [e.sql for e in ours.entries()] == [e.sql for e in (await loaded(path)).entries()]
    assert ours.entries()[0].sql == "SELECT 'theirs, past the cap'"
