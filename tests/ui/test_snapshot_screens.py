"""Snapshots of the modal and secondary screens at 80x24, each from fixed data.

Each screen is pushed onto a small harness app (the app's own stylesheet and keys, nothing
else) with what it would show in a session on shop.item: nothing here reaches a server, and
nothing drawn depends on the clock, the time zone, the home directory or the history file.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import asyncpg
import pytest
from textual.app import App
from textual.binding import BindingType
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, Static, TextArea

from pgconsole.app import PgConsoleApp
from pgconsole.db.browse.catalog import (
    ColumnInfo,
    ConstraintInfo,
    ConstraintType,
    ForeignKey,
    Identity,
    IndexInfo,
    ReferentialAction,
    RelationDetail,
    RelationKind,
    RelationRef,
    TableStats,
)
from pgconsole.db.browse.pages import (
    ALIAS,
    BrowseSpec,
    Column,
    Row,
    Tracking,
    ident_conditions,
    row_list,
    text_param,
)
from pgconsole.db.connection.failures import classify, describe_error
from pgconsole.db.console.explain import parse_plan
from pgconsole.db.console.history import Entry, History
from pgconsole.db.edit.transaction import Conflict, Statement, Value, plan_edits
from pgconsole.db.quoting import qualified, quote_ident
from pgconsole.paths import STYLES
from pgconsole.screens import export
from pgconsole.screens.cell_editor import CellEditorScreen
from pgconsole.screens.confirm import ChoiceScreen, ConfirmScreen
from pgconsole.screens.conflict import ConflictScreen
from pgconsole.screens.connection_error import ConnectionErrorScreen
from pgconsole.screens.explain import ExplainScreen
from pgconsole.screens.export import ExportScreen
from pgconsole.screens.filter import FilterScreen
from pgconsole.screens.history import HistoryScreen
from pgconsole.screens.insert import InsertScreen
from pgconsole.screens.password import PasswordScreen
from pgconsole.screens.relation import RelationScreen
from pgconsole.screens.sql_log import SqlLogScreen
from pgconsole.screens.value import ValueScreen
from tests.helpers.ui import wait_until
from tests.ui.test_snapshots import PARAMS, FrozenDatabase, SnapCompare

SIZE = (80, 24)


class ScreenHarness(App[None]):
    """Shows one screen over an empty home screen, styled and keyed as in pgconsole."""

    CSS_PATH = STYLES / "app.tcss"
    # A full screen's key bar lists the app's keys after its own, as it does in pgconsole.
    BINDINGS: ClassVar[list[BindingType]] = PgConsoleApp.BINDINGS

    def __init__(self, screen: Screen[Any]) -> None:
        super().__init__()
        self.shown = screen

    def on_mount(self) -> None:
        self.push_screen(self.shown)


Step = Callable[[Pilot[Any]], Awaitable[None]]


def shown_with(then: Step | None = None) -> Step:
    """Wait for the harness's screen, steady (cursors do not blink), then run `then`."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, ScreenHarness)
        await wait_until(
            pilot, lambda: app.screen is app.shown and app.shown.is_mounted, "the screen"
        )
        for widget in app.screen.query("Input, TextArea"):
            assert isinstance(widget, Input | TextArea)
            widget.cursor_blink = False
        if then is not None:
            await then(pilot)
        await pilot.pause()

    return run_before


def snapshot(snap_compare: SnapCompare, screen: Screen[Any], then: Step | None = None) -> bool:
    return snap_compare(ScreenHarness(screen), terminal_size=SIZE, run_before=shown_with(then))


async def type_text(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*("space" if char == " " else char for char in text))


# -- shop.item -----------------------------------------------------------------------------


def column(attnum: int, name: str, type_: str, category: str, **more: Any) -> ColumnInfo:
    return ColumnInfo(
        attnum=attnum,
        name=name,
        type=type_,
        type_oid=0,
        category=category,
        not_null=more.get("not_null", True),
        default=more.get("default"),
        identity=more.get("identity"),
        base_type=more.get("base_type", type_),
    )


COLUMNS = (
    column(1, "id", "bigint", "N", identity=Identity.ALWAYS),
    column(2, "name", "character varying(40)", "S", base_type="character varying"),
    column(3, "category", "text", "S"),
    column(4, "price", "numeric(10,2)", "N", base_type="numeric"),
    column(5, "stock", "integer", "N", default="0"),
    column(6, "added_at", "timestamp with time zone", "D", default="now()"),
    column(7, "attributes", "jsonb", "U", default="'{}'::jsonb"),
)


