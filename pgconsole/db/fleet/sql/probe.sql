-- probe: one reading of a server for the fleet view, one row, in one statement. No parameters.
--
-- Who the server is: version, primary or standby and the upstream it streams from
-- (pg_stat_wal_receiver), this session's TLS (its own pg_stat_ssl row) and the
-- statement_timeout in force on it. Its sessions: client backends against max_connections,
-- active and idle in transaction (this session aside), waiting on a heavyweight lock, and
-- blocked (a non-empty pg_blocking_pids); the longest transaction and the longest one now
-- idle in transaction, in seconds. The xmin horizon's age in transactions: sessions'
-- snapshots and transaction ids, replication slots' xmin and catalog_xmin, prepared
-- transactions. Replication: on a primary, its walsenders and the worst one's replay lag in
-- bytes and seconds; on a standby, WAL received and not replayed, and the seconds since the
-- last replayed commit while it is behind (0 once caught up). Cumulative counters summed over
-- pg_stat_database, with the server's clock and start time, for tps and cache hit between two
-- readings.
--
-- Cheap enough to run every few seconds on 30 busy servers:
-- * pg_stat_activity is read once: `backends` is referenced several times (and reads a
--   volatile function), so the server materializes it, on every version;
-- * pg_blocking_pids(), which briefly holds every lock-manager partition lock, is called only
--   for sessions waiting on a heavyweight lock (the CASE: the only ones it can name);
-- * pg_stat_replication is read only when a walsender runs (or one may be hidden from the
--   role), and pg_current_wal_lsn() only on a primary (it errors in recovery);
-- * nothing takes a lock on a user relation, nothing counts rows.
-- A role without pg_read_all_stats (pg_monitor) sees other roles' sessions without state,
-- wait or xmin, and walsenders and the walreceiver without positions: those count as not
-- active, not waiting, no lag (sees_all says so). Ages and lags may come out a little below
-- zero (now() is the statement's start, the counters a moment later): the client clamps them.
WITH backends AS (
    SELECT a.pid, a.backend_type, a.state, a.wait_event_type, a.xact_start, a.backend_xid,
           a.backend_xmin
    FROM pg_stat_activity AS a
),
here AS (
    SELECT pg_is_in_recovery() AS standby
),
sessions AS (
    SELECT count(*) FILTER (WHERE b.backend_type = 'client backend' OR b.backend_type IS NULL)::int
               AS connections,
           count(*) FILTER (WHERE b.backend_type = 'client backend' AND b.state = 'active'
                                  AND b.pid <> pg_backend_pid())::int AS active,
           count(*) FILTER (WHERE b.backend_type = 'client backend'
                                  AND b.state LIKE 'idle in transaction%')::int
               AS idle_in_transaction,
           count(*) FILTER (WHERE b.wait_event_type = 'Lock')::int AS waiting,
           count(*) FILTER (WHERE CASE
                                      WHEN b.wait_event_type = 'Lock'
                                          THEN cardinality(pg_blocking_pids(b.pid)) > 0
                                      ELSE false
                                  END)::int AS blocked,
           extract(epoch FROM now() - min(b.xact_start)
                                      FILTER (WHERE b.backend_type = 'client backend'
                                                    AND b.pid <> pg_backend_pid()))::float8
               AS longest_transaction,
           extract(epoch FROM now() - min(b.xact_start)
                                      FILTER (WHERE b.backend_type = 'client backend'
                                                    AND b.state LIKE 'idle in transaction%'))::float8
               AS idle_in_transaction_age
    FROM backends AS b
),
horizon AS (
    SELECT max(age(x.xid))::int8 AS xmin_age
    FROM (
        SELECT v.xid
        FROM backends AS b, LATERAL (VALUES (b.backend_xmin), (b.backend_xid)) AS v(xid)
        WHERE b.pid <> pg_backend_pid()
        UNION ALL
        SELECT v.xid
        FROM pg_replication_slots AS s, LATERAL (VALUES (s.xmin), (s.catalog_xmin)) AS v(xid)
        UNION ALL
        SELECT p.transaction FROM pg_prepared_xacts AS p
    ) AS x
    WHERE x.xid IS NOT NULL
),
position AS (
    -- What a standby's lag is measured from: on a standby (which may cascade) what it has,
    -- as pg_current_wal_lsn() errors in recovery.
    SELECT CASE
               WHEN h.standby THEN greatest(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())
               ELSE pg_current_wal_lsn()
           END AS lsn
    FROM here AS h
),
downstream AS (
    SELECT count(*)::int AS standbys,
           max(pg_wal_lsn_diff(p.lsn, r.replay_lsn))::int8 AS lag_bytes,
           max(extract(epoch FROM r.replay_lag))::float8 AS lag_seconds
    FROM pg_stat_replication AS r, position AS p
    WHERE EXISTS (SELECT FROM backends AS w
                  WHERE w.backend_type = 'walsender' OR w.backend_type IS NULL)
),
replay AS (
    SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::int8 AS bytes,
           extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS seconds
),
counters AS (
    SELECT sum(d.xact_commit + d.xact_rollback)::int8 AS transactions,
           sum(d.blks_hit)::int8 AS blks_hit,
           sum(d.blks_read)::int8 AS blks_read
    FROM pg_stat_database AS d
)
SELECT split_part(current_setting('server_version'), ' ', 1) AS version,
       current_setting('server_version_num')::int AS version_num,
       h.standby,
       w.pid IS NOT NULL AS streaming,
       w.sender_host,
       w.sender_port,
       pg_has_role('pg_read_all_stats', 'USAGE') AS sees_all,
       t.version AS tls,
       current_setting('statement_timeout') AS statement_timeout,
       current_setting('max_connections')::int AS max_connections,
       s.connections, s.active, s.idle_in_transaction, s.waiting, s.blocked,
       s.longest_transaction,
       s.idle_in_transaction_age,
       x.xmin_age,
       d.standbys,
       CASE WHEN h.standby THEN r.bytes ELSE d.lag_bytes END AS lag_bytes,
       CASE
           WHEN NOT h.standby THEN d.lag_seconds
           WHEN r.bytes > 0 THEN r.seconds
           WHEN r.bytes IS NOT NULL THEN 0
       END AS lag_seconds,
       c.transactions, c.blks_hit, c.blks_read,
       extract(epoch FROM clock_timestamp())::float8 AS taken_at,
       extract(epoch FROM pg_postmaster_start_time())::float8 AS started_at
FROM here AS h
CROSS JOIN sessions AS s
CROSS JOIN horizon AS x
CROSS JOIN downstream AS d
CROSS JOIN replay AS r
CROSS JOIN counters AS c
LEFT JOIN pg_stat_wal_receiver AS w ON h.standby
LEFT JOIN pg_stat_ssl AS t ON t.pid = pg_backend_pid() AND t.ssl
