"""Paging through a relation of any size without hurting the server.

Two strategies, chosen per relation and sort order:

- **Keyset** (a primary key or a unique NOT NULL index, sorted by it, or by an indexed NOT NULL
  column with the key as tie-breaker): every page is one short statement,
  `WHERE (sort, key) > ($1, $2) ORDER BY sort, key LIMIT n + 1`, and the reverse for going back.
  First, next, previous and last page cost the same at any depth, and nothing stays open
  between pages.
- **Cursor** (no usable key, or a sort no index supports): a SCROLL cursor inside a short
  READ ONLY transaction on a connection of its own. The cursor is closed, and the connection
  returned, after `idle_seconds` without a page request; the next request reopens it at the same
  position. No snapshot outlives the user's attention.

Cells arrive as PostgreSQL's own text output (what psql shows), cut server-side to `CELL_LIMIT`
characters so a 10 MB value never crosses the wire for a page; `full_value()` fetches one whole
value on demand.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Protocol

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from pgconsole.db.browse.filtering import FilterError, check_filter
from pgconsole.db.connection.pool import Database
from pgconsole.db.quoting import qualified, quote_ident

CELL_LIMIT = 200
"""Characters of each cell fetched for a page; longer values are marked truncated."""
CURSOR_NAME = "pgconsole_browse"


def cursor_name(select: str) -> str:
    """The cursor's name, one per result shape.

    asyncpg caches each statement's row description by its text, so a `FETCH` from a cursor
    of the same name but other columns (tracking added for editing) would be decoded with the
    old shape. The name carries a digest of the SELECT.
    """
    return f"{CURSOR_NAME}_{hashlib.md5(select.encode()).hexdigest()[:12]}"


IDLE_MARGIN_SECONDS = 0.05
"""How much earlier than `idle_seconds` an idle cursor is closed: room for a late timer."""


ALIAS = "_pgconsole_r"
"""The browsed relation's alias in every statement (edits use it too)."""


def _ref(column: str) -> str:
    """A column of the browsed relation, qualified so no output alias can capture it."""
    return f"{ALIAS}.{quote_ident(column)}"


def text_param(number: int, type_name: str) -> str:
    """`$n` sent as text and cast on the server, as psql would parse a typed value.

    Bookmarks and quick-filter values travel as PostgreSQL's own text output, so any column
    type (enums, ranges, domains, types asyncpg has no codec for) round-trips exactly.
    """
    return f"${number}::text::{type_name}"


def _text_literal(value: str, type_name: str) -> str:
    """A quick-filter value written into the SQL text, for statements that take no `$n` (COPY).

    An `E'...'` literal with `\\` and `'` doubled reads the same whatever the session's
    `standard_conforming_strings`, as libpq's `PQescapeLiteral` does. asyncpg's own inlining
    for `copy_from_query` is not used: it rewrites every `$n` in the text by regular
    expression, including a `'$1'` inside the user's filter.

    Raises:
        ValueError: The value holds a NUL character, which no text value can.
    """
    if "\x00" in value:
        raise ValueError("a text value cannot contain a NUL character")
    escaped = value.replace("\\", "\\\\").replace("'", "''")
    return f"E'{escaped}'::text::{type_name}"


class Cells(Enum):
    """What `select_sql` returns for each row."""

    GRID = "grid"
    """Each column's text output cut to `CELL_LIMIT + 1` characters, as `_c0`, `_c1`, ...
    (one more than the limit, so the grid can tell a cut value)."""
    TYPED = "typed"
    """Each whole column, typed, under its own name: `COPY` prints PostgreSQL's text output."""
    JSON = "json"
    """One text column: the row as a JSON object on one line, keys in column order
    (`row_to_json`)."""


@dataclass(frozen=True)
class Column:
    """A column as the grid needs it."""

    name: str
    type: str
    """`format_type()` of the column, used to cast keyset parameters back."""
    numeric: bool = False
    """Right-aligned in the grid."""
    not_null: bool = False
    base_type: str = ""
    """The type without modifier, for values typed by the user (see `ColumnInfo.base_type`)."""

    @property
    def value_type(self) -> str:
        """What a typed value is cast to before it is stored."""
        return self.base_type or self.type


