"""The SQL console's session: statements typed by the user, run one at a time on a connection of
its own, with results that stream and transactions that stay visible.

- **One connection, the user's session.** The console runs on `Database.dedicated()`, outside
  the pool: what the user sets (`SET search_path`, temporary tables, an open `BEGIN`) stays
  for the next statement, as in psql, and a long statement never starves the browser's pool.
- **Queries stream.** A statement that returns rows and can be a subquery (`Kind.QUERY`) runs
  as `DECLARE … SCROLL CURSOR` over `SELECT left(col::text, VALUE_LIMIT + 1), … FROM (<it>)`:
  pages are fetched on demand, cells cut server-side, so a result of any size costs the same
  memory as a page. Outside a transaction of the user's, the cursor lives in a short
  transaction of ours that ends after `idle_seconds` without a page request, or as soon as
  another statement needs the connection; the next page request opens it again at the same
  position in a READ ONLY transaction (the statement runs again: a writing function fails
  rather than writing twice). Inside the user's transaction, the cursor lives in it.
- **Everything else** runs through the extended protocol (one statement per message: a second
  statement smuggled after a `;` is refused by the server) and reports its command tag.
  Other statements returning rows (`… RETURNING`, `SHOW`, `EXPLAIN`, `FETCH`) are read
  through a portal, at most `MAX_OTHER_ROWS` of them.
- **Read-only mode** is enforced three times: `read_only_refusal` turns away escapes before
  anything runs, every statement outside the user's transaction runs inside `BEGIN READ
  ONLY`, and a transaction the user begins is made `READ ONLY` straight away (the session's
  `default_transaction_read_only` is on too).
- **Cancel** sends the protocol's cancel request with the console connection's own key (the
  backend pid and secret the server gave it at connect): the statement fails with "canceling
  statement due to user request" and the connection stays usable. Behind pgbouncer the key is
  pgbouncer's, which forwards the request to the server connection running the statement; a
  pid the client was told (`pg_cancel_backend`) would name a backend that does not exist, or
  someone else's.
- **Timeouts.** The server's `statement_timeout` applies to every statement. Behind a
  transaction pooler a statement may run on any server connection, none of which carries the
  session settings: every transaction of the console's (and every transaction the user
  begins) sets them again with `SET LOCAL`, and a statement outside the user's transaction
  runs in a transaction of ours for that reason; only one that may not run in a transaction
  block (VACUUM, CREATE DATABASE, CALL …) runs alone, under the server's own limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import asyncpg
from asyncpg.prepared_stmt import PreparedStatement

from pgconsole.db.browse.pages import Column, Page, Row
from pgconsole.db.connection.pool import Database
from pgconsole.db.console.explain import Plan, explain
from pgconsole.db.quoting import quote_ident
from pgconsole.db.sqlfiles import load_sql
from pgconsole.db.sqltext import Kind, Statement, console_refusal, kind, read_only_refusal
from pgconsole.db.type_names import display_type

VALUE_LIMIT = 2000
"""Characters of each value a console result keeps. The browser keeps 200 and fetches a whole
value by the row's key on Enter; a query's rows have no key to be found again by, so each
value comes with enough of itself for Enter to show a JSON document or a long text whole in
the usual case (the grid still draws a column's width). Memory stays bounded: at most the
grid's window of rows times this per column."""
MAX_OTHER_ROWS = 1000
"""Rows kept from a statement that returns rows but cannot stream (`… RETURNING`, `SHOW`)."""
NO_CLIENT_TIMEOUT = 100 * 365 * 24 * 3600.0
"""asyncpg reads a timeout of None as the connection's command_timeout, a safety net that
would cut a long maintenance statement short. The server's statement_timeout governs the
console, and the user can cancel."""
NUMERIC_TYPES = frozenset({"int2", "int4", "int8", "float4", "float8", "numeric", "money", "oid"})
"""Types whose cells are right-aligned."""
COUNTED_TAGS = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE", "SELECT", "COPY", "MOVE", "FETCH"})
"""Command tags that end with a row count."""
WRITING_KEYWORDS = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE", "WITH"})
"""Statements whose returned rows (RETURNING) are read through `returning_query`."""
SETTINGS_KEYWORDS = frozenset({"SET", "RESET", "DISCARD"})
"""Statements after which the shown statement_timeout is read again."""
EXPORT_SAVEPOINT = "pgconsole_export"
"""The savepoint an export runs under inside the user's transaction."""


_CLEANUP_ERRORS = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # "another operation is in progress"
    OSError,
)
"""What ending a transaction of ours may raise when the connection is already gone: ignored,
the transaction is over either way."""


