-- replication: this server's replication, both ways, in one statement. No parameters.
--
-- Upstream: this server's own side, in the columns up to hot_standby_feedback, repeated on
-- every row. in_recovery says whether it is a standby; the other columns describe it as one
-- and are NULL on a primary (pg_is_wal_replay_paused() errors there, so it only runs in
-- recovery):
--   receive_lsn, replay_lsn  the WAL received from upstream and replayed;
--   upstream_unreplayed_bytes  received but not replayed yet;
--   upstream_replay_lag      seconds since the last replayed transaction committed upstream
--                            (it grows on an idle primary too; NULL before any replay);
--   paused                   replay is paused or a pause is requested (13+; 14+ tell the
--                            two apart, but no further record is replayed in either);
--   sender_host ... status   the walreceiver (pg_stat_wal_receiver): none while restoring
--                            from an archive; NULL but for the pid without pg_read_all_stats.
-- read_all_stats says whether other roles' replication details are visible here.
--
-- Downstream: one row per standby (pg_stat_replication) or slot (pg_replication_slots),
-- `kind` saying which; a single row with `kind` NULL when there is neither. Byte counts are
-- measured from this server's WAL position: pg_current_wal_lsn() on a primary; on a standby
-- (which may cascade) the WAL it has received or replayed, as pg_current_wal_lsn() errors in
-- recovery.
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
),
upstream AS (
    SELECT pg_is_in_recovery() AS in_recovery,
           pg_has_role('pg_read_all_stats', 'USAGE') AS read_all_stats,
           pg_last_wal_receive_lsn()::text AS receive_lsn,
           pg_last_wal_replay_lsn()::text AS replay_lsn,
           pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint
               AS upstream_unreplayed_bytes,
           extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8
               AS upstream_replay_lag,
           CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END AS paused,
           w.sender_host,
           w.sender_port,
           w.status,
           w.slot_name,
           current_setting('hot_standby_feedback')::boolean AS hot_standby_feedback
    FROM (SELECT) AS nothing
    LEFT JOIN pg_stat_wal_receiver AS w ON true
),
downstream AS (
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
    -- pg_stat_replication reads every backend's row of pg_stat_activity: only when a
    -- walsender runs (pg_stat_get_wal_senders() reads the few walsender slots alone).
    WHERE EXISTS (SELECT FROM pg_stat_get_wal_senders())
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
)
SELECT u.*, d.*
FROM upstream AS u
LEFT JOIN downstream AS d ON true
ORDER BY d.kind, d.name, d.pid
