"""A plan as a tree: each node's cost and rows, with ANALYZE its time, loops and buffers; the
most expensive nodes and the estimates that are off by 10x or more are marked."""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.geometry import Size
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from pgconsole.db.console.explain import Plan, PlanNode
from pgconsole.paths import STYLES
from pgconsole.text import visible
from pgconsole.widgets.key_bar import KeyBar
from pgconsole.words import counted

MISESTIMATE = 10.0
"""Actual rows this many times above or below the estimate get the mark."""
STATEMENT_LINES = 2
"""Lines of the header the statement takes at most (the plan needs the room at 80x24)."""
TRIGGER_LINES = 3
"""Triggers listed by name in the header; more are counted."""


def misestimate(node: PlanNode) -> float:
    """How many times the planner's row estimate was off (1.0: spot on), either way."""
    if node.actual_rows is None:
        return 1.0
    actual, planned = max(node.actual_rows, 1.0), max(node.plan_rows, 1.0)
    return max(actual / planned, planned / actual)


def misestimated(node: PlanNode) -> bool:
    """Whether the planner's row estimate was off by `MISESTIMATE` times or more."""
    return misestimate(node) >= MISESTIMATE


def node_label(node: PlanNode, plan: Plan, hot: bool) -> Text:
    """One node's line, its figures first (as explain.depesz.com's columns): a node deep in
    the tree has its name cut by the screen's edge at 80 columns (the tree scrolls sideways),
    never the figures a DBA reads it for. With ANALYZE: its own time and share of the whole,
    the rows it returned against the planner's estimate (≠ when 10x off or more); without:
    its cost and estimated rows. Then the node; then the rest (time range, buffers, cost)."""
    label = Text()
    if hot:
        label.append("▲ ", style="bold red")
    if plan.analyzed:
        label.append_text(_analyzed_figures(node, plan, hot))
    else:
        if hot:
            label.append(f"self {node.self_cost:.2f}  ", style="bold red")
        label.append(f"cost {node.startup_cost:.2f}..{node.total_cost:.2f}")
        label.append(f"  {counted(round(node.plan_rows), 'row')}")
    label.append("  ")
    label.append(visible(node.summary), style="bold")
    if not plan.analyzed:
        return label
    if node.actual_total_ms is not None:
        label.append(f"  actual {node.actual_startup_ms or 0:.3f}..{node.actual_total_ms:.3f} ms")
    if node.shared_hit is not None or node.shared_read is not None:
        label.append(f"  hit={node.shared_hit or 0:,} read={node.shared_read or 0:,}", style="cyan")
        if node.shared_dirtied:
            label.append(f" dirtied={node.shared_dirtied:,}", style="cyan")
    label.append(f"  cost={node.startup_cost:.2f}..{node.total_cost:.2f}", style="dim")
    return label


def _analyzed_figures(node: PlanNode, plan: Plan, hot: bool) -> Text:
    """`6.030 ms 60%  3 rows, 402 loops, est 3` (rows and estimate per loop, as EXPLAIN
    counts them), or `never executed, est 31 rows`."""
    figures = Text()
    estimate = f"est {round(node.plan_rows):,}"
    if node.self_ms is None or node.actual_total_ms is None:
        figures.append("never executed", style="yellow")
        figures.append(f", est {counted(round(node.plan_rows), 'row')}")
        return figures
    share = plan.share(node)
    share_text = "" if share is None else f" {share:.0%}"
    figures.append(f"{node.self_ms:.3f} ms{share_text}", style="bold red" if hot else "bold")
    loops = f", {node.loops:,} loops" if (node.loops or 1) > 1 else ""
    figures.append(f"  {counted(round(node.actual_rows or 0), 'row')}{loops}, {estimate}")
    if misestimated(node):
        figures.append(f" ≠{misestimate(node):,.0f}x", style="bold yellow")
    return figures


def clamped(text: str, width: int, lines: int) -> list[str]:
    """`text` wrapped at `width` cells in at most `lines` lines; when more are needed, the
    last line kept ends with `…`."""
    width = max(width, 2)
    wrapped = [line.plain.rstrip() for line in Content(text).wrap(width)]
    if len(wrapped) <= lines:
        return wrapped
    kept = wrapped[:lines]
    last = kept[-1]
    if cell_len(last) >= width:
        last = set_cell_size(last, width - 1)
    kept[-1] = last + "…"
    return kept


def plan_header(plan: Plan, statement: str, width: int) -> Text:
    """What was explained, in `width` cells: the kind of EXPLAIN and its times, each figure
    kept whole on a line (a narrow screen moves a figure down, never its unit alone); the
    statement in at most `STATEMENT_LINES` lines, cut with `…`; the triggers that ran."""
    # Each part with the gap before it when it follows another on the same line.
    parts = [(Text("EXPLAIN ANALYZE" if plan.analyzed else "EXPLAIN", style="bold"), 0)]
    if plan.rolled_back:
        parts.append((Text("(ran, rolled back)", style="yellow"), 1))
    if plan.planning_ms is not None:
        parts.append((Text(f"planning {plan.planning_ms:.3f} ms"), 2))
    if plan.execution_ms is not None:
        parts.append((Text(f"execution {plan.execution_ms:.3f} ms"), 2))
    header = Text()
    used = 0
    for part, gap in parts:
        part.truncate(width, overflow="ellipsis")  # a part wider than the screen: cut, not wrapped
        if used and used + gap + part.cell_len > width:
            header.append("\n")
            used = 0
        if used:
            header.append(" " * gap)
            used += gap
        header.append_text(part)
        used += part.cell_len
    statement = visible(" ".join(statement.split()))
    for line in clamped(statement, width, STATEMENT_LINES):
        header.append("\n" + line, style="dim")
    shown = plan.triggers[:TRIGGER_LINES]
    if len(plan.triggers) > len(shown):
        shown = plan.triggers[: TRIGGER_LINES - 1]
    for trigger in shown:
        header.append("\n" + clamped("trigger " + visible(trigger), width, 1)[0], style="magenta")
    if len(plan.triggers) > len(shown):
        header.append(f"\nand {len(plan.triggers) - len(shown)} more triggers", style="magenta")
    return header


class PlanHeader(Widget):
    """The header of a plan, laid out for the width it is given: its height follows."""

    DEFAULT_CSS = "PlanHeader { height: auto; }"

    def __init__(self, plan: Plan, statement: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.plan = plan
        self.statement = statement

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(plan_header(self.plan, self.statement, width).split())

    def render(self) -> Text:
        return plan_header(self.plan, self.statement, self.content_size.width)


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
        statement: The statement explained (its first lines are shown, cut with …).
        """
        super().__init__()
        self.plan = plan
        self.statement = statement
        self.show_details = True
        self.hot = {id(node) for node in plan.hottest()}

    def compose(self) -> ComposeResult:
        yield PlanHeader(self.plan, self.statement, id="explain-header")
        yield Tree(Text("plan"), id="explain-tree")
        yield KeyBar()

    def on_mount(self) -> None:
        self._build()
        self.query_one(Tree).focus()

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