def index(oid: int, name: str, definition: str, columns: tuple[str, ...], **more: Any) -> IndexInfo:
    return IndexInfo(
        oid=oid,
        name=name,
        definition=f"CREATE {definition}",
        method="btree",
        unique=more.get("unique", False),
        primary=more.get("primary", False),
        valid=True,
        partial=False,
        columns=columns,
        include=(),
        leading_column=columns[0],
        all_not_null=True,
        size_bytes=more.get("size", 16_384),
    )


ITEM_REF = RelationRef(16410, "shop", "item")
ORDER_LINE_REF = RelationRef(16460, "shop", "order_line")
ITEM = RelationDetail(
    oid=16410,
    schema="shop",
    name="item",
    kind=RelationKind.TABLE,
    comment=None,
    columns=COLUMNS,
    indexes=(
        index(
            16411,
            "item_pkey",
            "UNIQUE INDEX item_pkey ON shop.item USING btree (id)",
            ("id",),
            unique=True,
            primary=True,
        ),
        index(
            16413,
            "item_name_key",
            "UNIQUE INDEX item_name_key ON shop.item USING btree (name)",
            ("name",),
            unique=True,
        ),
        index(
            16415,
            "item_category_price_idx",
            "INDEX item_category_price_idx ON shop.item USING btree (category, price)",
            ("category", "price"),
            size=32_768,
        ),
    ),
    constraints=(
        ConstraintInfo("item_pkey", ConstraintType.PRIMARY_KEY, "PRIMARY KEY (id)", True),
        ConstraintInfo("item_name_key", ConstraintType.UNIQUE, "UNIQUE (name)", True),
        ConstraintInfo(
            "item_price_check", ConstraintType.CHECK, "CHECK ((price >= (0)::numeric))", True
        ),
        ConstraintInfo("item_stock_check", ConstraintType.CHECK, "CHECK ((stock >= 0))", True),
    ),
    foreign_keys=(),
    referenced_by=(
        ForeignKey(
            name="order_line_item_id_fkey",
            source=ORDER_LINE_REF,
            source_columns=("item_id",),
            target=ITEM_REF,
            target_columns=("id",),
            on_update=ReferentialAction.NO_ACTION,
            on_delete=ReferentialAction.RESTRICT,
            definition="FOREIGN KEY (item_id) REFERENCES shop.item(id) ON DELETE RESTRICT",
            validated=True,
        ),
    ),
    key=("id",),
    key_source="primary key",
    stats=TableStats(
        seq_scan=1_204,
        idx_scan=88_310,
        n_live_tup=25,
        n_dead_tup=3,
        last_vacuum=None,
        last_autovacuum=datetime(2026, 3, 1, 3, 12, tzinfo=UTC),
        last_analyze=datetime(2026, 2, 27, 16, 40, tzinfo=UTC),
        last_autoanalyze=datetime(2026, 3, 1, 3, 12, tzinfo=UTC),
    ),
)
"""shop.item as the catalog describes it."""

GRID_COLUMNS = tuple(
    Column(c.name, c.type, numeric=c.category == "N", not_null=c.not_null, base_type=c.base_type)
    for c in COLUMNS
)
SPEC = BrowseSpec("shop", "item", GRID_COLUMNS, key=("id",), tracking=Tracking.KEY)
ATTRIBUTES = {
    "origin": {"country": "India", "region": "Assam", "estate": "Halmari", "altitude_m": 110},
    "harvest": {"flush": "second", "picked": "2025-06-14", "lot": "HM-2025-061"},
    "tasting": ["malty", "honey", "dried fig", "brisk"],
    "brewing": {"grams": 3, "water_c": 95, "minutes": 4, "infusions": 1, "milk": True},
    "certifications": ["organic", "rainforest alliance"],
    "packaging": {"weight_g": 100, "material": "kraft pouch, resealable"},
}
ASSAM = Row(
    ("1", "Assam, second flush", "black", "12.50", "40", "2026-01-12 09:07:00+00", "{…}"),
    position=("1",),
    ident=("1",),
    version="81234",
)


# -- editing -------------------------------------------------------------------------------


def server_error(fields: dict[str, str]) -> str:
    """What the server's refusal reads as where pgconsole shows one."""
    return describe_error(asyncpg.PostgresError.new({"S": "ERROR", **fields}))


