-- describe_role: the current role's powers that matter to a DBA console. No parameters.
SELECT r.rolsuper AS superuser,
       pg_has_role(current_user, 'pg_monitor', 'USAGE') AS pg_monitor,
       pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS pg_read_all_stats,
       pg_has_role(current_user, 'pg_signal_backend', 'USAGE') AS pg_signal_backend,
       inet_server_addr()::text AS server_addr,
       inet_server_port() AS server_port
FROM pg_roles AS r
WHERE r.rolname = current_user
