-- horizon: everything that holds back an xmin horizon in the cluster, and what it costs the
-- current database, in one statement. $1: rows of each table list.
--
-- One row per holder or list entry, `list` saying which:
--   holder      a holder of a horizon (kind below), oldest first;
--   dead        the tables with the most dead tuples (n_dead_tup), and when they were
--               last vacuumed, by hand or by autovacuum;
--   wraparound  the tables whose relfrozenxid is oldest, against autovacuum_freeze_max_age
--               (a table's own autovacuum_freeze_max_age setting wins when lower);
--   database    every database's datfrozenxid age, against the same limit;
--   totals      the dead tuples of this database's tables, user tables and system
--               catalogs (pg_catalog) apart (`dead`, `catalog_dead`).
--
-- What holds it (`kind`), and for which tables (as the server computes its horizons since 14):
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
WITH activity AS MATERIALIZED (
    -- pg_stat_activity read once (each read of the view builds every backend's row again):
    -- the sessions, and the walsenders that pg_stat_replication would read it again for.
    SELECT a.pid, a.backend_start, a.datname, a.usename, a.application_name, a.client_addr,
           a.state, a.query, a.backend_type, a.backend_xid, a.backend_xmin, a.xact_start
    FROM pg_stat_activity AS a
    WHERE a.backend_xmin IS NOT NULL OR a.backend_xid IS NOT NULL
),
holders AS (
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
    FROM activity AS a
    WHERE a.pid <> pg_backend_pid()
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
    -- pg_stat_replication's rows: a walsender's session joined to its sender's state.
    SELECT 'standby', coalesce(nullif(r.application_name, ''), r.client_addr::text, r.pid::text),
           r.pid, r.backend_start, NULL, r.usename, r.application_name, w.state, NULL,
           r.backend_xmin, NULL, NULL
    FROM activity AS r
    JOIN pg_stat_get_wal_senders() AS w ON w.pid = r.pid
    WHERE r.backend_xmin IS NOT NULL
),
freezing AS (
    SELECT current_setting('autovacuum_freeze_max_age')::bigint AS max_age
),
tables AS MATERIALIZED (
    -- This database's tables (and TOAST tables, materialized views), each read once: what
    -- pg_stat_all_tables shows of them, without the view's aggregation over their indexes.
    -- Only the dead tuples are read of every table; the other statistics only of the few
    -- listed (each is a lookup in the server's statistics).
    SELECT c.oid, n.nspname AS schema, c.relname AS name, c.relkind, c.relfrozenxid,
           c.reloptions,
           pg_stat_get_dead_tuples(c.oid) AS dead
    FROM pg_class AS c
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 't', 'm', 'p')
)
(SELECT 'holder' AS list, h.kind, NULL::name AS schema, h.name, h.pid, h.backend_start,
        h.database, h.role, h.application_name, h.state, h.query, h.active,
        age(h.xmin)::bigint AS age, NULL::bigint AS max_age,
        extract(epoch FROM statement_timestamp() - h.since)::float8 AS seconds,
        h.database IS NOT DISTINCT FROM current_database() AS here,
        NULL::bigint AS dead, NULL::bigint AS live, NULL::bigint AS catalog_dead,
        NULL::timestamptz AS vacuumed, NULL::timestamptz AS autovacuumed
 FROM holders AS h
 ORDER BY age(h.xmin) DESC, h.kind, h.name)
UNION ALL
-- The lists' rows leave the holders' columns (kind to here) NULL.
(SELECT 'dead', NULL, t.schema, t.name, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        NULL, NULL, NULL, NULL,
        t.dead, pg_stat_get_live_tuples(t.oid), NULL,
        greatest(pg_stat_get_last_vacuum_time(t.oid), pg_stat_get_last_autovacuum_time(t.oid)),
        pg_stat_get_last_autovacuum_time(t.oid)
 FROM (SELECT d.oid, d.schema, d.name, d.dead
       FROM tables AS d
       WHERE d.dead > 0
       ORDER BY d.dead DESC, d.oid
       LIMIT $1) AS t
 ORDER BY t.dead DESC, t.oid)
UNION ALL
(SELECT 'wraparound', NULL, t.schema, t.name, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        age(t.relfrozenxid),
        least(f.max_age, coalesce(
            (SELECT o.option_value::bigint
             FROM pg_options_to_table(t.reloptions) AS o
             WHERE o.option_name = 'autovacuum_freeze_max_age'), f.max_age)),
        NULL, NULL, NULL, NULL, NULL, NULL, NULL
 FROM tables AS t
 CROSS JOIN freezing AS f
 WHERE t.relkind IN ('r', 'm', 't') AND t.relfrozenxid <> '0'
 ORDER BY age(t.relfrozenxid) DESC, t.oid
 LIMIT $1)
UNION ALL
(SELECT 'database', NULL, NULL, d.datname, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        age(d.datfrozenxid), f.max_age, NULL, NULL, NULL, NULL, NULL, NULL, NULL
 FROM pg_database AS d
 CROSS JOIN freezing AS f
 WHERE d.datallowconn
 ORDER BY age(d.datfrozenxid) DESC, d.datname)
UNION ALL
SELECT 'totals', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL,
       coalesce(sum(t.dead) FILTER (WHERE t.schema <> 'pg_catalog'), 0)::bigint,
       NULL,
       coalesce(sum(t.dead) FILTER (WHERE t.schema = 'pg_catalog'), 0)::bigint,
       NULL, NULL
FROM tables AS t