@dataclass(frozen=True)
class Sort:
    """An ORDER BY on one column."""

    column: str
    descending: bool = False
    indexed: bool = False
    """An index leads with this column, so keyset paging can follow it."""


class Tracking(Enum):
    """What each grid row carries so that it can be found and checked again for an edit."""

    KEY = "key"
    """`Row.ident` holds the key columns' text, `Row.version` the row version's `xmin`."""
    PHYSICAL = "physical"
    """`Row.ident` holds `tableoid` and `ctid` (a table without a key), `Row.version` `xmin`."""
    ROW = "row"
    """No ident; `Row.version` is an md5 of the whole row's text (views have no `xmin`)."""


@dataclass(frozen=True)
class BrowseSpec:
    """What to page through: relation, columns, row identity, order and filter."""

    schema: str
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] | None = None
    """Columns that identify a row (primary key or unique NOT NULL index)."""
    sort: Sort | None = None
    filter: str = ""
    """A checked WHERE expression (see `pgconsole.db.browse.filtering.check_filter`)."""
    equals: tuple[tuple[str, str | None], ...] = ()
    """Quick filters `column = value` (value as text, None for IS NULL), sent as parameters."""
    tracking: Tracking | None = None
    """Identity and version columns fetched with each grid row, for editing."""

    def __post_init__(self) -> None:
        # The filter is pasted into SQL: only text that check_filter accepts may be.
        if self.filter and check_filter(self.filter) != self.filter:
            raise FilterError("the filter must be checked (and stripped) before use", None)

    def column(self, name: str) -> Column:
        """The column called `name`."""
        return next(c for c in self.columns if c.name == name)

    @property
    def order(self) -> tuple[str, ...]:
        """The ORDER BY columns: the sort column (if any), then the key as tie-breaker."""
        key = self.key or ()
        if self.sort is None:
            return key
        return (self.sort.column, *(k for k in key if k != self.sort.column))

    @property
    def descending(self) -> bool:
        """Whether the order runs backwards."""
        return self.sort is not None and self.sort.descending

    @property
    def uses_keyset(self) -> bool:
        """Keyset paging needs a key, and a sort column that is indexed and never NULL."""
        if not self.key:
            return False
        if self.sort is None or self.sort.column in self.key:
            return self.sort is None or self.key[0] == self.sort.column
        column = self.column(self.sort.column)
        return self.sort.indexed and column.not_null


@dataclass(frozen=True)
class Row:
    """One row: its cells as text (None is NULL) and where it sits in the order."""

    cells: tuple[str | None, ...]
    position: tuple[str, ...] = ()
    """The ORDER BY values as text: the keyset bookmark (empty in cursor mode)."""
    ordinal: int | None = None
    """0-based row number in cursor mode (None in keyset mode, where no count is known)."""
    ident: tuple[str, ...] = ()
    """What finds this row again (see `Tracking`): key values, or tableoid and ctid."""
    version: str | None = None
    """The row version as read (`xmin`, or a whole-row md5 for views)."""

    def truncated(self, index: int) -> bool:
        """Whether cell `index` was cut to CELL_LIMIT characters."""
        value = self.cells[index]
        return value is not None and len(value) > CELL_LIMIT


@dataclass(frozen=True)
class Page:
    """Consecutive rows in the browse order."""

    rows: tuple[Row, ...]
    more_before: bool
    more_after: bool


class IdleCursor(Protocol):
    """A cursor that holds a transaction open between page requests, to be closed when idle.

    Whoever shows its pages keeps one timer at `idle_deadline` and calls `close_if_idle` then
    (`pgconsole.screens.paging.GridPaging`): no snapshot stays open while the user looks away.
    """

    @property
    def idle_deadline(self) -> float | None:
        """When (`time.monotonic()`) the open cursor is due to be closed; None if none is."""
        ...

    async def close_if_idle(self) -> bool:
        """Close the cursor once its idle deadline has passed; True if it was closed."""
        ...