def test_cell_editor(snap_compare: SnapCompare) -> None:
    # A typed value the server refused: the text stays, the error is under it.
    async def save(value: Value) -> str | None:
        return server_error(
            {"C": "22P02", "M": f'invalid input syntax for type integer: "{value}"'}
        )

    editor = CellEditorScreen("stock of shop.item", "integer", "40", save, note="default: 0")

    async def refused(pilot: Pilot[Any]) -> None:
        await type_text(pilot, "forty")
        await pilot.press("ctrl+s")
        error = editor.query_one("#editor-error", Static)
        await wait_until(pilot, lambda: "22P02" in str(error.content), "the refusal")

    assert snapshot(snap_compare, editor, refused)


def test_insert_form(snap_compare: SnapCompare) -> None:
    # id is GENERATED ALWAYS: not offered. Empty fields take their default (the placeholder).
    async def save(values: object) -> str | None:
        return None

    form = InsertScreen(ITEM, plan_edits(ITEM, physical=False), save)

    async def typed(pilot: Pilot[Any]) -> None:
        await type_text(pilot, "Gyokuro, Yame")
        await pilot.press("tab")
        await type_text(pilot, "green")
        await pilot.press("tab")
        await type_text(pilot, "24.00")
        await pilot.press("tab")

    assert snapshot(snap_compare, form, typed)


def test_conflict(snap_compare: SnapCompare) -> None:
    # Someone else saved a price between the read and this save.
    theirs = Row(
        (*ASSAM.cells[:3], "12.90", *ASSAM.cells[4:]), ASSAM.position, None, ASSAM.ident, "81377"
    )
    conflict = Conflict(ASSAM, theirs, {"price": "13.00"})
    assert snapshot(snap_compare, ConflictScreen(conflict, GRID_COLUMNS, "overwrite"))


def test_confirm(snap_compare: SnapCompare) -> None:
    question = ConfirmScreen(
        "shop.page_view has no key: edit by physical row?",
        "Rows are found by ctid and checked against xmin: a change touches exactly "
        "the row you see, or is refused. The rows are read again now.",
    )
    assert snapshot(snap_compare, question)


def test_choice(snap_compare: SnapCompare) -> None:
    choice = ChoiceScreen(
        "A transaction is open: 2 updates, 1 insert in shop.item",
        [("c", "commit"), ("r", "roll back"), ("escape", "cancel")],
    )
    assert snapshot(snap_compare, choice)


def cast_param(number: int, name: str) -> str:
    """A typed value's `$n`, cast as the edit transaction casts it."""
    return text_param(number, SPEC.column(name).value_type)


def edit_statements() -> list[Statement]:
    """What an edit transaction on shop.item sent: BEGIN, an update, an insert refused (and
    undone), an insert kept; each as the transaction writes it."""
    target, returning = qualified("shop", "item"), row_list(SPEC, with_position=True)
    where, _ = ident_conditions(SPEC, ASSAM, 2)
    price = f"{quote_ident('price')} = {cast_param(1, 'price')}"
    update = (
        f"UPDATE {target} AS {ALIAS} SET {price} WHERE {where[0]} AND {ALIAS}.xmin = $3::text::xid"
        f" RETURNING {returning}"
    )
    names = ("name", "category", "price")
    insert = (
        f"INSERT INTO {target} AS {ALIAS} ({', '.join(quote_ident(n) for n in names)})"
        f" VALUES ({', '.join(cast_param(i, n) for i, n in enumerate(names, 1))})"
        f" RETURNING {returning}"
    )
    refused = server_error(
        {
            "C": "23505",
            "M": 'duplicate key value violates unique constraint "item_name_key"',
            "D": "Key (name)=(Sencha) already exists.",
        }
    ).splitlines()[0]
    return [
        Statement("BEGIN", (), "BEGIN"),
        Statement(update, ("13.00", "1", "81234"), "UPDATE 1"),
        Statement(insert, ("Sencha", "green", "11.00"), f"undone: {refused}"),
        Statement(insert, ("Gyokuro, Yame", "green", "24.00"), "INSERT 1"),
    ]


def test_sql_log(snap_compare: SnapCompare) -> None:
    assert snapshot(snap_compare, SqlLogScreen(edit_statements()))


# -- reading -------------------------------------------------------------------------------


def test_relation_details(snap_compare: SnapCompare) -> None:
    assert snapshot(snap_compare, RelationScreen(ITEM))


def test_value(snap_compare: SnapCompare) -> None:
    # A jsonb value as the grid holds it (one line), shown indented.
    value = json.dumps(ATTRIBUTES)
    assert snapshot(snap_compare, ValueScreen("attributes", "jsonb", value))


