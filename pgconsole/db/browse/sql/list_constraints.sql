-- list_constraints: one relation's own constraints, and the foreign keys going out of it or
-- coming into it. $1 oid: the relation.
--
-- Foreign keys follow psql's \d for partitions: those declared on the relation or one of its
-- ancestors (conparentid = 0), never the per-partition clones PostgreSQL makes of them, which
-- would list one declared key many times.
WITH lineage AS (
    SELECT $1::oid AS relid
    UNION
    SELECT relid FROM pg_partition_ancestors($1::oid)
)
SELECT con.conname AS name,
       con.contype::text AS type,
       pg_get_constraintdef(con.oid) AS definition,
       con.convalidated AS validated,
       con.conrelid = $1::oid AS own,
       con.contype = 'f' AND con.conparentid = 0
           AND con.conrelid IN (SELECT relid FROM lineage) AS outgoing,
       con.contype = 'f' AND con.conparentid = 0
           AND con.confrelid IN (SELECT relid FROM lineage) AS incoming,
       con.conrelid AS source_oid,
       sn.nspname AS source_schema,
       sc.relname AS source_name,
       ARRAY(
           SELECT a.attname::text
           FROM unnest(con.conkey) WITH ORDINALITY AS k (attnum, ord)
           JOIN pg_attribute AS a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
           ORDER BY k.ord
       ) AS source_columns,
       con.confrelid AS target_oid,
       tn.nspname AS target_schema,
       tc.relname AS target_name,
       ARRAY(
           SELECT a.attname::text
           FROM unnest(con.confkey) WITH ORDINALITY AS k (attnum, ord)
           JOIN pg_attribute AS a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
           ORDER BY k.ord
       ) AS target_columns,
       con.confupdtype::text AS on_update,
       con.confdeltype::text AS on_delete
FROM pg_constraint AS con
JOIN pg_class AS sc ON sc.oid = con.conrelid
JOIN pg_namespace AS sn ON sn.oid = sc.relnamespace
LEFT JOIN pg_class AS tc ON tc.oid = con.confrelid
LEFT JOIN pg_namespace AS tn ON tn.oid = tc.relnamespace
WHERE con.conrelid = $1::oid
   OR (con.contype = 'f' AND con.conparentid = 0
       AND (con.conrelid IN (SELECT relid FROM lineage)
            OR con.confrelid IN (SELECT relid FROM lineage)))
ORDER BY con.conname, sn.nspname, sc.relname
