"""The browser's sort and filters: the keys that change them, and a filter the server refused.

A change makes a new `BrowseSpec` and asks the screen to read again from the first page
(`restart`). When the server refuses a filter, the screen puts back the rows shown and this
controller keeps the filter with the server's words, a caret under the position it names,
so that `w` offers it again to be fixed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol

from textual.app import App

from pgconsole.db.browse.catalog import RelationDetail
from pgconsole.db.browse.filtering import (
    caret_excerpt,
    error_position,
    filter_position,
    without_alias,
)
from pgconsole.db.browse.pages import ALIAS, BrowseSpec, Sort
from pgconsole.db.connection.failures import describe_error
from pgconsole.screens.filter import FilterScreen
from pgconsole.widgets.grid import DataGrid


class FilterHost(Protocol):
    """What the controller needs of the browser."""

    spec: BrowseSpec | None
    detail: RelationDetail | None

    @property
    def app(self) -> App[Any]: ...

    @property
    def grid(self) -> DataGrid: ...

    def say(self, text: str, *, error: bool = False) -> None: ...

    def require_relation(self) -> bool: ...

    def restart(self, doing: str = "reading") -> object: ...


def next_sort(current: Sort | None, column: str, detail: RelationDetail) -> Sort | None:
    """`column` ascending, then descending, then unsorted (another column starts again)."""
    if current is None or current.column != column:
        indexed = any(
            i.leading_column == column and i.method == "btree" and i.valid and not i.partial
            for i in detail.indexes
        )
        return Sort(column, descending=False, indexed=indexed)
    if not current.descending:
        return Sort(column, descending=True, indexed=current.indexed)
    return None


def explain(error: BaseException, sql: str, spec_filter: str) -> str:
    """The server's error in the user's names; for an error inside the filter, the filter's
    line with a caret under the position, right below the first line (the message line shows
    four), and the SQLSTATE last.

    Args:
        error: What the server said.
        sql: The statement it said it of.
        spec_filter: The WHERE expression the statement holds in parentheses ("" for none).
    """
    lines = without_alias(describe_error(error), ALIAS).split("\n")
    position = error_position(error)
    start = sql.find("(" + spec_filter + ")") if spec_filter else -1
    at = None
    if position is not None and start >= 0:
        at = filter_position(position, start + 1, spec_filter)
    if at is None:
        return "\n".join(lines)
    sqlstate = [line for line in lines[1:] if line.startswith("SQLSTATE ")]
    rest = [line for line in lines[1:] if not line.startswith("SQLSTATE ")]
    return "\n".join([lines[0], caret_excerpt(spec_filter, at), *rest, *sqlstate])


class BrowseFilters:
    """Sort (`s`), filter (`w`, `=`), clear (`x`); and the filter the server last refused."""

    def __init__(self, host: FilterHost) -> None:
        self.host = host
        self.failed: tuple[str, str] | None = None
        """A filter the server refused, and why: `w` offers it again to be fixed."""

    def _change(self, spec: BrowseSpec, doing: str) -> None:
        self.host.spec = spec
        self.host.restart(doing)

    def sort(self) -> None:
        """Sort by the column under the cursor: ascending, descending, then unsorted."""
        host = self.host
        if not host.require_relation() or host.grid.current_column is None:
            return
        assert host.spec is not None and host.detail is not None
        sort = next_sort(host.spec.sort, host.grid.current_column.name, host.detail)
        self._change(replace(host.spec, sort=sort), "sorting")

    def where(self) -> None:
        """Filter with a WHERE expression (checked, then run READ ONLY)."""
        host = self.host
        if not host.require_relation():
            return
        assert host.spec is not None

        def apply(text: str | None) -> None:
            if text is not None and host.spec is not None:
                self._change(replace(host.spec, filter=text), "filtering")

        relation = f"{host.spec.schema}.{host.spec.name}"
        # A filter the server refused comes back to be fixed, with why.
        current, error = self.failed or (host.spec.filter, "")
        self.failed = None
        prompt = FilterScreen(relation, current, error, columns=host.spec.columns)
        host.app.push_screen(prompt, apply)

    def quick(self) -> None:
        """Keep only rows whose column equals the value under the cursor (a parameter)."""
        host = self.host
        if not host.require_relation():
            return
        assert host.spec is not None
        row, column = host.grid.current_row, host.grid.current_column
        if row is None or column is None:
            return
        index = host.spec.columns.index(column)
        if row.truncated(index):
            host.say("That value is too long to filter on: use w and a WHERE expression.")
            return
        equals = (*host.spec.equals, (column.name, row.cells[index]))
        self._change(replace(host.spec, equals=equals), "filtering")

    def clear(self) -> None:
        """Drop the WHERE expression and the quick filters."""
        spec = self.host.spec
        if spec is not None and (spec.filter or spec.equals):
            self._change(replace(spec, filter="", equals=()), "filtering")

    def not_applied(self, tried: BrowseSpec, shown: BrowseSpec, doing: str, why: str) -> str:
        """What to say when the server refused a change (`sorting`, `filtering`) and the rows
        read with `shown` stay; a refused filter is kept for `w` to offer again."""
        change = "sort" if doing == "sorting" else "filter"
        again = ""
        if tried.filter and tried.filter != shown.filter:
            self.failed = (tried.filter, why)
            again = " (w to fix it)"
        return (
            f"Not applied: {why}\nThe {change} was not applied: the rows shown"
            f" are as before{again}."
        )
