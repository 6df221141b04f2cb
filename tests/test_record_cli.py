"""`pgconsole record`: samples of the real server into a file of the owner's, ended cleanly by
SIGTERM or --for, stopped in one line by its size limit, nothing but the activity screen's
statements sent, other files refused, never Textual on the way."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import pytest

from pgconsole.db.activity import stats
from pgconsole.db.activity.stats import Sample
from pgconsole.db.recording import Meta, Recording, RecordingError, Writer
from pgconsole.record import parse_duration, parse_size, record
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.helpers.imports import loaded_after
from tests.helpers.queries import QueryCounter
from tests.test_cli import run_cli

NO_KEYRING = "keyring.backends.fail.Keyring"
ENV = {**os.environ, "PYTHON_KEYRING_BACKEND": NO_KEYRING}
WAIT = 30.0
"""Seconds a recorder may take to write what a test waits for before the test fails."""


def recorder(*args: str) -> subprocess.Popen[str]:
    """`pgconsole record ARGS` running in a process of its own, with no keyring to ask."""
    return subprocess.Popen(
        [sys.executable, "-m", "pgconsole", "record", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=ENV,
    )


def count_when(path: Path, at_least: int, process: subprocess.Popen[str]) -> int:
    """The samples in the file once it holds `at_least` (read as a replay would, while the
    recorder writes)."""
    deadline = time.monotonic() + WAIT
    while True:
        try:
            with Recording.open(path) as recording:
                if recording.count >= at_least:
                    return recording.count
        except RecordingError:
            pass  # not created yet
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never held {at_least} samples"
        time.sleep(0.05)


def test_records_until_sigterm(cluster: ThrowawayCluster, tmp_path: Path) -> None:
    out = tmp_path / "incident.pgrec"
    process = recorder(cluster.dsn("postgres"), "--out", str(out), "--interval", "50ms")
    count_when(out, 3, process)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=WAIT)
    assert process.returncode == 0, stderr
    assert stderr == ""
    with Recording.open(out) as recording:
        count = recording.count
        assert stdout == f"{count} samples written to {out}\n"
        assert recording.meta.host == cluster.host
        assert recording.meta.port == cluster.port
        assert recording.meta.interval == 0.05
        assert not recording.meta.redacted
        last = recording[-1]
        assert any(b.is_self for b in last.backends)
        assert last.server.max_connections > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["incident.pgrec"]  # checkpointed
    assert stat.S_IMODE(out.stat().st_mode) == 0o600

    # Again: appended, the same server.
    result = run_cli(
        "record", cluster.dsn("postgres"), "--out", str(out), "--interval", "50ms",
        "--for", "120ms", env=ENV,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    added = int(result.stdout.split()[0])
    assert 1 <= added <= 3
    assert result.stdout == f"{added} samples written to {out} (now {count + added} samples)\n"


def test_a_recorder_killed_mid_run_leaves_every_sample(
    cluster: ThrowawayCluster, tmp_path: Path
) -> None:
    out = tmp_path / "killed.pgrec"
    process = recorder(cluster.dsn("postgres"), "--out", str(out), "--interval", "10ms")
    seen = count_when(out, 70, process)  # a block of 60 and some pending
    process.send_signal(signal.SIGKILL)
    process.wait()
    with Recording.open(out) as recording:
        assert recording.count >= seen
        times = recording.times()
        assert times == sorted(times)
        assert [s.server.taken_at for s in recording.samples()] == times


def test_the_size_limit_stops_in_one_line(cluster: ThrowawayCluster, tmp_path: Path) -> None:
    out = tmp_path / "small.pgrec"
    result = run_cli(
        "record", cluster.dsn("postgres"), "--out", str(out), "--interval", "5ms",
        "--max-size", "48kB", "--redact", env=ENV,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    with Recording.open(out) as recording:
        assert line == (
            f"pgconsole record: {out} reached its size limit (48 kB): the recording stopped "
            f"after {recording.count} samples"
        )
        assert recording.count > 1
        assert recording.meta.redacted
        assert all("redacted" in (b.query or "redacted") for b in recording[-1].backends)
    assert out.stat().st_size <= 48_000


def test_other_files_are_never_overwritten(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    result = run_cli("record", "host=127.0.0.1 port=1", "--out", str(notes), env=ENV)
    assert result.returncode == 1
    assert result.stderr == (
        f"pgconsole record: {notes} is not a pgconsole recording: not an SQLite database "
        "(file is not a database); a recording never overwrites another file\n"
    )
    assert notes.read_text() == "my notes\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--interval", "soon"), "--interval soon: not a duration: 'soon'"),
        (("--interval", "0s"), "--interval 0s: it must be longer than 0"),
        (("--for", "1 week"), "--for 1 week: not a duration"),
        (("--max-size", "lots"), "--max-size lots: not a size: 'lots'"),
    ],
)
def test_bad_options_are_refused_before_connecting(
    args: tuple[str, ...], message: str, tmp_path: Path
) -> None:
    result = run_cli("record", "host=127.0.0.1 port=1", "--out", str(tmp_path / "x"), *args)
    assert result.returncode == 2
    assert result.stderr.startswith(f"pgconsole record: {message}")
    assert result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1s", 1.0), ("500ms", 0.5), ("10m", 600.0), ("10min", 600.0), ("24h", 86400.0), ("2", 2.0)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "size"),
    [("200MB", 200_000_000), ("1GB", 10**9), ("64kB", 64_000), ("1 MiB", 2**20), ("4096", 4096)],
)
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


async def test_nothing_is_sent_but_the_samples(conn: asyncpg.Connection, tmp_path: Path) -> None:
    await stats.sample(conn)  # asyncpg learns the result's types: the first time only
    async with QueryCounter(conn) as one:
        await stats.sample(conn)
    assert len(one.queries) == 1
    meta = Meta(host="h", port=5432, database="d", server_version="15", interval=0.02,
                redacted=False)  # fmt: skip
    with Writer.open(tmp_path / "r.pgrec", meta) as writer:
        async with QueryCounter(conn) as counter:
            deadline = asyncio.get_running_loop().time() + 0.3
            await record(conn, writer, interval=0.02, deadline=deadline)
        assert writer.added >= 2
    assert counter.queries == one.queries * writer.added


def test_the_command_never_imports_the_ui(cluster: ThrowawayCluster, tmp_path: Path) -> None:
    assert loaded_after(("pgconsole.__main__",), ("pgconsole.record", "sqlite3")) == []
    out = tmp_path / "x.pgrec"
    run = (
        "import contextlib, io\n"
        "from pgconsole.__main__ import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['record', {cluster.dsn('postgres')!r}, "
        f"'--out', {str(out)!r}, '--interval', '50ms', '--for', '100ms']) == 0"
    )
    watched = ("textual", "rich", "pgconsole.app", "pgconsole.screens", "pgconsole.widgets")
    assert loaded_after(("pgconsole.__main__",), watched, run, env=ENV) == []
    with Recording.open(out) as recording:
        assert recording.count >= 1
        assert isinstance(recording[0], Sample)