def test_filter_prompt(snap_compare: SnapCompare) -> None:
    # A ';' typed out of habit: refused before anything reaches the server, with a caret.
    prompt = FilterScreen("shop.item", columns=GRID_COLUMNS)

    async def refused(pilot: Pilot[Any]) -> None:
        await type_text(pilot, "category = 'green' and price < 12.5;")
        await pilot.press("enter")
        error = prompt.query_one("#filter-error", Static)
        await wait_until(pilot, lambda: "';'" in str(error.content), "the refusal")

    assert snapshot(snap_compare, prompt, refused)


def test_export(snap_compare: SnapCompare, monkeypatch: pytest.MonkeyPatch) -> None:
    # The folder proposed is the user's download folder: a fixed one here.
    monkeypatch.setattr(export, "default_folder", lambda: Path("/home/dba/Downloads"))
    filtered = BrowseSpec(
        "shop", "item", GRID_COLUMNS, key=("id",), filter="category = 'green'", equals=()
    )
    assert snapshot(snap_compare, ExportScreen(FrozenDatabase(), filtered, 25))


# -- the console ---------------------------------------------------------------------------

PLAN = [
    {
        "Plan": {
            "Node Type": "Sort",
            "Startup Cost": 418.62,
            "Total Cost": 418.87,
            "Plan Rows": 98,
            "Plan Width": 45,
            "Actual Startup Time": 9.804,
            "Actual Total Time": 9.871,
            "Actual Rows": 1184,
            "Actual Loops": 1,
            "Sort Key": ["o.placed_at DESC"],
            "Sort Method": "quicksort",
            "Shared Hit Blocks": 3611,
            "Shared Read Blocks": 212,
            "Plans": [
                {
                    "Node Type": "Hash Join",
                    "Join Type": "Inner",
                    "Startup Cost": 1.56,
                    "Total Cost": 415.38,
                    "Plan Rows": 98,
                    "Plan Width": 45,
                    "Actual Startup Time": 0.061,
                    "Actual Total Time": 9.322,
                    "Actual Rows": 1184,
                    "Actual Loops": 1,
                    "Hash Cond": "(l.item_id = i.id)",
                    "Shared Hit Blocks": 3611,
                    "Shared Read Blocks": 212,
                    "Plans": [
                        {
                            "Node Type": "Nested Loop",
                            "Join Type": "Inner",
                            "Startup Cost": 0.85,
                            "Total Cost": 412.51,
                            "Plan Rows": 98,
                            "Plan Width": 30,
                            "Actual Startup Time": 0.032,
                            "Actual Total Time": 8.604,
                            "Actual Rows": 1184,
                            "Actual Loops": 1,
                            "Shared Hit Blocks": 3610,
                            "Shared Read Blocks": 212,
                            "Plans": [
                                {
                                    "Node Type": "Index Scan",
                                    "Index Name": "orders_2026_customer_id_idx",
                                    "Relation Name": "orders_2026",
                                    "Schema": "shop",
                                    "Alias": "o",
                                    "Startup Cost": 0.42,
                                    "Total Cost": 96.3,
                                    "Plan Rows": 31,
                                    "Plan Width": 22,
                                    "Actual Startup Time": 0.018,
                                    "Actual Total Time": 1.944,
                                    "Actual Rows": 402,
                                    "Actual Loops": 1,
                                    "Index Cond": "(customer_id = 4711)",
                                    "Shared Hit Blocks": 398,
                                    "Shared Read Blocks": 9,
                                },
                                {
                                    "Node Type": "Index Scan",
                                    "Index Name": "order_line_order_id_idx",
                                    "Relation Name": "order_line",
                                    "Schema": "shop",
                                    "Alias": "l",
                                    "Startup Cost": 0.43,
                                    "Total Cost": 10.17,
                                    "Plan Rows": 3,
                                    "Plan Width": 16,
                                    "Actual Startup Time": 0.009,
                                    "Actual Total Time": 0.015,
                                    "Actual Rows": 3,
                                    "Actual Loops": 402,
                                    "Index Cond": "(order_id = o.id)",
                                    "Shared Hit Blocks": 3212,
                                    "Shared Read Blocks": 203,
                                },
                            ],
                        },
                        {
                            "Node Type": "Hash",
                            "Startup Cost": 1.25,
                            "Total Cost": 1.25,
                            "Plan Rows": 25,
                            "Plan Width": 23,
                            "Actual Startup Time": 0.021,
                            "Actual Total Time": 0.022,
                            "Actual Rows": 25,
                            "Actual Loops": 1,
                            "Shared Hit Blocks": 1,
                            "Plans": [
                                {
                                    "Node Type": "Seq Scan",
                                    "Relation Name": "item",
                                    "Schema": "shop",
                                    "Alias": "i",
                                    "Startup Cost": 0.0,
                                    "Total Cost": 1.25,
                                    "Plan Rows": 25,
                                    "Plan Width": 23,
                                    "Actual Startup Time": 0.006,
                                    "Actual Total Time": 0.011,
                                    "Actual Rows": 25,
                                    "Actual Loops": 1,
                                    "Shared Hit Blocks": 1,
                                }
                            ],
                        },
                    ],
                }
            ],
        },
        "Planning Time": 0.412,
        "Execution Time": 10.093,
    }
]
"""EXPLAIN (FORMAT JSON, ANALYZE, BUFFERS) of a customer's order lines: 31 orders planned,
402 found (the misestimate mark), the order lines' index scan the hottest node."""

