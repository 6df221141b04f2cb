-- describe_relation: one relation's names, kind and comment, with its activity counters from
-- pg_stat_all_tables (NULLs where that view has no row, as for views). $1 oid: the relation.
SELECT c.oid,
       n.nspname AS schema,
       c.relname AS name,
       c.relkind::text AS kind,
       d.description AS comment,
       s.relid IS NOT NULL AS has_stats,
       s.seq_scan, s.idx_scan, s.n_live_tup, s.n_dead_tup,
       s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_description AS d
  ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
-- LATERAL, so that the filter reaches inside the view's GROUP BY: joined plainly, the view
-- would compute its counters for every table in the database.
LEFT JOIN LATERAL (
    SELECT * FROM pg_stat_all_tables AS t WHERE t.relid = c.oid
) AS s ON true
WHERE c.oid = $1::oid
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
