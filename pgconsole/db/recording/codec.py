"""Activity samples as compact deltas, in memory: no file, no sqlite.

A `Sample` is encoded against the one before it (`Encoder.encode` → `Delta`), and decoded
back in the same order (`Decoder.decode`). The first delta of a run is a keyframe, which
stands alone. A block (`encode_block`, `join_block`) is a keyframe and the deltas after it,
one JSON frame a line, compressed: with xz in the recording file (smaller), with zlib in the
rewind buffer (faster). `BlockReader` parses a block's lines only up to the sample asked for
and builds that sample only.

Why a session that did not change costs nothing: its ages grow every second, so they are
not stored. Each age becomes the moment it counts from (`xact_age` → when the transaction
started), in milliseconds since the epoch, and only a change of that moment is stored. The
ages are counted from the start of the sessions statement (`now()`), which is not the
sample's `taken_at` (`clock_timestamp()` of the next statement) and moves by a few
milliseconds against it from one sample to the next. So each frame carries its own reference
instant, chosen so that the sessions seen in the previous sample keep their moments: decoding
gives back every age within `TOLERANCE` seconds (a millisecond) of the original.

Frames are JSON objects with one-letter keys (the README's "Recording format" lists them).
"""

from __future__ import annotations

import json
import lzma
import sys
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from pgconsole.db.activity.stats import Backend, Replica, Sample, ServerCounters
from pgconsole.db.diagnostics.snapshot import redact_query

TOLERANCE = 0.001
"""Seconds an age decoded may differ from the age sampled."""
_TOLERANCE_US = round(TOLERANCE * 1_000_000)

COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Backend) if f.name != "pid")
"""A stored session's values after its pid, in this order; the three ages are stored as the
moments they count from (milliseconds since the epoch)."""
AGES: tuple[int, ...] = tuple(COLUMNS.index(n) for n in ("xact_age", "query_age", "state_age"))
"""Where the ages are in `COLUMNS`."""
_BLOCKED_BY = COLUMNS.index("blocked_by")
COUNTERS = (
    "xact_commit", "xact_rollback", "blks_read", "blks_hit", "tup_returned", "tup_fetched",
    "tup_inserted", "tup_updated", "tup_deleted", "temp_bytes", "deadlocks",
)  # fmt: skip
"""The cumulative counters of `ServerCounters`, stored as their change since the last frame."""

_SERVER_KEYS = frozenset("snmohpq")
"""The frame keys of the server's values, each present in a delta only when it changed."""

Row = list[Any]
"""A session as stored: `COLUMNS`' values, JSON-ready (ages as moments, blocked_by a list)."""


@dataclass(frozen=True)
class Delta:
    """One sample, encoded against the sample before it (or, for a keyframe, against none)."""

    taken_at: float
    """The sample's `server.taken_at`, to the microsecond."""
    keyframe: bool
    """Decodes without any frame before it: the first of a block."""
    data: bytes
    """The frame: one JSON object, UTF-8."""


def micros(seconds: float) -> int:
    """Seconds (since the epoch) as whole microseconds, as frames store instants."""
    return round(seconds * 1_000_000)


def redacted(sample: Sample) -> Sample:
    """The sample with every query text replaced by its first keywords and its length, as the
    incident snapshot redacts them (`redact_query`)."""
    return replace(
        sample,
        backends=tuple(
            replace(b, query=redact_query(b.query)) if b.query else b for b in sample.backends
        ),
    )


