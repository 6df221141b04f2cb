"""Text widgets whose editing keys keep their order with the characters typed around them.

Textual inserts a printable character in the focused widget's own key handler, but runs a bound
key (backspace, the arrows, ctrl+e, ctrl+k …) only after the key event has bubbled up through
every ancestor's message queue to the app (Textual issue #6605, open in 8.2). Keys that arrive
in one read, as they do over a slow SSH link, from key repeat or from a fast typist, are then
applied out of order: `abc`, backspace, `d` leaves `abc` (the `d` is inserted, then deleted),
and Down, Enter inserts the line break before moving. In an editor for SQL that runs against
production, a keystroke applied in the wrong place is lost data.

These widgets run their own bindings for a key at once, in the same handler that inserts
characters, so the order is the order typed. Bindings of the screen and the app still run as
Textual runs them.

Priority bindings have the opposite problem: the app runs them as soon as it reads their key,
ahead of the keys before them still queued for the focused widget, so `42` then ctrl+s in one
read would save the text as it was before `42`, and Up then F5 would run the statement the
cursor was leaving. An action that reads what was typed goes through `after_typed_keys`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import events
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, TextArea


async def run_own_binding(widget: Widget, event: events.Key) -> bool:
    """Run `widget`'s own (non-priority) binding for `event` now; True if one ran.

    Printable keys are left to the widget, which inserts them. A binding whose action is
    disabled by `check_action` is not run, and the key goes on as usual.
    """
    if event.is_printable:
        return False
    # `_bindings` is the widget's merged bindings with the app's keymap applied: what the app
    # itself would look up for the focused widget.
    for binding in widget._bindings.key_to_bindings.get(event.key, ()):
        # The app's run_action (the widget's returns nothing) says whether the action ran.
        if not binding.priority and await widget.app.run_action(binding.action, widget):
            event.stop()
            event.prevent_default()
            return True
    return False


def after_typed_keys(screen: Screen[Any], callback: Callable[[], object]) -> None:
    """Call `callback` once the focused widget has handled every key already sent to it.

    For priority bindings that read the text or the cursor (run, save): queued behind the
    keys typed before them, they see what was typed.
    """
    (screen.focused or screen).call_later(callback)


class OrderedInput(Input):
    """An `Input` whose editing keys apply in the order typed."""

    async def _on_key(self, event: events.Key) -> None:
        if await run_own_binding(self, event):
            self._restart_blink()
            return
        await super()._on_key(event)


class OrderedTextArea(TextArea):
    """A `TextArea` whose editing keys apply in the order typed."""

    async def _on_key(self, event: events.Key) -> None:
        if await run_own_binding(self, event):
            self._restart_blink()
            return
        await super()._on_key(event)