class Pages(IdleCursor, Protocol):
    """What a grid pages through: a relation (`Pager`) or a console query's result
    (`pgconsole.db.console.connection.ResultPager`). Pages are asked for one at a time."""

    async def first(self) -> Page:
        """The first page."""
        ...

    async def last(self) -> Page:
        """The last page."""
        ...

    async def after(self, row: Row) -> Page:
        """The page that follows `row`."""
        ...

    async def before(self, row: Row) -> Page:
        """The page that ends just before `row`."""
        ...


def select_sql(
    spec: BrowseSpec, cells: Cells, *, inline_values: bool = False
) -> tuple[str, list[Any]]:
    """The grid's SELECT over the whole result: its columns, filter, quick filters and order.

    The cursor pages run this statement and an export copies it, so a file holds exactly the
    rows the grid shows, in the same order.

    Args:
        spec: What to select.
        cells: How each row comes back (see `Cells`).
        inline_values: Write quick-filter values into the text as literals instead of `$n`
            parameters, for statements that cannot take parameters (`COPY (...) TO STDOUT`).

    Returns:
        The statement and its parameters (none when `inline_values`).
    """
    conditions, params = _conditions(spec, 1, inline_values=inline_values)
    order = _order_by(spec, reverse=False)
    sql = (
        f"SELECT {_cell_list(spec, cells)} FROM {_from_clause(spec)}"
        + (f" WHERE {' AND '.join(conditions)}" if conditions else "")
        + (f" ORDER BY {order}" if order else "")
    )
    return sql, params


def _cell_list(spec: BrowseSpec, cells: Cells) -> str:
    # Output columns of the grid get neutral aliases: ORDER BY resolves a bare name to an
    # output column first, and `"id"::text` would otherwise be called "id" and sort as text.
    # The ORDER BY here is always qualified (`_ref`), so TYPED can keep the real names.
    if cells is Cells.GRID:
        return ", ".join(
            [
                *(
                    f"left({_ref(c.name)}::text, {CELL_LIMIT + 1}) AS _c{i}"
                    for i, c in enumerate(spec.columns)
                ),
                *_tracking_list(spec),
            ]
        )
    typed = ", ".join(f"{_ref(c.name)} AS {quote_ident(c.name)}" for c in spec.columns)
    if cells is Cells.TYPED:
        return typed
    # row_to_json needs a row whose fields carry the column names. A correlated scalar
    # subquery builds it without bringing those names into the outer query's scope, where the
    # user's filter refers to columns unqualified (a LATERAL join would make them ambiguous),
    # and keeps the ORDER BY on the outer query, where the order is guaranteed. `alias.*` is
    # the whole row even if a column bears the alias's name (a bare name means the column).
    row = f"(SELECT row_to_json(_pgconsole_j.*) FROM (SELECT {typed}) AS _pgconsole_j)"
    # row_to_json copies a `json` value's text verbatim, line breaks included. JSON allows a
    # raw line break only as white space between tokens (the server rejects one inside a
    # string), so turning each into a space keeps the value and makes the row one line.
    return f"replace(replace({row}::text, E'\\n', ' '), E'\\r', ' ') AS _json"


def _tracking_list(spec: BrowseSpec) -> list[str]:
    if spec.tracking is Tracking.KEY:
        return [
            *(f"{_ref(k)}::text AS _i{i}" for i, k in enumerate(spec.key or ())),
            f"{ALIAS}.xmin::text AS _v",
        ]
    if spec.tracking is Tracking.PHYSICAL:
        return [
            f"{ALIAS}.tableoid::text AS _i0",
            f"{ALIAS}.ctid::text AS _i1",
            f"{ALIAS}.xmin::text AS _v",
        ]
    if spec.tracking is Tracking.ROW:
        return [f"{row_digest()} AS _v"]
    return []


def row_digest() -> str:
    """An md5 of the browsed row's whole text (`ROW(alias.*)`: a column may bear the alias)."""
    return f"md5(ROW({ALIAS}.*)::text)"


