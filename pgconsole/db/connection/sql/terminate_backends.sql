-- terminate_backends: end our own leftover sessions after a failed graceful close.
-- $1 int[]: their pids; $2 timestamptz[]: their backend_start, so that a pid the server
-- has since given to another session is never touched.
SELECT count(*) FILTER (WHERE pg_terminate_backend(a.pid)) AS terminated
FROM pg_stat_activity AS a
JOIN unnest($1::int[], $2::timestamptz[]) AS ours(pid, backend_start)
  ON ours.pid = a.pid AND ours.backend_start = a.backend_start
WHERE a.pid <> pg_backend_pid()
