-- replication_downstream: the standbys this server sends WAL to, and its replication slots.
-- No parameters.
--
-- One row per standby (pg_stat_replication) or slot (pg_replication_slots), `kind` saying
-- which. Byte counts are measured from this server's WAL position: pg_current_wal_lsn() on
-- a primary; on a standby (which may cascade) the WAL it has received or replayed, as
-- pg_current_wal_lsn() errors in recovery.
--   standby  unsent/unwritten/unflushed/unreplayed_bytes: WAL it has not been sent, or has
--            not written, flushed, replayed; write/flush/replay_lag in seconds (NULL once
--            it has caught up and stays idle); xmin_age: its hot_standby_feedback when it
--            streams without a slot (with one, the slot holds it). Without
--            pg_read_all_stats another role's walsender shows its pid only.
--   slot     retained_bytes: WAL kept for it since restart_lsn (NULL when it reserves none);
--            wal_status and safe_wal_size (13+; NULL without max_slot_wal_keep_size);
--            xmin_age and catalog_xmin_age: the horizons it holds.
WITH here AS (
    SELECT CASE
               WHEN pg_is_in_recovery()
               THEN greatest(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())
               ELSE pg_current_wal_lsn()
           END AS lsn
)
SELECT 'standby' AS kind,
       r.pid,
       r.application_name AS name,
       host(r.client_addr) AS client_addr,
       r.state,
       r.sync_state,
       pg_wal_lsn_diff(h.lsn, r.sent_lsn)::bigint AS unsent_bytes,
       pg_wal_lsn_diff(h.lsn, r.write_lsn)::bigint AS unwritten_bytes,
       pg_wal_lsn_diff(h.lsn, r.flush_lsn)::bigint AS unflushed_bytes,
       pg_wal_lsn_diff(h.lsn, r.replay_lsn)::bigint AS unreplayed_bytes,
       extract(epoch FROM r.write_lag)::float8 AS write_lag,
       extract(epoch FROM r.flush_lag)::float8 AS flush_lag,
       extract(epoch FROM r.replay_lag)::float8 AS replay_lag,
       age(r.backend_xmin) AS xmin_age,
       NULL::text AS slot_type,
       NULL::text AS database,
       NULL::boolean AS active,
       NULL::text AS wal_status,
       NULL::bigint AS safe_wal_size,
       NULL::bigint AS retained_bytes,
       NULL::integer AS catalog_xmin_age
FROM pg_stat_replication AS r
CROSS JOIN here AS h
UNION ALL
SELECT 'slot', s.active_pid, s.slot_name::text, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL,
       age(s.xmin),
       s.slot_type,
       s.database::text,
       s.active,
       s.wal_status,
       s.safe_wal_size,
       pg_wal_lsn_diff(h.lsn, s.restart_lsn)::bigint,
       age(s.catalog_xmin)
FROM pg_replication_slots AS s
CROSS JOIN here AS h
ORDER BY kind, name, pid
