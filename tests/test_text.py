"""Database text is shown as data: no markup, no terminal control, nothing invisible."""

from __future__ import annotations

import pytest
from rich.text import Text

from pgconsole.text import visible


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain", "plain"),
        ("[red]x[/]", "[red]x[/]"),
        ("[@click=app.quit]q", "[@click=app.quit]q"),
        ("\x1b[31mred", "\u241b[31mred"),
        ("a\tb", "a\u2409b"),
        ("a\nb", "a\u240ab"),
        ("bell\x07", "bell\u2407"),
        ("del\x7f", "del\u2421"),
        ("csi\x9b2J", "csi<U+009B>2J"),
        ("evil\u202eright", "evil<U+202E>right"),
        ("café 日本", "café 日本"),
    ],
)
def test_visible(raw: str, shown: str) -> None:
    assert visible(raw) == shown


def test_newlines_kept_when_asked() -> None:
    assert visible("a\nb\x1b", keep_newlines=True) == "a\nb\u241b"


def test_visible_text_has_no_control_characters() -> None:
    hostile = "".join(chr(c) for c in range(0, 0xA0)) + "\u2028\u2029\u200b"
    out = visible(hostile)
    assert all(ch.isprintable() for ch in out)


def test_markup_stays_literal_in_a_text() -> None:
    assert Text(visible("[bold]x[/bold]")).plain == "[bold]x[/bold]"
