-- wait_sample: what every active session but ours waits on now, for the wait sampler.
-- No parameters.
--
-- Active with no wait event is on CPU (or in a wait PostgreSQL does not instrument).
-- Walsenders are left out: streaming, they are active and wait for WAL to send, which is
-- no one's cost. query_id needs compute_query_id (on, or auto with pg_stat_statements).
SELECT pid,
       coalesce(wait_event_type, 'CPU') AS wait_type,
       coalesce(wait_event, 'CPU') AS wait_event,
       query_id,
       left(query, 200) AS query
FROM pg_stat_activity
WHERE state = 'active'
  AND pid <> pg_backend_pid()
  AND backend_type <> 'walsender'
