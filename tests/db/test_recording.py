"""The flight recorder's storage: real samples through the codec and the file and back, a
session that did not change costing nothing, seeking, a writer killed mid-run, a full disk,
formats refused in words, and files for their owner only."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest

from pgconsole.db.activity import stats
from pgconsole.db.activity.moments import moment
from pgconsole.db.activity.stats import CONNECTION_STATES, Backend, Replica, Sample, ServerCounters
from pgconsole.db.diagnostics.snapshot import redact_query
from pgconsole.db.recording import (
    FORMAT,
    Decoder,
    Encoder,
    Meta,
    Recording,
    RecordingError,
    RecordingFull,
    Writer,
    decode_block,
    encode_block,
)
from pgconsole.db.recording.codec import TOLERANCE, BlockReader, block_lines, join_block
from tests.db.test_stats import Sessions, sessions, until, waits

__all__ = ["sessions"]  # the fixture, used by name

AGES = ("xact_age", "query_age", "state_age")
META = Meta(
    host="db.example", port=5432, database="app", server_version="15.4", interval=1.0,
    redacted=False,
)  # fmt: skip


# --- comparing samples ---------------------------------------------------------------------


def same(original: Sample, decoded: Sample) -> None:
    """Equal, the ages within the codec's tolerance and instants to the microsecond."""
    assert abs(decoded.server.taken_at - original.server.taken_at) < 1e-6
    assert decoded.queries == original.queries
    assert [b.pid for b in decoded.backends] == [b.pid for b in original.backends]
    for before, after in zip(original.backends, decoded.backends, strict=True):
        for name in AGES:
            was, now = getattr(before, name), getattr(after, name)
            assert (was is None) == (now is None), (before.pid, name)
            if was is not None:
                assert abs(now - was) <= TOLERANCE + 1e-6, (before.pid, name, was, now)
        assert without_ages(after) == without_ages(before)
    was, now = original.server.oldest_xact_age, decoded.server.oldest_xact_age
    assert (was is None) == (now is None)
    if was is not None and now is not None:
        assert abs(now - was) <= 0.0005 + 1e-6
    assert replace(decoded.server, taken_at=0, oldest_xact_age=None) == replace(
        original.server, taken_at=0, oldest_xact_age=None
    )


def without_ages(backend: Backend) -> Backend:
    return replace(backend, xact_age=None, query_age=None, state_age=None)


async def real_samples(
    conn: asyncpg.Connection, sessions: Sessions, count: int, pause: float = 0.02
) -> list[Sample]:
    """Samples of a scene: idle sessions, two idle in transaction, a lock chain, a sleeper;
    halfway through, one transaction ends, a session leaves and another arrives."""
    await conn.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
    await conn.execute("INSERT INTO t VALUES (1, 'x')")
    for number in range(3):
        await (await sessions.open(f"rec-idle-{number}")).execute("SELECT 1")
    holders = [await sessions.open(f"rec-in-tx-{n}") for n in range(2)]
    for holder in holders:
        await holder.execute("BEGIN; SELECT 1")
    locker = await sessions.open("rec-locker")
    await locker.execute("BEGIN; UPDATE t SET v = 'locked' WHERE id = 1")
    waiter = await sessions.open("rec-waiter")
    sessions.run(waiter, "UPDATE t SET v = 'waiting' WHERE id = 1")
    sleeper = await sessions.open("rec-sleeper")
    sessions.run(sleeper, "SELECT pg_sleep(60)")
    await until(conn, waits(waiter.get_server_pid()), "the waiter blocked")
    taken: list[Sample] = []
    for number in range(count):
        if number == count // 2:
            await holders[0].execute("COMMIT")
            holders[1].terminate()
            await (await sessions.open("rec-late")).execute("SELECT 2")
        taken.append(await stats.sample(conn))
        await asyncio.sleep(pause)  # samples some time apart, as a recorder takes them
    return taken


def write(path: Path, samples: list[Sample], meta: Meta = META, block_size: int = 5) -> None:
    with Writer.open(path, meta, block_size=block_size) as writer:
        for sample in samples:
            writer.add(sample)


# --- real samples --------------------------------------------------------------------------


