"""Showing text that came from a database: as data, never as markup or terminal control.

A value, an identifier or an error message can hold `[red]`, `[@click=app.quit]` or an escape
sequence. Everything the UI shows from the server goes through `visible()` and is handed to
widgets as `rich.text.Text` / Textual `Content`, never as a markup string.
"""

from __future__ import annotations

import unicodedata

_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _placeholder(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode "control pictures": ␛ for ESC, ␉ for TAB, ...
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """Replace control and invisible formatting characters with visible placeholders.

    Args:
        text: Text from the database or from an error message.
        keep_newlines: Keep `\\n` as a line break (for multi-line detail views).

    Returns:
        Text that is safe to write to a terminal: no escape sequences, no C0/C1 controls and no
        bidirectional overrides, each replaced by a symbol that shows it was there.
    """
    if text.isprintable() and not _BIDI_CONTROLS.intersection(text):
        return text
    out: list[str] = []
    for char in text:
        if char == "\n" and keep_newlines:
            out.append(char)
        elif char in _BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(_placeholder(char))
        else:
            out.append(char)
    return "".join(out)
