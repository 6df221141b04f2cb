-- horizon_tables: what the horizon costs, in the current database. $1: rows of each list.
--
-- One row per list entry, `list` saying which:
--   dead        the tables with the most dead tuples (n_dead_tup), and when they were
--               last vacuumed, by hand or by autovacuum;
--   wraparound  the tables whose relfrozenxid is oldest, against autovacuum_freeze_max_age
--               (a table's own autovacuum_freeze_max_age setting wins when lower);
--   database    every database's datfrozenxid age, against the same limit;
--   totals      the dead tuples of this database's tables, user tables and system
--               catalogs (pg_catalog) apart (`dead`, `catalog_dead`).
WITH freezing AS (
    SELECT current_setting('autovacuum_freeze_max_age')::bigint AS max_age
)
(SELECT 'dead' AS list, t.schemaname AS schema, t.relname AS name,
        t.n_dead_tup AS dead, t.n_live_tup AS live, NULL::bigint AS catalog_dead,
        greatest(t.last_vacuum, t.last_autovacuum) AS vacuumed,
        t.last_autovacuum AS autovacuumed,
        NULL::bigint AS age, NULL::bigint AS max_age
 FROM pg_stat_all_tables AS t
 WHERE t.n_dead_tup > 0
 ORDER BY t.n_dead_tup DESC, t.relid
 LIMIT $1)
UNION ALL
(SELECT 'wraparound', n.nspname, c.relname, NULL, NULL, NULL, NULL, NULL,
        age(c.relfrozenxid),
        least(f.max_age, coalesce(
            (SELECT o.option_value::bigint
             FROM pg_options_to_table(c.reloptions) AS o
             WHERE o.option_name = 'autovacuum_freeze_max_age'), f.max_age))
 FROM pg_class AS c
 JOIN pg_namespace AS n ON n.oid = c.relnamespace
 CROSS JOIN freezing AS f
 WHERE c.relkind IN ('r', 'm', 't') AND c.relfrozenxid <> '0'
 ORDER BY age(c.relfrozenxid) DESC, c.oid
 LIMIT $1)
UNION ALL
(SELECT 'database', NULL, d.datname, NULL, NULL, NULL, NULL, NULL, age(d.datfrozenxid), f.max_age
 FROM pg_database AS d
 CROSS JOIN freezing AS f
 WHERE d.datallowconn
 ORDER BY age(d.datfrozenxid) DESC, d.datname)
UNION ALL
SELECT 'totals', NULL, NULL,
       coalesce(sum(t.n_dead_tup) FILTER (WHERE t.schemaname <> 'pg_catalog'), 0)::bigint,
       NULL,
       coalesce(sum(t.n_dead_tup) FILTER (WHERE t.schemaname = 'pg_catalog'), 0)::bigint,
       NULL, NULL, NULL, NULL
FROM pg_stat_all_tables AS t
