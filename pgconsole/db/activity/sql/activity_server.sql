-- activity_server: the server's cumulative counters (summed over pg_stat_database), sessions
-- by state, max_connections, the oldest transaction, the xmin horizon's age and the standbys.
-- No parameters.
--
-- Each source is read once (pg_stat_activity in a MATERIALIZED CTE; pg_stat_replication reads
-- it again internally, for its walsenders only); nothing counts table rows and nothing takes a
-- lock on a user relation. Sessions come from pg_stat_activity: a client
-- backend counts under its state, anything else (background processes, and other roles'
-- sessions when the role may not read their state) under 'other'.
WITH activity AS MATERIALIZED (
    SELECT a.pid, a.backend_type, a.state, a.xact_start, a.backend_xid, a.backend_xmin
    FROM pg_stat_activity AS a
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
)
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
        FROM pg_stat_replication AS r, wal AS p) AS replication
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
