"""Key names as pgconsole spells them everywhere: the key bar, the help screen, the README.

One spelling per key: `F4`, `Ctrl+s`, `Shift+F7`, `Home`, `PgDn`, `Esc`, `+` and `-`.
"""

from __future__ import annotations

NAMES = {
    "question_mark": "?",
    "escape": "Esc",
    "enter": "Enter",
    "space": "Space",
    "slash": "/",
    "equals_sign": "=",
    "dollar_sign": "$",
    "plus": "+",
    "minus": "-",
    "at": "@",
    "backslash": "\\",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "left_curly_bracket": "{",
    "right_curly_bracket": "}",
    "comma": ",",
    "full_stop": ".",
    "pagedown": "PgDn",
    "pageup": "PgUp",
    "home": "Home",
    "end": "End",
    "delete": "Del",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
    "tab": "Tab",
}


def one_key(part: str) -> str:
    """`ctrl+s` → `Ctrl+s`, `shift+f7` → `Shift+F7`, `pagedown` → `PgDn`."""
    part = part.strip()
    if part in NAMES:
        return NAMES[part]
    modifier, plus, rest = part.partition("+")
    if plus and modifier in ("ctrl", "shift", "alt") and rest:
        return f"{modifier.capitalize()}+{one_key(rest)}"
    if len(part) > 1 and part[0] == "f" and part[1:].isdigit():
        return part.upper()
    return part


def key_label(key: str) -> str:
    """`question_mark,f1` → `?  F1`, the way keys read on a keyboard."""
    return "  ".join(one_key(part) for part in key.split(","))
