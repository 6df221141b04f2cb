"""What the server is doing: pg_stat_activity, locks, and server-wide figures."""