def ident_conditions(spec: BrowseSpec, row: Row, first_param: int) -> tuple[list[str], list[str]]:
    """WHERE conditions (with their `$n` values) that find `row` again by its ident.

    None for `Tracking.ROW` (a view's rows have no identity of their own) or untracked rows.
    """
    if not row.ident:
        return [], []
    if spec.tracking is Tracking.KEY:
        names = [(_ref(k), spec.column(k).type) for k in spec.key or ()]
    elif spec.tracking is Tracking.PHYSICAL:
        names = [(f"{ALIAS}.tableoid", "oid"), (f"{ALIAS}.ctid", "tid")]
    else:
        return [], []
    conditions = [
        f"{ref} = {text_param(first_param + i, type_name)}"
        for i, (ref, type_name) in enumerate(names)
    ]
    return conditions, list(row.ident)


def ident_width(spec: BrowseSpec) -> int:
    """How many ident columns each grid row carries."""
    if spec.tracking is Tracking.KEY:
        return len(spec.key or ())
    return 2 if spec.tracking is Tracking.PHYSICAL else 0


def row_list(spec: BrowseSpec, *, with_position: bool) -> str:
    """A grid row's output columns: the keyset position (if wanted), cells, ident, version.

    Also the RETURNING list of an edit, so an edited row comes back as the grid shows it.
    """
    cells = _cell_list(spec, Cells.GRID)
    if not with_position:
        return cells
    position = ", ".join(f"{_ref(name)}::text AS _p{i}" for i, name in enumerate(spec.order))
    return f"{position}, {cells}"


def row_from_record(
    spec: BrowseSpec, record: Iterable[Any], *, with_position: bool, ordinal: int | None
) -> Row:
    """The Row for a record selected with `row_list`."""
    values = tuple(record)
    start = len(spec.order) if with_position else 0
    end = start + len(spec.columns)
    tracked = spec.tracking is not None
    idents = ident_width(spec)
    return Row(
        cells=values[start:end],
        position=values[:start],
        ordinal=ordinal,
        ident=values[end : end + idents],
        version=values[end + idents] if tracked else None,
    )


def _from_clause(spec: BrowseSpec) -> str:
    return f"{qualified(spec.schema, spec.name)} AS {ALIAS}"


def _conditions(
    spec: BrowseSpec, first_param: int, *, inline_values: bool = False
) -> tuple[list[str], list[Any]]:
    """The filter and quick filters as WHERE conditions, with the parameters they take."""
    conditions: list[str] = []
    params: list[Any] = []
    if spec.filter:
        conditions.append(f"({spec.filter})")
    for name, value in spec.equals:
        type_name = spec.column(name).type
        if value is None:
            conditions.append(f"{_ref(name)} IS NULL")
        elif inline_values:
            conditions.append(f"{_ref(name)} = {_text_literal(value, type_name)}")
        else:
            params.append(value)
            n = first_param + len(params) - 1
            conditions.append(f"{_ref(name)} = {text_param(n, type_name)}")
    return conditions, params


def _order_by(spec: BrowseSpec, *, reverse: bool) -> str:
    descending = spec.descending != reverse
    direction = " DESC" if descending else ""
    return ", ".join(f"{_ref(name)}{direction}" for name in spec.order)


@dataclass
class _CursorState:
    conn: PoolConnectionProxy | None = None
    transaction: Any = None
    position: int = 0
    """Rows before the cursor's next row (FETCH FORWARD returns row `position`)."""
    opened_at: float = 0.0


