-- describe_timeouts: the session's time limits as they stand (on a fresh session, before
-- pgconsole sets its own: the server's, database's and role's). No parameters.
SELECT current_setting('statement_timeout') AS statement_timeout,
       current_setting('lock_timeout') AS lock_timeout,
       current_setting('idle_in_transaction_session_timeout') AS idle_in_transaction_session_timeout,
       current_setting('idle_session_timeout', true) AS idle_session_timeout