class ConsoleRefused(Exception):
    """A statement was not run: read-only mode, or the console is busy or closed."""


class SessionLost(ConsoleRefused):
    """The connection was lost with the user's transaction open: the statement was not run
    (on a new session it would run outside the transaction the user believes open)."""


@dataclass(frozen=True)
class Waiter:
    """A session waiting on a lock the console's transaction holds."""

    pid: int
    user: str
    application: str
    waiting_seconds: float
    query: str


@dataclass(frozen=True)
class Result:
    """What one statement did."""

    statement: Statement
    tag: str
    """The command tag as the server sent it (`UPDATE 3`, `CREATE TABLE`), or for a streamed
    query `SELECT`."""
    elapsed_ms: float
    """From sending the statement to its first page (queries) or its end (the rest)."""
    rows_affected: int | None = None
    """The count in the tag (`INSERT 0 5` → 5), when the tag has one."""
    columns: tuple[Column, ...] = ()
    page: Page | None = None
    """The first page of a query, or the rows another statement returned."""
    pager: ResultPager | None = None
    """Further pages of a query."""
    truncated: bool = False
    """More rows than `MAX_OTHER_ROWS` came back; only those were kept."""
    notices: tuple[str, ...] = ()
    """What the server said along the way (RAISE NOTICE, warnings), as psql prints it."""


def rows_in_tag(tag: str) -> int | None:
    """The row count at the end of a command tag, when the command reports one."""
    words = tag.split()
    if len(words) >= 2 and words[0] in COUNTED_TAGS and words[-1].isdigit():
        return int(words[-1])
    return None


def result_columns(prepared: PreparedStatement) -> tuple[Column, ...]:
    """The grid's columns for a prepared statement's result.

    A console column's type is only shown (never cast to), so it is the short display form.
    """
    return tuple(
        Column(
            a.name,
            display_type(a.type.name),
            numeric=a.type.name in NUMERIC_TYPES,
        )
        for a in prepared.get_attributes()
    )


def wrapped_query(statement: str, width: int) -> str:
    """The user's query as a subquery whose `width` columns come back as cut text.

    The columns are renamed positionally (`AS q(_c0, _c1, …)`): a result may hold two columns
    of the same name, or none at all (`?column?`). The line breaks keep a trailing `--`
    comment in the statement from swallowing the closing parenthesis.
    """
    names = [f"_c{i}" for i in range(width)]
    cells = ", ".join(f"left(q.{quote_ident(n)}::text, {VALUE_LIMIT + 1})" for n in names)
    aliases = ", ".join(quote_ident(n) for n in names)
    return f"SELECT {cells} FROM (\n{statement}\n) AS q({aliases})"


def returning_query(statement: str, width: int) -> str:
    """A writing statement's RETURNING rows as cut text, each with the total count of rows.

    A data-modifying WITH runs to completion whatever the outer query reads, so the count is
    the statement's row count even when only the first rows are fetched.
    """
    names = [f"_c{i}" for i in range(width)]
    cells = ", ".join(f"left(q.{quote_ident(n)}::text, {VALUE_LIMIT + 1})" for n in names)
    aliases = ", ".join(quote_ident(n) for n in names)
    return f"WITH q({aliases}) AS (\n{statement}\n) SELECT {cells}, count(*) OVER () FROM q"


DECLARED_KEPT = 16
"""Cursors whose statements `ConsoleConnection.cursor_statement` remembers (the latest ones)."""


