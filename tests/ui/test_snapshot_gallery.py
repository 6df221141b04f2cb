"""Snapshots of each screen with fixed data, at 80x24 (one at 120x36): the README's gallery.

Nothing here reaches a server: the activity screen is fed fixed samples instead of polling,
the console a session that answers from fixed rows, the browser a fixed catalog and pages.
Nothing time-dependent is drawn: the refresh time is a fixed wall-clock time and every age
is a fixed number of seconds.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import asyncpg
import pytest
from textual import work
from textual.pilot import Pilot
from textual.widgets import Input

from pgconsole.config import Settings
from pgconsole.connecting import Connector
from pgconsole.db.activity import stats
from pgconsole.db.browse import catalog
from pgconsole.db.browse.pages import ALIAS, BrowseSpec, Column, Page, Row
from pgconsole.db.connection.passwords import PasswordChoice, PasswordSource
from pgconsole.db.connection.pool import Conn, Database
from pgconsole.db.console.connection import ConsoleConnection, Result
from pgconsole.db.opening import Opening
from pgconsole.db.recording import Meta, Recording, Writer
from pgconsole.db.sqltext import Statement
from pgconsole.replay import ReplayApp
from pgconsole.screens import browse_tree, relation_reader
from pgconsole.screens.activity import ActivityScreen
from pgconsole.screens.console import ConsoleScreen
from pgconsole.screens.filter import FilterScreen
from pgconsole.screens.replay import ReplayScreen
from pgconsole.widgets.sql_editor import SqlEditor
from tests.helpers.ui import wait_until
from tests.ui.test_snapshots import (
    PARAMS,
    ConnectedHarness,
    FrozenDatabase,
    SnapCompare,
    until_connected,
)

REFRESHED = time.mktime((2026, 3, 2, 14, 3, 7, 0, 0, -1))
"""The activity screen's 'refreshed 14:03:07', in any time zone."""

# -- the activity screen -------------------------------------------------------------------

POLL_SQL = "-- activity_sample: every backend with its locks.\nSELECT ..."
"""What pg_stat_activity shows for this screen's own poll (shown as 'pgconsole: activity poll')."""

QUERIES = (
    "SELECT id, status, total FROM shop.orders WHERE customer_id = $1 ORDER BY placed_at DESC",
    "UPDATE shop.cart SET touched_at = now() WHERE session_id = $1",
    "SELECT name, price FROM shop.item WHERE category = $1 AND active LIMIT 50",
    "INSERT INTO shop.page_view (path, customer_id, seen_at) VALUES ($1, $2, now())",
    "SELECT count(*) FROM shop.orders WHERE status = 'open'",
    "COMMIT",
)


def session(pid: int, number: int) -> stats.Backend:
    """One of the web application's sessions, varied by `number`."""
    idle = number % 3 == 0
    return stats.Backend(
        pid=pid,
        user="shop_api" if number % 4 else "reports",
        database="shop",
        application="shop-api" if number % 4 else "metabase",
        client=f"10.0.3.{10 + number % 7}",
        backend_type="client backend",
        state="idle" if idle else "active",
        wait_event_type=None if idle else ("IO" if number % 5 == 1 else None),
        wait_event=None if idle else ("DataFileRead" if number % 5 == 1 else None),
        xact_age=None if idle else 0.004 * number,
        query_age=0.8 * number if idle else 0.004 * number,
        state_age=0.8 * number if idle else 0.004 * number,
        query=QUERIES[number % len(QUERIES)],
    )


