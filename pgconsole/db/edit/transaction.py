"""Row edits inside one explicit transaction that the user commits or rolls back.

The first change takes a connection of its own from the pool and opens a transaction on it;
every change then runs at once, under a savepoint, so a constraint or type error undoes that
change only and is shown while the typed value is still in the editor. Nothing is committed
until the user says so.

- **Values are typed text**, sent as `$n::text` and cast on the server to the column's type,
  as psql would parse them: `12a` into an integer, `1.5` into an integer or `2024-13-01`
  into a date is the server's own error, never a silent conversion.
- **Lost updates are refused.** An UPDATE or DELETE finds its row by the row's ident (key
  values, or `tableoid` and `ctid` when the user opted in for a table without a key) *and*
  the version that was read (`xmin`; for a view, an md5 of the row's text). When no row
  matches, the row is read again and a `Conflict` says whether it changed or vanished;
  nothing is written until the user chooses.
- **Exactly one row**: a change that would touch more than one row is undone and refused.
- **A lost connection** (backend terminated, server restarted) raises `TransactionLost`: the
  server rolled everything back; the changes are kept for the user to apply again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from pgconsole.db.browse.catalog import Identity, RelationDetail, RelationKind
from pgconsole.db.browse.pages import (
    ALIAS,
    BrowseSpec,
    Row,
    Tracking,
    ident_conditions,
    row_digest,
    row_from_record,
    row_list,
    text_param,
)
from pgconsole.db.connection.failures import describe_error
from pgconsole.db.connection.pool import Database
from pgconsole.db.quoting import qualified, quote_ident

SAVEPOINT = "pgconsole_change"
LOCK_WATCH_SECONDS = 0.2
"""How long an edit statement may wait before pgconsole looks up who blocks it."""
BLOCKERS_ATTRIBUTE = "pgconsole_blocking_pids"
"""Set on a `LockNotAvailableError`: the pids that held the lock while the statement waited."""


class Default(Enum):
    """The column's DEFAULT, as a value to set."""

    DEFAULT = "DEFAULT"


DEFAULT = Default.DEFAULT
Value = str | None | Default
"""Typed text (cast on the server), None for NULL, or DEFAULT."""


class EditRefused(Exception):
    """The change was undone (or never sent) for a reason pgconsole states."""


class TransactionLost(Exception):
    """The connection died mid-transaction: the server rolled everything back."""


@dataclass
class Conflict(Exception):
    """The row is no longer the version that was read: someone else changed or deleted it."""

    original: Row
    """The row as pgconsole read it."""
    current: Row | None
    """The row as it is now, or None when it is gone (deleted, or moved out of reach)."""
    values: Mapping[str, Value]
    """What the user wanted to set (empty for a delete)."""

    def __str__(self) -> str:
        if self.current is None:
            return "the row was deleted (or changed beyond recognition) since it was read"
        return "the row was changed by someone else since it was read"


@dataclass(frozen=True)
class Statement:
    """One statement the transaction ran, for the SQL log."""

    sql: str
    params: tuple[Any, ...]
    outcome: str
    """`UPDATE 1`, `undone: <error>`..."""


@dataclass(frozen=True)
class Change:
    """One applied change, kept so that it can be applied again in a new transaction."""

    kind: Literal["update", "insert", "delete"]
    original: Row | None
    """The row as read (None for an insert)."""
    values: tuple[tuple[str, Value], ...]
    result: Row | None
    """The row as stored inside the transaction (None for a delete)."""


@dataclass(frozen=True)
class EditPlan:
    """What may be edited in a relation, and why not where not."""

    tracking: Tracking | None
    read_only_reason: str | None
    """Why no row can be changed at all, or None."""
    column_reasons: Mapping[str, str]
    """Columns that cannot be set, with the reason (generated, identity always, view)."""
    physical_possible: bool = False
    """A table without a key: rows could be edited by `ctid` if the user opts in."""

    @property
    def editable(self) -> bool:
        """Whether any change is possible."""
        return self.read_only_reason is None

    def column_reason(self, name: str) -> str | None:
        """Why `name` cannot be set, or None."""
        return self.column_reasons.get(name)


