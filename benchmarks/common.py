"""What every benchmark command needs and nothing of the app's UI: a hermetic home, the
machine's and the checkout's description, and pgconsole as of a git revision.

Importing this (and `benchmarks.data`) never imports Textual or a screen, so a benchmark that
runs pgconsole as a process of its own is not stopped by edits in progress in the working tree.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def hermetic_home() -> Iterator[Path]:
    """No PG*/PGCONSOLE_* variable, config file or keyring of this machine in the run; and
    bytecode written as on a user's machine."""
    for name in list(os.environ):
        if name.startswith("PG"):
            del os.environ[name]
    # A developer's PYTHONDONTWRITEBYTECODE would make every launch of a tool compile again
    # each module changed since its bytecode was written (about 6 ms for a 600-line module
    # here): an install has them compiled, and the untimed launch before each measured one
    # writes them.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    home = Path(tempfile.mkdtemp(prefix="pgconsole-bench-"))
    saved = {k: os.environ.get(k) for k in ("HOME", "XDG_CONFIG_HOME")}
    os.environ["HOME"] = str(home)
    os.environ["XDG_CONFIG_HOME"] = str(home / ".config")
    try:
        yield home
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(home, ignore_errors=True)


def machine() -> str:
    """CPU model, cores and memory."""
    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        memory = f"{kib / 2**20:.1f} GiB RAM"
    return f"{os.cpu_count()} CPUs ({model}), {memory}, {platform.system()} {platform.release()}"


def commit(rev: str | None = None) -> str:
    """The checked-out pgconsole commit, marked when pgconsole/ has local changes; or `rev`'s
    short hash."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", rev or "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.strip()
        if rev:
            return head or rev
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "pgconsole", "styles"],
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "?"
    return (head or "?") + (" + local changes" if dirty else "")


def extract(rev: str, into: Path, name: str) -> Path:
    """pgconsole/ and styles/ as of git revision `rev`, in `into/name` (no worktree, no
    checkout); or `rev` itself when it is a directory holding a pgconsole package."""
    if (Path(rev) / "pgconsole" / "__init__.py").is_file():
        return Path(rev).resolve()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev, "pgconsole", "styles"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout
    tar_path = into / f"{name}.tar"
    tar_path.write_bytes(archive)
    root = into / name
    root.mkdir()
    with tarfile.open(tar_path) as tar:
        tar.extractall(root, filter="data")
    tar_path.unlink()
    return root