async def test_real_samples_come_back_from_the_file(
    conn: asyncpg.Connection, sessions: Sessions, tmp_path: Path
) -> None:
    taken = await real_samples(conn, sessions, 13)
    waiting = [s for s in taken[0].backends if s.application == "rec-waiter"]
    assert waiting[0].blocked_by and waiting[0].lock_mode == "ShareLock"
    assert sum(s.state == "idle in transaction" for s in taken[0].backends) >= 3
    path = tmp_path / "r.pgrec"
    with Writer.open(path, META, block_size=5) as writer:
        for sample in taken:
            writer.add(sample)
        # 13 samples: two blocks of 5, and 3 pending until the writer closes.
        with sqlite3.connect(path) as raw:
            assert raw.execute("SELECT count(*) FROM blocks").fetchone() == (2,)
            assert raw.execute("SELECT count(*) FROM pending").fetchone() == (3,)
        with Recording.open(path) as live:
            assert live.count == 13
            for original, decoded in zip(taken, live.samples(), strict=True):
                same(original, decoded)
            # The timeline's summaries, from the blocks and the pending rows, undecoded.
            assert live.moments() == [moment(s) for s in taken]
            assert live.moments()[0].blocked == 1 and live.moments()[0].idle_in_transaction >= 3
    with Recording.open(path) as recording:
        assert recording.count == len(recording) == 13
        assert recording.moments() == [moment(s) for s in taken]
        assert recording.meta == META
        times = recording.times()
        assert times == pytest.approx([s.server.taken_at for s in taken], abs=1e-6)
        assert (recording.first, recording.last) == (times[0], times[-1])
        for original, decoded in zip(taken, recording.samples(), strict=True):
            same(original, decoded)
        for index in (12, 0, 7, 5, 4):  # out of order: blocks decoded again
            same(taken[index], recording[index])


async def test_a_session_that_did_not_change_costs_nothing(
    conn: asyncpg.Connection, sessions: Sessions
) -> None:
    idle = [await sessions.open(f"rec-idle-{n}") for n in range(20)]
    for session in idle[:5]:
        await session.execute("BEGIN; SELECT 1")
    pids = {session.get_server_pid() for session in idle}
    first = await stats.sample(conn)
    second = await until(conn, lambda s: s.server.taken_at > first.server.taken_at, "a tick")
    encoder = Encoder()
    keyframe, delta = encoder.encode(first), encoder.encode(second)
    frame = json.loads(delta.data)
    changed = {row[0] for key in ("b", "c") for row in frame.get(key, ())}
    assert not pids & changed, frame
    assert len(delta.data) * 10 < len(keyframe.data), (len(delta.data), len(keyframe.data))
    decoder = Decoder()
    decoder.decode(keyframe)
    same(second, decoder.decode(delta))


async def test_query_texts_redacted(
    conn: asyncpg.Connection, sessions: Sessions, tmp_path: Path
) -> None:
    secret = await sessions.open("rec-secret")
    await secret.execute("SELECT 'hunter2' AS password")
    taken = [await stats.sample(conn)]
    taken.append(await until(conn, lambda s: s.server.taken_at > taken[0].server.taken_at, "t"))
    path = tmp_path / "r.pgrec"
    write(path, taken, replace(META, redacted=True), block_size=60)
    with Recording.open(path) as recording:
        assert recording.meta.redacted
        [session] = [b for b in recording[1].backends if b.application == "rec-secret"]
        assert session.query == redact_query("SELECT 'hunter2' AS password")
        assert session.query == "SELECT … (redacted, 28 chars)"
    with sqlite3.connect(path) as raw:
        data = [block_lines(row[0]) for row in raw.execute("SELECT data FROM blocks")]
    assert data and not any(b"hunter2" in line for block in data for line in block)


# --- seeking, without a server -------------------------------------------------------------


def made(taken_at: float, pids: range = range(100, 110), query: str = "SELECT 1") -> Sample:
    """A hand-made sample: sessions in a transaction that began at 1000 s."""
    return Sample(
        backends=tuple(
            Backend(
                pid=pid,
                user="app",
                database="app",
                application="web",
                client="10.0.0.1",
                backend_type="client backend",
                state="idle in transaction",
                wait_event_type="Client",
                wait_event="ClientRead",
                xact_age=taken_at - 1000,
                query_age=taken_at - 1000.5,
                state_age=taken_at - 1000.5,
                query=query,
            )
            for pid in pids
        ),
        server=ServerCounters(
            taken_at=taken_at,
            xact_commit=int(taken_at) * 7,
            xact_rollback=1,
            blks_read=2,
            blks_hit=int(taken_at) * 3,
            tup_returned=4,
            tup_fetched=5,
            tup_inserted=6,
            tup_updated=7,
            tup_deleted=8,
            temp_bytes=9,
            deadlocks=0,
            connections=dict.fromkeys(CONNECTION_STATES, 1),
            max_connections=100,
            oldest_xact_age=taken_at - 1000,
            xmin_horizon_age=12,
            replication=(Replica("standby", "10.0.0.2", "streaming", 0.25, 4096),),
        ),
        queries=2,
    )


