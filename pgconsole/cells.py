"""Text measured in terminal cells: `王` and most emoji take two, a control picture one."""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size


def fit(text: str, width: int, right: bool) -> str:
    """Cut to `width` terminal cells with an ellipsis, then pad (right-aligned for numbers).

    Measured in cells, not characters: `王` and most emoji take two, so a value holding them
    would otherwise push every column after it to the right.
    """
    cells = cell_len(text)
    if cells > width:
        # set_cell_size pads with a space where a wide character would straddle the cut.
        text = set_cell_size(text, max(width - 1, 0)) + "…"
        cells = width
    pad = " " * (width - cells)
    return pad + text if right else text + pad
