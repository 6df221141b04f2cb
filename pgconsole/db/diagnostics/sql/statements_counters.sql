-- statements_counters: the counters of every pg_stat_statements entry, without the texts
-- (those are read only for the entries shown: statements_texts.sql). No parameters; the
-- schema the extension lives in replaces {schema}, quoted.
--
-- One row per entry, each with the time of the last reset of all entries (the view's
-- info, 1.9+): every entry's delta starts again from zero after one. A role without
-- pg_read_all_stats sees other roles' entries with a null queryid: they are counted, not
-- listed. With no entry at all, one row of nulls but the reset.
SELECT i.stats_reset,
       s.userid,
       s.dbid,
       s.queryid,
       s.toplevel,
       s.calls,
       s.total_exec_time + s.total_plan_time AS time_ms,
       s.rows,
       s.shared_blks_hit AS hit,
       s.shared_blks_read AS read,
       s.temp_blks_read + s.temp_blks_written AS temp,
       s.wal_bytes
FROM {schema}.pg_stat_statements_info i
LEFT JOIN {schema}.pg_stat_statements(false) s ON true