SCENE = [made(2000.0 + n + (0.5 if n >= 7 else 0), range(100, 110 + n % 3)) for n in range(12)]
"""12 samples at 2000 s, 2001 s... (a gap of 1.5 s before the 8th), sessions coming and
going."""


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Recording]:
    write(tmp_path / "scene.pgrec", SCENE, block_size=5)
    with Recording.open(tmp_path / "scene.pgrec") as recording:
        yield recording


@pytest.mark.parametrize(
    ("at", "index"),
    [(2000.0, 0), (2000.999, 0), (2001.0, 1), (2004.2, 4), (2005.0, 5), (2006.9, 6),
     (2007.2, 6), (2007.5, 7), (2011.5, 11), (9999.0, 11)],
)  # fmt: skip
def test_at_is_the_sample_at_or_before(scene: Recording, at: float, index: int) -> None:
    assert scene.index_of(at) == index
    same(SCENE[index], scene.at(at))


def test_before_the_first_sample_is_said(scene: Recording) -> None:
    with pytest.raises(LookupError, match=r"no sample at or before 1999.0: .* holds 2000.0 to"):
        scene.at(1999.0)
    assert scene.step(1999.0, 1) == 2001.0  # counted from the first


def test_step_moves_by_samples_and_stops_at_the_ends(scene: Recording) -> None:
    assert scene.step(2004.5, 1) == 2005.0  # over a block's end
    assert scene.step(2005.0, -1) == 2004.0
    assert scene.step(2006.0, 1) == 2007.5
    assert scene.step(2003.0, -10) == 2000.0
    assert scene.step(2003.0, 100) == 2011.5
    assert [s.server.taken_at for s in scene.samples(2003.5, 2007.5)] == [
        2004.0, 2005.0, 2006.0, 2007.5
    ]  # fmt: skip
    with pytest.raises(IndexError):
        scene[12]
    same(SCENE[-1], scene[-1])


def test_blocks_in_memory_and_their_frames() -> None:
    block = encode_block(SCENE)
    for original, decoded in zip(SCENE, decode_block(block), strict=True):
        same(original, decoded)
    encoder = Encoder()
    deltas = [encoder.encode(made(2000.0 + n)) for n in range(3)]
    assert [d.keyframe for d in deltas] == [True, False, False]
    with pytest.raises(ValueError, match="without the keyframe"):
        Decoder().decode(deltas[1])
    with pytest.raises(ValueError, match="samples go forward in time"):
        encoder.encode(made(2000.0))
    # Unchanged sessions: only the clock and the counters that moved.
    assert json.loads(deltas[2].data) == {"t": 1_000_000, "r": 0, "s": [7, 0, 0, 3] + [0] * 7}


def test_a_block_reader_builds_only_the_sample_asked_for_in_any_order() -> None:
    reader = BlockReader.of_block(encode_block(SCENE))
    assert len(reader) == len(SCENE) and reader.weight > 0
    for small in (False, True):  # zlib (the rewind's) or xz (the file's): told apart
        samples = decode_block(join_block([Encoder().encode(SCENE[0])], small=small))
        same(SCENE[0], samples[0])
    with pytest.raises(ValueError, match="not a block"):
        block_lines(b"not compressed")
    for index in (3, 4, len(SCENE) - 1, 0, 2, 2):  # forward, back to the start, the same
        same(SCENE[index], reader.sample(index))
    with pytest.raises(IndexError):
        reader.sample(len(SCENE))


# --- the file ------------------------------------------------------------------------------


WRITER_LOOP = """
import sys
from pathlib import Path
from tests.db.test_recording import META, made
from pgconsole.db.recording import Writer
with Writer.open(Path(sys.argv[1]), META, block_size=10) as writer:
    n = 0
    while True:
        writer.add(made(2000.0 + n, range(100, 110 + n % 4), query=f"SELECT {n}"))
        n += 1
        print(n, flush=True)
"""


def test_a_writer_killed_mid_run_leaves_every_sample(tmp_path: Path) -> None:
    path = tmp_path / "killed.pgrec"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER_LOOP, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    assert writer.stdout is not None
    written = 0
    while written < 25:  # two blocks and some pending
        written = int(writer.stdout.readline())
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert writer.returncode == -signal.SIGKILL
    # It wrote on while the lines were read: the last whole line printed is the last count
    # known committed (a loaded machine let it run 4 samples past the 25th before the kill).
    printed = [
        line for line in writer.stdout.read().splitlines(keepends=True) if line.endswith("\n")
    ]
    if printed:
        written = int(printed[-1])
    assert path.with_name(path.name + "-wal").exists()  # killed before any checkpoint
    with Recording.open(path) as recording:
        # Printed after each commit: one more may have been committed before the kill.
        assert written <= recording.count <= written + 1
        for n, sample in enumerate(recording.samples()):
            same(made(2000.0 + n, range(100, 110 + n % 4), query=f"SELECT {n}"), sample)
    # A recorder started again appends after them.
    with Writer.open(path, META, block_size=10) as again:
        count = again.count
        again.add(made(5000.0))
        assert again.count == count + 1
    with Recording.open(path) as recording:
        assert recording.count == count + 1
        same(made(5000.0), recording[-1])


