-- statements_texts: the normalised text, role and database of some pg_stat_statements
-- entries. $1: their queryids (bigint[]). The schema the extension lives in replaces
-- {schema}, quoted.
--
-- Reading the texts reads the extension's whole text file on the server: this runs only
-- for entries shown whose text pgconsole has not read yet.
SELECT s.userid,
       s.dbid,
       s.queryid,
       s.toplevel,
       s.query,
       r.rolname AS role,
       d.datname AS database
FROM {schema}.pg_stat_statements(true) s
LEFT JOIN pg_roles r ON r.oid = s.userid
LEFT JOIN pg_database d ON d.oid = s.dbid
WHERE s.queryid = ANY($1::bigint[])
