"""The browser's left pane: the find box over the schema tree, sized to the tree's labels.

At 90 columns and more the pane stands beside the grid (the user may hide it). Below, with a
relation open, the grid takes the whole width and the pane lies over it while the user is in
it. With no relation open the tree is all there is to use, so it shows at any width.
"""

from __future__ import annotations

from textual import getters, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Input

from pgconsole.db.browse.catalog import Catalog
from pgconsole.widgets.schema_tree import (
    NARROW_SCREEN,
    PANE_CHROME,
    SchemaTree,
    TreeFind,
    pane_width,
)


class TreePane(Vertical):
    """The find box and the schema tree; lays itself out beside or over the grid."""

    catalog: reactive[Catalog | None] = reactive(None, init=False, always_update=True)
    """Every schema and relation: the tree shows them (narrowed by the find box)."""
    relation: reactive[int | None] = reactive(None, init=False, always_update=True)
    """The oid of the relation open in the grid beside the tree (None: none yet)."""

    class HiddenWithFocus(Message):
        """The pane was hidden while the focus was in it (the terminal narrowed below 90
        columns): the screen gives the focus to the grid, or keys go to a box no one sees."""

    schema_tree = getters.query_one(SchemaTree)
    """The schema tree."""
    find_box = getters.query_one(TreeFind)
    """The find box over the tree."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.added_width = 0
        """Cells the user added to the pane's width (`]`), or took away (`[`)."""
        self.hidden_by_user = False
        """The user hid the pane beside the grid, at 90 columns and more."""
        self.overlay_open = False
        """Below 90 columns: the pane lies over the grid while the user is in it."""
        self.include_system = False
        """The catalog holds pg_catalog, information_schema and the other system schemas."""

    def compose(self) -> ComposeResult:
        yield TreeFind(placeholder="/ find table", id="tree-filter")
        yield SchemaTree(id="tree")

    def watch_catalog(self, catalog: Catalog | None) -> None:
        if catalog is None:
            return
        self.schema_tree.show(catalog, self.find_box.value)
        self.lay_out()
        if self.relation is not None:
            self.schema_tree.select_relation(self.relation)

    def watch_relation(self) -> None:
        self.lay_out()

    @on(Input.Changed, "#tree-filter")
    def _find_changed(self, event: Input.Changed) -> None:
        if self.catalog is not None:
            self.schema_tree.show(self.catalog, event.value)

    @on(Input.Submitted, "#tree-filter")
    def _find_done(self) -> None:
        # To the tree, the cursor on what was found. With no text, where it was; if the tree
        # was built anew (text typed, then erased), on the open relation or the first line.
        tree = self.schema_tree
        if tree.filter_text:
            tree.select_first_match()
        elif tree.cursor_node is None and self.relation is not None:
            tree.select_relation(self.relation)
        elif tree.cursor_node is None:
            tree.select_first_match()
        tree.focus()

    @on(SchemaTree.RelationChosen)
    def _chosen(self) -> None:
        self.close()  # the message goes on to the screen, which opens the relation

    @property
    def narrow(self) -> bool:
        """The pane lies over the grid (shown only while the user is in it): below 90
        columns, with a relation open."""
        return self.screen.size.width < NARROW_SCREEN and self.relation is not None

    @property
    def over_grid(self) -> bool:
        """The pane is open over the grid now."""
        return self.overlay_open and self.narrow

    def lay_out(self) -> None:
        """Size the pane to the tree's widest label, and show, hide or lay it over the grid."""
        narrow = self.narrow
        self.set_class(narrow, "-overlay")
        self.display = self.relation is None or (
            self.overlay_open if narrow else not self.hidden_by_user
        )
        self.styles.width = self._width(self.added_width)
        if not self.display and self.has_focus_within:
            self.post_message(self.HiddenWithFocus())

    def _width(self, offset: int) -> int:
        content = self.schema_tree.natural_width() + PANE_CHROME
        return pane_width(content, self.screen.size.width, offset)

    def open(self) -> None:
        """The user goes to the tree: a hidden pane shows, over the grid when narrow, the
        cursor on the open relation (the user left the tree, or never chose it there)."""
        if self.narrow:
            if not self.overlay_open and self.relation is not None:
                self.schema_tree.select_relation(self.relation)
            self.overlay_open = True
        else:
            self.hidden_by_user = False
        self.lay_out()

    def close(self) -> None:
        """Back to the grid: a pane over it goes."""
        self.overlay_open = False
        self.lay_out()

    def hide(self) -> None:
        """The user hides the pane: beside the grid it stays hidden until asked for."""
        self.hidden_by_user = not self.narrow
        self.close()

    def widen(self, step: int) -> None:
        """Make the pane wider or narrower by `step` cells, and show it."""
        # What the limits swallow is not kept: the next key back always shows.
        self.added_width = self._width(self.added_width + step) - self._width(0)
        self.open()
