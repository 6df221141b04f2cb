"""Double-width characters (CJK, emoji) take two terminal cells: columns stay aligned."""

from __future__ import annotations

import pytest
from rich.cells import cell_len

from pgconsole.cells import fit
from pgconsole.throwaway.cluster import ThrowawayCluster
from pgconsole.widgets.grid import DataGrid
from tests.conftest import admin_connect
from tests.helpers.ui import app_for, first_page, wait_until
from tests.ui.test_console import open_console, run

WIDE = "Kwame 王 😀"


@pytest.mark.parametrize(
    ("text", "width", "right", "expected"),
    [
        (WIDE, 12, False, "Kwame 王 😀 "),  # 11 cells, padded to 12
        (WIDE, 12, True, " Kwame 王 😀"),
        (WIDE, 9, False, "Kwame 王…"),  # cut in cells, not characters
        (WIDE, 8, False, "Kwame  …"),  # 王 would straddle the cut: a space instead
        ("plain", 8, False, "plain   "),
    ],
)
def test_fit_measures_terminal_cells(text: str, width: int, right: bool, expected: str) -> None:
    shown = fit(text, width, right)
    assert cell_len(shown) == width
    assert shown == expected


def column_starts(grid: DataGrid, y: int, values: list[str]) -> list[int]:
    """The cell offset at which each of `values` starts on rendered line `y`."""
    line = grid.render_line(y).text
    return [cell_len(line[: line.index(value)]) for value in values]


async def aligned(grid: DataGrid) -> None:
    """Every row's `qty` value (right-aligned) ends in the same cell as the header's name."""
    header = grid.render_line(0).text
    qty_end = cell_len(header[: header.index("qty") + len("qty")])
    for y in range(2, 2 + len(grid.rows)):
        line = grid.render_line(y).text.rstrip()
        assert cell_len(line) == qty_end, (y, line)


async def test_the_browser_grid_aligns_wide_characters(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    conn = await admin_connect(cluster, dbname)
    try:
        await conn.execute("CREATE TABLE wide (id int PRIMARY KEY, name text, qty int)")
        await conn.execute(
            "INSERT INTO wide VALUES (1, $1, 5), (2, 'plain', 6), (3, repeat('王', 30), 7)", WIDE
        )
    finally:
        await conn.close()
    app = app_for(cluster, dbname, "public.wide")
    async with app.run_test(size=(120, 24)) as pilot:  # the 40-cell name and qty in sight
        grid = await first_page(pilot, app)
        await aligned(grid)


async def test_the_console_grid_aligns_wide_characters(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    app = app_for(cluster, dbname)
    async with app.run_test(size=(80, 24)) as pilot:
        console = await open_console(pilot, app)
        await run(
            pilot,
            console,
            f"SELECT name, qty FROM (VALUES ('{WIDE}', 5), ('plain', 6)) AS t(name, qty)",
        )
        grid = console.grid
        await wait_until(pilot, lambda: len(grid.rows) == 2, "the rows")
        await aligned(grid)
