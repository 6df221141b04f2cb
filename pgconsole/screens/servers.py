"""F10: the servers open in this app, the ones the config names, and the fleet view.

Like tmux's window list: a digit (or Enter on a row) shows that server's window as it was
left; a profile not open yet opens in a window of its own and connects; `f` shows the fleet
view. Each name is drawn in its profile's colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from pgconsole.messages import FleetRequested, ServerRequested, WindowRequested
from pgconsole.paths import STYLES
from pgconsole.server_list import ServerEntry, ServerList, WindowEntry
from pgconsole.text import visible

FLEET = "fleet"
"""The option id of the fleet view."""
NAME_WIDEST = 32
"""Names longer than this are cut (with `…`)."""
BOX_WIDEST = 120
"""The list's widest (styles/servers.tcss: #servers-box max-width)."""


def name_text(name: str, color: str | None, width: int = 14) -> Text:
    """A server's name, cut to `width` cells, in its profile's colour (bold), else plain."""
    shown = visible(name)
    shown = shown if len(shown) <= width else shown[: width - 1] + "…"
    return Text(shown.ljust(width), style=f"bold {color}" if color else "")


def cut(text: str, room: int) -> str:
    """`text` in at most `room` cells, ending with `…` if cut (the list does not wrap it)."""
    text = visible(text)
    return text if len(text) <= room else text[: max(room - 1, 0)] + "…"


class ServersScreen(ModalScreen[None]):
    """The open servers (1-9), then the config's others, then the fleet view (f)."""

    CSS_PATH = STYLES / "servers.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f10", "close", "Close"),
        Binding("f", "fleet", "Fleet view"),
        *(Binding(str(n), f"window({n})", f"Server {n}", show=False) for n in range(1, 10)),
    ]

    def __init__(self, windows: Sequence[WindowEntry], servers: ServerList | None) -> None:
        super().__init__()
        self.windows = list(windows)
        self.servers = servers or ServerList()

    def compose(self) -> ComposeResult:
        with Vertical(id="servers-box"):
            yield Static(Text("Servers", style="bold"), id="servers-title")
            yield OptionList(*self._options(), id="servers-list")
            yield Static(
                Text.assemble(
                    ("1-9", "bold"),
                    " switch · ",
                    ("Enter", "bold"),
                    " open · ",
                    ("f", "bold"),
                    " fleet view · ",
                    ("Esc", "bold"),
                    " close",
                ),
                id="servers-keys",
            )

    def _options(self) -> list[Option | None]:
        options: list[Option | None] = []
        open_names = {window.name for window in self.windows}
        others = [entry for entry in self.servers.entries if entry.name not in open_names]
        names = [window.name for window in self.windows] + [entry.name for entry in others]
        # As wide as the longest name, within reason (a name cut ends with `…`).
        width = min(max([14, *(len(visible(name)) for name in names)]), NAME_WIDEST)
        # What is left of a line for the target: the box's border, padding and scrollbar, the
        # number and the mark, the name.
        room = min(self.app.size.width, BOX_WIDEST) - 4 - 1 - 4 - width - 1
        for number, window in enumerate(self.windows, start=1):
            mark = "●" if window.current else " "
            line = Text.assemble(
                f"{number} {mark} ",
                name_text(window.name, window.color, width),
                f" {window.state:<13} ",
                (cut(window.target, room - 14), "dim"),
            )
            options.append(Option(line, id=f"window-{number}"))
        if others:
            options.append(None)
        for index, entry in enumerate(others):
            options.append(Option(self._entry_line(entry, width, room), id=f"entry-{index}"))
        options.append(None)
        options.append(Option(Text("f   Fleet view: every server, worst first"), id=FLEET))
        self._others = others
        return options

    @staticmethod
    def _entry_line(entry: ServerEntry, width: int, room: int) -> Text:
        where = entry.target.params.target if entry.target is not None else entry.problem or ""
        return Text.assemble(
            "    ", name_text(entry.name, entry.color, width), " ", cut(where, room)
        )

    def on_mount(self) -> None:
        listing = self.query_one(OptionList)
        current = [n for n, window in enumerate(self.windows) if window.current]
        listing.highlighted = current[0] if current else 0
        listing.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter: show that window, open that server, or the fleet view."""
        option_id = event.option.id or ""
        if option_id == FLEET:
            self.action_fleet()
        elif option_id.startswith("window-"):
            self.action_window(int(option_id.removeprefix("window-")))
        elif option_id.startswith("entry-"):
            self.open_entry(self._others[int(option_id.removeprefix("entry-"))])

    def action_window(self, number: int) -> None:
        """Show open window `number` (1 is the first)."""
        if not 0 < number <= len(self.windows):
            self.app.bell()
            return
        self.dismiss()
        self.app.post_message(WindowRequested(number))

    def open_entry(self, entry: ServerEntry) -> None:
        """Open a server from the config in a new window (or say why it cannot be)."""
        if entry.target is None:
            self.app.notify(visible(entry.problem or "cannot be resolved"), severity="error")
            return
        self.dismiss()
        self.app.post_message(ServerRequested(entry.name))

    def action_fleet(self) -> None:
        """The fleet view (its state kept since it was last shown)."""
        self.dismiss()
        self.app.post_message(FleetRequested())

    def action_close(self) -> None:
        """Back to the window shown before."""
        self.dismiss()
