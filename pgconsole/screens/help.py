"""The help screen: every key pgconsole knows, grouped by where it works, filtered as you type."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Input, Static

from pgconsole.keys import key_label
from pgconsole.paths import STYLES
from pgconsole.widgets.ordered_keys import OrderedInput

KeySection = tuple[str, Sequence[type[DOMNode]]]
"""A heading and the classes whose BINDINGS are listed under it."""

KeyRow = tuple[str, str]
"""(keys as pgconsole spells them, description)."""

GAP = 2
"""Spaces at least between the longest keys and their description."""

_TEXTUAL_BASES: tuple[type[DOMNode], ...] = (App, Screen, ModalScreen, Widget, DOMNode)
"""Textual's own base classes: their bindings (Tab focus, copy, the palette) are not ours."""


def declared_bindings(cls: type[DOMNode]) -> Sequence[BindingType]:
    """The BINDINGS `cls` declares, or inherits from the widget it is built on (a tree, a text
    area), but none that come from Textual's App or Screen themselves."""
    owner = next((base for base in cls.__mro__ if "BINDINGS" in vars(base)), None)
    if owner is None or owner in _TEXTUAL_BASES:
        return ()
    bindings: Sequence[BindingType] = vars(owner)["BINDINGS"]
    return bindings


def key_rows(classes: Iterable[type[DOMNode]]) -> list[KeyRow]:
    """(keys, description) for each binding of `classes`, in order, without repeats."""
    rows: list[KeyRow] = []
    seen: set[str] = set()
    for cls in classes:
        for binding in declared_bindings(cls):
            if not isinstance(binding, Binding):
                continue
            description = binding.tooltip or binding.description
            if not description or binding.key in seen:
                continue
            seen.add(binding.key)
            rows.append((key_label(binding.key), description))
    return rows


def here_first(sections: Sequence[KeySection], *here: type[DOMNode]) -> list[KeySection]:
    """`sections` with the ones listing `here` (the widget with the focus and the screen help
    was asked for on, in that order) first, as "Here: …", then the others in their order: on
    an 80x24 terminal the first screenful of help is the keys that work where the user is,
    not the ones that work everywhere."""
    ordered = list(sections)
    front: list[KeySection] = []
    for cls in here:
        index = _section_of(ordered, cls)
        if index is not None:
            heading, classes = ordered.pop(index)
            front.append((f"Here: {heading}", classes))
    return [*front, *ordered]


def _section_of(sections: Sequence[KeySection], cls: type[DOMNode]) -> int | None:
    """The section listing `cls`, else one listing a class it is built on (not Textual's)."""
    for index, (_, classes) in enumerate(sections):
        if cls in classes:
            return index
    for index, (_, classes) in enumerate(sections):
        if any(issubclass(cls, c) and c not in _TEXTUAL_BASES for c in classes):
            return index
    return None


def matches(row: KeyRow, query: str) -> bool:
    """Whether the keys or the description contain `query`, ignoring case."""
    needle = query.strip().casefold()
    keys, description = row
    return needle in keys.casefold() or needle in description.casefold()


def key_text(sections: Sequence[tuple[str, list[KeyRow]]], query: str = "") -> Text:
    """The rows matching `query` under their headings, keys in a column wide enough for the
    longest of them (of every row, so the column stays put while filtering) and a gap."""
    width = max((cell_len(keys) for _, rows in sections for keys, _ in rows), default=0) + GAP
    text = Text()
    for heading, rows in sections:
        shown = [row for row in rows if matches(row, query)]
        if not shown:
            continue
        text.append(f"{heading}\n", style="bold underline")
        for keys, description in shown:
            text.append("  " + keys + " " * (width - cell_len(keys)), style="bold")
            text.append(f"{description}\n")
        text.append("\n")
    if not text:
        text.append(f"No key or description contains {query.strip()!r}.\n\n")
    return text


class HelpScreen(ModalScreen[None]):
    """Lists the keys of every screen; typing filters them; Esc clears, then closes."""

    CSS_PATH = STYLES / "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear_or_close", "Clear the filter, then close"),
        Binding("f1", "close", "Close help"),
        Binding("pageup", "page(-1)", "Scroll up"),
        Binding("pagedown", "page(1)", "Scroll down"),
        Binding("up", "line(-1)"),
        Binding("down", "line(1)"),
    ]

    def __init__(self, sections: Sequence[KeySection]) -> None:
        super().__init__()
        self.sections = [(heading, key_rows(classes)) for heading, classes in sections]
        """Each heading with its rows, read once: filtering only picks among them."""

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(Text("pgconsole keys", style="bold"), id="help-title")
            yield OrderedInput(placeholder="type to filter (Esc clears)", id="help-filter")
            with VerticalScroll(id="help-body", can_focus=False):
                yield Static(key_text(self.sections), id="help-keys")
                yield Static(
                    Text(
                        "Type to filter; Esc clears the filter, then closes. "
                        "Ctrl+p opens the command palette.",
                        style="dim",
                    ),
                    id="help-hint",
                )

    @on(Input.Changed, "#help-filter")
    def refilter(self, event: Input.Changed) -> None:
        """Show only the rows matching what is typed."""
        self.query_one("#help-keys", Static).update(key_text(self.sections, event.value))
        self.query_one("#help-body", VerticalScroll).scroll_home(animate=False)

    def action_clear_or_close(self) -> None:
        """Clear the filter; with nothing typed, close."""
        field = self.query_one("#help-filter", Input)
        if field.value:
            field.value = ""
        else:
            self.dismiss(None)

    def action_close(self) -> None:
        """Close the help screen."""
        self.dismiss(None)

    def action_page(self, pages: int) -> None:
        """Scroll the list a screenful."""
        body = self.query_one("#help-body", VerticalScroll)
        body.scroll_to(y=body.scroll_y + pages * body.scrollable_content_region.height)

    def action_line(self, lines: int) -> None:
        """Scroll the list a line."""
        body = self.query_one("#help-body", VerticalScroll)
        body.scroll_to(y=body.scroll_y + lines, animate=False)


def help_here(sections: Sequence[KeySection], screen: Screen[object]) -> HelpScreen:
    """The help screen asked for on `screen`: `sections`, the focused widget's and the
    screen's first (`here_first`)."""
    focused = screen.focused
    here = (type(focused),) if focused is not None else ()
    return HelpScreen(here_first(sections, *here, type(screen)))
