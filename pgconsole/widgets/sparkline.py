"""Text sparklines: a series drawn with the eight block characters, one cell per sample.

One Static can hold a whole panel of them, which costs far less per refresh than a widget per
chart; they read well at 256 colours and over SSH.
"""

from __future__ import annotations

from collections.abc import Sequence

BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float | None], width: int) -> str:
    """The last `width` values as block characters, scaled from 0 to the largest shown.

    A missing value (None) is a space; an all-zero series is a flat baseline.
    """
    shown = list(values)[-width:] if width > 0 else []
    top = max((v for v in shown if v is not None), default=0.0)
    out = []
    for value in shown:
        if value is None:
            out.append(" ")
        elif top <= 0:
            out.append(BLOCKS[0])
        else:
            level = round(max(0.0, value) / top * (len(BLOCKS) - 1))
            out.append(BLOCKS[min(level, len(BLOCKS) - 1)])
    return "".join(out).rjust(width)


def human(value: float | None, unit: str = "") -> str:
    """`1.2k`, `3.4M`, `12`, `0.5`: short numbers for narrow panels."""
    if value is None:
        return "-"
    magnitude = abs(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit:
            return f"{value / limit:.1f}{suffix}{unit}"
    if magnitude >= 10 or value == int(value):
        return f"{value:.0f}{unit}"
    return f"{value:.1f}{unit}"


def duration(seconds: float | None) -> str:
    """`42s`, `3m05s`, `2h10m`, `3d4h`: an age at a glance."""
    if seconds is None:
        return "-"
    whole = int(max(0.0, seconds))
    if whole < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h"
