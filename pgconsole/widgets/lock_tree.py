"""The activity screen's lock tree: who waits for whom, from the root blockers down.

One line while no session waits on another; the lines the chains need when one does, up to
the share of the screen the screen allows, the rest of a longer queue counted in the last.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from pgconsole.db.activity import stats
from pgconsole.text import visible
from pgconsole.widgets.session_rows import one_line
from pgconsole.widgets.sparkline import duration

TREE_SHARE = 4
"""The lock tree takes the lines it needs up to a quarter of the screen's (6 at 24 rows), the
rest of a longer queue counted in its last line: the sessions table keeps the height."""


ROW_WAITS = frozenset({"transactionid", "tuple"})
"""Heavyweight lock waits that are for a row (`wait_event`): for the transaction that changed
it to end (transactionid: a ShareLock on that transaction, named by no relation but by the row
lock the waiter holds), or in the queue for it (tuple). "ShareLock on shop.item" would read as
a lock on the whole table."""


def lock_label(session: stats.Backend) -> Text:
    """`pid user wants mode on relation · 12s · state: query` (`pid user waits for a row of
    relation …` when it waits for a row), on one line cut with `…` (Enter on the session shows
    its query whole)."""
    text = Text(f"{session.pid} ", style="bold", no_wrap=True, overflow="ellipsis")
    text.append(visible(session.user or "?"))
    if session.lock_mode:
        text.append_text(_wanted(session))
    age = session.state_age if session.blocked_by else session.xact_age
    text.append(f" · {duration(age)}", style="dim")
    text.append(f" · {visible(session.state or '')}", style="dim")
    query = one_line(session.query, 80)
    if query:
        text.append(f": {query}")
    return text


def _wanted(session: stats.Backend) -> Text:
    """What a session waiting on a heavyweight lock waits for, in words."""
    relation = visible(session.lock_relation) if session.lock_relation else None
    kind = session.wait_event if session.wait_event_type == "Lock" else None
    if kind in ROW_WAITS:
        if relation:
            return Text(f" waits for a row of {relation}", style="magenta")
        if kind == "transactionid":  # no row lock held: a unique key another insert holds
            return Text(" waits for a transaction to end", style="magenta")
        return Text(" waits for a row", style="magenta")
    text = Text(f" wants {session.lock_mode}", style="magenta")
    if relation:
        text.append(f" on {relation}")
    elif kind and kind != "relation":
        text.append(f" on {visible(kind)}")  # an advisory lock, an object, a virtualxid…
    return text


def chain_sessions(roots: tuple[stats.LockNode, ...]) -> int:
    """The lines the blocking chains take under the tree's heading: one per session drawn."""
    count, stack = 0, list(roots)
    while stack:  # not recursive: a queue of a thousand sessions is a chain that deep
        node = stack.pop()
        count += 1
        if not node.repeated:
            stack.extend(node.children)
    return count


GUIDES = ("    ", "│   ", "├── ", "└── ")
"""Under a last child, under another, before a child, before a last child (rich's tree's)."""


@dataclass
class _Branch:
    label: Text
    children: list[_Branch] = field(default_factory=list)


def lock_tree_text(roots: tuple[stats.LockNode, ...], lines: int) -> tuple[Text, int]:
    """The blocking chains as a tree, root blockers first, in at most `lines` lines (at least
    three: the heading, a session and `… N more not drawn`); and the lines it takes.

    Built without recursion: a queue of a thousand sessions on one row is a chain that deep.
    A session already drawn under another blocker is named again, not expanded again.
    """
    if not roots:
        return Text("No session waits on another.", style="dim"), 1
    total = chain_sessions(roots)
    limit = total if 1 + total <= lines else max(1, lines - 2)
    top = _Branch(Text("Blocking chains", style="bold"))
    stack: list[tuple[_Branch, stats.LockNode]] = [(top, root) for root in reversed(roots)]
    drawn = 0
    while stack and drawn < limit:
        branch, node = stack.pop()
        if node.repeated:
            label = Text(f"{node.backend.pid} (also under another blocker, see above)", "dim")
            branch.children.append(_Branch(label))
        else:
            child = _Branch(lock_label(node.backend))
            branch.children.append(child)
            stack.extend((child, below) for below in reversed(node.children))
        drawn += 1
    if drawn < total:
        more = Text(f"… {total - drawn} more not drawn", style="yellow")
        top.children.append(_Branch(more))
        return _tree_lines(top), drawn + 2
    return _tree_lines(top), drawn + 1


def _tree_lines(top: _Branch) -> Text:
    """`top` and its branches a line each, behind the guides, every line cut with `…` at the
    width: one text, which Textual draws as it draws any (rich's `Tree`, drawn through a rich
    console, took about a tenth of the activity screen's busy time under 50 busy clients)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append_text(top.label)
    pending = _children(top, "")  # each branch with its guides, whether it is the last
    while pending:
        branch, prefix, last = pending.pop()
        text.append("\n")
        text.append(prefix + GUIDES[3 if last else 2], style="dim")
        text.append_text(branch.label)
        pending.extend(_children(branch, prefix + GUIDES[0 if last else 1]))
    return text


def _children(branch: _Branch, prefix: str) -> list[tuple[_Branch, str, bool]]:
    """`branch`'s children as `_tree_lines` takes them from its stack: the first on top."""
    last = len(branch.children) - 1
    return [(child, prefix, i == last) for i, child in reversed(list(enumerate(branch.children)))]


def root_blocker(
    session: stats.Backend | None, sessions: Mapping[int, stats.Backend]
) -> stats.Backend | None:
    """The session at the root of `session`'s blocking chain, following each first blocker:
    `session` itself when it waits on no one, None when a blocker is not in `sessions`. On a
    cycle (a deadlock not yet detected), the first session met twice."""
    seen: set[int] = set()
    while session is not None and session.blocked_by and session.pid not in seen:
        seen.add(session.pid)
        session = sessions.get(session.blocked_by[0])
    return session


@dataclass(frozen=True)
class LockChains:
    """The blocking chains of one sample, and the most lines the tree may take for them."""

    roots: tuple[stats.LockNode, ...]
    """`stats.lock_tree` of the sample."""
    lines: int
    """At least three (`lock_tree_text`)."""


class LockTree(Static):
    """`lock_tree_text` of the chains it is given, as tall as the drawing."""

    # Never compared with the chains before (a queue of a thousand sessions is a chain that
    # deep, and comparing frozen dataclasses recurses); the watcher repaints, when it must.
    chains: reactive[LockChains | None] = reactive(
        None, always_update=True, init=False, repaint=False
    )
    """The latest chains; None until the first sample."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines = 1
        """The laid-out height: one line at first, as activity.tcss has it."""
        self._empty_drawn = False
        """"No session waits on another." is drawn: it needs no redraw until a chain forms."""

    def watch_chains(self, chains: LockChains | None) -> None:
        """Draw the chains, laid out again only when the lines they need change."""
        if chains is None:
            return
        drawing, lines = lock_tree_text(chains.roots, chains.lines)
        if lines != self._lines:
            # Compared with the height laid out, not with the last sample's: the first
            # sample may already hold a chain.
            self._lines = lines
            self.styles.height = lines
        if chains.roots or not self._empty_drawn:
            self.update(drawing, layout=False)
        self._empty_drawn = not chains.roots
