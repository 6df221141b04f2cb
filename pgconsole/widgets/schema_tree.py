"""The schema tree: schemas, then their relations (partitions under their parent), filterable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from pgconsole.db.browse.catalog import Catalog, RelationInfo, RelationKind, SchemaInfo
from pgconsole.text import visible
from pgconsole.widgets.ordered_keys import OrderedInput

KIND_MARKERS = {
    RelationKind.TABLE: ("T", "green"),
    RelationKind.PARTITIONED_TABLE: ("P", "cyan"),
    RelationKind.VIEW: ("V", "yellow"),
    RelationKind.MATERIALIZED_VIEW: ("M", "magenta"),
    RelationKind.FOREIGN_TABLE: ("F", "blue"),
}

Item = SchemaInfo | RelationInfo

NARROW_SCREEN = 90
"""Below this many columns a relation's grid takes the whole width and the tree opens over it."""
MIN_PANE_WIDTH = 16
"""The tree pane is never narrower: the find box's `/ find table` still shows."""
MIN_GRID_WIDTH = 20
"""Widening the tree pane stops where the grid would get narrower than this."""
PANE_CHROME = 2
"""Cells of the pane beside the tree's lines: the scrollbar's gutter and the border."""


def human_size(size: int | None) -> str:
    """`12 MB`, the way pg_size_pretty rounds, compact."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}"
        value /= 1024
    return ""


def pane_width(content: int, screen: int, offset: int) -> int:
    """The tree pane's width on a `screen` columns wide.

    Args:
        content: Cells the pane's content needs (the widest line and `PANE_CHROME`).
        screen: The screen's width.
        offset: What the user added (`]`) or took away (`[`).

    Returns:
        The content up to a third of the screen (half below `NARROW_SCREEN`, where the tree
        has the screen to itself or lies over the grid), plus the offset, kept between
        `MIN_PANE_WIDTH` and the screen less `MIN_GRID_WIDTH` (before the offset too, so an
        offset always shows).
    """
    cap = screen // 2 if screen < NARROW_SCREEN else screen // 3

    def within_limits(width: int) -> int:
        return max(MIN_PANE_WIDTH, min(width, screen - MIN_GRID_WIDTH))

    return within_limits(within_limits(min(content, cap)) + offset)


def human_rows(rows: int | None) -> str:
    """`≈1.2M`; unknown (never analyzed) shows `?`."""
    if rows is None:
        return "?"
    for limit, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if rows >= limit:
            return f"≈{rows / limit:.1f}{suffix}"
    return f"≈{rows}"


class TreeFind(OrderedInput):
    """The find box above the tree: what is typed narrows the tree, Enter goes to it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "submit", "To the tree")]
    KEY_BAR_ORDER: ClassVar[tuple[str, ...]] = ("submit", "switch_pane")
    """The key bar while the find box has the focus (the keys it types are not listed):
    Enter, then the screen's Tab (not listed elsewhere)."""