class Encoder:
    """Turns samples, in the order they were taken, into `Delta`s."""

    def __init__(self) -> None:
        self._rows: dict[int, Row] | None = None
        """The previous sample's sessions by pid; None before a keyframe."""
        self._taken_us = 0
        self._server: dict[str, Any] = {}
        """The previous frame's server values, by frame key."""

    def reset(self) -> None:
        """Make the next delta a keyframe."""
        self._rows = None
        self._server = {}

    def encode(self, sample: Sample) -> Delta:
        """The sample as a frame against the previous one (a keyframe after `reset`).

        Raises:
            ValueError: The sample is not later than the previous one.
        """
        taken_us = micros(sample.server.taken_at)
        previous = self._rows
        keyframe = previous is None
        if previous is not None and taken_us <= self._taken_us:
            raise ValueError(
                f"samples go forward in time: {sample.server.taken_at} is not after "
                f"{self._taken_us / 1_000_000}"
            )
        reference = _reference(sample.backends, previous or {}, taken_us)
        rows = {b.pid: _row(b, reference, (previous or {}).get(b.pid)) for b in sample.backends}
        base = reference // 1000
        frame: dict[str, Any] = {}
        if previous is None:
            frame["k"] = 1
            frame["t"] = taken_us
            frame["b"] = [[pid, *_relative(row, base)] for pid, row in rows.items()]
        else:
            frame["t"] = taken_us - self._taken_us
            added = [
                [pid, *_relative(row, base)] for pid, row in rows.items() if pid not in previous
            ]
            changed = [
                [pid, *_changes(previous[pid], row, base)]
                for pid, row in rows.items()
                if pid in previous and previous[pid] != row
            ]
            gone = [pid for pid in previous if pid not in rows]
            for key, value in (("b", added), ("c", changed), ("g", gone)):
                if value:
                    frame[key] = value
        frame["r"] = reference - taken_us
        frame.update(self._server_changes(sample, taken_us, keyframe))
        self._rows = rows
        self._taken_us = taken_us
        data = json.dumps(frame, separators=(",", ":"), ensure_ascii=False).encode()
        return Delta(taken_at=taken_us / 1_000_000, keyframe=keyframe, data=data)

    def _server_changes(self, sample: Sample, taken_us: int, keyframe: bool) -> dict[str, Any]:
        server = sample.server
        values: dict[str, Any] = {
            "s": [getattr(server, name) for name in COUNTERS],
            "n": server.connections,
            "m": server.max_connections,
            "o": _start_ms(taken_us, server.oldest_xact_age, None),
            "h": server.xmin_horizon_age,
            "p": [
                [r.name, r.client, r.state, r.replay_lag, r.lag_bytes] for r in server.replication
            ],
            "q": sample.queries,
        }
        before, self._server = self._server, values
        if keyframe:
            return values
        changes = {k: v for k, v in values.items() if k != "s" and before.get(k) != v}
        counted = [now - then for now, then in zip(values["s"], before["s"], strict=True)]
        if any(counted):
            changes["s"] = counted
        return changes


class Decoder:
    """Turns `Delta`s (or their frames), in order from a keyframe, back into samples."""

    def __init__(self) -> None:
        self._rows: dict[int, Row] = {}
        self._taken_us = 0
        self._server: dict[str, Any] = {}
        self._started = False
        self._reference = 0
        """The instant the last frame's ages count from, in µs."""

    def decode(self, delta: Delta | bytes) -> Sample:
        """The sample of the next frame.

        Raises:
            ValueError: A delta that is not a keyframe, with no keyframe before it.
        """
        return self.decode_frame(json.loads(delta.data if isinstance(delta, Delta) else delta))

    def decode_frame(self, frame: dict[str, Any]) -> Sample:
        """`decode`, of a frame already parsed from JSON."""
        self.apply(frame)
        return self.current()

    def apply(self, frame: dict[str, Any]) -> None:
        """Take the next frame in, without building its sample (cheap: rows change in
        place); `current` builds it.

        Raises:
            ValueError: A delta that is not a keyframe, with no keyframe before it.
        """
        if frame.get("k"):
            self._rows = {}
            self._server = {}
            self._taken_us = frame["t"]
            self._started = True
        elif not self._started:
            raise ValueError("a delta cannot be decoded without the keyframe before it")
        else:
            self._taken_us += frame["t"]
        self._reference = self._taken_us + frame["r"]
        base = self._reference // 1000
        rows = self._rows
        for pid in frame.get("g", ()):
            del rows[pid]
        for pid, *row in frame.get("b", ()):
            rows[pid] = _absolute(row, base)
        for pid, *changes in frame.get("c", ()):
            row = rows[pid] = list(rows[pid])
            for index, value in zip(changes[::2], changes[1::2], strict=True):
                row[index] = value + base if index in AGES and value is not None else value
        counted = frame.get("s")
        if counted is not None and not frame.get("k"):
            frame = {**frame, "s": [a + b for a, b in zip(self._server["s"], counted, strict=True)]}
        self._server.update({k: v for k, v in frame.items() if k in _SERVER_KEYS})

    def current(self) -> Sample:
        """The sample of the last frame taken in."""
        rows, reference = self._rows, self._reference
        return Sample(
            backends=tuple(_backend(pid, rows[pid], reference) for pid in sorted(rows)),
            server=self._counters(),
            queries=self._server["q"],
        )

    def _counters(self) -> ServerCounters:
        server = self._server
        oldest = server["o"]
        return ServerCounters(
            taken_at=self._taken_us / 1_000_000,
            **dict(zip(COUNTERS, server["s"], strict=True)),
            connections=dict(server["n"]),
            max_connections=server["m"],
            oldest_xact_age=None if oldest is None else _age(self._taken_us, oldest),
            xmin_horizon_age=server["h"],
            replication=tuple(Replica(*replica) for replica in server["p"]),
        )