LOCK_CHAIN = (
    stats.Backend(
        pid=4101, user="dba", database="shop", application="psql", client="10.0.1.5",
        backend_type="client backend", state="idle in transaction", wait_event_type="Client",
        wait_event="ClientRead", xact_age=312.0, query_age=305.0, state_age=305.0,
        query="UPDATE shop.item SET price = price * 1.1 WHERE category = 'tea'",
    ),
    stats.Backend(
        pid=4102, user="shop_api", database="shop", application="shop-api",
        client="10.0.3.11", backend_type="client backend", state="active",
        wait_event_type="Lock", wait_event="transactionid", xact_age=41.0, query_age=41.0,
        state_age=41.0, query="UPDATE shop.item SET stock = stock - 1 WHERE id = $1",
        blocked_by=(4101,), lock_mode="ShareLock", lock_relation="shop.item",
        lock_relation_oid=16410,
    ),
    stats.Backend(
        pid=4103, user="dba", database="shop", application="migrate", client="10.0.1.9",
        backend_type="client backend", state="active", wait_event_type="Lock",
        wait_event="relation", xact_age=12.0, query_age=12.0, state_age=12.0,
        query="ALTER TABLE shop.item ADD COLUMN discontinued boolean",
        blocked_by=(4102,), lock_mode="AccessExclusiveLock", lock_relation="shop.item",
        lock_relation_oid=16410,
    ),
)  # fmt: skip
OWN = (
    stats.Backend(
        pid=4200, user="dba", database="shop", application="pgconsole", client="10.0.1.5",
        backend_type="client backend", state="active", wait_event_type=None, wait_event=None,
        xact_age=0.001, query_age=0.001, state_age=0.001, query=POLL_SQL,
        is_self=True,
    ),
    stats.Backend(
        pid=24, user=None, database=None, application="", client=None,
        backend_type="checkpointer", state=None, wait_event_type="Activity",
        wait_event="CheckpointerMain", xact_age=None, query_age=None, state_age=None,
        query="",
    ),
)  # fmt: skip
SESSIONS = LOCK_CHAIN + OWN[:1] + tuple(session(4300 + n, n) for n in range(1, 27)) + OWN[1:]
"""30 client sessions (3 in a lock chain, one of them this screen's) and a background one."""


LOAD = (212, 240, 198, 260, 231, 205, 248)
"""Commits in each second: the sparklines move."""


def counters(taken_at: float, step: int) -> stats.ServerCounters:
    """The server's counters, `step` seconds of a web shop's load in."""
    commits = sum(LOAD[:step])
    return stats.ServerCounters(
        taken_at=taken_at,
        xact_commit=900_000 + commits,
        xact_rollback=1_200 + 3 * step,
        blks_read=40_000 + 15 * step + step % 2 * 40,
        blks_hit=9_000_000 + 23 * commits,
        tup_returned=50_000_000 + 181 * commits,
        tup_fetched=7_000_000 + 24 * commits,
        tup_inserted=300_000 + commits // 5,
        tup_updated=120_000 + commits // 12,
        tup_deleted=9_000 + 2 * step,
        temp_bytes=0,
        deadlocks=0,
        connections={
            "active": 20,
            "idle": 9,
            "idle in transaction": 1,
            "idle in transaction (aborted)": 0,
            "other": 5,
        },
        max_connections=200,
        oldest_xact_age=306.0 + step,
        xmin_horizon_age=1_800 + 6 * step,
    )


BEFORE_THE_CHAIN = tuple(
    replace(s, blocked_by=(), lock_mode=None, lock_relation=None, lock_relation_oid=None)
    for s in SESSIONS
)
SAMPLES = tuple(
    stats.Sample(
        backends=BEFORE_THE_CHAIN if step == 0 else SESSIONS,
        server=counters(1_000.0 + step, step),
        queries=1,
    )
    for step in range(len(LOAD))
)
"""Seconds of samples, so that rates and sparklines have something to show. The lock chain
forms after the first: the lock tree grows only when a wait begins (from its one line)."""


class FixedActivity(ActivityScreen):
    """The activity screen fed `SAMPLES` once, instead of polling a server."""

    @work(exclusive=True, group="activity")
    async def poll(self) -> None:
        self.last_refresh = REFRESHED
        self.state_text = ""
        for sample in SAMPLES:
            self.show_sample(sample)
            self.samples += 1


async def open_activity(pilot: Pilot[Any]) -> None:
    await until_connected(pilot)
    app = cast(ConnectedHarness, pilot.app)
    assert app.database is not None
    screen = FixedActivity(app.database, read_only=True)
    await app.push_screen(screen)
    await wait_until(pilot, lambda: screen.samples == len(SAMPLES), "the samples")
    await pilot.pause()


def test_activity(snap_compare: SnapCompare) -> None:
    # A 3-session lock chain on shop.item and 30 sessions, the query shown at 80 columns.
    app = ConnectedHarness(PARAMS, Settings(read_only=True))
    assert snap_compare(app, terminal_size=(80, 24), run_before=open_activity)


def test_activity_at_120x36(snap_compare: SnapCompare) -> None:
    # Wide enough for the pool and server panels in full and the user and app columns.
    app = ConnectedHarness(PARAMS, Settings(read_only=True))
    assert snap_compare(app, terminal_size=(120, 36), run_before=open_activity)


# -- a replay ------------------------------------------------------------------------------


