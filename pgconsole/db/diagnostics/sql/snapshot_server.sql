-- snapshot_server: who and where the incident snapshot is taken, in one row. No parameters.
--
-- address and port are the server's side of this connection (NULL over a Unix socket);
-- taken_at is the server's clock, for comparing with its logs.
SELECT host(inet_server_addr()) AS address,
       inet_server_port() AS port,
       current_database() AS database,
       current_user AS "user",
       current_setting('server_version') AS version,
       current_setting('server_version_num')::int AS version_num,
       pg_is_in_recovery() AS in_recovery,
       statement_timestamp() AS server_time
