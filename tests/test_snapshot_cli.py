"""`pgconsole snapshot`: both files written, the owner's only, exit 0; one line and a non-zero
exit when it cannot connect or is given a bad window; never Textual on the way."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from pgconsole.__main__ import main
from pgconsole.db.diagnostics.snapshot import SECTIONS
from pgconsole.db.recording import Writer
from pgconsole.throwaway.cluster import ThrowawayCluster, free_port
from tests.db.test_recording import META, made
from tests.helpers.imports import loaded_after
from tests.test_cli import run_cli

NO_KEYRING = "keyring.backends.fail.Keyring"


def snapshot(*args: str) -> subprocess.CompletedProcess[str]:
    """`pgconsole snapshot ARGS` in a process of its own, with no keyring to ask."""
    return run_cli("snapshot", *args, env={**os.environ, "PYTHON_KEYRING_BACKEND": NO_KEYRING})


def test_writes_both_files_for_the_owner_only(
    diagnostics_cluster: ThrowawayCluster, tmp_path: Path
) -> None:
    dsn = diagnostics_cluster.dsn("postgres")
    result = snapshot(dsn, "--out", str(tmp_path / "x.json"), "--window", "0.5")
    assert result.returncode == 0, result.stderr
    paths = [tmp_path / "x.json", tmp_path / "x.md"]
    assert result.stdout.splitlines() == [str(p) for p in paths]
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    bundle = json.loads(paths[0].read_text())
    assert list(bundle) == list(SECTIONS)
    assert bundle["window_seconds"] == 0.5
    assert bundle["server"]["host"] == diagnostics_cluster.host
    assert paths[1].read_text().startswith("# pgconsole incident snapshot")

    again = snapshot(dsn, "--out", str(tmp_path / "x"), "--window", "0.5")
    assert again.returncode == 1
    assert again.stderr == f"pgconsole snapshot: {paths[0]} exists already: " \
        "a snapshot never overwrites\n"  # fmt: skip


def test_default_name_here_and_redacted(
    diagnostics_cluster: ThrowawayCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", NO_KEYRING)
    assert (
        main(["snapshot", diagnostics_cluster.dsn("postgres"), "--window", "0.3", "--redact"]) == 0
    )
    json_path, md_path = (Path(line) for line in capsys.readouterr().out.splitlines())
    assert json_path.parent == md_path.parent == tmp_path
    assert re.fullmatch(
        rf"pgconsole-snapshot-{re.escape(diagnostics_cluster.host)}-\d{{8}}-\d{{6}}\.json",
        json_path.name,
    )
    assert md_path.name == json_path.name.removesuffix(".json") + ".md"
    sessions = json.loads(json_path.read_text())["sessions"]
    [mine] = [s for s in sessions if s["is_self"]]
    assert re.fullmatch(r"[A-Z ]*… \(redacted, \d+ chars\)", mine["query"]), mine["query"]


def test_a_closed_port_is_one_line_and_non_zero(tmp_path: Path) -> None:
    port = free_port()
    result = snapshot(
        f"host=127.0.0.1 port={port} user=postgres dbname=postgres sslmode=disable",
        "--out",
        str(tmp_path / "x"),
    )
    assert result.returncode == 1
    first, *details = result.stderr.splitlines()
    assert first.startswith("pgconsole snapshot: ")
    assert "Connection refused" in first
    assert all(line.startswith("  ") for line in details)
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_bad_window_is_refused_before_connecting() -> None:
    result = snapshot("host=127.0.0.1 port=1", "--window", "soon")
    assert result.returncode == 2
    assert result.stderr.startswith("pgconsole snapshot: --window soon: not a duration")
    assert result.stderr.count("\n") == 1


def test_the_command_never_imports_the_ui(
    diagnostics_cluster: ThrowawayCluster, tmp_path: Path
) -> None:
    # Importing the entry point loads nothing of the snapshot either: only running it does.
    assert loaded_after(("pgconsole.__main__",), ("pgconsole.snapshot",)) == []
    out = tmp_path / "x"
    run = (
        "import contextlib, io\n"
        "from pgconsole.__main__ import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"  # the paths it prints
        f"    assert main(['snapshot', {diagnostics_cluster.dsn('postgres')!r}, "
        f"'--out', {str(out)!r}, '--window', '0.2']) == 0"
    )
    watched = ("textual", "rich", "pgconsole.app", "pgconsole.screens", "pgconsole.widgets")
    assert loaded_after(("pgconsole.__main__",), watched, run) == []
    assert out.with_name("x.json").exists()


# --- from a recording ----------------------------------------------------------------------


def test_from_a_recording_at_a_moment_without_a_server(tmp_path: Path) -> None:
    recording = tmp_path / "r.pgrec"
    with Writer.open(recording, META, block_size=10) as writer:
        for n in range(30):  # 30 s, a session more every 10 s, each with a query of its own
            writer.add(made(2000.0 + n, range(100, 101 + n // 10), query=f"SELECT {n}"))
    out = tmp_path / "moment"
    result = snapshot("--from", str(recording), "--at", "+15s", "--window", "5s", "--out", str(out))
    assert result.returncode == 0, result.stderr
    bundle = json.loads(out.with_suffix(".json").read_text())
    assert list(bundle) == list(SECTIONS)
    assert bundle["source"] == "recording r.pgrec" and bundle["window_seconds"] == 5.0
    assert bundle["taken_at"].startswith("1970-01-01T00:33:35")  # 2015 s
    assert [s["pid"] for s in bundle["sessions"]] == [100, 101]
    assert {s["query"] for s in bundle["sessions"]} == {"SELECT 15"}
    for section in ("statements", "progress", "settings"):
        assert bundle[section]["available"] is False
    assert bundle["horizon"]["available"] is False and bundle["horizon"]["oldest_xact_age"] > 0
    report = out.with_suffix(".md").read_text()
    assert "From the recording r.pgrec" in report and "Not in this snapshot" in report
    assert stat.S_IMODE(out.with_suffix(".md").stat().st_mode) == 0o600

    # `--out` ending in .json names both files, as for a live snapshot.
    end = snapshot("--from", str(recording), "--at", "-10s", "--out", str(tmp_path / "end.json"))
    assert end.returncode == 0, end.stderr  # `--at -10s`, as typed: 10 s before the end
    assert json.loads((tmp_path / "end.json").read_text())["taken_at"].startswith(
        "1970-01-01T00:33:39"  # 2019 s
    )
    before = snapshot("--from", str(recording), "--at", "-1h", "--out", str(tmp_path / "b"))
    assert before.returncode == 1 and "is before the first sample (they span" in before.stderr
    late = snapshot("--from", str(recording), "--at", "yesterday", "--out", str(tmp_path / "y"))
    assert late.returncode == 1 and late.stderr.startswith("pgconsole snapshot: --at: not a time")
    assert snapshot("--at", "3m").returncode == 2
    assert snapshot("--from", str(tmp_path / "none.pgrec")).returncode == 1