def recorded(path: Path) -> Path:
    """A minute of the shop: quiet for 15 s, the lock chain for 30, quiet again; the last
    sample at the fixed refresh time."""
    meta = Meta(
        host="db.example", port=5432, database="shop", server_version="16.4", interval=1.0,
        redacted=False,
    )  # fmt: skip
    with Writer.open(path, meta) as writer:
        for second in range(60):
            base = SAMPLES[1 if 15 <= second < 45 else 0]
            server = replace(base.server, taken_at=REFRESHED - 59 + second)
            writer.add(replace(base, server=server))
    return path


async def to_the_chain(pilot: Pilot[Any]) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, ReplayScreen)
    await wait_until(pilot, lambda: screen.samples >= 1, "the first moment")
    await pilot.press("n", "full_stop", "full_stop")
    await pilot.pause()


def test_replay(snap_compare: SnapCompare, tmp_path: Path) -> None:
    # `pgconsole replay FILE`: the chain found with `n`, the timeline red where it was.
    with Recording.open(recorded(tmp_path / "shop.pgrec")) as recording:
        assert snap_compare(ReplayApp(recording), terminal_size=(80, 24), run_before=to_the_chain)


# -- the console ---------------------------------------------------------------------------

ITEM_COLUMNS = (
    Column("id", "bigint", numeric=True, not_null=True),
    Column("name", "character varying(40)"),
    Column("price", "numeric(10,2)", numeric=True),
    Column("stock", "integer", numeric=True),
)
ITEM_ROWS = (
    ("1", "Assam, second flush", "12.50", "40"),
    ("2", "Darjeeling", "18.00", "12"),
    ("3", "Genmaicha", "9.80", None),
    ("4", "Lapsang souchong", "14.20", "7"),
    ("5", "Sencha", "11.00", "63"),
)
UNDEFINED_COLUMN = asyncpg.UndefinedColumnError.new(
    {
        "S": "ERROR",
        "C": "42703",
        "M": 'column "nme" does not exist',
        "H": 'Perhaps you meant to reference the column "item.name".',
        "P": "8",
    }
)


class _OpenConnection:
    """Stands for the console's connection: open, never used."""

    def is_closed(self) -> bool:
        return False


class FixedConsoleSession(ConsoleConnection):
    """A console session that answers from fixed rows; `nme` is an unknown column."""

    async def open(self) -> None:
        self.conn = cast(asyncpg.Connection, _OpenConnection())
        self.pid = 4242
        self.statement_timeout = "30s"

    async def close(self) -> None:
        self.conn = None

    async def run(self, statement: Statement) -> Result:
        if "nme" in statement.text:
            raise UNDEFINED_COLUMN
        if "count(*)" in statement.text:
            count = Page((Row((str(len(ITEM_ROWS)),)),), False, False)
            return Result(statement, "SELECT 1", 0.9, 1, (Column("count", "bigint", True),), count)
        page = Page(tuple(Row(cells) for cells in ITEM_ROWS), False, False)
        rows = len(ITEM_ROWS)
        return Result(statement, f"SELECT {rows}", 1.4, rows, ITEM_COLUMNS, page)


class FixedConsole(ConsoleScreen):
    def __init__(self, database: Database) -> None:
        super().__init__(database, read_only=True, target=PARAMS.target)
        self.session = FixedConsoleSession(database, read_only=True)