class SchemaTree(Tree[Item]):
    """Every schema and relation from one catalog load; typing in the filter narrows it."""

    KEY_BAR_ORDER: ClassVar[tuple[str, ...]] = (
        "select_cursor", "switch_pane", "filter_tree", "toggle_tree", "refresh_catalog",
        "toggle_system", "activity", "console",
    )  # fmt: skip
    """The key bar while the tree has the focus: its keys before the grid's, Enter (Tree's
    Select) and the screen's Tab and `\\` included, listed nowhere else."""

    @dataclass
    class RelationChosen(Message):
        """A relation was selected (Enter)."""

        tree: SchemaTree
        relation: RelationInfo

        @property
        def control(self) -> SchemaTree:
            return self.tree

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("database", id=id)
        self.show_root = False
        self.guide_depth = 2
        self.catalog: Catalog | None = None
        self.filter_text = ""

    def show(self, catalog: Catalog, filter_text: str = "") -> None:
        """Rebuild the tree from `catalog`, keeping relations whose name contains the filter."""
        self.catalog = catalog
        self.filter_text = filter_text
        self.clear()
        wanted = filter_text.casefold()
        children: dict[int, list[RelationInfo]] = {}
        for relation in catalog.relations:
            if relation.parent_oid is not None:
                children.setdefault(relation.parent_oid, []).append(relation)
        by_schema: dict[str, list[RelationInfo]] = {}
        for relation in catalog.relations:
            if relation.parent_oid is None:
                by_schema.setdefault(relation.schema, []).append(relation)

        def matches(relation: RelationInfo) -> bool:
            return (
                not wanted
                or wanted in relation.name.casefold()
                or any(matches(child) for child in children.get(relation.oid, []))
            )

        for schema in catalog.schemas:
            relations = [r for r in by_schema.get(schema.name, []) if matches(r)]
            if wanted and not relations:
                continue
            label = Text(visible(schema.name), style="bold")
            label.append(f"  {len(relations)}", style="dim")
            node = self.root.add(label, data=schema, expand=bool(wanted))
            for relation in relations:
                self._add_relation(node, relation, children, matches)
        if len(catalog.schemas) == 1 or wanted:
            for node in self.root.children:
                node.expand()

    def _add_relation(
        self,
        parent: TreeNode[Item],
        relation: RelationInfo,
        children: dict[int, list[RelationInfo]],
        matches: object,
    ) -> None:
        marker, colour = KIND_MARKERS[relation.kind]
        label = Text.assemble((marker, f"bold {colour}"), " ", visible(relation.name))
        # "≈10 · 26 MB": with a space alone, "≈10 26 MB" read as one number.
        details = " · ".join(
            part
            for part in (human_rows(relation.estimated_rows), human_size(relation.total_bytes))
            if part
        )
        label.append(f"  {details}", style="dim")
        kids = [c for c in children.get(relation.oid, []) if callable(matches) and matches(c)]
        if kids:
            node = parent.add(label, data=relation)
            for child in kids:
                self._add_relation(node, child, children, matches)
        else:
            parent.add_leaf(label, data=relation)

    def natural_width(self) -> int:
        """Cells the widest line needs (guides, toggle, label), collapsed nodes included: a
        schema expanded later never has its labels cut."""
        widest = 0
        stack = [(node, 0) for node in self.root.children]
        while stack:
            node, depth = stack.pop()
            widest = max(widest, depth * self.guide_depth + self.get_label_width(node))
            stack.extend((child, depth + 1) for child in node.children)
        return widest

    def on_tree_node_selected(self, event: Tree.NodeSelected[Item]) -> None:
        if isinstance(event.node.data, RelationInfo):
            event.stop()
            self.post_message(self.RelationChosen(self, event.node.data))

    def select_relation(self, oid: int) -> None:
        """Move the cursor to the relation `oid`, expanding its ancestors."""
        node = self._first(lambda relation: relation.oid == oid)
        if node is not None:
            self._put_cursor(node)

    def select_first_match(self) -> None:
        """Move the cursor to the first relation, in the tree's order, whose name holds the
        find text; with no text or no such relation, to the first line.

        The tree is built anew on each change of the find text, without a cursor: the user
        coming from the find box would start above the first line.
        """
        wanted = self.filter_text.casefold()
        node = self._first(lambda relation: wanted in relation.name.casefold()) if wanted else None
        if node is not None:
            self._put_cursor(node)
        elif self.root.children:
            self._put_cursor(self.root.children[0])

    def _first(self, wanted: Callable[[RelationInfo], bool]) -> TreeNode[Item] | None:
        """The first relation's node, depth first (as the tree shows them), that is `wanted`."""

        def walk(node: TreeNode[Item]) -> TreeNode[Item] | None:
            for child in node.children:
                if isinstance(child.data, RelationInfo) and wanted(child.data):
                    return child
                found = walk(child)
                if found is not None:
                    return found
            return None

        return walk(self.root)

    def _put_cursor(self, node: TreeNode[Item]) -> None:
        """Move the cursor to `node`, expanding its ancestors."""
        parent = node.parent
        while parent is not None:
            parent.expand()
            parent = parent.parent
        # A node's line is known once the tree's lines are built again (on idle, and never
        # while the tree is hidden): moved before that, the cursor lands on line 0 or a line
        # of the tree as it was. Textual's DirectoryTree builds them the same way.
        _ = self._tree_lines
        self.move_cursor(node)