def test_a_full_disk_stops_the_writer_and_keeps_the_file(tmp_path: Path) -> None:
    path = tmp_path / "full.pgrec"
    writer = Writer.open(path, META, block_size=10)
    pages = writer._conn.execute("PRAGMA page_count").fetchone()[0]
    # What a full disk is to SQLite: no page more (SQLITE_FULL).
    writer._conn.execute(f"PRAGMA max_page_count = {pages + 4}")
    with pytest.raises(RecordingFull, match=r"the disk holding .* is full") as full:
        for n in range(10_000):
            writer.add(made(2000.0 + n, query=f"SELECT {'x' * 500} {n}"))
    assert not full.value.limit
    added = writer.added
    assert added > 0
    with pytest.raises(RecordingError, match="the recording stopped"):
        writer.add(made(9000.0))
    writer.close()
    with Recording.open(path) as recording:
        assert recording.count == added
        same(made(2000.0 + added - 1, query=f"SELECT {'x' * 500} {added - 1}"), recording[-1])
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_the_size_limit_stops_the_writer(tmp_path: Path) -> None:
    path = tmp_path / "limited.pgrec"
    limit = pytest.raises(RecordingFull, match=r"reached its size limit \(64 kB\)")
    with limit as full, Writer.open(path, META, block_size=10, max_bytes=64_000) as writer:
        for n in range(10_000):
            writer.add(made(2000.0 + n, query=f"SELECT {os.urandom(20).hex()}"))
    assert full.value.limit
    assert path.stat().st_size <= 64_000
    with Recording.open(path) as recording:
        assert recording.count == writer.added > 10
    with pytest.raises(RecordingFull, match="size limit"):
        Writer.open(path, META, max_bytes=64_000)


def test_files_are_the_owners_only(tmp_path: Path) -> None:
    path = tmp_path / "private.pgrec"
    mask = os.umask(0)  # the modes must not depend on the umask
    try:
        with Writer.open(path, META) as writer:
            writer.add(made(2000.0))
            files = sorted(p.name for p in tmp_path.iterdir())
            assert files == ["private.pgrec", "private.pgrec-shm", "private.pgrec-wal"]
            for name in files:
                assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    finally:
        os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_other_files_are_refused_in_words(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match=r"missing.pgrec: no such file"):
        Recording.open(tmp_path / "missing.pgrec")
    text = tmp_path / "notes.txt"
    text.write_text("not a database at all, " * 100)
    with pytest.raises(RecordingError, match=r"notes.txt is not a pgconsole recording: not an SQ"):
        Recording.open(text)
    with pytest.raises(RecordingError, match="not an SQLite database"):
        Writer.open(text, META)
    assert text.read_text() == "not a database at all, " * 100
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as raw:
        raw.execute("CREATE TABLE t (x)")
    with pytest.raises(RecordingError, match=r"other.db is not a pgconsole recording \(an SQLite"):
        Recording.open(other)

    newer = tmp_path / "newer.pgrec"
    write(newer, SCENE[:2])
    with sqlite3.connect(newer) as raw:
        raw.execute("UPDATE meta SET value = ? WHERE key = 'format'", (FORMAT + 1,))
    message = f"newer.pgrec was made by a newer pgconsole: format {FORMAT + 1}, this one reads 1"
    with pytest.raises(RecordingError, match=message):
        Recording.open(newer)
    with pytest.raises(RecordingError, match=message):
        Writer.open(newer, META)


def test_appending_takes_the_same_recording_only(tmp_path: Path) -> None:
    path = tmp_path / "r.pgrec"
    write(path, SCENE[:3])
    with pytest.raises(RecordingError, match=r"recording of db.example:5432/app every 1 s"):
        Writer.open(path, replace(META, database="other"))
    with pytest.raises(RecordingError, match="every 1 s: it is appended to only by the same"):
        Writer.open(path, replace(META, redacted=True))
    with Writer.open(path, replace(META, started_at=0.0)) as writer:
        assert writer.meta.started_at == META.started_at  # the file's
        with pytest.raises(RecordingError, match="another recorder is writing to it"):
            Writer.open(path, META)
        with pytest.raises(ValueError, match="not after the last"):
            writer.add(SCENE[2])
        for sample in SCENE[3:]:
            writer.add(sample)
    with Recording.open(path) as recording:
        assert recording.count == len(SCENE)
        for original, decoded in zip(SCENE, recording.samples(), strict=True):
            same(original, decoded)
