-- list_relations: every table, partitioned table, view, materialized view and foreign table,
-- with row estimate, total size, partition parent, SELECT privilege and comment, in one pass.
-- $1 boolean: also list relations in the system schemas (see list_schemas.sql).
--
-- Each relation with storage is measured once (the MATERIALIZED CTE); a partitioned table's
-- size is the sum over the leaves below it, found by walking pg_inherits down from it and
-- joined from that CTE rather than measured again. A walk rather than one pg_partition_tree()
-- call per partitioned table: the planner guesses 1000 rows for every such call, and the
-- inflated cost switched JIT compilation on, which tripled the first run.
--
-- pg_total_relation_size opens the relation, so it waits behind an ACCESS EXCLUSIVE lock held
-- or queued (ALTER TABLE, VACUUM FULL, TRUNCATE, LOCK TABLE) and the whole tree would fail on
-- lock_timeout. Such relations are read from pg_locks first and listed without a size; a lock
-- taken after that read is still bounded by lock_timeout.
WITH RECURSIVE locked AS MATERIALIZED (
    SELECT DISTINCT l.relation
    FROM pg_locks AS l
    WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock'
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
),
rel AS MATERIALIZED (
    SELECT c.oid, n.nspname, c.relname, c.relkind, c.relowner, c.reltuples, c.relispartition,
           CASE WHEN c.relkind IN ('r', 'm') AND c.oid NOT IN (SELECT relation FROM locked)
                THEN pg_total_relation_size(c.oid) END AS own_bytes
    FROM pg_class AS c
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND ($1::boolean
           OR NOT (n.nspname IN ('pg_catalog', 'information_schema', 'pg_toast')
                   OR n.nspname ~ '^pg_(toast_)?temp_[0-9]+$'))
),
-- (partitioned table, one of its partitions at any depth): the children of a partitioned
-- table are always partitions, never plain inheritance children.
below (root, relid) AS (
    SELECT i.inhparent, i.inhrelid
    FROM pg_inherits AS i
    JOIN rel AS parent ON parent.oid = i.inhparent AND parent.relkind = 'p'
    UNION ALL
    SELECT below.root, i.inhrelid
    FROM below
    JOIN pg_inherits AS i ON i.inhparent = below.relid
),
partition_bytes AS (
    SELECT below.root, sum(leaf.own_bytes)::bigint AS bytes
    FROM below
    JOIN rel AS leaf ON leaf.oid = below.relid
    GROUP BY below.root
)
SELECT rel.oid,
       rel.nspname AS schema,
       rel.relname AS name,
       rel.relkind::text AS kind,
       pg_get_userbyid(rel.relowner) AS owner,
       -- PostgreSQL 14+ stores -1 until the first VACUUM or ANALYZE: unknown, not empty.
       CASE WHEN rel.relkind <> 'v' AND rel.reltuples >= 0 THEN rel.reltuples::bigint END
           AS estimated_rows,
       CASE WHEN rel.relkind = 'p' THEN coalesce(pb.bytes, 0) ELSE rel.own_bytes END
           AS total_bytes,
       inh.inhparent AS parent_oid,
       has_table_privilege(rel.oid, 'SELECT') AS can_select,
       d.description AS comment
FROM rel
LEFT JOIN partition_bytes AS pb ON pb.root = rel.oid
LEFT JOIN pg_inherits AS inh ON rel.relispartition AND inh.inhrelid = rel.oid
LEFT JOIN pg_description AS d
  ON d.objoid = rel.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
ORDER BY rel.nspname, rel.relname
