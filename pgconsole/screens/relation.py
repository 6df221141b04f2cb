"""Relation details: columns, indexes, constraints, foreign keys both ways, table stats, and
the operations in progress on it (VACUUM, CREATE INDEX...), read every 2 s while shown."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from datetime import datetime
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from pgconsole.db.browse.catalog import ForeignKey, RelationDetail
from pgconsole.db.connection.errors import DB_ERRORS
from pgconsole.db.connection.pool import Database
from pgconsole.db.type_names import display_type
from pgconsole.paths import STYLES
from pgconsole.text import visible
from pgconsole.widgets.schema_tree import human_size

PROGRESS_INTERVAL = 2.0
"""Seconds between readings of the operations in progress on the relation."""


def _t(value: object, style: str = "") -> Text:
    """Database text as a rich Text: never parsed as markup, controls made visible."""
    if value is None:
        return Text("")
    return Text(visible(str(value)), style=style)


def _table(title: str, headers: Iterable[str], rows: Iterable[Iterable[Text]]) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", expand=True, box=None)
    for header in headers:
        table.add_column(header, style="", header_style="dim", overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def _when(value: datetime | None) -> Text:
    return _t(value.strftime("%Y-%m-%d %H:%M") if value else "never", "" if value else "dim")


def _fk_rows(keys: Iterable[ForeignKey], outgoing: bool) -> list[list[Text]]:
    rows = []
    for key in keys:
        other = key.target if outgoing else key.source
        mine, theirs = (
            (key.source_columns, key.target_columns)
            if outgoing
            else (key.target_columns, key.source_columns)
        )
        rows.append(
            [
                _t(key.name),
                _t(", ".join(mine)),
                _t(f"{other.schema}.{other.name} ({', '.join(theirs)})"),
                _t(f"on delete {key.on_delete.value}"),
            ]
        )
    return rows


def detail_tables(detail: RelationDetail) -> list[Table]:
    """Everything about one relation, as a few compact tables."""
    key = set(detail.key or ())
    tables = [
        _table(
            "Columns",
            ("name", "type", "null", "default / generated"),
            (
                [
                    _t(c.name + (" ⚷" if c.name in key else ""), "bold" if c.name in key else ""),
                    _t(display_type(c.type)),
                    _t("" if c.not_null else "null", "dim"),
                    _t(
                        f"generated: {c.generated}"
                        if c.generated
                        else f"identity {c.identity.value}"
                        if c.identity
                        else c.default
                    ),
                ]
                for c in detail.columns
            ),
        )
    ]
    if detail.indexes:
        tables.append(
            _table(
                "Indexes",
                ("name", "definition", "size"),
                (
                    [
                        _t(i.name + ("" if i.valid else " (INVALID)"), "" if i.valid else "red"),
                        _t(i.definition.split(" USING ", 1)[-1]),
                        _t(human_size(i.size_bytes)),
                    ]
                    for i in detail.indexes
                ),
            )
        )
    if detail.constraints:
        tables.append(
            _table(
                "Constraints",
                ("name", "type", "definition"),
                ([_t(c.name), _t(c.type.value), _t(c.definition)] for c in detail.constraints),
            )
        )
    if detail.foreign_keys:
        tables.append(
            _table("References", ("name", "columns", "to", ""), _fk_rows(detail.foreign_keys, True))
        )
    if detail.referenced_by:
        tables.append(
            _table(
                "Referenced by",
                ("name", "columns", "from", ""),
                _fk_rows(detail.referenced_by, False),
            )
        )
    if detail.stats is not None:
        s = detail.stats
        tables.append(
            _table(
                "Activity",
                ("seq scans", "index scans", "live rows", "dead rows", "vacuumed", "analyzed"),
                [
                    [
                        _t(f"{s.seq_scan:,}"),
                        _t("no index" if s.idx_scan is None else f"{s.idx_scan:,}"),
                        _t(f"{s.n_live_tup:,}"),
                        _t(f"{s.n_dead_tup:,}"),
                        _when(max(filter(None, (s.last_vacuum, s.last_autovacuum)), default=None)),
                        _when(
                            max(filter(None, (s.last_analyze, s.last_autoanalyze)), default=None)
                        ),
                    ]
                ],
            )
        )
    return tables


class RelationScreen(ModalScreen[None]):
    """Details of the open relation; Esc, q or i closes."""

    CSS_PATH = STYLES / "relation.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,i", "close", "Close"),
    ]

    def __init__(self, detail: RelationDetail, database: Database | None = None) -> None:
        """Args:
        detail: What the catalog says of the relation.
        database: The pool to read the operations in progress with; none read if None.
        """
        super().__init__()
        self.detail = detail
        self.database = database

    def compose(self) -> ComposeResult:
        detail = self.detail
        title = Text.assemble(
            (visible(f"{detail.schema}.{detail.name}"), "bold"),
            f"  {detail.kind.value}",
            (
                f"  key: {visible(detail.key_source)}" if detail.key else "  no row key",
                "dim" if detail.key else "yellow",
            ),
        )
        with Vertical(id="relation-box"):
            yield Static(title, id="relation-heading")
            yield Static(id="relation-progress")
            if detail.comment:
                yield Static(_t(detail.comment, "italic"))
            with VerticalScroll(id="relation-scroll"):
                for number, table in enumerate(detail_tables(detail)):
                    yield Static(table, id=f"relation-table-{number}", classes="relation-table")

    def on_mount(self) -> None:
        if self.database is not None:
            self.watch_progress(self.database)

    @work(exclusive=True, group="relation-progress", exit_on_error=False)
    async def watch_progress(self, database: Database) -> None:
        """The operations in progress on this relation, a line each, while the screen shows;
        a failed reading leaves the lines out (the details stand on their own)."""
        # Loaded when first used: the browser's start path has no need of them.
        from pgconsole.db.diagnostics.progress import ProgressRates, on_relation, read_progress
        from pgconsole.widgets import progress_view

        rates = ProgressRates()
        box = self.query_one("#relation-progress", Static)
        while True:
            try:
                async with database.pool.acquire() as conn:
                    operations = await read_progress(conn)
            except DB_ERRORS:
                operations = ()
            mine = on_relation(operations, self.detail.schema, self.detail.name)
            paces = rates.update(mine, time.monotonic())
            box.display = bool(mine)
            box.update(progress_view.lines(mine, paces))
            await asyncio.sleep(PROGRESS_INTERVAL)

    def action_close(self) -> None:
        """Back to the grid."""
        self.dismiss(None)
