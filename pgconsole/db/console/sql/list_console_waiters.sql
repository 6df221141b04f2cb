-- Sessions waiting on a lock that backend $1 (the console's session) holds or queues ahead of.
-- pg_blocking_pids() reads the lock manager: run once a second at most, and only while the
-- console has a transaction open.
SELECT a.pid,
       coalesce(a.usename, '') AS usename,
       coalesce(a.application_name, '') AS application_name,
       extract(epoch FROM now() - coalesce(a.state_change, a.query_start))::float8 AS waiting_seconds,
       left(coalesce(a.query, ''), 200) AS query
FROM pg_stat_activity AS a
WHERE $1::int = ANY (pg_blocking_pids(a.pid))
ORDER BY waiting_seconds DESC, a.pid
LIMIT 20
