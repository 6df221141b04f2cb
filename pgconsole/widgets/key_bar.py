"""The key bar: one line of the current screen's keys, redrawn (never rebuilt) on change.

Textual's Footer composes a widget per key and rebuilds them all whenever focus moves; at
start-up that cost a fifth of a second of CPU. This bar is a single line of text.
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.keys import key_to_character
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

from pgconsole.keys import one_key
from pgconsole.text import visible

HELP_ACTION = "help"
TAG_CELLS = 16
"""Most cells of the server's name on the bar."""
Shown = tuple[tuple[str, str, bool], ...]
"""(key as displayed, description, enabled) for each key on the bar."""


class KeyBar(Widget):
    """The active screen's shown bindings, as `key description` pairs on one line."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"keybar--key", "keybar--description"}
    DEFAULT_CSS = """
    KeyBar { dock: bottom; height: 1; background: $panel; }
    KeyBar > .keybar--key { color: $accent; text-style: bold; }
    KeyBar > .keybar--description { color: $text; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shown: Shown = ()

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        # After the first refresh: the home screen's widgets can mount before Textual has put
        # the screen on the app's stack (Python 3.13), and the bindings are read through it.
        self.call_after_refresh(self._bindings_changed, self.screen)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if screen is not self.screen:
            return
        shown = self._collect(screen)
        if shown != self.shown:
            self.shown = shown
            self.refresh()

    def _collect(self, screen: Screen[object]) -> Shown:
        focused = screen.focused

        def typed(key: str) -> bool:
            # A key the focused widget types (a find box takes `s`), rather than a binding's.
            return focused is not None and focused.check_consume_key(key, typed_character(key))

        # The focused widget may list keys bound with show=False (the screen's Tab) to show
        # them while it has the focus.
        asked_for = set(getattr(focused, "KEY_BAR_ORDER", ()))
        seen: set[str] = set()
        keys: list[tuple[str, tuple[str, str, bool]]] = []
        for key, (_node, binding, enabled, _tooltip) in screen.active_bindings.items():
            shown = binding.show or binding.action in asked_for
            if not shown or binding.action in seen or typed(key):
                continue
            seen.add(binding.action)  # one entry per action, like Footer
            display = self._display(binding)
            if typed(binding.key.split(",")[0]):
                display = visible(one_key(key))  # `Del`, not the `D` that would be typed
            keys.append((binding.action, (display, binding.description, enabled)))
        # The focused widget's and then the screen's most important keys first (at 80 columns
        # the bar is cut and ends with `? more`), then the rest in Textual's order: the focused
        # widget's, the screen's, the app's. Help leads, for when everything fits.
        order: tuple[str, ...] = (
            HELP_ACTION,
            *getattr(focused, "KEY_BAR_ORDER", ()),
            *getattr(screen, "KEY_BAR_ORDER", ()),
        )
        rank: dict[str, int] = {}
        for index, action in enumerate(order):
            rank.setdefault(action, index)
        keys.sort(key=lambda item: rank.get(item[0], len(order)))
        return tuple(entry for _action, entry in keys)

    def _display(self, binding: Binding) -> str:
        """The binding's first key, spelled as everywhere in pgconsole (`F4`, `Ctrl+s`)."""
        if binding.key_display:
            return visible(binding.key_display)
        return visible(one_key(binding.key.split(",")[0]))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        key_style = base + self.get_component_rich_style("keybar--key")
        text_style = base + self.get_component_rich_style("keybar--description")
        dim = Style(dim=True)
        segments: list[Segment] = []
        tag = self.server_tag()
        if tag is not None:
            segments.append(tag)
        for key, description, enabled in fitting(
            self.shown, width - (tag.cell_length if tag else 0)
        ):
            extra = Style() if enabled else dim
            segments.append(Segment(f" {key} ", key_style + extra))
            segments.append(Segment(f"{description} ", text_style + extra))
        strip = Strip(segments)
        return strip.crop(0, width).extend_cell_length(width, base)

    def server_tag(self) -> Segment | None:
        """Which server this screen shows, in its profile's colour, first on the bar: asked of
        the app (`server_tag(screen)`: a name and a colour, or None when there is nothing to
        tell apart, one server without a profile)."""
        ask = getattr(self.app, "server_tag", None)
        found = ask(self.screen) if callable(ask) else None
        if found is None:
            return None
        name, color = found
        shown = visible(name)
        shown = shown if cell_len(shown) <= TAG_CELLS else shown[: TAG_CELLS - 1] + "…"
        return Segment(f" {shown} ", Style(bold=True, reverse=True, color=color))


def typed_character(key: str) -> str | None:
    """The character `key` types (`s`, `slash` → `/`, `plus` → `+`); None for a key that types
    none (`F4`, `Ctrl+s`, `Enter`)."""
    character = key_to_character(key)
    if character is None and "+" not in key:
        spelled = one_key(key)  # Textual's own lookup misses `slash` and `plus`
        if len(spelled) == 1 and spelled.isascii():
            character = spelled
    return character


def entry_width(key: str, description: str) -> int:
    """Cells one `key description` pair takes on the bar."""
    return cell_len(f" {key} {description} ")


def fitting(shown: Shown, width: int) -> Shown:
    """The pairs that fit whole in `width` cells, in order.

    When some do not fit, the bar ends with `? more` instead (the help screen lists every key),
    and the leading `? Help` pair gives its room to the others.
    """
    if sum(entry_width(key, text) for key, text, _ in shown) <= width:
        return shown
    help_key = next((key for key, text, _ in shown if text == "Help"), "?")
    rest = tuple(pair for pair in shown if pair[1] != "Help")
    room = width - entry_width(help_key, "more")
    kept: list[tuple[str, str, bool]] = []
    for key, text, enabled in rest:
        room -= entry_width(key, text)
        if room < 0:
            break
        kept.append((key, text, enabled))
    return (*kept, (help_key, "more", True))