def tracking_for(detail: RelationDetail, *, physical: bool = False) -> Tracking | None:
    """How grid rows of this relation are identified for editing."""
    if detail.kind in (RelationKind.TABLE, RelationKind.PARTITIONED_TABLE):
        if detail.key:
            return Tracking.KEY
        return Tracking.PHYSICAL if physical else None
    if detail.kind is RelationKind.VIEW:
        return Tracking.ROW
    return None


def plan_edits(
    detail: RelationDetail,
    *,
    physical: bool,
    view_updatable: bool = True,
    updatable_columns: frozenset[str] | None = None,
    privileges: frozenset[str] = frozenset({"INSERT", "UPDATE", "DELETE"}),
) -> EditPlan:
    """What may be edited, from the description and what the server said about it.

    Args:
        detail: The relation.
        physical: The user opted in to editing a keyless table by `ctid`.
        view_updatable: For a view: PostgreSQL can update it automatically.
        updatable_columns: For a view: the columns it can update (None: all).
        privileges: Which of INSERT, UPDATE, DELETE the role holds on the relation.
    """
    reasons: dict[str, str] = {}
    for column in detail.columns:
        if column.generated is not None:
            reasons[column.name] = "a generated column: the server computes it"
        elif column.identity is Identity.ALWAYS:
            reasons[column.name] = "an identity column (GENERATED ALWAYS)"
        elif updatable_columns is not None and column.name not in updatable_columns:
            reasons[column.name] = "this view column cannot be updated (not a plain column)"
    tracking = tracking_for(detail, physical=physical)
    why: str | None = None
    keyless = detail.kind in (RelationKind.TABLE, RelationKind.PARTITIONED_TABLE)
    if detail.kind is RelationKind.VIEW and not view_updatable:
        why = "this view is not automatically updatable (joins, aggregates, DISTINCT...)"
    elif tracking is None and keyless:
        why = "no primary key or unique NOT NULL index: rows cannot be identified"
    elif tracking is None:
        why = f"a {detail.kind} cannot be edited"
    elif not privileges & {"INSERT", "UPDATE", "DELETE"}:
        why = "your role may not INSERT, UPDATE or DELETE here"
    return EditPlan(
        tracking=tracking,
        read_only_reason=why,
        column_reasons=reasons,
        physical_possible=keyless and not detail.key,
    )


async def read_edit_facts(
    conn: asyncpg.Connection | PoolConnectionProxy, oid: int
) -> tuple[bool, frozenset[str] | None, frozenset[str]]:
    """Whether a view is updatable, its updatable columns, and the role's write privileges."""
    row = await conn.fetchrow(
        "SELECT (pg_relation_is_updatable($1::oid::regclass, false) & 20) = 20 AS updatable,"
        " (SELECT array_agg(attname::text) FROM pg_attribute WHERE attrelid = $1::oid"
        "  AND attnum > 0 AND NOT attisdropped"
        "  AND pg_column_is_updatable($1::oid::regclass, attnum, false)) AS columns,"
        " ARRAY(SELECT p FROM unnest(ARRAY['INSERT', 'UPDATE', 'DELETE']) AS p"
        "  WHERE has_table_privilege($1::oid, p)) AS privileges",
        oid,
    )
    assert row is not None
    columns = frozenset(row["columns"] or ())
    return bool(row["updatable"]), columns, frozenset(row["privileges"])


def _is_lost(error: BaseException) -> bool:
    """The session is gone: terminated, timed out, the server shut down or crashed."""
    return isinstance(
        error,
        (
            asyncpg.ConnectionDoesNotExistError,
            asyncpg.AdminShutdownError,
            asyncpg.CannotConnectNowError,
            asyncpg.CrashShutdownError,
            asyncpg.IdleInTransactionSessionTimeoutError,
            asyncpg.IdleSessionTimeoutError,
            OSError,
        ),
    )


def _gone(conn: PoolConnectionProxy) -> bool:
    """The connection is closed, or the pool already took it back after it died."""
    try:
        return conn.is_closed()
    except asyncpg.InterfaceError:  # the pool detached a dead connection from this proxy
        return True


