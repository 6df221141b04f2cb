"""The one tuple of errors a worker catches as "the database said no, or went away".

Anything else is a bug: it reaches the app's error boundary, which shows one line and writes
the traceback to `errors.log` (see `pgconsole.failed_workers`).
"""

from __future__ import annotations

import asyncpg

DB_ERRORS: tuple[
    type[asyncpg.PostgresError],
    type[asyncpg.InterfaceError],
    type[asyncpg.InternalClientError],
    type[OSError],
] = (
    asyncpg.PostgresError,  # the server refused: SQLSTATE, DETAIL, HINT
    asyncpg.InterfaceError,  # the client's side: a closed pool or connection, a busy one
    # A statement sent on a connection the server has just terminated, before the client has
    # read the termination: the connection is gone, as with an OSError.
    asyncpg.InternalClientError,
    OSError,  # the network, TLS, and timeouts (TimeoutError is an OSError)
)