EXPLAINED = """select o.id, o.placed_at, i.name, l.quantity
  from shop.orders o
  join shop.order_line l on l.order_id = o.id
  join shop.item i on i.id = l.item_id
 where o.customer_id = 4711 and o.placed_at >= '2026-01-01'
 order by o.placed_at desc"""


def test_explain(snap_compare: SnapCompare) -> None:
    plan = parse_plan(PLAN, rolled_back=True)
    assert snapshot(snap_compare, ExplainScreen(plan, EXPLAINED))


def at(month: int, day: int, hour: int, minute: int) -> datetime:
    """A wall-clock time in the local zone: the history shows it as written, in any zone."""
    return datetime(2026, month, day, hour, minute).astimezone()


HISTORY = [
    Entry(at(3, 2, 14, 1), PARAMS.target, EXPLAINED, True, 10.5),
    Entry(at(3, 2, 13, 58), PARAMS.target, "select nme, price from shop.item", False, 0.9),
    Entry(at(3, 2, 13, 57), PARAMS.target, "select count(*) from shop.item", True, 0.9),
    Entry(
        at(3, 2, 11, 20),
        PARAMS.target,
        "update shop.item set stock = stock + 24 where name = 'Sencha'",
        True,
        2.1,
    ),
    Entry(
        at(3, 1, 17, 45),
        "reports@db2.example.com:5432/shop",
        "select date_trunc('month', placed_at) as month, sum(total)\n"
        "  from shop.orders group by 1 order by 1",
        True,
        812.4,
    ),
    Entry(at(2, 27, 9, 5), PARAMS.target, "vacuum (analyze, verbose) shop.item", True, 140.2),
]
"""The newest first, as the history lists them."""


class FixedHistory(History):
    """Searches `HISTORY` (its file, in a temporary folder, is never written)."""

    def entries(self, limit: int | None = None) -> list[Entry]:
        return HISTORY[:limit]

    def search(self, text: str, limit: int = 200) -> list[Entry]:
        words = text.lower().split()
        return [e for e in HISTORY if all(w in e.sql.lower() for w in words)][:limit]


def test_history(snap_compare: SnapCompare, tmp_path: Path) -> None:
    history = FixedHistory(tmp_path / "history.jsonl")
    screen = HistoryScreen(history, PARAMS.target)

    async def loaded(pilot: Pilot[Any]) -> None:
        hint = screen.query_one("#history-hint", Static)
        await wait_until(pilot, lambda: "6 statements" in str(hint.content), "the entries")

    assert snapshot(snap_compare, screen, loaded)


# -- connecting ----------------------------------------------------------------------------


def test_password_prompt(snap_compare: SnapCompare) -> None:
    prompt = PasswordScreen(PARAMS.target, "The password stored in the keyring was rejected.")

    async def typed(pilot: Pilot[Any]) -> None:
        await type_text(pilot, "correct horse")

    assert snapshot(snap_compare, prompt, typed)


def test_connection_error_with_detail_and_hint(snap_compare: SnapCompare) -> None:
    # After an OS upgrade the database's collation is no locale the server knows.
    error = asyncpg.PostgresError.new(
        {
            "S": "FATAL",
            "C": "XX000",
            "M": "database locale is incompatible with operating system",
            "D": 'The database was initialized with LC_COLLATE "de_DE.UTF-8", which is not '
            "recognized by setlocale().",
            "H": "Recreate the database with another locale or install the missing locale.",
        }
    )
    assert snapshot(snap_compare, ConnectionErrorScreen(classify(error, PARAMS)))
