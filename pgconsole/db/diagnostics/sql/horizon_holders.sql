-- horizon_holders: everything that holds back an xmin horizon in the cluster, oldest first.
-- No parameters.
--
-- What holds it, and for which tables (as the server computes its horizons since 14):
--   backend   a session's snapshot (backend_xmin) or its transaction id (backend_xid):
--             its own database's tables, and the shared catalogs;
--   prepared  a prepared transaction (pg_prepared_xacts): its database's, until COMMIT or
--             ROLLBACK PREPARED;
--   slot      a replication slot's xmin (a standby's feedback through a physical slot):
--             every database's;
--   catalog   a replication slot's catalog_xmin (logical decoding): every database's
--             catalogs;
--   standby   a standby's hot_standby_feedback without a slot (pg_stat_replication's
--             backend_xmin): every database's.
-- Walsenders are listed as standbys, never as sessions. Ages are in transactions
-- (age(xid)) and, where the server knows since when, in seconds.
WITH holders AS (
    SELECT 'backend' AS kind,
           a.pid::text AS name,
           a.pid,
           a.backend_start,
           a.datname AS database,
           a.usename AS role,
           a.application_name,
           a.state,
           a.query,
           CASE
               WHEN a.backend_xid IS NULL THEN a.backend_xmin
               WHEN a.backend_xmin IS NULL THEN a.backend_xid
               WHEN age(a.backend_xid) > age(a.backend_xmin) THEN a.backend_xid
               ELSE a.backend_xmin
           END AS xmin,
           coalesce(a.xact_start, a.backend_start) AS since,
           NULL::boolean AS active
    FROM pg_stat_activity AS a
    WHERE (a.backend_xmin IS NOT NULL OR a.backend_xid IS NOT NULL)
      AND a.pid <> pg_backend_pid()
      AND a.backend_type <> 'walsender'
    UNION ALL
    SELECT 'prepared', p.gid, NULL, NULL, p.database, p.owner, NULL, NULL, NULL,
           p.transaction, p.prepared, NULL
    FROM pg_prepared_xacts AS p
    UNION ALL
    SELECT 'slot', s.slot_name, s.active_pid, NULL, s.database, NULL, s.plugin,
           s.slot_type, NULL, s.xmin, NULL, s.active
    FROM pg_replication_slots AS s
    WHERE s.xmin IS NOT NULL
    UNION ALL
    SELECT 'catalog', s.slot_name, s.active_pid, NULL, s.database, NULL, s.plugin,
           s.slot_type, NULL, s.catalog_xmin, NULL, s.active
    FROM pg_replication_slots AS s
    WHERE s.catalog_xmin IS NOT NULL
    UNION ALL
    SELECT 'standby', coalesce(nullif(r.application_name, ''), r.client_addr::text, r.pid::text),
           r.pid, r.backend_start, NULL, r.usename, r.application_name, r.state, NULL,
           r.backend_xmin, NULL, NULL
    FROM pg_stat_replication AS r
    WHERE r.backend_xmin IS NOT NULL
)
SELECT h.kind, h.name, h.pid, h.backend_start, h.database, h.role, h.application_name,
       h.state, h.query, h.active,
       age(h.xmin) AS xmin_age,
       extract(epoch FROM statement_timestamp() - h.since)::float8 AS seconds,
       h.database IS NOT DISTINCT FROM current_database() AS here
FROM holders AS h
ORDER BY age(h.xmin) DESC, h.kind, h.name