def run_in_console(sql: str, key: str) -> Any:
    """Open the console, type `sql` and press `key` (F5 or F6); wait for its last statement."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await until_connected(pilot)
        app = cast(ConnectedHarness, pilot.app)
        assert app.database is not None
        console = app.places.sql_console = FixedConsole(app.database)
        await pilot.press("f4")
        await wait_until(pilot, lambda: app.screen is console, "the console")
        editor = console.query_one(SqlEditor)
        editor.cursor_blink = False
        editor.text = sql
        editor.move_cursor(editor.document.end)
        await pilot.press(key)
        statements = sql.count(";") if key == "f6" else 1
        await wait_until(pilot, lambda: len(console.shown) == statements, "the results")
        await pilot.pause()

    return run_before


def test_console_result(snap_compare: SnapCompare) -> None:
    sql = "select id, name, price, stock\n  from shop.item\n order by id;"
    app = ConnectedHarness(PARAMS, Settings(read_only=True))
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_in_console(sql, "f5"))


def test_console_error(snap_compare: SnapCompare) -> None:
    # Two statements run with F6: the first's result is listed, the second's error is shown
    # and the editor's cursor is put on the unknown column.
    sql = "select count(*) from shop.item;\nselect nme, price from shop.item;"
    app = ConnectedHarness(PARAMS, Settings(read_only=True))
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_in_console(sql, "f6"))


# -- the browser ---------------------------------------------------------------------------

PARTITIONED = catalog.RelationKind.PARTITIONED_TABLE
SCHEMAS = (
    catalog.SchemaInfo(2200, "public", "postgres", False, True),
    catalog.SchemaInfo(16384, "shop", "dba", False, True),
)


def relation(
    oid: int, name: str, rows: int | None, size: int | None, **kind: Any
) -> catalog.RelationInfo:
    return catalog.RelationInfo(
        oid=oid,
        schema="shop",
        name=name,
        kind=kind.get("kind", catalog.RelationKind.TABLE),
        owner="dba",
        estimated_rows=rows,
        total_bytes=size,
        parent_oid=kind.get("parent"),
        can_select=True,
    )


CATALOG = catalog.Catalog(
    SCHEMAS,
    (
        relation(16420, "cart", 1_840, 409_600),
        relation(16400, "customer", 52_310, 9_076_736),
        relation(16410, "item", 25, 65_536),
        relation(16440, "item_stock", None, None, kind=catalog.RelationKind.VIEW),
        relation(16430, "orders", 1_204_880, 402_653_184, kind=PARTITIONED),
        relation(16431, "orders_2025", 811_002, 270_532_608, parent=16430),
        relation(16432, "orders_2026", 393_878, 132_120_576, parent=16430),
        relation(16450, "page_view", 18_400_000, 2_147_483_648),
    ),
)


def column(attnum: int, name: str, type_: str, category: str, **more: Any) -> catalog.ColumnInfo:
    return catalog.ColumnInfo(
        attnum=attnum,
        name=name,
        type=type_,
        type_oid=0,
        category=category,
        not_null=more.get("not_null", False),
        base_type=more.get("base_type", type_),
    )


ITEM = catalog.RelationDetail(
    oid=16410,
    schema="shop",
    name="item",
    kind=catalog.RelationKind.TABLE,
    comment=None,
    columns=(
        column(1, "id", "bigint", "N", not_null=True),
        column(2, "name", "character varying(40)", "S", base_type="character varying"),
        column(3, "category", "text", "S"),
        column(4, "price", "numeric(10,2)", "N", base_type="numeric"),
        column(5, "stock", "integer", "N"),
        column(6, "added_at", "timestamp with time zone", "D"),
    ),
    indexes=(),
    constraints=(),
    foreign_keys=(),
    referenced_by=(),
    key=("id",),
    key_source="primary key",
    stats=None,
)
TEAS = (
    ("Assam, second flush", "black"), ("Darjeeling", "black"), ("Genmaicha", "green"),
    ("Lapsang souchong", "black"), ("Sencha", "green"), ("Gyokuro", "green"),
    ("Tieguanyin", "oolong"), ("Da Hong Pao", "oolong"), ("Silver Needle", "white"),
    ("Bai Mu Dan", "white"), ("Keemun", "black"), ("Hojicha", "green"),
    ("Matcha, ceremonial", "green"), ("Pu-erh, 2012 cake", "dark"), ("Rooibos", "herbal"),
    ("Earl Grey", "black"), ("Jasmine pearls", "green"), ("Oriental Beauty", "oolong"),
    ("Ceylon Uva", "black"), ("Nilgiri frost", "black"), ("Kukicha", "green"),
    ("Dong Ding", "oolong"), ("Yunnan gold", "black"), ("Moonlight white", "white"),
    ("Chamomile", "herbal"),
)  # fmt: skip
ITEM_PAGE = Page(
    tuple(
        Row(
            (
                str(n), name, category, f"{7 + (n * 37) % 23}.{(n * 13) % 10}0",
                None if n % 9 == 3 else str((n * 17) % 70),
                f"2026-0{1 + n % 3}-{1 + (n * 11) % 28:02d} 09:{(n * 7) % 60:02d}:00+00",
            ),
            position=(str(n),),
            ident=(str(n),),
        )
        for n, (name, category) in enumerate(TEAS, 1)
    ),
    more_before=False,
    more_after=False,
)  # fmt: skip
"""All 25 rows of shop.item."""


class FixedPager:
    """Pages of shop.item from `ITEM_PAGE`; a filter naming `nme` fails as the server would."""

    def __init__(self, database: Database, spec: BrowseSpec, *args: Any) -> None:
        self.spec = spec
        self.last_sql = ""

    async def first(self) -> Page:
        if "nme" not in self.spec.filter:
            return ITEM_PAGE
        # The statement the server refused, with the filter inside as pgconsole writes it.
        self.last_sql = (
            f"SELECT * FROM shop.item AS {ALIAS} WHERE ({self.spec.filter}) ORDER BY id LIMIT 101"
        )
        position = self.last_sql.index("nme") + 1
        raise asyncpg.UndefinedColumnError.new(
            {
                "S": "ERROR",
                "C": "42703",
                "M": 'column "nme" does not exist',
                "H": f'Perhaps you meant to reference the column "{ALIAS}.name".',
                "P": str(position),
            }
        )

    async def last(self) -> Page:
        return ITEM_PAGE

    async def after(self, row: Row) -> Page:
        return Page((), True, False)

    async def before(self, row: Row) -> Page:
        return Page((), False, True)

    @property
    def idle_deadline(self) -> float | None:
        return None

    async def close_if_idle(self) -> bool:
        return False

    async def close(self) -> None:
        return None

    @property
    def holds_cursor(self) -> bool:
        return False

    async def full_value(self, row: Row, column: str) -> str | None:
        return row.cells[[c.name for c in self.spec.columns].index(column)]


class BrowsingDatabase(FrozenDatabase):
    """The frozen session, whose pool hands out a connection the fixed catalog never uses."""

    @contextlib.asynccontextmanager
    async def transaction(self, *, readonly: bool = False) -> AsyncIterator[Conn]:
        yield cast(Conn, None)


class BrowsingConnector(Connector):
    async def attempt(self) -> Opening:
        return Opening(PasswordChoice(None, PasswordSource.NONE), BrowsingDatabase())


class BrowsingHarness(ConnectedHarness):
    CONNECTOR = BrowsingConnector


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> BrowsingHarness:
    """The app, opening shop.item from fixed pages under a fixed schema tree."""

    async def load_catalog(conn: object, *, include_system: bool = False) -> catalog.Catalog:
        return CATALOG

    async def find_relation(database: object, text: str) -> catalog.RelationDetail:
        return ITEM

    monkeypatch.setattr(browse_tree, "load_catalog", load_catalog)
    monkeypatch.setattr(relation_reader, "find_relation", find_relation)
    monkeypatch.setattr(relation_reader, "Pager", FixedPager)
    return BrowsingHarness(PARAMS, Settings(read_only=True), table="shop.item")


async def until_browsing(pilot: Pilot[Any]) -> None:
    await until_connected(pilot)
    screen = cast(ConnectedHarness, pilot.app).main_screen
    await wait_until(
        pilot, lambda: len(screen.grid.rows) == len(TEAS) and screen.catalog is not None, "rows"
    )
    await pilot.pause()


def test_browser(snap_compare: SnapCompare, browser: BrowsingHarness) -> None:
    assert snap_compare(browser, terminal_size=(80, 24), run_before=until_browsing)


def test_browser_tree(snap_compare: SnapCompare, browser: BrowsingHarness) -> None:
    # Below 90 columns the grid has the whole width; Tab opens the schema tree over it.
    async def open_tree(pilot: Pilot[Any]) -> None:
        await until_browsing(pilot)
        await pilot.press("tab")
        await pilot.pause()

    assert snap_compare(browser, terminal_size=(80, 24), run_before=open_tree)


def test_browser_at_120x36(snap_compare: SnapCompare, browser: BrowsingHarness) -> None:
    assert snap_compare(browser, terminal_size=(120, 36), run_before=until_browsing)


def test_filter_error(snap_compare: SnapCompare, browser: BrowsingHarness) -> None:
    # A filter naming a column that does not exist: the rows stay, the caret points at it.
    async def refused_filter(pilot: Pilot[Any]) -> None:
        await until_browsing(pilot)
        await pilot.press("w")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, FilterScreen), "the prompt")
        prompt = pilot.app.screen.query_one(Input)
        prompt.value = "category = 'green' and nme like 'G%'"
        await pilot.press("enter")
        screen = cast(ConnectedHarness, pilot.app).main_screen
        await wait_until(pilot, lambda: screen.filters.failed is not None, "the refusal")
        await pilot.pause()

    assert snap_compare(browser, terminal_size=(80, 24), run_before=refused_filter)