def encode_block(samples: Iterable[Sample]) -> bytes:
    """The samples as one block: a keyframe, then deltas, compressed.

    Raises:
        ValueError: No samples, or a sample not later than the one before it.
    """
    encoder = Encoder()
    return join_block([encoder.encode(sample) for sample in samples])


_XZ = b"\xfd7zXZ\x00"
"""How an xz (lzma) stream starts; a zlib stream never does."""


def join_block(deltas: Sequence[Delta], *, small: bool = False) -> bytes:
    """Deltas already encoded, the first a keyframe, as one compressed block: their frames
    one per line (JSON lines), compressed with zlib, or with xz when `small` (about a fifth
    smaller on blocks of 200 sessions, whose repeats lie further apart than zlib's 32 kB
    window; some 90 ms a block instead of 10, where the zlib block is kept in memory).

    Raises:
        ValueError: No deltas, or the first is not a keyframe.
    """
    if not deltas or not deltas[0].keyframe:
        raise ValueError("a block starts with a keyframe")
    text = b"\n".join(d.data for d in deltas)
    return lzma.compress(text, preset=6) if small else zlib.compress(text, 6)


def block_lines(block: bytes) -> list[bytes]:
    """A block's frames, each still JSON text.

    Raises:
        ValueError: Not a block (zlib.error and lzma.LZMAError are turned into ValueErrors).
    """
    try:
        text = lzma.decompress(block) if block.startswith(_XZ) else zlib.decompress(block)
    except (zlib.error, lzma.LZMAError) as error:
        raise ValueError(f"not a block: {error}") from None
    if text.startswith(b"["):  # the first files of format 1: one JSON array of frames
        return [json.dumps(frame, separators=(",", ":")).encode() for frame in json.loads(text)]
    return text.split(b"\n")


def decode_block(block: bytes) -> list[Sample]:
    """The samples of a block (`encode_block`, `join_block`), in order.

    Raises:
        ValueError: Not a block (json's errors are ValueErrors).
    """
    return decode_frames(json.loads(line) for line in block_lines(block))


class BlockReader:
    """One sample of a block at a time: frames are taken in up to the one asked for, and only
    that sample is built (a block of 60 samples of 200 sessions would be 12,000 sessions).
    Asking for a later sample goes on from the last one; an earlier one starts again."""

    def __init__(self, lines: Sequence[bytes]) -> None:
        """`lines`: the frames as JSON text, each parsed when first taken in."""
        self.frames = lines
        self.weight = sum(sys.getsizeof(line) for line in lines)
        """What the frames' text holds in memory (parsed one at a time, as they are taken
        in; the decoder's rows and the two samples built come on top)."""
        self._decoder = Decoder()
        self._position = -1
        """The index of the last frame taken in."""
        self._built: dict[int, Sample] = {}
        """The last samples built, by index (two: a moment and the one before it)."""

    @classmethod
    def of_block(cls, block: bytes) -> BlockReader:
        """A reader of a compressed block (`join_block`).

        Raises:
            ValueError: Not a block.
        """
        return cls(block_lines(block))

    def __len__(self) -> int:
        return len(self.frames)

    def sample(self, index: int) -> Sample:
        """The sample at `index` of the block.

        Raises:
            IndexError: No such sample.
        """
        built = self._built.get(index)
        if built is not None:
            return built
        if not 0 <= index < len(self.frames):
            raise IndexError(f"sample {index} of a block of {len(self.frames)}")
        if index < self._position:
            self._decoder, self._position = Decoder(), -1
        while self._position < index:
            self._position += 1
            self._decoder.apply(json.loads(self.frames[self._position]))
        sample = self._decoder.current()
        if len(self._built) >= 2:
            del self._built[next(iter(self._built))]
        self._built[index] = sample
        return sample