@dataclass
class ConsoleConnection:
    """The console's connection, its transaction state and its open results."""

    database: Database
    read_only: bool
    page_size: int = 100
    idle_seconds: float = 5.0
    conn: asyncpg.Connection | None = None
    pid: int | None = None
    """The console's backend, for the lock waiters. None behind a pooler: the pid the client
    was told is the pooler's invention, and the statements run on whichever server
    connection is free."""
    statement_timeout: str = ""
    """The session's statement_timeout as the server shows it (`30s`, `0`)."""
    tx_started_at: float | None = None
    """When the user's transaction began (`time.monotonic()`), None outside one."""
    tx_last_used: float = 0.0
    tx_statements: int = 0
    """Statements run inside the user's transaction."""
    aborted: bool = False
    """The user's transaction failed: only ROLLBACK (or ROLLBACK TO a savepoint) helps."""
    generation: int = 0
    """Bumped whenever a transaction of the user's ends: cursors declared in it are gone."""
    running: bool = False
    """A statement is on the server right now (cancel applies)."""
    cancel_asked: bool = False
    """The user asked to cancel the running statement. A statement is several protocol steps
    (prepare, DECLARE, FETCH); a cancel signal that reaches the backend between two of them
    finds it idle and is lost, so each step checks this first (`_checkpoint`)."""
    notices: list[str] = field(default_factory=list)
    """What the server said while the last statement ran (also when it failed)."""
    _owner: ResultPager | None = None
    """The result whose cursor holds a transaction of ours."""
    _stopped: BaseException | None = None
    """The error `_checkpoint` raised last."""
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _cursors: int = 0
    _declared: dict[str, str] = field(default_factory=dict)
    """The user's statement behind each of the latest cursors, by cursor name."""
    _set_local: str = ""
    """Behind a pooler: the `SET LOCAL` statements that give a transaction the session
    settings (empty directly on a server: the connection came with them)."""

    # -- connection ----------------------------------------------------------------------------

    async def open(self) -> None:
        """Connect (once) and read the backend pid and the statement timeout."""
        if self.conn is not None and not self.conn.is_closed():
            return
        if self.database.pooler:
            # The settings a pool transaction gets, however the pool chose them.
            async with self.database.transaction(readonly=True) as pooled:
                rows = await pooled.fetch(load_sql(__name__, "list_local_settings.sql"))
            self._set_local = set_local_statements({r["name"]: r["value"] for r in rows})
        self.conn = await self.database.dedicated()
        self.conn.add_log_listener(self._heard)
        self.pid = None if self.database.pooler else self.conn.get_server_pid()
        await self._read_settings()

    def cursor_statement(self, name: str) -> str | None:
        """The user's statement a cursor of this session (`pgconsole_q3`) was declared for, for
        the activity screen, where the backend shows only `FETCH … FROM pgconsole_q3`."""
        return self._declared.get(name)

    @property
    def in_transaction(self) -> bool:
        """Whether the user has a transaction open (ours for a cursor do not count)."""
        return self.tx_started_at is not None

    async def close(self) -> None:
        """Close the connection; an open transaction of the user's is rolled back by the server."""
        conn, self.conn = self.conn, None
        self._owner = None
        if conn is not None and not conn.is_closed():
            try:
                await asyncio.wait_for(conn.close(), 5)
            except (TimeoutError, OSError, asyncpg.PostgresError):
                conn.terminate()

    # -- statements ----------------------------------------------------------------------------

    def refusal(self, statements: Sequence[Statement]) -> str | None:
        """Why `statements` may not run in this session (read-only mode, COPY with the
        client), or None."""
        why = console_refusal(statements)
        if why is None and self.read_only:
            why = read_only_refusal(statements)
        return why

    def _heard(self, _conn: object, message: asyncpg.PostgresLogMessage) -> None:
        severity = getattr(message, "severity", None) or "NOTICE"
        text = getattr(message, "message", None) or str(message)
        self.notices.append(f"{severity}: {text}")

    async def run(self, statement: Statement) -> Result:
        """Run one statement.

        Raises:
            ConsoleRefused: Read-only mode refuses it.
            asyncpg.PostgresError: The server refused it or it failed (cancelled, timed out).
            OSError, asyncpg.InterfaceError: The connection was lost.
        """
        async with self._turn(statement) as (conn, was_in):
            started = time.perf_counter()
            self.notices = []
            try:
                result = await self._run(conn, statement, started)
                await asyncio.sleep(0)  # log listeners are called soon after each message
                result = replace(result, notices=tuple(self.notices))
            except BaseException as error:
                # Stopped by `_checkpoint` between two steps, nothing failed on the server:
                # the user's transaction is not aborted.
                stopped_here = error is self._stopped
                self._after(conn, statement, was_in, failed=not stopped_here)
                raise
            self._after(conn, statement, was_in, failed=False)
            if statement.keyword in SETTINGS_KEYWORDS:
                with contextlib.suppress(asyncpg.PostgresError):
                    await self._read_settings()
            return result

    async def explain(self, statement: Statement, *, analyze: bool) -> Plan:
        """The plan of `statement` (see `pgconsole.db.console.explain.explain`): with `analyze`
        it runs, inside a transaction or savepoint that is rolled back.

        Raises:
            ConsoleRefused, asyncpg.PostgresError: As `run`.
        """
        async with self._turn(statement) as (conn, was_in):
            if was_in or not (self.read_only or self._set_local):
                return await explain(conn, statement.text, analyze=analyze, in_transaction=was_in)
            # Read-only mode whatever the session settings say (a pooler drops them), and the
            # session's timeouts behind a pooler.
            transaction = conn.transaction(readonly=self.read_only)
            await transaction.start()
            try:
                await self._limit(conn)
                return await explain(conn, statement.text, analyze=analyze, in_transaction=True)
            finally:
                with contextlib.suppress(*_CLEANUP_ERRORS):
                    await transaction.rollback()

    @contextlib.asynccontextmanager
    async def _turn(
        self, statement: Statement | None
    ) -> AsyncIterator[tuple[asyncpg.Connection, bool]]:
        """The connection for one statement of the user's (or, with None, work of ours on the
        user's session), and whether the user's transaction was open before it: refused first
        if it may not run, then the session's lock held, a cursor of ours ended, and `running`
        set meanwhile (cancel applies)."""
        why = None if statement is None else self.refusal([statement])
        if why is not None:
            raise ConsoleRefused(why)
        async with self._lock:
            conn = await self._connection()
            await self._release_owner()
            self.cancel_asked = False
            self.running = True
            try:
                yield conn, conn.is_in_transaction()
            finally:
                self.running = False

    @contextlib.asynccontextmanager
    async def transaction(self, *, readonly: bool = False) -> AsyncIterator[asyncpg.Connection]:
        """The console's connection for work the user did not type (an export of a result),
        as `Database.transaction` gives a pool connection: it sees what the user's statements see
        (search_path, temporary tables, the open transaction's own changes) and keeps nothing.

        Inside the user's transaction it runs under a savepoint that is rolled back afterwards,
        `SET LOCAL` included; outside, in a transaction of its own that is rolled back. Either
        way READ ONLY when `readonly` or in read-only mode.

        Raises:
            asyncpg.PostgresError: The user's transaction is aborted (no savepoint can start).
        """
        readonly = readonly or self.read_only
        async with self._turn(None) as (conn, in_users):
            if in_users:
                # The user's BEGIN was sent as SQL: asyncpg's transaction() refuses to nest.
                await conn.execute(f"SAVEPOINT {EXPORT_SAVEPOINT}")
            else:
                await conn.execute("BEGIN READ ONLY" if readonly else "BEGIN")
            try:
                if not in_users:
                    await self._limit(conn)
                if readonly and in_users:
                    # Allowed inside a savepoint, and undone with it.
                    await conn.execute("SET LOCAL transaction_read_only = on")
                yield conn
            finally:
                # The export is over: a late Esc must not cancel the rollback below.
                self.running = False
                ends = (
                    [
                        f"ROLLBACK TO SAVEPOINT {EXPORT_SAVEPOINT}",
                        f"RELEASE SAVEPOINT {EXPORT_SAVEPOINT}",
                    ]
                    if in_users
                    else ["ROLLBACK"]
                )
                try:
                    for sql in ends:
                        await conn.execute(sql)
                except _CLEANUP_ERRORS:
                    # The connection is gone, or stuck after a COPY cut short on the client
                    # (`cancel` stops one on the server and leaves the connection usable):
                    # close it, so the next statement starts on a new one.
                    conn.terminate()

    async def cancel(self) -> bool:
        """Ask the server to cancel the running statement; True if a statement was signalled.

        The protocol's cancel request, with the key of the console's own connection (see the
        module's docstring), never a signal to a pid.
        """
        conn = self.conn
        if not self.running or conn is None or conn.is_closed():
            return False
        self.cancel_asked = True
        await send_cancel_request(conn)
        return True

    async def rollback(self) -> None:
        """Roll back the user's transaction (before the server's idle limit would end it)."""
        async with self._lock:
            # A transaction lost with its connection is rolled back already.
            conn = await self._connection(lost_transaction_fails=False)
            was_in = conn.is_in_transaction()
            await conn.execute("ROLLBACK")
            self._after(conn, Statement("ROLLBACK", 0, 8), was_in, failed=False)

    async def close_if_idle(self) -> bool:
        """End our cursor's transaction once `idle_seconds` passed without a page; True if so."""
        owner = self._owner
        if owner is None or self._lock.locked():
            return False
        if time.monotonic() - owner.last_used < self.idle_seconds:
            return False
        async with self._lock:
            await self._release_owner()
        return True

    @property
    def idle_deadline(self) -> float | None:
        """When our cursor's transaction is due to end (`time.monotonic()`), None if none."""
        owner = self._owner
        return None if owner is None else owner.last_used + self.idle_seconds

    @property
    def holds_transaction(self) -> bool:
        """Whether a transaction of ours (a cursor's) is open right now."""
        return self._owner is not None

    async def waiters(self) -> list[Waiter]:
        """Sessions waiting on the console's locks (asked through the pool)."""
        if self.pid is None:
            return []
        async with self.database.transaction(readonly=True) as conn:
            records = await conn.fetch(load_sql(__name__, "list_console_waiters.sql"), self.pid)
        return [Waiter(*r) for r in records]

    # -- inside the lock -----------------------------------------------------------------------

    async def _connection(self, *, lost_transaction_fails: bool = True) -> asyncpg.Connection:
        """The session's connection, opened again if it was lost.

        Raises:
            SessionLost: It was lost with the user's transaction open (and
                `lost_transaction_fails`): the server rolled that back, and the statement
                about to run is not run on the new session, where it would run outside it.
        """
        if self.conn is None or self.conn.is_closed():
            lost = self.conn is not None
            in_transaction = lost and self.tx_started_at is not None
            statements = self.tx_statements
            self.tx_started_at = None
            self.aborted = False
            self._owner = None
            if lost:
                self.generation += 1
            await self.open()
            if in_transaction and lost_transaction_fails:
                raise SessionLost(
                    f"The connection was lost with your transaction open ({statements} "
                    "statements): the server rolled it back. Nothing was run; the console "
                    "is on a new session, run it again to start over."
                )
        assert self.conn is not None
        return self.conn

    async def _read_settings(self) -> None:
        """The statement_timeout the next statement runs under (behind a pooler, the one a
        transaction of the console's sets)."""
        conn = self.conn
        assert conn is not None
        sql = "SELECT current_setting('statement_timeout')"
        if not self._set_local or conn.is_in_transaction():
            self.statement_timeout = await conn.fetchval(sql)
            return
        async with conn.transaction(readonly=True):
            await self._limit(conn)
            self.statement_timeout = await conn.fetchval(sql)

    async def _limit(self, conn: asyncpg.Connection) -> None:
        """Behind a pooler: the session settings, in the transaction that has just begun.

        SET statements rather than `set_config()`: a SELECT would take the transaction's
        snapshot, and the user's `SET TRANSACTION ISOLATION LEVEL` after BEGIN would fail.
        """
        if self._set_local:
            await conn.execute(self._set_local)

    def _after(
        self, conn: asyncpg.Connection, statement: Statement, was_in: bool, *, failed: bool
    ) -> None:
        """Follow the user's transaction: begun, used, failed, ended."""
        now = time.monotonic()
        # A transaction of ours (a cursor's) is not the user's.
        now_in = not conn.is_closed() and conn.is_in_transaction() and self._owner is None
        if now_in and not was_in:
            self.tx_started_at, self.tx_statements, self.aborted = now, 0, False
        if now_in:
            self.tx_statements += 1
            self.tx_last_used = now
            if failed:
                self.aborted = True
            elif statement.keyword == "ROLLBACK":  # ROLLBACK TO SAVEPOINT recovers
                self.aborted = False
        elif was_in or self.tx_started_at is not None:
            self.tx_started_at, self.aborted = None, False
            self.generation += 1

    async def _run(self, conn: asyncpg.Connection, statement: Statement, started: float) -> Result:
        what = kind(statement)
        if what is Kind.BEGIN:
            tag = await self._plain(conn, statement.text)
            if self.read_only:
                await conn.execute("SET TRANSACTION READ ONLY")
            await self._limit(conn)
            return Result(statement, tag, _ms(started))
        if what is Kind.QUERY:
            return await self._query(conn, statement, started)
        if what is Kind.END or conn.is_in_transaction():
            return await self._other(conn, statement, started)
        if self.read_only:
            async with conn.transaction(readonly=True):
                await self._limit(conn)
                return await self._other(conn, statement, started)
        if not self._set_local or statement.keyword == "CALL":
            # CALL stays outside a transaction block of ours: the procedure may COMMIT.
            return await self._other(conn, statement, started)
        try:
            # Behind a pooler: in a transaction of ours, so that the timeouts hold.
            async with conn.transaction():
                await self._limit(conn)
                return await self._other(conn, statement, started)
        except asyncpg.ActiveSQLTransactionError:
            # VACUUM, CREATE DATABASE, … refuse a transaction block before doing anything: run
            # alone, under the server's limits (no SET LOCAL without a transaction).
            self._checkpoint()
            return await self._other(conn, statement, started)

    def _checkpoint(self) -> None:
        """Between two steps of a statement: stop if the user asked to cancel.

        Raises:
            asyncpg.QueryCanceledError: As the server says it for a cancelled statement.
        """
        if self.cancel_asked:
            self._stopped = asyncpg.QueryCanceledError("canceling statement due to user request")
            raise self._stopped

    async def _plain(self, conn: asyncpg.Connection, sql: str) -> str:
        prepared = await conn.prepare(sql, timeout=NO_CLIENT_TIMEOUT)
        self._checkpoint()
        await prepared.fetch(timeout=NO_CLIENT_TIMEOUT)
        return prepared.get_statusmsg() or ""

    async def _other(
        self, conn: asyncpg.Connection, statement: Statement, started: float
    ) -> Result:
        prepared = await conn.prepare(statement.text, timeout=NO_CLIENT_TIMEOUT)
        self._checkpoint()
        columns = result_columns(prepared)
        if not columns or statement.keyword == "CALL":
            # No rows, or a procedure's single row of OUT parameters (CALL must stay outside a
            # transaction block of ours: the procedure may COMMIT).
            fetched = await prepared.fetch(timeout=NO_CLIENT_TIMEOUT)
            tag = prepared.get_statusmsg() or ""
            page = _text_page(fetched) if columns else None
            return Result(statement, tag, _ms(started), rows_in_tag(tag), columns, page)
        counted = statement.keyword in WRITING_KEYWORDS
        if counted:
            # Cells as text (what the grid shows for a query), and the count of all rows even
            # when only the first MAX_OTHER_ROWS are read.
            prepared = await conn.prepare(
                returning_query(statement.text, len(columns)), timeout=NO_CLIENT_TIMEOUT
            )
            self._checkpoint()
        records: list[Any]
        if conn.is_in_transaction():
            records = await self._portal(prepared)
        else:
            async with conn.transaction():
                records = await self._portal(prepared)
        truncated = len(records) > MAX_OTHER_ROWS
        if counted:
            count: int | None = records[0][-1] if records else 0
            records = [tuple(r)[:-1] for r in records]
        else:
            count = None if truncated else len(records)
        verb = "INSERT 0" if statement.keyword == "INSERT" else statement.keyword
        tag = verb + ("" if count is None else f" {count}")
        page = _text_page(records[:MAX_OTHER_ROWS])
        return Result(statement, tag, _ms(started), count, columns, page, truncated=truncated)

    async def _portal(self, prepared: PreparedStatement) -> list[Any]:
        cursor = await prepared.cursor(timeout=NO_CLIENT_TIMEOUT)
        self._checkpoint()
        records: list[Any] = await cursor.fetch(MAX_OTHER_ROWS + 1)
        return records

    async def _query(
        self, conn: asyncpg.Connection, statement: Statement, started: float
    ) -> Result:
        if not conn.is_in_transaction():
            # Prepared inside the transaction the cursor will use, so that read-only mode
            # applies to planning a function call as well.
            transaction = conn.transaction(readonly=self.read_only)
            await transaction.start()
        else:
            transaction = None
        try:
            if transaction is not None:
                await self._limit(conn)
            prepared = await conn.prepare(statement.text, timeout=NO_CLIENT_TIMEOUT)
            self._checkpoint()
            columns = result_columns(prepared)
            self._cursors += 1
            pager = ResultPager(self, statement, columns, f"pgconsole_q{self._cursors}")
            self._declared[pager.name] = statement.text
            for old in list(self._declared)[:-DECLARED_KEPT]:
                del self._declared[old]
            await pager.declare(conn, reopening=False)
            self._checkpoint()
        except BaseException:
            if transaction is not None:
                with contextlib.suppress(*_CLEANUP_ERRORS):
                    await transaction.rollback()
            raise
        try:
            page = await pager.fetch(conn, 0)
        except BaseException:
            if transaction is not None:
                pager.open = False
                with contextlib.suppress(*_CLEANUP_ERRORS):
                    await transaction.rollback()
            raise
        if transaction is not None:
            pager.transaction = transaction
            self._owner = pager
            if not page.more_after:
                # The whole result is in the first page: nothing to hold a snapshot for (a
                # page asked for again declares the cursor again).
                await self._release_owner()
        return Result(statement, "SELECT", _ms(started), None, columns, page, pager)

    async def _release_owner(self) -> None:
        """End the transaction a cursor of ours holds: the connection is wanted."""
        owner, self._owner = self._owner, None
        if owner is None:
            return
        transaction, owner.transaction = owner.transaction, None
        owner.open = False
        if transaction is not None:
            # Commit: a first run keeps what a function in the query did, as it would in psql.
            with contextlib.suppress(*_CLEANUP_ERRORS):
                await transaction.commit()

    async def _claim(self, pager: ResultPager) -> asyncpg.Connection:
        """The connection with `pager`'s cursor open on it, declared again if it was closed."""
        conn = await self._connection()
        if pager.open and (pager.transaction is not None or pager.generation == self.generation):
            return conn
        if self._owner is not pager:
            await self._release_owner()
        if conn.is_in_transaction():
            await pager.declare(conn, reopening=True)
        else:
            transaction = conn.transaction(readonly=True)
            await transaction.start()
            try:
                await self._limit(conn)
                await pager.declare(conn, reopening=True)
            except BaseException:
                with contextlib.suppress(*_CLEANUP_ERRORS):
                    await transaction.rollback()
                raise
            pager.transaction = transaction
            self._owner = pager
        return conn


