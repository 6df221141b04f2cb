-- list_schemas: every schema (empty ones too) with owner, USAGE privilege and comment.
-- $1 boolean: also list the system schemas (pg_catalog, information_schema, pg_toast, pg_temp_N,
-- pg_toast_temp_N).
SELECT n.oid,
       n.nspname AS name,
       pg_get_userbyid(n.nspowner) AS owner,
       s.is_system,
       has_schema_privilege(n.oid, 'USAGE') AS can_use,
       d.description AS comment
FROM pg_namespace AS n
CROSS JOIN LATERAL (
    SELECT n.nspname IN ('pg_catalog', 'information_schema', 'pg_toast')
           OR n.nspname ~ '^pg_(toast_)?temp_[0-9]+$' AS is_system
) AS s
LEFT JOIN pg_description AS d
  ON d.objoid = n.oid AND d.classoid = 'pg_namespace'::regclass AND d.objsubid = 0
WHERE $1::boolean OR NOT s.is_system
ORDER BY n.nspname
