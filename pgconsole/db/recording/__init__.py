"""The flight recorder's storage: activity samples as compact deltas (`codec`, in memory) and
the recording file that keeps them (`store`, one SQLite database). Headless: stdlib only."""

from pgconsole.db.recording.codec import (
    Decoder,
    Delta,
    Encoder,
    decode_block,
    encode_block,
    redacted,
)
from pgconsole.db.recording.store import (
    BLOCK_SIZE,
    FORMAT,
    Meta,
    Recording,
    RecordingError,
    RecordingFull,
    Writer,
)

__all__ = [
    "BLOCK_SIZE",
    "FORMAT",
    "Decoder",
    "Delta",
    "Encoder",
    "Meta",
    "Recording",
    "RecordingError",
    "RecordingFull",
    "Writer",
    "decode_block",
    "encode_block",
    "redacted",
]