@dataclass
class Pager:
    """Fetches pages of one relation for the grid. Not safe for concurrent calls."""

    database: Database
    spec: BrowseSpec
    page_size: int = 100
    idle_seconds: float = 5.0
    _cursor: _CursorState = field(default_factory=_CursorState)
    _last_used: float = field(default_factory=time.monotonic)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _cursor_name: str = CURSOR_NAME
    last_sql: str = ""
    """The last statement sent, to map a server error's position back into the filter."""

    # -- public ----------------------------------------------------------------------------

    async def first(self) -> Page:
        """The first page."""
        async with self._lock:
            if self.spec.uses_keyset:
                return await self._keyset(None, forward=True)
            return await self._cursor_page(0)

    async def last(self) -> Page:
        """The last page."""
        async with self._lock:
            if self.spec.uses_keyset:
                return await self._keyset(None, forward=False)
            return await self._cursor_last()

    async def after(self, row: Row) -> Page:
        """The page that follows `row`."""
        async with self._lock:
            if self.spec.uses_keyset:
                return await self._keyset(row.position, forward=True)
            assert row.ordinal is not None
            return await self._cursor_page(row.ordinal + 1)

    async def before(self, row: Row) -> Page:
        """The page that ends just before `row`."""
        async with self._lock:
            if self.spec.uses_keyset:
                return await self._keyset(row.position, forward=False)
            assert row.ordinal is not None
            start = max(0, row.ordinal - self.page_size)
            page = await self._cursor_page(start, limit=row.ordinal - start)
            return replace(page, more_after=True)

    @property
    def idle_deadline(self) -> float | None:
        """When (`time.monotonic()`) the open cursor is due to be closed; None if none is open.

        A little before `idle_seconds` have passed, so that a timer firing late still closes
        the transaction within the setting.
        """
        if self._cursor.conn is None:
            return None
        return self._last_used + max(0.0, self.idle_seconds - IDLE_MARGIN_SECONDS)

    async def close_if_idle(self) -> bool:
        """Close an open cursor once its idle deadline has passed; True if one was closed."""
        deadline = self.idle_deadline
        if deadline is None or self._lock.locked() or time.monotonic() < deadline:
            return False
        async with self._lock:
            await self._close_cursor()
        return True

    async def close(self) -> None:
        """Release everything (the grid was closed)."""
        async with self._lock:
            await self._close_cursor()

    @property
    def holds_cursor(self) -> bool:
        """Whether a cursor (and so a transaction) is open right now."""
        return self._cursor.conn is not None

    async def full_value(self, row: Row, column: str) -> str | None:
        """One whole value, fetched on demand (a truncated cell's full text).

        Raises:
            LookupError: The row is gone, or cannot be found again (no key).
        """
        conditions, params = ident_conditions(self.spec, row, 1)
        if not conditions:
            raise LookupError("rows of this relation cannot be found again: no key")
        sql = f"SELECT {_ref(column)}::text FROM {self._from} WHERE {' AND '.join(conditions)}"
        async with self.database.transaction(readonly=True) as conn:
            rows = await conn.fetch(sql, *params)
        if not rows:
            raise LookupError("the row no longer exists")
        value: str | None = rows[0][0]
        return value

    # -- SQL -------------------------------------------------------------------------------

    def _select_list(self, with_position: bool) -> str:
        return row_list(self.spec, with_position=with_position)

    @property
    def _from(self) -> str:
        return _from_clause(self.spec)

    def _where(self, first_param: int) -> tuple[list[str], list[Any]]:
        return _conditions(self.spec, first_param)

    def _order_by(self, reverse: bool) -> str:
        return _order_by(self.spec, reverse=reverse)

    def _to_row(self, record: asyncpg.Record, with_position: bool, ordinal: int | None) -> Row:
        return row_from_record(self.spec, record, with_position=with_position, ordinal=ordinal)

    # -- keyset ----------------------------------------------------------------------------

    async def _keyset(self, bookmark: Sequence[str] | None, *, forward: bool) -> Page:
        conditions, params = self._where(1)
        if bookmark is not None:
            order = self.spec.order
            # Ascending: rows after the bookmark are (cols) > (bookmark); going back flips it.
            greater = forward != self.spec.descending
            placeholders = ", ".join(
                text_param(len(params) + i + 1, self.spec.column(name).type)
                for i, name in enumerate(order)
            )
            columns = ", ".join(_ref(name) for name in order)
            conditions.append(f"({columns}) {'>' if greater else '<'} ({placeholders})")
            if len(order) > 1:
                # Implied by the row comparison, but only this form lets an index on the
                # leading column alone bound the scan.
                lead = _ref(order[0])
                bound = text_param(len(params) + 1, self.spec.column(order[0]).type)
                conditions.append(f"{lead} {'>=' if greater else '<='} {bound}")
            params.extend(bookmark)
        params.append(self.page_size + 1)
        sql = (
            f"SELECT {self._select_list(True)} FROM {self._from}"
            + (f" WHERE {' AND '.join(conditions)}" if conditions else "")
            + f" ORDER BY {self._order_by(reverse=not forward)} LIMIT ${len(params)}"
        )
        self.last_sql = sql
        async with self.database.transaction(readonly=True) as conn:
            records = await conn.fetch(sql, *params)
        self._last_used = time.monotonic()
        more = len(records) > self.page_size
        rows = [self._to_row(r, True, None) for r in records[: self.page_size]]
        if forward:
            return Page(tuple(rows), more_before=bookmark is not None, more_after=more)
        rows.reverse()
        return Page(tuple(rows), more_before=more, more_after=bookmark is not None)

    # -- cursor ----------------------------------------------------------------------------

    async def _open_cursor(self) -> None:
        select, params = select_sql(self.spec, Cells.GRID)
        self._cursor_name = cursor_name(select)
        sql = f"DECLARE {self._cursor_name} SCROLL CURSOR FOR {select}"
        self.last_sql = sql
        conn = await self.database.pool.acquire()
        try:
            transaction = conn.transaction(readonly=True)
            await transaction.start()
            if self.database.pooler:
                await self.database.apply_session_settings(conn)
            # fetch() always uses the extended protocol, which allows one statement only;
            # execute() without arguments would send the text as a simple query.
            await conn.fetch(sql, *params)
        except BaseException:
            await self.database.pool.release(conn)
            raise
        self._cursor = _CursorState(conn, transaction, 0, time.monotonic())

    async def _close_cursor(self) -> None:
        state, self._cursor = self._cursor, _CursorState(position=self._cursor.position)
        if state.conn is None:
            return
        try:
            with contextlib.suppress(asyncpg.PostgresError, OSError):
                await state.transaction.rollback()  # read-only: nothing to keep
        finally:
            await self.database.pool.release(state.conn)

    async def _cursor_conn(self) -> PoolConnectionProxy:
        if self._cursor.conn is None:
            position = self._cursor.position
            await self._open_cursor()
            if position:
                assert self._cursor.conn is not None
                move = f"MOVE ABSOLUTE {int(position)} IN {self._cursor_name}"
                await self._cursor.conn.execute(move)
                self._cursor.position = position
        assert self._cursor.conn is not None
        return self._cursor.conn

    async def _cursor_page(self, start: int, limit: int | None = None) -> Page:
        limit = self.page_size if limit is None else limit
        conn = await self._cursor_conn()
        if start != self._cursor.position:
            # MOVE ABSOLUTE n leaves the cursor on row n (1-based): the next FETCH returns n + 1.
            await conn.execute(f"MOVE ABSOLUTE {int(start)} IN {self._cursor_name}")
        records = await conn.fetch(f"FETCH FORWARD {int(limit) + 1} FROM {self._cursor_name}")
        self._cursor.position = start + len(records)
        self._last_used = time.monotonic()
        rows = tuple(self._to_row(r, False, start + i) for i, r in enumerate(records[:limit]))
        return Page(rows, more_before=start > 0, more_after=len(records) > limit)

    async def _cursor_last(self) -> Page:
        conn = await self._cursor_conn()
        moved = await conn.execute(f"MOVE FORWARD ALL IN {self._cursor_name}")
        total = self._cursor.position + int(moved.split()[-1])
        start = max(0, total - self.page_size)
        return await self._cursor_page(start)


async def count_rows(database: Database, spec: BrowseSpec) -> int:
    """The exact number of rows the grid would show (filters included), asked for on purpose.

    Runs READ ONLY under the session's statement timeout; cancelling the task cancels the
    query on the server. Never called when a relation opens: the estimate is shown instead.
    """
    conditions, params = _conditions(spec, 1)
    sql = f"SELECT count(*) FROM {_from_clause(spec)}" + (
        f" WHERE {' AND '.join(conditions)}" if conditions else ""
    )
    async with database.transaction(readonly=True) as conn:
        total: int = await conn.fetchval(sql, *params)
    return total
