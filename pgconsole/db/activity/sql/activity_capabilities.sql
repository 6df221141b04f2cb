-- activity_capabilities: what the current role may see and signal on the activity screen.
-- No parameters.
--
-- 'USAGE' rather than 'MEMBER': the server checks the privileges a role has (has_privs_of_role),
-- so a member through a NOINHERIT grant sees no more than anyone else until it SET ROLEs.
SELECT r.rolsuper AS superuser,
       pg_has_role(current_user, 'pg_monitor', 'USAGE') AS pg_monitor,
       pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS pg_read_all_stats,
       pg_has_role(current_user, 'pg_signal_backend', 'USAGE') AS pg_signal_backend
FROM pg_roles AS r
WHERE r.rolname = current_user
