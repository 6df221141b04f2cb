-- statements_check: whether pg_stat_statements can be read here, read once per connection.
-- No parameters.
--
-- The extension must be preloaded (shared_preload_libraries, a restart) and created in the
-- current database (CREATE EXTENSION): its functions live in the schema it was created in,
-- which need not be on the search_path.
SELECT n.nspname AS schema,
       e.extversion AS version,
       current_setting('shared_preload_libraries') ~ '(^|[\s,])"?pg_stat_statements"?($|[\s,])'
           AS preloaded,
       current_setting('pg_stat_statements.max', true) AS max_entries,
       pg_is_in_recovery() AS standby
FROM (SELECT 1) one
LEFT JOIN pg_extension e ON e.extname = 'pg_stat_statements'
LEFT JOIN pg_namespace n ON n.oid = e.extnamespace
