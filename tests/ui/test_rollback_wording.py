"""Ctrl+r on a transaction that changed nothing says so instead of 'no changes … will be undone'."""

from __future__ import annotations

import asyncpg
import pytest
from textual.widgets import TextArea

from pgconsole.screens.cell_editor import CellEditorScreen
from pgconsole.screens.confirm import ConfirmScreen
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.helpers.psql import psql_available
from tests.helpers.ui import app_for, first_page, wait_for_screen, wait_until

pytestmark = pytest.mark.skipif(not psql_available(), reason="psql is not installed")


async def test_rolling_back_an_empty_transaction_says_there_is_nothing_to_undo(
    cluster: ThrowawayCluster, dbname: str, conn: asyncpg.Connection
) -> None:
    await conn.execute(
        "CREATE TABLE item (id int PRIMARY KEY, qty int); INSERT INTO item VALUES (1, 1)"
    )
    app = app_for(cluster, dbname, "public.item")
    async with app.run_test(size=(100, 30)) as pilot:
        (await first_page(pilot, app)).focus()
        await pilot.press("l", "f2")  # qty: a bad value opens the transaction, changes nothing
        editor = await wait_for_screen(pilot, app, CellEditorScreen, "the editor")
        editor.query_one(TextArea).text = "1.5"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.main_screen.editor.is_open, "the transaction")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.main_screen, "the editor closed")
        await pilot.press("ctrl+r")
        confirm = await wait_for_screen(pilot, app, ConfirmScreen, "the confirmation")
        assert confirm.question == "End the transaction?"
        assert confirm.detail == "Nothing to roll back: no change was made in public.item."
        await pilot.press("y")
        await wait_until(pilot, lambda: not app.main_screen.editor.is_open, "the rollback")
