"""Helpers for Pilot tests: wait for a condition, read what a widget shows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from textual import events
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static, Tree

from pgconsole.app import PgConsoleApp
from pgconsole.config import Settings
from pgconsole.db.opening import open_early
from pgconsole.screens.activity import ActivityScreen
from pgconsole.screens.diagnostics import DiagnosticsScreen
from pgconsole.throwaway.cluster import ThrowawayCluster
from pgconsole.widgets.grid import DataGrid
from tests.conftest import params_for

ScreenT = TypeVar("ScreenT", bound=Screen[Any])


def noted_calls(
    monkeypatch: pytest.MonkeyPatch, owner: type[Any], name: str, note: Callable[..., Any]
) -> list[Any]:
    """Every call of the method `owner.name` from now on, as `note(self, *args, **kwargs)`
    says it (a call it says None of is left out); the method then runs as before. The list is
    the test's to read and clear; monkeypatch undoes the wrapping."""
    noted: list[Any] = []
    method = getattr(owner, name)

    def watched(self: Any, *args: Any, **kwargs: Any) -> Any:
        said = note(self, *args, **kwargs)
        if said is not None:
            noted.append(said)
        return method(self, *args, **kwargs)

    monkeypatch.setattr(owner, name, watched)
    return noted


async def wait_until(
    pilot: Pilot[Any], predicate: Callable[[], bool], what: str, within: float = 15.0
) -> None:
    """Let the app run until `predicate()` holds; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await pilot.pause(0.05)


async def wait_for_screen(
    pilot: Pilot[Any], app: App[Any], kind: type[ScreenT], what: str, within: float = 15.0
) -> ScreenT:
    """Let the app run until its screen is a `kind`, mounted (a pushed screen is on the stack
    before its widgets are composed); return it."""
    await wait_until(
        pilot, lambda: isinstance(app.screen, kind) and app.screen.is_mounted, what, within
    )
    screen = app.screen
    assert isinstance(screen, kind)
    return screen


def burst(app: App[Any], keys: list[str]) -> None:
    """Post every key at once, as the terminal driver does with the bytes of one read (a slow
    SSH link, key repeat): nothing runs between them, unlike `pilot.press`."""
    for name in keys:
        app.post_message(events.Key(name, name if len(name) == 1 else None))


def shown(app: App[Any], selector: str) -> str:
    """The plain text a Static on the current screen shows."""
    return str(app.screen.query_one(selector, Static).content)


def tree_labels(app: App[Any]) -> list[str]:
    """Every label of the current screen's Tree, depth first."""
    tree = app.screen.query_one(Tree)
    labels: list[str] = []

    def walk(node: Any) -> None:
        labels.append(str(node.label))
        for child in node.children:
            walk(child)

    walk(tree.root)
    return labels


def screen_text(app: App[Any]) -> str:
    """Everything the current screen's Statics show, one per line."""
    return "\n".join(str(widget.content) for widget in app.screen.query(Static) if widget.display)


def drawn_lines(app: App[Any]) -> list[str]:
    """The current screen as drawn, one string per terminal line: what a snapshot shows, as
    text (a modal screen's lines only; what it covers is not drawn here)."""
    # The compositor is private; it is what export_screenshot() renders from, too.
    return [strip.text for strip in app.screen._compositor.render_strips()]


def app_for(
    cluster: ThrowawayCluster,
    dbname: str,
    table: str | None = None,
    *,
    activity: bool = False,
    early: bool = True,
    **settings: Any,
) -> PgConsoleApp:
    """The app as `pgconsole CONNINFO [--table T] [--activity]` starts it, with `settings`.

    As there, the pool, the table's first page and the activity screen's first sample are
    taken before the app exists, unless
    `early` is false: then the app connects and opens the table itself (as after a password
    prompt).
    """
    params, chosen = params_for(cluster, dbname), Settings(**settings)
    opening = (
        asyncio.create_task(open_early(params, chosen, None, table, activity)) if early else None
    )
    return PgConsoleApp(params, chosen, table=table, activity=activity, opening=opening)


async def first_page(pilot: Pilot[Any], app: PgConsoleApp) -> DataGrid:
    """The grid, once the opened relation's first page is in it."""
    await wait_until(pilot, lambda: bool(app.main_screen.grid.rows), "the first page")
    return app.main_screen.grid


async def to_activity(pilot: Pilot[Any], app: PgConsoleApp) -> ActivityScreen:
    """From the browser, once connected: F3; the activity screen."""
    await wait_until(pilot, lambda: app.database is not None, "the pool")
    await pilot.press("f3")
    return await wait_for_screen(pilot, app, ActivityScreen, "the activity screen")


async def to_diagnostics(pilot: Pilot[Any], app: PgConsoleApp, key: str = "d") -> DiagnosticsScreen:
    """From the browser: F3, then `key` on the activity screen (`d` the diagnostics on the
    statements panel, `h` on the horizon's); the screen once it has shown a reading."""
    await to_activity(pilot, app)
    await pilot.press(key)
    screen = await wait_for_screen(pilot, app, DiagnosticsScreen, "the diagnostics")
    await wait_until(pilot, lambda: screen.samples > 0, "a reading")
    return screen
