"""The export dialog's proposed file: a safe name made from the relation's, in the download
folder (never the current directory), and the whole path in the message."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from textual.widgets import Input

from pgconsole.screens.export import ExportScreen
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.conftest import admin_connect
from tests.helpers.ui import app_for, first_page, shown, wait_for_screen, wait_until

SIZE = (100, 30)


async def test_a_name_with_a_line_break_proposes_one_safe_path(
    cluster: ThrowawayCluster,
    dbname: str,
    hermetic_environment: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conn = await admin_connect(cluster, dbname)
    try:
        await conn.execute('CREATE TABLE "new\nline" (id int PRIMARY KEY, v text)')
        await conn.execute("""INSERT INTO "new\nline" VALUES (1, 'one'), (2, 'two')""")
    finally:
        await conn.close()
    downloads = hermetic_environment / "Downloads"
    downloads.mkdir()
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    monkeypatch.chdir(checkout)
    app = app_for(cluster, dbname, 'public."new\nline"')
    async with app.run_test(size=SIZE) as pilot:
        await first_page(pilot, app)
        await pilot.press("e")
        await wait_for_screen(pilot, app, ExportScreen, "the export dialog")
        proposed = app.screen.query_one("#export-path", Input).value
        assert proposed == str(downloads / "public.new_line.csv")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Exported" in shown(app, "#export-status"), "the export")
        message = shown(app, "#export-status")
        assert f"to {downloads / 'public.new_line.csv'} in" in message
    assert list(checkout.iterdir()) == []
    with (downloads / "public.new_line.csv").open(newline="") as handle:
        assert list(csv.reader(handle)) == [["id", "v"], ["1", "one"], ["2", "two"]]
