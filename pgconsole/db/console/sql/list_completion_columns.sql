-- Every column of every table, view and foreign table, with its type, for completion (no
-- parameters). Bounded: a catalog of millions of columns must not stall the console.
SELECT n.nspname AS schema, c.relname AS name, a.attname AS column_name,
       format_type(a.atttypid, a.atttypmod) AS type
FROM pg_attribute AS a
JOIN pg_class AS c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped
  AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
ORDER BY n.nspname, c.relname, a.attnum
LIMIT 200000