def decode_frames(frames: Iterable[dict[str, Any]]) -> list[Sample]:
    """The samples of frames parsed from JSON, the first a keyframe."""
    decoder = Decoder()
    return [decoder.decode_frame(frame) for frame in frames]


# --- sessions as rows ----------------------------------------------------------------------


def _reference(backends: Sequence[Backend], previous: dict[int, Row], taken_us: int) -> int:
    """The instant (µs) this sample's ages count from, as the previous frame's moments see it.

    For a session whose moment did not change, moment + age is the instant its age was read
    at: the same for all of them, up to the moments' rounding. Sessions whose query or state
    changed scatter, so the densest millisecond of candidates wins, and its median is taken.
    The first frame (or one where no session carries over) counts from `taken_at`.
    """
    candidates: list[int] = []
    for backend in backends:
        row = previous.get(backend.pid)
        if row is None:
            continue
        for index, age in zip(AGES, _ages(backend), strict=True):
            start = row[index]
            if start is not None and age is not None and age > 0:
                candidates.append(start * 1000 + micros(age))
    if not candidates:
        return taken_us
    candidates.sort()
    best, best_count, low = 0, 0, 0
    for high, value in enumerate(candidates):
        while value - candidates[low] > _TOLERANCE_US:
            low += 1
        if high - low + 1 > best_count:
            best, best_count = low, high - low + 1
    return candidates[best + best_count // 2]


def _ages(backend: Backend) -> tuple[float | None, float | None, float | None]:
    return backend.xact_age, backend.query_age, backend.state_age


def _start_ms(reference_us: int, age: float | None, before: int | None) -> int | None:
    """The moment (ms since the epoch) an age counts from; the one `before` when that is
    within the tolerance, so that an unchanged session stays unchanged."""
    if age is None:
        return None
    exact = reference_us - micros(age)
    if before is not None and abs(before * 1000 - exact) <= _TOLERANCE_US:
        return before
    return round(exact / 1000)


def _age(reference_us: int, start_ms: int) -> float:
    return max(0.0, (reference_us - start_ms * 1000) / 1_000_000)


def _row(backend: Backend, reference_us: int, before: Row | None) -> Row:
    row: Row = [getattr(backend, name) for name in COLUMNS]
    for index, age in zip(AGES, _ages(backend), strict=True):
        row[index] = _start_ms(reference_us, age, None if before is None else before[index])
    row[_BLOCKED_BY] = list(backend.blocked_by)
    return row


def _changes(before: Row, after: Row, base: int) -> list[Any]:
    """`[index, value, index, value...]` of the columns that differ (moments relative to
    `base`)."""
    changes: list[Any] = []
    for index, (old, new) in enumerate(zip(before, after, strict=True)):
        if old != new:
            changes += (index, new - base if index in AGES and new is not None else new)
    return changes


def _relative(row: Row, base: int) -> Row:
    """The row as a frame holds it: each moment as milliseconds from `base`, the frame's
    reference in ms (a few digits rather than thirteen)."""
    out = list(row)
    for index in AGES:
        if out[index] is not None:
            out[index] -= base
    return out


def _absolute(row: Row, base: int) -> Row:
    """`_relative`, undone."""
    for index in AGES:
        if row[index] is not None:
            row[index] += base
    return row


def _backend(pid: int, row: Row, reference_us: int) -> Backend:
    values = dict(zip(COLUMNS, row, strict=True))
    for index in AGES:
        start = row[index]
        values[COLUMNS[index]] = None if start is None else _age(reference_us, start)
    values["blocked_by"] = tuple(row[_BLOCKED_BY])
    return Backend(pid=pid, **values)