@dataclass(eq=False)
class ResultPager:
    """Pages of one query's result, through a SCROLL cursor on the console's connection.

    Speaks the browse `Pager`'s language (`pgconsole.db.browse.pages.Pages`: `first`, `after`,
    `before`, `last`, the idle deadline), so the grid pages a console result exactly as it
    pages a relation.
    """

    session: ConsoleConnection
    statement: Statement
    columns: tuple[Column, ...]
    name: str
    open: bool = False
    transaction: Any = None
    """Our transaction holding the cursor, None when the cursor lives in the user's."""
    generation: int = 0
    position: int = 0
    """Rows before the cursor's next row."""
    total: int | None = None
    """The number of rows, once known (the end was reached)."""
    last_used: float = field(default_factory=time.monotonic)

    @property
    def page_size(self) -> int:
        """Rows per page."""
        return self.session.page_size

    async def declare(self, conn: asyncpg.Connection, *, reopening: bool) -> None:
        """DECLARE the cursor in the connection's current transaction."""
        select = wrapped_query(self.statement.text, len(self.columns))
        # fetch() uses the extended protocol: one statement, whatever the text holds.
        await conn.fetch(
            f"DECLARE {self.name} SCROLL CURSOR FOR {select}", timeout=NO_CLIENT_TIMEOUT
        )
        self.open = True
        self.generation = self.session.generation
        if reopening and self.position:
            await conn.execute(f"MOVE ABSOLUTE {int(self.position)} IN {self.name}")

    async def fetch(self, conn: asyncpg.Connection, start: int, limit: int | None = None) -> Page:
        """Rows `start` … `start + limit - 1` (0-based)."""
        limit = self.page_size if limit is None else limit
        if start != self.position:
            await conn.execute(f"MOVE ABSOLUTE {int(start)} IN {self.name}")
        records = await conn.fetch(
            f"FETCH FORWARD {int(limit) + 1} FROM {self.name}", timeout=NO_CLIENT_TIMEOUT
        )
        self.position = start + len(records)
        self.last_used = time.monotonic()
        if len(records) <= limit:
            self.total = start + len(records)
        rows = tuple(Row(cells=tuple(r), ordinal=start + i) for i, r in enumerate(records[:limit]))
        return Page(rows, more_before=start > 0, more_after=len(records) > limit)

    async def first(self) -> Page:
        """The first page."""
        return await self._page(0)

    async def after(self, row: Row) -> Page:
        """The page that follows `row`."""
        assert row.ordinal is not None
        return await self._page(row.ordinal + 1)

    async def before(self, row: Row) -> Page:
        """The page that ends just before `row`."""
        assert row.ordinal is not None
        start = max(0, row.ordinal - self.page_size)
        page = await self._page(start, row.ordinal - start)
        return Page(page.rows, more_before=page.more_before, more_after=True)

    async def last(self) -> Page:
        """The last page (the cursor runs to the end: the total becomes known)."""
        async with self.session._lock:
            conn = await self.session._claim(self)
            try:
                moved = await conn.execute(f"MOVE FORWARD ALL IN {self.name}")
                self.total = self.position + int(moved.split()[-1])
                self.position = self.total
                return await self.fetch(conn, max(0, self.total - self.page_size))
            except BaseException:
                await self._failed()
                raise

    @property
    def idle_deadline(self) -> float | None:
        """When this result's cursor transaction is due to end, None unless one of ours holds
        it (`ConsoleConnection.idle_deadline`: the session has one such transaction at most)."""
        return self.session.idle_deadline if self.session._owner is self else None

    async def close_if_idle(self) -> bool:
        """End this result's cursor transaction once idle (`ConsoleConnection.close_if_idle`)."""
        return self.session._owner is self and await self.session.close_if_idle()

    async def _page(self, start: int, limit: int | None = None) -> Page:
        async with self.session._lock:
            conn = await self.session._claim(self)
            try:
                return await self.fetch(conn, start, limit)
            except BaseException:
                await self._failed()
                raise

    async def _failed(self) -> None:
        """A failed FETCH aborted our transaction: end it (the next page declares again)."""
        if self.session._owner is self:
            await self.session._release_owner()


