"""The sessions table on its own (no server): the cursor follows its pid, the lines' styles."""

from __future__ import annotations

from rich.style import Style
from textual.app import App, ComposeResult

from pgconsole.widgets.session_rows import SessionRow
from pgconsole.widgets.session_table import SessionTable


def rows(*pids: int, mark: str = "") -> list[SessionRow]:
    return [SessionRow(pid, (str(pid), f"query of {pid}"), mark) for pid in pids]


def line_style(table: SessionTable, y: int) -> Style | None:
    """The style of line `y` (a table line is one segment)."""
    return next(iter(table.render_line(y))).style


class TableApp(App[None]):
    CSS = "SessionTable { height: 6; }"  # a header and 5 rows

    def compose(self) -> ComposeResult:
        yield SessionTable(("pid", "query"))


async def test_the_cursor_follows_its_pid_and_stays_in_view() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(SessionTable)
        table.focus()
        table.show(rows(*range(100, 120)))
        await pilot.pause()
        assert table.select_pid(102) and table.cursor == 2
        table.show(rows(*range(119, 99, -1)))  # reversed: 102 is 18th now, below the view
        await pilot.pause()
        assert (table.selected_pid, table.cursor) == (102, 17)
        assert table.scroll_y <= 17 < table.scroll_y + 5
        assert f"{102} " in table.render_line(int(17 - table.scroll_y) + 1).text
        table.show(rows(*range(100, 110)))  # 102 on line 3 again, above the view
        await pilot.pause()
        assert (table.selected_pid, table.cursor) == (102, 2)
        assert table.scroll_y <= 2 < table.scroll_y + 5
        table.show(rows(200, 201))  # gone: the cursor stays within the rows
        await pilot.pause()
        assert table.cursor == 1 and table.selected_pid == 201


async def test_lines_are_styled_by_their_mark_and_the_cursor_and_follow_the_theme() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(SessionTable)
        table.show([*rows(1), *rows(2, mark="waiting")])
        table.focus()
        await pilot.pause()
        cursor = table.get_component_rich_style("sessiontable--cursor")
        waiting = table.get_component_rich_style("sessiontable--waiting")
        header, first, second = (line_style(table, y) for y in range(3))
        assert first is not None and first.bgcolor == cursor.bgcolor
        assert second is not None and second.color == waiting.color
        assert second.bgcolor != cursor.bgcolor and header != first
        before = first.bgcolor
        app.theme = "nord"  # another accent colour
        await pilot.pause()
        after = line_style(table, 1)
        assert after is not None and after.bgcolor == (
            table.get_component_rich_style("sessiontable--cursor").bgcolor
        )
        assert after.bgcolor != before
