-- snapshot_settings: the server settings an incident report needs, by name. No parameters.
--
-- What each is set to, in which unit, and where the value came from (default,
-- configuration file, ALTER SYSTEM, database or role, session). A fixed list: memory and
-- connections, autovacuum and vacuum's cost limits, the time limits, WAL retention,
-- replication, and what pg_stat_statements and the wait sampling rely on.
SELECT name, setting, unit, source
FROM pg_settings
WHERE name IN (
        'server_version', 'max_connections', 'shared_buffers', 'work_mem',
        'maintenance_work_mem', 'autovacuum_freeze_max_age', 'statement_timeout',
        'lock_timeout', 'idle_in_transaction_session_timeout', 'max_wal_size',
        'max_slot_wal_keep_size', 'wal_keep_size', 'hot_standby_feedback',
        'synchronous_standby_names', 'shared_preload_libraries', 'track_io_timing',
        'compute_query_id'
      )
   OR name LIKE 'autovacuum%'
   OR name LIKE 'vacuum\_cost\_%'
ORDER BY name
