-- recording_schema: the tables of a pgconsole recording, format 1 (SQLite). No parameters.
--
-- A sample is stored once: in `pending` as soon as it is taken (one committed row each, so a
-- recorder killed at any moment loses nothing it had written), then, when its block is full,
-- in `blocks` with the rest of its block (and its `pending` rows deleted, in one transaction).
-- Instants are the server's clock (`clock_timestamp()`), in seconds since the epoch.
CREATE TABLE meta (
    key TEXT PRIMARY KEY,   -- format, host, port, database, server_version, started_at, ...
    value                   -- an integer, a real or a text, as the key says
) WITHOUT ROWID;

CREATE TABLE blocks (
    id INTEGER PRIMARY KEY,   -- in recording order
    first_at REAL NOT NULL,   -- the block's first sample
    last_at REAL NOT NULL,    -- its last sample
    count INTEGER NOT NULL,   -- its samples
    times TEXT NOT NULL,      -- JSON: the first sample's instant in µs, then each next one's
                              -- distance from the one before, in µs
    data BLOB NOT NULL,       -- xz(frames, one JSON object a line): a keyframe, then deltas
    moments TEXT NOT NULL     -- JSON: each sample's summary for the timeline and searches,
                              -- [active, waiting, blocked, idle in transaction,
                              --  longest transaction's pid, its start (s)]
);
CREATE INDEX blocks_first_at ON blocks (first_at);
CREATE INDEX blocks_last_at ON blocks (last_at);

CREATE TABLE pending (
    seq INTEGER PRIMARY KEY,  -- in recording order
    taken_at REAL NOT NULL,   -- the sample's instant
    frame BLOB NOT NULL,      -- JSON, uncompressed: the first row a keyframe, then deltas
    moment TEXT NOT NULL      -- JSON: the sample's summary, as in `blocks.moments`
);
