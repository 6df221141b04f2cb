"""The browser's schema tree side: loading the catalog, and the keys that move the tree.

Mixed into `MainScreen`, whose bindings name these actions (/, Tab, [, ], \\, R, S): they
work from the grid too. The catalog is read in one query in the screen's `catalog` worker
and handed to the `TreePane`, which shows it and lays itself out beside or over the grid.
"""

from __future__ import annotations

from typing import Protocol

from textual import work
from textual.widgets import ContentSwitcher
from textual.worker import Worker

from pgconsole.db.browse.catalog import RelationDetail, load_catalog
from pgconsole.db.browse.pages import BrowseSpec
from pgconsole.db.connection.errors import DB_ERRORS
from pgconsole.db.connection.failures import describe_error
from pgconsole.db.connection.pool import Database
from pgconsole.screens.relation_reader import RelationReader
from pgconsole.widgets.grid import DataGrid
from pgconsole.widgets.tree_pane import TreePane
from pgconsole.words import counted


class TreeScreen(Protocol):
    """What the tree side needs of the screen it is mixed into."""

    database: Database | None
    detail: RelationDetail | None
    spec: BrowseSpec | None
    reader: RelationReader

    @property
    def tree_pane(self) -> TreePane: ...

    @property
    def switcher(self) -> ContentSwitcher: ...

    @property
    def grid(self) -> DataGrid: ...

    def say(self, text: str, *, error: bool = False) -> None: ...

    def load_tree(self) -> Worker[None]: ...

    def refresh_bindings(self) -> None: ...


def leave_tree(screen: TreeScreen) -> None:
    """Back to the grid: a tree over it goes."""
    screen.tree_pane.close()
    if screen.switcher.current == "grid":
        screen.grid.focus()


def go_to_tree(screen: TreeScreen) -> None:
    """To the tree: a hidden one shows (over the grid when narrow)."""
    screen.tree_pane.open()
    screen.tree_pane.schema_tree.focus()


RELATION_KEYS = frozenset({"switch_pane", "toggle_tree"})
"""Tree keys that act only with a relation open: Tab goes to its grid, `\\` hides the tree
beside it. Before, the tree is all there is: they would do nothing, and are not offered."""


class BrowseTree:
    """The browser's catalog load and tree keys (mixed into `MainScreen`)."""

    def check_action(self: TreeScreen, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Tab and `\\` are neither run nor shown on the key bar until a relation is open."""
        return self.spec is not None or action not in RELATION_KEYS

    @work(exclusive=True, group="catalog", exit_on_error=False)
    async def load_tree(self: TreeScreen) -> None:
        """Load every schema and relation in one catalog query, then fill the tree.

        With no relation open, the message line then counts them, unless it explains why
        `--table` could not be opened.
        """
        if self.database is None:
            return
        pane = self.tree_pane
        try:
            async with self.database.transaction(readonly=True) as conn:
                catalog = await load_catalog(conn, include_system=pane.include_system)
        except DB_ERRORS as error:
            self.say("Could not load the schema tree: " + describe_error(error), error=True)
            return
        pane.catalog = catalog
        if self.spec is not None and self.detail is not None:
            self.reader.show_title()  # the estimate comes with the catalog
        elif not self.reader.start_failed:
            relations, schemas = len(catalog.relations), len(catalog.schemas)
            self.say(f"{counted(relations, 'relation')} in {counted(schemas, 'schema')}")

    def action_filter_tree(self: TreeScreen) -> None:
        """Type to narrow the tree."""
        self.tree_pane.open()
        self.tree_pane.find_box.focus()

    def action_tree_width(self: TreeScreen, step: int) -> None:
        """Make the tree pane wider or narrower by `step` cells."""
        self.tree_pane.widen(step)

    def action_toggle_tree(self: TreeScreen) -> None:
        """Hide the tree, or show it and go to it."""
        if self.spec is not None and self.tree_pane.display:
            self.tree_pane.hide()
            if self.switcher.current == "grid":
                self.grid.focus()
        else:
            go_to_tree(self)

    def action_switch_pane(self: TreeScreen) -> None:
        """Tab: from the tree to the grid and back (the find box is `/`, not a Tab stop).

        Going to a hidden tree shows it; below 90 columns, leaving it hides it again.
        """
        if self.grid.has_focus or self.switcher.current != "grid":
            go_to_tree(self)
        else:
            leave_tree(self)

    def action_refresh_catalog(self: TreeScreen) -> None:
        """Reload the schema tree."""
        self.load_tree()

    def action_toggle_system(self: TreeScreen) -> None:
        """Show or hide pg_catalog, information_schema and the other system schemas."""
        self.tree_pane.include_system = not self.tree_pane.include_system
        self.load_tree()
