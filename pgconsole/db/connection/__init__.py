"""Reaching a server: connection parameters, libpq's files and TLS, passwords, the pool, and
what a failure to connect means to the user."""
