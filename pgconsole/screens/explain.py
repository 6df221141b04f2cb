"""A plan as a tree: each node's cost and rows, with ANALYZE its time, loops and buffers; the
most expensive nodes and the estimates that are off by 10x or more are marked."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from pgconsole.db.console.explain import Plan, PlanNode
from pgconsole.paths import STYLES
from pgconsole.text import visible
from pgconsole.widgets.key_bar import KeyBar

MISESTIMATE = 10.0
"""Actual rows this many times above or below the estimate get the mark."""


def misestimated(node: PlanNode) -> bool:
    """Whether the planner's row estimate was off by `MISESTIMATE` times or more."""
    if node.actual_rows is None:
        return False
    actual, planned = max(node.actual_rows, 1.0), max(node.plan_rows, 1.0)
    return max(actual / planned, planned / actual) >= MISESTIMATE


def node_label(node: PlanNode, plan: Plan, hot: bool) -> Text:
    """One node's line. At 80 columns the line is wider than the screen (→ scrolls), so what a
    DBA reads first comes first: the node, with ANALYZE its own time and share, the actual
    figures, buffers, a misestimate; the planner's cost and rows last."""
    label = Text()
    if hot:
        label.append("▲ ", style="bold red")
    label.append(visible(node.summary), style="bold")
    cost = f"  cost={node.startup_cost:.2f}..{node.total_cost:.2f} rows={node.plan_rows:,.0f}"
    if not plan.analyzed:
        if hot:
            label.append(f"  self cost {node.self_cost:.2f}", style="bold red")
        label.append(cost, style="dim")
        return label
    if node.self_ms is not None:
        total = plan.execution_ms or plan.root.actual_total_ms or 0.0
        share = f" ({node.self_ms / total:.0%})" if total else ""
        label.append(f"  self {node.self_ms:.3f} ms{share}", style="bold red" if hot else "")
    if node.actual_total_ms is None:
        label.append("  never executed", style="yellow")
    else:
        label.append(
            f"  actual {node.actual_startup_ms or 0:.3f}..{node.actual_total_ms:.3f} ms"
            f" rows={node.actual_rows or 0:,.0f} loops={node.loops or 0}"
        )
    if misestimated(node):
        label.append("  ≠ estimate 10x+", style="bold yellow")
    if node.shared_hit is not None or node.shared_read is not None:
        label.append(f"  hit={node.shared_hit or 0:,} read={node.shared_read or 0:,}", style="cyan")
        if node.shared_dirtied:
            label.append(f" dirtied={node.shared_dirtied:,}", style="cyan")
    label.append(cost, style="dim")
    return label


class ExplainScreen(Screen[None]):
    """A statement's plan, full screen (plans are tall, 80x24 is small)."""

    CSS_PATH = STYLES / "explain.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back"),
        Binding("e", "expand_all", "Expand all"),
        Binding("c", "collapse_all", "Collapse all"),
        Binding("d", "toggle_details", "Details"),
    ]

    def __init__(self, plan: Plan, statement: str) -> None:
        """Args:
        plan: The plan to show.
        statement: The statement explained (its first line is shown).
        """
        super().__init__()
        self.plan = plan
        self.statement = statement
        self.show_details = True
        self.hot = {id(node) for node in plan.hottest()}

    def compose(self) -> ComposeResult:
        yield Static(self._header(), id="explain-header")
        yield Tree(Text("plan"), id="explain-tree")
        yield KeyBar()

    def on_mount(self) -> None:
        self._build()
        self.query_one(Tree).focus()

    def _header(self) -> Text:
        plan = self.plan
        title = "EXPLAIN ANALYZE" if plan.analyzed else "EXPLAIN"
        header = Text(title, style="bold")
        if plan.rolled_back:
            header.append(" (run, then rolled back)", style="yellow")
        if plan.planning_ms is not None:
            header.append(f"  planning {plan.planning_ms:.3f} ms")
        if plan.execution_ms is not None:
            header.append(f"  execution {plan.execution_ms:.3f} ms")
        first = " ".join(self.statement.split())
        header.append("\n" + visible(first[:200]), style="dim")
        for trigger in plan.triggers:
            header.append("\ntrigger " + visible(trigger), style="magenta")
        return header

    def _build(self) -> None:
        tree = self.query_one(Tree)
        tree.clear()
        tree.show_root = False
        self._add(tree.root, self.plan.root)
        tree.root.expand_all()

    def _add(self, parent: TreeNode[None], node: PlanNode) -> None:
        branch = parent.add(node_label(node, self.plan, id(node) in self.hot), expand=True)
        if self.show_details:
            for line in node.details:
                branch.add_leaf(Text(visible(line), style="italic"))
        for child in node.children:
            self._add(branch, child)

    def action_close(self) -> None:
        """Back to the console."""
        self.dismiss(None)

    def action_expand_all(self) -> None:
        """Open every node."""
        self.query_one(Tree).root.expand_all()

    def action_collapse_all(self) -> None:
        """Close every node under the root."""
        for child in self.query_one(Tree).root.children:
            child.collapse_all()

    def action_toggle_details(self) -> None:
        """Show or hide the conditions, keys and filters under each node."""
        self.show_details = not self.show_details
        self._build()
