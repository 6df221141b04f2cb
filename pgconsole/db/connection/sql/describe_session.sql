-- describe_session: who this session is, on which server, and how it is protected. No parameters.
SELECT current_setting('server_version') AS server_version,
       current_setting('server_version_num')::int AS server_version_num,
       current_user AS current_user,
       r.rolsuper AS is_superuser,
       coalesce(s.ssl, false) AS ssl,
       s.version AS ssl_version,
       s.cipher AS ssl_cipher,
       current_setting('default_transaction_read_only')::bool AS read_only,
       current_setting('statement_timeout') AS statement_timeout,
       current_setting('lock_timeout') AS lock_timeout,
       current_setting('idle_in_transaction_session_timeout') AS idle_in_transaction_session_timeout,
       current_setting('idle_session_timeout', true) AS idle_session_timeout
FROM pg_roles AS r
LEFT JOIN pg_stat_ssl AS s ON s.pid = pg_backend_pid()
WHERE r.rolname = current_user