def set_local_statements(settings: dict[str, str]) -> str:
    """`SET LOCAL name = 'value'; …` for each setting (empty for none).

    Names are quoted as identifiers and values as escape-string literals, so the statements
    mean the same whatever standard_conforming_strings says.
    """
    return "".join(
        f"SET LOCAL {quote_ident(name)} = E'{_escaped(value)}';" for name, value in settings.items()
    )


def _escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "''")


async def send_cancel_request(conn: asyncpg.Connection) -> None:
    """Send the protocol's CancelRequest for `conn`'s running statement, from a connection of
    its own to the same address, with the backend key `conn` got at connect.

    asyncpg sends the same request when the task awaiting a statement is cancelled, but then
    the statement's own error never reaches the caller: the console must hear the server's
    "canceling statement due to user request", which also says that the user's transaction
    is aborted. `Connection._cancel` is what asyncpg runs for that task cancellation
    (asyncpg 0.32, checked by `tests/db/test_console_pooler.py`); it never raises: when the
    request cannot be sent it closes `conn`, whose statement then fails as a lost connection.
    """
    waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    await conn._cancel(waiter)  # type: ignore[attr-defined]


def _text_page(records: Sequence[Any]) -> Page:
    """Rows returned by a statement that does not stream, as text cells."""
    rows = tuple(
        Row(cells=tuple(None if v is None else _cell(v) for v in r), ordinal=i)
        for i, r in enumerate(records)
    )
    return Page(rows, more_before=False, more_after=False)


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    return text[: VALUE_LIMIT + 1]


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