def _lost_reason(error: BaseException) -> str:
    """What ended the session, in the server's words when it gave any.

    When the socket closed under it, asyncpg only says the proxy "has been released back to the
    pool", which tells a DBA nothing.
    """
    if isinstance(error, OSError):
        return describe_error(error)  # "the server at … is not accepting connections"
    if _is_lost(error):
        return str(error) or type(error).__name__
    return "the session ended on the server (the connection is closed)"


def blocking_pids(error: BaseException) -> list[int]:
    """The pids a lock timeout waited on, when pgconsole saw them."""
    pids: list[int] = getattr(error, BLOCKERS_ATTRIBUTE, [])
    return pids


@dataclass
class EditTransaction:
    """One transaction on a dedicated connection, holding the user's changes until commit.

    Not safe for concurrent calls: the UI runs one change at a time.
    """

    database: Database
    spec: BrowseSpec
    changes: list[Change] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    started_at: float | None = None
    """`time.monotonic()` of BEGIN, None before the first change."""
    last_used: float = 0.0
    """`time.monotonic()` of the last statement: the idle-in-transaction clock starts there."""
    backend_pid: int | None = None
    _conn: PoolConnectionProxy | None = None

    @property
    def is_open(self) -> bool:
        """A transaction is open on the server (as far as pgconsole knows)."""
        return self._conn is not None

    @property
    def connection_closed(self) -> bool:
        """The open transaction's connection died while idle (terminated, server restart)."""
        return self._conn is not None and _gone(self._conn)

    # -- changes -----------------------------------------------------------------------------

    async def update(
        self, row: Row, values: Mapping[str, Value], *, expected: Row | None = None
    ) -> Row:
        """Set `values` in `row`; the row as stored comes back.

        Args:
            row: The row as read (its ident finds it).
            values: Column → new value.
            expected: After a conflict, overwrite: check against this version (theirs, just
                read) instead of `row`'s.

        Raises:
            Conflict: The row is not the version that was read.
            EditRefused: It would change more than one row, or no row at all.
            asyncpg.PostgresError: The server refused (undone; the transaction goes on).
            TransactionLost: The connection died; nothing was committed.
        """
        if not values:
            raise EditRefused("nothing to change")
        params: list[Any] = []
        assignments = [self._assign(name, value, params) for name, value in values.items()]
        where = self._row_conditions(expected or row, params)
        sql = (
            f"UPDATE {self._target} AS {ALIAS} SET {', '.join(assignments)}"
            f" WHERE {' AND '.join(where)} RETURNING {self._returning}"
        )
        records = await self._change(sql, params, original=expected or row, values=values)
        result = self._row(records[0], like=row)
        self.changes.append(Change("update", row, tuple(values.items()), result))
        return result

    async def insert(self, values: Mapping[str, Value]) -> Row:
        """Insert a row; columns not given take their defaults (identity and generated too).

        Raises:
            asyncpg.PostgresError: The server refused (undone; the transaction goes on).
            TransactionLost: The connection died; nothing was committed.
        """
        params: list[Any] = []
        given = {n: v for n, v in values.items() if v is not DEFAULT}
        if given:
            names = ", ".join(quote_ident(n) for n in given)
            exprs = ", ".join(self._value(n, v, params) for n, v in given.items())
            body = f"({names}) VALUES ({exprs})"
        else:
            body = "DEFAULT VALUES"
        sql = f"INSERT INTO {self._target} AS {ALIAS} {body} RETURNING {self._returning}"
        records = await self._change(sql, params, original=None, values=values)
        if not records:  # a BEFORE trigger returned NULL, or a DO INSTEAD NOTHING rule
            raise EditRefused("the server skipped the insert (a trigger or rule): nothing added")
        result = self._row(records[0], like=None)
        self.changes.append(Change("insert", None, tuple(values.items()), result))
        return result

    async def delete(self, row: Row) -> None:
        """Delete `row`, if it is still the version that was read.

        Raises:
            Conflict, EditRefused, asyncpg.PostgresError, TransactionLost: As for `update`.
        """
        params: list[Any] = []
        where = self._row_conditions(row, params)
        sql = f"DELETE FROM {self._target} AS {ALIAS} WHERE {' AND '.join(where)} RETURNING 1"
        await self._change(sql, params, original=row, values={})
        self.changes.append(Change("delete", row, (), None))

    async def current(self, row: Row) -> Row | None:
        """The row as it is now (inside this transaction if one is open), found by its ident.

        None when it is gone, or when rows cannot be found again (a view's rows).
        """
        params: list[Any] = []
        conditions, values = ident_conditions(self.spec, row, 1)
        if not conditions:
            return None
        params.extend(values)
        sql = (
            f"SELECT {self._returning} FROM {self._target} AS {ALIAS}"
            f" WHERE {' AND '.join(conditions)}"
        )
        if self._conn is not None:
            records = await self._run(self._conn, sql, params)
        else:
            async with self.database.transaction(readonly=True) as conn:
                records = await conn.fetch(sql, *params)
        return self._row(records[0], like=row) if records else None

    # -- transaction -------------------------------------------------------------------------

    async def commit(self) -> None:
        """COMMIT, and forget the changes (they are the server's now).

        Raises:
            asyncpg.PostgresError: Refused at commit (a deferred constraint): rolled back.
            TransactionLost: The connection died, or the server had already failed the
                transaction (it answers COMMIT with ROLLBACK); nothing was committed.
        """
        conn = self._conn
        if conn is None:
            return
        try:
            status = await conn.execute("COMMIT")
        except BaseException as error:
            self._log("COMMIT", (), f"failed: {error}")
            lost = _is_lost(error) or _gone(conn)
            await self._discard()
            if lost:
                raise TransactionLost(_lost_reason(error)) from error
            raise
        self._log("COMMIT", (), status)
        if status != "COMMIT":  # an aborted transaction ends in ROLLBACK, whatever was asked
            await self._discard()
            raise TransactionLost(f"the server answered COMMIT with {status}")
        self.changes.clear()
        await self._release()

    async def rollback(self, *, keep_changes: bool = False) -> None:
        """ROLLBACK; with `keep_changes`, the changes stay listed to be applied again."""
        conn = self._conn
        if conn is not None:
            try:
                if not _gone(conn):
                    self._log("ROLLBACK", (), await conn.execute("ROLLBACK"))
            except BaseException as error:
                if not (_is_lost(error) or _gone(conn)):
                    raise
            finally:
                await self._discard()
        if not keep_changes:
            self.changes.clear()

    async def lost(self) -> None:
        """Forget a transaction whose connection died (the server rolled it back)."""
        await self._discard()

    # -- internals ---------------------------------------------------------------------------

    @property
    def _target(self) -> str:
        return qualified(self.spec.schema, self.spec.name)

    @property
    def _returning(self) -> str:
        return row_list(self.spec, with_position=self.spec.uses_keyset)

    def _row(self, record: Iterable[Any], *, like: Row | None) -> Row:
        row = row_from_record(
            self.spec,
            record,
            with_position=self.spec.uses_keyset,
            ordinal=like.ordinal if like is not None else None,
        )
        return row

    def _value(self, name: str, value: Value, params: list[Any]) -> str:
        if value is DEFAULT:
            return "DEFAULT"
        if value is None:
            return "NULL"
        params.append(value)
        return text_param(len(params), self.spec.column(name).value_type)

    def _assign(self, name: str, value: Value, params: list[Any]) -> str:
        return f"{quote_ident(name)} = {self._value(name, value, params)}"

    def _row_conditions(self, row: Row, params: list[Any]) -> list[str]:
        conditions, values = ident_conditions(self.spec, row, len(params) + 1)
        params.extend(values)
        if row.version is None:
            raise EditRefused("this row carries no version to check: reload the table")
        params.append(row.version)
        if self.spec.tracking is Tracking.ROW:
            conditions.append(f"{row_digest()} = ${len(params)}::text")
        else:
            conditions.append(f"{ALIAS}.xmin = ${len(params)}::text::xid")
        return conditions

    async def _begin(self) -> PoolConnectionProxy:
        if self._conn is not None:
            return self._conn
        conn = await self.database.pool.acquire()
        try:
            # BEGIN by hand rather than asyncpg's Transaction: COMMIT's reply must be read
            # (an aborted transaction answers ROLLBACK), which Transaction.commit() hides.
            await conn.execute("BEGIN")
            if self.database.pooler:
                await self.database.apply_session_settings(conn)
                # The pid the client was told is the pooler's; the server connection that holds
                # this transaction (until it ends) knows its own.
                self.backend_pid = await conn.fetchval("SELECT pg_backend_pid()")
            else:
                self.backend_pid = conn.get_server_pid()
        except BaseException as error:
            await self.database.pool.release(conn)
            if _is_lost(error):
                raise TransactionLost(_lost_reason(error)) from error
            raise
        self._conn = conn
        self.started_at = self.last_used = time.monotonic()
        self._log("BEGIN", (), "BEGIN")
        return conn

    async def _change(
        self, sql: str, params: list[Any], *, original: Row | None, values: Mapping[str, Value]
    ) -> list[asyncpg.Record]:
        conn = await self._begin()
        try:
            await conn.execute(f"SAVEPOINT {SAVEPOINT}")
            try:
                records = await self._run(conn, sql, params)
            except asyncio.CancelledError:
                # The statement was cancelled on the server (see _run): undo what it did.
                await asyncio.shield(self._undo(conn))
                self._log(sql, params, "undone: cancelled")
                raise
            except asyncpg.PostgresError as error:
                if _is_lost(error):
                    raise
                await conn.execute(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}")
                self._log(sql, params, f"undone: {error}")
                raise
            if len(records) != 1 and original is not None:
                await conn.execute(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}")
                self._log(sql, params, f"undone: {len(records)} rows matched")
                if len(records) > 1:
                    raise EditRefused(
                        f"{len(records)} rows matched, not one: the change was undone"
                    )
                current = await self.current(original)
                if current is not None and current.version == original.version:
                    raise EditRefused("the row no longer matches this table's view of it")
                raise Conflict(original, current, dict(values))
            await conn.execute(f"RELEASE SAVEPOINT {SAVEPOINT}")
        except BaseException as error:
            if isinstance(error, Conflict | EditRefused | asyncio.CancelledError):
                raise
            if _is_lost(error) or _gone(conn):
                await self._discard()
                raise TransactionLost(_lost_reason(error)) from error
            raise
        finally:
            self.last_used = time.monotonic()
        verb = sql.split(None, 1)[0]
        self._log(sql, params, f"{verb} {len(records)}")
        return records

    async def _run(
        self, conn: PoolConnectionProxy, sql: str, params: Sequence[Any]
    ) -> list[asyncpg.Record]:
        """Run one statement; when it waits on a lock, note who blocks it for the error."""
        task = asyncio.ensure_future(conn.fetch(sql, *params))
        blockers: list[int] = []
        try:
            done, _ = await asyncio.wait({task}, timeout=LOCK_WATCH_SECONDS)
            if not done and self.backend_pid is not None:
                blockers = await self._blockers()
            return await task
        except asyncio.CancelledError:
            # Cancelling the task makes asyncpg cancel the statement on the server; wait for
            # that, so nothing runs on in the transaction behind the caller's back.
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            raise
        except asyncpg.LockNotAvailableError as error:
            setattr(error, BLOCKERS_ATTRIBUTE, blockers)
            raise

    async def _blockers(self) -> list[int]:
        with contextlib.suppress(asyncpg.PostgresError, OSError):
            async with self.database.transaction(readonly=True) as other:
                pids = await other.fetchval("SELECT pg_blocking_pids($1)", self.backend_pid)
                return list(pids or [])
        return []

    async def _undo(self, conn: PoolConnectionProxy) -> None:
        if not _gone(conn):
            with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                await conn.execute(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}")

    def _log(self, sql: str, params: Sequence[Any], outcome: str) -> None:
        self.statements.append(Statement(sql, tuple(params), outcome))

    async def _discard(self) -> None:
        conn, self._conn = self._conn, None
        self.started_at = None
        if conn is not None:
            if not _gone(conn):
                with contextlib.suppress(Exception):
                    await conn.execute("ROLLBACK")
            with contextlib.suppress(Exception):  # a dead connection: the pool replaces it
                await self.database.pool.release(conn)

    async def _release(self) -> None:
        conn, self._conn = self._conn, None
        self.started_at = None
        if conn is not None:
            await self.database.pool.release(conn)
