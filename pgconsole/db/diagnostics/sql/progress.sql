-- progress: every operation the server reports progress of (pg_stat_progress_*), oldest first.
-- No parameters. PostgreSQL 14+ (pg_stat_progress_copy); progress.py drops the copy branch,
-- from its marker line to the closing parenthesis, before 14.
--
-- Each view counts in its own units, and what is counted changes with the phase: each branch
-- says what `done` and `total` mean in the phase it is in, and in which unit. A phase with
-- nothing to count (sorting, truncating, cleaning up) has both NULL; a count with no known end
-- (tuples written by CLUSTER, rows read by COPY from a pipe) has `total` NULL.
--   vacuum        heap blocks scanned, then vacuumed, of the heap's blocks;
--   analyze       sample blocks read; child tables sampled; extended statistics computed;
--   create index  blocks scanned (table or index), tuples loaded into a B-tree, lockers
--                 waited for by CONCURRENTLY, partitions built: whichever this phase moves;
--                 a phase keeps the last phase's counters, so the phase decides;
--   cluster       heap blocks scanned (seq scan), tuples scanned (index scan), tuples
--                 written, indexes rebuilt; VACUUM FULL reports here too (`command`);
--   basebackup    bytes streamed of the estimated size (NULL with --no-estimate-size);
--   copy          bytes read of the file's size, else rows processed.
-- `phase` is '' (and the counters and relid are NULL) for another role's operation when the
-- current role may not read all statistics (pg_read_all_stats); `unit` is '' without a count.
-- Relation names come from this database's catalog only: another database's relation keeps
-- its relid, with NULL names. `started` is the statement's start: CREATE INDEX CONCURRENTLY
-- runs several transactions, and xact_start moves on with each.
WITH progress AS (
    -- Each view with what each phase counts: (phase or counter, unit, done, total).
    SELECT 'vacuum' AS kind, v.pid, v.datid, v.datname, v.relid, v.phase,
           NULL::text AS command, m.unit, m.done, m.total
    FROM pg_stat_progress_vacuum AS v
    LEFT JOIN LATERAL (VALUES
        ('scanning heap', 'blocks', v.heap_blks_scanned, v.heap_blks_total),
        ('vacuuming heap', 'blocks', v.heap_blks_vacuumed, v.heap_blks_total)
    ) AS m (phase, unit, done, total) ON m.phase = v.phase
    UNION ALL
    SELECT 'analyze', a.pid, a.datid, a.datname, a.relid, a.phase, NULL, m.unit, m.done, m.total
    FROM pg_stat_progress_analyze AS a
    LEFT JOIN LATERAL (VALUES
        ('acquiring sample rows', 'blocks', a.sample_blks_scanned, a.sample_blks_total),
        ('acquiring inherited sample rows', 'child tables', a.child_tables_done,
         a.child_tables_total),
        ('computing extended statistics', 'statistics', a.ext_stats_computed, a.ext_stats_total)
    ) AS m (phase, unit, done, total) ON m.phase = a.phase
    UNION ALL
    SELECT 'create index', i.pid, i.datid, i.datname, i.relid, i.phase, i.command,
           m.unit, m.done, m.total
    FROM pg_stat_progress_create_index AS i
    CROSS JOIN LATERAL (SELECT CASE
        WHEN i.phase LIKE 'waiting for%' THEN 'lockers'
        WHEN i.phase = 'building index: loading tuples in tree' THEN 'tuples'
        WHEN i.blocks_total > 0 THEN 'blocks'
        WHEN i.tuples_total > 0 THEN 'tuples'
        WHEN i.partitions_total > 0 THEN 'partitions'
    END AS unit) AS counted
    LEFT JOIN LATERAL (VALUES
        ('lockers', i.lockers_done, i.lockers_total),
        ('blocks', i.blocks_done, i.blocks_total),
        ('tuples', i.tuples_done, i.tuples_total),
        ('partitions', i.partitions_done, i.partitions_total)
    ) AS m (unit, done, total) ON m.unit = counted.unit
    UNION ALL
    SELECT 'cluster', c.pid, c.datid, c.datname, c.relid, c.phase, c.command,
           m.unit, m.done, m.total
    FROM pg_stat_progress_cluster AS c
    LEFT JOIN LATERAL (VALUES
        ('seq scanning heap', 'blocks', c.heap_blks_scanned, c.heap_blks_total),
        ('index scanning heap', 'tuples', c.heap_tuples_scanned, NULL),
        ('writing new heap', 'tuples', c.heap_tuples_written, NULL),
        ('rebuilding index', 'indexes', c.index_rebuild_count, NULL)
    ) AS m (phase, unit, done, total) ON m.phase = c.phase
    UNION ALL
    -- A walsender: no database, no relation.
    SELECT 'basebackup', b.pid, NULL, NULL, NULL, b.phase, NULL, m.unit, m.done, m.total
    FROM pg_stat_progress_basebackup AS b
    LEFT JOIN LATERAL (
        SELECT 'bytes' AS unit, b.backup_streamed AS done, b.backup_total AS total
    ) AS m ON b.phase IN ('streaming database files', 'transferring wal files')
    -- copy: 14+ (this line is the marker progress.py cuts from)
    UNION ALL
    -- No phase: the command and where the data goes or comes from, `COPY FROM (pipe)`.
    SELECT 'copy', p.pid, p.datid, p.datname, p.relid,
           p.command || ' (' || lower(p.type) || ')', p.command,
           CASE WHEN p.bytes_total > 0 THEN 'bytes' ELSE 'tuples' END,
           CASE WHEN p.bytes_total > 0 THEN p.bytes_processed ELSE p.tuples_processed END,
           nullif(p.bytes_total, 0)
    FROM pg_stat_progress_copy AS p
)
SELECT g.kind, g.pid, g.datname AS database,
       coalesce(g.phase, '') AS phase, g.command,
       g.done, g.total, coalesce(g.unit, '') AS unit,
       nullif(g.relid, 0) AS relid,
       n.nspname AS schema, r.relname AS relation,
       coalesce(s.query_start, s.xact_start) AS started,
       s.query, s.usename AS role
FROM progress AS g
LEFT JOIN pg_stat_activity AS s ON s.pid = g.pid
LEFT JOIN pg_class AS r
       ON r.oid = g.relid
      AND g.datid = (SELECT d.oid FROM pg_database AS d WHERE d.datname = current_database())
LEFT JOIN pg_namespace AS n ON n.oid = r.relnamespace
ORDER BY started NULLS LAST, g.pid, g.kind
