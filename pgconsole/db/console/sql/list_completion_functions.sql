-- Functions and procedures the user can see, for completion (no parameters): one row per
-- name and schema (overloads folded), the arguments of one of them.
SELECT DISTINCT ON (n.nspname, p.proname)
       n.nspname AS schema, p.proname AS name, pg_get_function_identity_arguments(p.oid) AS args
FROM pg_proc AS p
JOIN pg_namespace AS n ON n.oid = p.pronamespace
WHERE n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
  AND p.prokind IN ('f', 'p', 'a', 'w')
ORDER BY n.nspname, p.proname, p.oid
LIMIT 20000
