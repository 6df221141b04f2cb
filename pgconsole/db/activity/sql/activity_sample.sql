-- activity_sample: everything one refresh of the activity screen shows, in one statement.
-- No parameters.
--
-- One row per backend of pg_stat_activity with its ages in seconds, the pids that block it,
-- and the lock it waits for (mode and relation). The sampling session's own row (is_self)
-- also carries the server's columns, NULL on every other row: its cumulative counters
-- (summed over pg_stat_database), sessions by state, max_connections, the oldest
-- transaction, the xmin horizon's age and the standbys.
--
-- Cheap enough to run every second on a busy server:
-- * one statement is one transaction: every source is read at one instant; pg_stat_activity
--   is read once (`backends`, MATERIALIZED: each read of the view builds every backend's row
--   again), and pg_stat_replication, which reads it again, only when a walsender runs;
-- * pg_locks is read once (the MATERIALIZED CTE, kept to ungranted locks and tuple locks)
--   and joined by pid, never queried per session;
-- * pg_blocking_pids(), which briefly holds every lock-manager partition lock, is called only
--   for the sessions waiting on a heavyweight lock (wait_event_type = 'Lock'), which is the
--   only case where it can return anything;
-- * relation names come from pg_class, by its index, for the few relations waited on (never
--   read whole: a database may have 100,000 of them), without taking any lock on them;
-- * the server's columns are computed once (the MATERIALIZED `server`), joined to one row;
--   nothing counts table rows and nothing takes a lock on a user relation. Sessions by state
--   come from pg_stat_activity: a client backend counts under its state, anything else
--   (background processes, and other roles' sessions when the role may not read their
--   state) under 'other'.
-- A role without pg_read_all_stats sees other roles' sessions with most columns NULL (and
-- backend_type NULL): their query text '<insufficient privilege>' is returned as NULL.
WITH backends AS MATERIALIZED (
    SELECT a.pid, a.usename, a.datname, a.application_name, a.client_addr, a.client_port,
           a.backend_type, a.state, a.wait_event_type, a.wait_event, a.xact_start,
           a.query_start, a.state_change, a.query, a.backend_xid, a.backend_xmin
    FROM pg_stat_activity AS a
),
locks AS MATERIALIZED (
    SELECT l.pid, l.mode, l.granted, l.database, l.relation
    FROM pg_locks AS l
    WHERE NOT l.granted OR l.locktype = 'tuple'
),
waiting AS (
    -- A backend waits for one lock at a time. Waiting for a row (a transactionid lock) names no
    -- relation, but the waiter then holds the tuple lock of that row: its relation is used.
    SELECT DISTINCT ON (w.pid)
           w.pid,
           w.mode,
           coalesce(w.database, t.database) AS database,
           coalesce(w.relation, t.relation) AS relation
    FROM locks AS w
    LEFT JOIN locks AS t ON t.pid = w.pid AND t.granted
    WHERE NOT w.granted
    ORDER BY w.pid, w.relation IS NULL
),
activity AS (
    SELECT a.pid, a.backend_type, a.state, a.xact_start, a.backend_xid, a.backend_xmin
    FROM backends AS a
),
others AS (
    -- This sampling session's own transaction is not one the DBA is looking for.
    SELECT * FROM activity WHERE pid <> pg_backend_pid()
),
horizon AS (
    -- What holds back VACUUM: snapshots and transaction ids of sessions, replication slots
    -- (including logical slots' catalog_xmin) and prepared transactions.
    SELECT max(age(x.xid)) AS age
    FROM (
        SELECT v.xid FROM others AS o, LATERAL (VALUES (o.backend_xmin), (o.backend_xid)) AS v(xid)
        UNION ALL
        SELECT v.xid
        FROM pg_replication_slots AS s, LATERAL (VALUES (s.xmin), (s.catalog_xmin)) AS v(xid)
        UNION ALL
        SELECT p.transaction FROM pg_prepared_xacts AS p
    ) AS x
    WHERE x.xid IS NOT NULL
),
wal AS (
    -- On a standby (cascading replication) pg_current_wal_lsn() raises an error.
    SELECT CASE
               WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
               ELSE pg_current_wal_lsn()
           END AS lsn
),
server AS MATERIALIZED (
    SELECT extract(epoch FROM clock_timestamp())::float8 AS taken_at,
           s.xact_commit, s.xact_rollback, s.blks_read, s.blks_hit, s.tup_returned, s.tup_fetched,
           s.tup_inserted, s.tup_updated, s.tup_deleted, s.temp_bytes, s.deadlocks,
           (SELECT array_agg(row(g.state, g.n))
            FROM (
                SELECT CASE
                           WHEN act.backend_type = 'client backend' AND act.state IS NOT NULL
                               THEN act.state
                           ELSE 'other'
                       END AS state,
                       count(*)::int AS n
                FROM activity AS act
                GROUP BY 1
            ) AS g) AS connections,
           current_setting('max_connections')::int AS max_connections,
           (SELECT extract(epoch FROM now() - min(o.xact_start))::float8
            FROM others AS o
            WHERE o.backend_type = 'client backend') AS oldest_xact_age,
           (SELECT h.age FROM horizon AS h) AS xmin_horizon_age,
           (SELECT array_agg(row(r.application_name, host(r.client_addr), r.state,
                                  extract(epoch FROM r.replay_lag)::float8,
                                  pg_wal_lsn_diff(p.lsn, r.replay_lsn)::int8)
                             ORDER BY r.application_name, r.pid)
            FROM pg_stat_replication AS r, wal AS p
            -- A walsender may be hidden from the role (backend_type NULL): read then too.
            WHERE EXISTS (SELECT FROM activity AS w
                          WHERE w.backend_type = 'walsender' OR w.backend_type IS NULL))
               AS replication
    FROM (
        SELECT sum(d.xact_commit)::int8 AS xact_commit,
               sum(d.xact_rollback)::int8 AS xact_rollback,
               sum(d.blks_read)::int8 AS blks_read,
               sum(d.blks_hit)::int8 AS blks_hit,
               sum(d.tup_returned)::int8 AS tup_returned,
               sum(d.tup_fetched)::int8 AS tup_fetched,
               sum(d.tup_inserted)::int8 AS tup_inserted,
               sum(d.tup_updated)::int8 AS tup_updated,
               sum(d.tup_deleted)::int8 AS tup_deleted,
               sum(d.temp_bytes)::int8 AS temp_bytes,
               sum(d.deadlocks)::int8 AS deadlocks
        FROM pg_stat_database AS d
    ) AS s
)
SELECT a.pid,
       a.usename AS user,
       a.datname AS database,
       a.application_name AS application,
       CASE
           WHEN a.client_addr IS NOT NULL THEN host(a.client_addr)
           WHEN a.client_port = -1 THEN 'local'
       END AS client,
       a.backend_type,
       a.state,
       a.wait_event_type,
       a.wait_event,
       extract(epoch FROM now() - a.xact_start)::float8 AS xact_age,
       extract(epoch FROM now() - a.query_start)::float8 AS query_age,
       extract(epoch FROM now() - a.state_change)::float8 AS state_age,
       CASE WHEN a.backend_type IS NOT NULL THEN a.query END AS query,
       CASE WHEN a.wait_event_type = 'Lock' THEN pg_blocking_pids(a.pid) END AS blocked_by,
       w.mode AS lock_mode,
       CASE
           WHEN w.relation IS NULL THEN NULL
           WHEN c.oid IS NOT NULL THEN c.name
           WHEN here.oid IS NULL THEN format('relation %s in database %s', w.relation,
                                              coalesce(d.datname, w.database::text))
           ELSE w.relation::text
       END AS lock_relation,
       c.oid::int8 AS lock_relation_oid,
       a.pid = pg_backend_pid() AS is_self,
       v.*
FROM backends AS a
LEFT JOIN waiting AS w ON w.pid = a.pid
-- A relation lock names the database it is in (0 for shared catalogs): only those of this
-- database, or shared, can be looked up in this database's pg_class.
LEFT JOIN pg_database AS here
       ON here.datname = current_database() AND w.database IN (here.oid, 0)
LEFT JOIN pg_database AS d ON d.oid = w.database
-- Looked up by its index for each relation waited on: pg_class is never read whole.
LEFT JOIN LATERAL (
    SELECT r.oid, format('%I.%I', n.nspname, r.relname) AS name
    FROM pg_class AS r
    JOIN pg_namespace AS n ON n.oid = r.relnamespace
    WHERE r.oid = w.relation AND here.oid IS NOT NULL
    LIMIT 1
) AS c ON true
LEFT JOIN server AS v ON a.pid = pg_backend_pid()
ORDER BY a.pid
