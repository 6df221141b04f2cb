"""Which threads open a file: to show that file IO stays off the event loop's thread."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_watched: dict[str, list[int]] = {}
"""A watched file's path → the thread of each open of it, in order."""
_hooked = False


def _record_open(event: str, args: tuple[object, ...]) -> None:
    # Every `open` of the process passes here (builtins.open, Path.open, os.open): an audit
    # hook cannot be removed, so once installed it stays, a dict lookup while nothing is watched.
    if event == "open" and args and isinstance(args[0], str | os.PathLike):
        opens = _watched.get(os.fspath(args[0]))
        if opens is not None:
            opens.append(threading.get_ident())


@contextmanager
def opens_of(path: Path) -> Iterator[list[int]]:
    """The list of threads (`threading.get_ident()`) that open `path`, or a file beside it
    named after it (`history.jsonl.tmp`), while the block runs."""
    global _hooked
    if not _hooked:
        sys.addaudithook(_record_open)
        _hooked = True
    opens: list[int] = []
    names = [str(path), str(path.with_name(path.name + ".tmp"))]
    for name in names:
        _watched[name] = opens
    try:
        yield opens
    finally:
        for name in names:
            _watched.pop(name, None)
