-- activity_sessions: every backend of pg_stat_activity with its ages in seconds, the pids that
-- block it, and the lock it waits for (mode and relation). No parameters.
--
-- Cheap enough to run every second on a busy server:
-- * pg_locks is read once (the MATERIALIZED CTE, kept to ungranted locks and tuple locks)
--   and joined by pid, never queried per session;
-- * pg_blocking_pids(), which briefly holds every lock-manager partition lock, is called only
--   for the sessions waiting on a heavyweight lock (wait_event_type = 'Lock'), which is the
--   only case where it can return anything;
-- * relation names come from pg_class for the few relations waited on, without taking any
--   lock on those relations.
-- A role without pg_read_all_stats sees other roles' sessions with most columns NULL (and
-- backend_type NULL): their query text '<insufficient privilege>' is returned as NULL.
WITH locks AS MATERIALIZED (
    SELECT l.pid, l.mode, l.granted, l.database, l.relation
    FROM pg_locks AS l
    WHERE NOT l.granted OR l.locktype = 'tuple'
),
waiting AS (
    -- A backend waits for one lock at a time. Waiting for a row (a transactionid lock) names no
    -- relation, but the waiter then holds the tuple lock of that row: its relation is used.
    SELECT DISTINCT ON (w.pid)
           w.pid,
           w.mode,
           coalesce(w.database, t.database) AS database,
           coalesce(w.relation, t.relation) AS relation
    FROM locks AS w
    LEFT JOIN locks AS t ON t.pid = w.pid AND t.granted
    WHERE NOT w.granted
    ORDER BY w.pid, w.relation IS NULL
)
SELECT a.pid,
       a.usename AS user,
       a.datname AS database,
       a.application_name AS application,
       CASE
           WHEN a.client_addr IS NOT NULL THEN host(a.client_addr)
           WHEN a.client_port = -1 THEN 'local'
       END AS client,
       a.backend_type,
       a.state,
       a.wait_event_type,
       a.wait_event,
       extract(epoch FROM now() - a.xact_start)::float8 AS xact_age,
       extract(epoch FROM now() - a.query_start)::float8 AS query_age,
       extract(epoch FROM now() - a.state_change)::float8 AS state_age,
       CASE WHEN a.backend_type IS NOT NULL THEN a.query END AS query,
       CASE WHEN a.wait_event_type = 'Lock' THEN pg_blocking_pids(a.pid) END AS blocked_by,
       w.mode AS lock_mode,
       CASE
           WHEN w.relation IS NULL THEN NULL
           WHEN c.oid IS NOT NULL THEN format('%I.%I', n.nspname, c.relname)
           WHEN here.oid IS NULL THEN format('relation %s in database %s', w.relation,
                                              coalesce(d.datname, w.database::text))
           ELSE w.relation::text
       END AS lock_relation,
       CASE WHEN c.oid IS NOT NULL THEN c.oid::int8 END AS lock_relation_oid,
       a.pid = pg_backend_pid() AS is_self
FROM pg_stat_activity AS a
LEFT JOIN waiting AS w ON w.pid = a.pid
-- A relation lock names the database it is in (0 for shared catalogs): only those of this
-- database, or shared, can be looked up in this database's pg_class.
LEFT JOIN pg_database AS here
       ON here.datname = current_database() AND w.database IN (here.oid, 0)
LEFT JOIN pg_database AS d ON d.oid = w.database
LEFT JOIN pg_class AS c ON c.oid = w.relation AND here.oid IS NOT NULL
LEFT JOIN pg_namespace AS n ON n.oid = c.relnamespace
ORDER BY a.pid
