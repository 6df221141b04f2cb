"""`pgconsole CONNINFO --activity` in a real terminal (a pty) against the real server: the first
sample is on the terminal as text before Textual writes anything, and the activity screen then
takes the terminal over and gives it back on quitting."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from signal import SIGINT

from pgconsole.text_frame import CLEAR, ENTER, LEAVE
from pgconsole.throwaway.cluster import ThrowawayCluster

TEXTUAL_STARTS = b"\x1b[?1000h"
"""Textual's driver turns mouse reporting on right after entering the alternate screen."""
SCREEN_SHOWN = b"every 1 s"
"""The activity screen's status line (the text frame does not say it)."""


def run_in_pty(
    argv: list[str],
    columns: int,
    lines: int,
    when: bytes = SCREEN_SHOWN,
    then: Callable[[subprocess.Popen[bytes], int], object] = lambda _, tty: os.write(tty, b"q"),
) -> tuple[bytes, int]:
    """Everything `argv` wrote to a `columns`x`lines` terminal, and its exit status; once it
    wrote `when`, `then` is called with the process and the terminal (by default: q pressed)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color"}
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + 60
    done = False
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            if not done and when in out:
                then(proc, master)
                done = True
            assert time.monotonic() < deadline, f"no exit; the terminal shows: {bytes(out)!r}"
        return bytes(out), proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)


def test_the_first_sample_is_on_the_terminal_before_textual_starts(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    argv = [sys.executable, "-m", "pgconsole", cluster.dsn(dbname), "--activity"]
    out, status = run_in_pty(argv, 80, 24)
    assert status == 0
    assert out.startswith(ENTER.encode())
    frame = out[: out.index(TEXTUAL_STARTS)]
    assert b"refreshed " in frame and b"pid" in frame and b"state" in frame
    assert b"pgconsole: activity poll (this screen)" in frame
    # Wiped as Textual starts: it paints only what it has laid out.
    assert frame.endswith(CLEAR.encode() + b"\x1b[?1049h")
    assert SCREEN_SHOWN in out[len(frame) :]
    assert b"\x1b[?1049l" in out[out.rindex(SCREEN_SHOWN) :]  # the shell's screen back


def test_interrupted_before_textual_starts_the_terminal_is_given_back(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    argv = [sys.executable, "-m", "pgconsole", cluster.dsn(dbname), "--activity"]
    out, status = run_in_pty(argv, 80, 24, b"activity poll", lambda p, _: p.send_signal(SIGINT))
    assert status == 130
    assert out.startswith(ENTER.encode()) and TEXTUAL_STARTS not in out
    assert out.index(b"activity poll") < out.rindex(LEAVE.encode())
    assert out.rstrip().endswith(b"\npgconsole: interrupted")  # below the echoed ^C, if any
    assert b"Traceback" not in out
