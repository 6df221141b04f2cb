-- replication_upstream: this server's own side of replication, in one row. No parameters.
--
-- in_recovery says whether it is a standby; the other columns describe it as one and are
-- NULL on a primary (pg_is_wal_replay_paused() errors there, so it only runs in recovery):
--   receive_lsn, replay_lsn  the WAL received from upstream and replayed;
--   unreplayed_bytes         received but not replayed yet;
--   replay_lag               seconds since the last replayed transaction committed upstream
--                            (it grows on an idle primary too; NULL before any replay);
--   paused                   replay is paused or a pause is requested (13+; 14+ tell the
--                            two apart, but no further record is replayed in either);
--   sender_host ... status   the walreceiver (pg_stat_wal_receiver): none while restoring
--                            from an archive; NULL but for the pid without pg_read_all_stats.
-- read_all_stats says whether other roles' replication details are visible here.
SELECT pg_is_in_recovery() AS in_recovery,
       pg_has_role('pg_read_all_stats', 'USAGE') AS read_all_stats,
       pg_last_wal_receive_lsn()::text AS receive_lsn,
       pg_last_wal_replay_lsn()::text AS replay_lsn,
       pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint
           AS unreplayed_bytes,
       extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS replay_lag,
       CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END AS paused,
       w.sender_host,
       w.sender_port,
       w.status,
       w.slot_name,
       current_setting('hot_standby_feedback')::boolean AS hot_standby_feedback
FROM (SELECT) AS here
LEFT JOIN pg_stat_wal_receiver AS w ON true
