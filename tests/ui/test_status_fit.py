"""The status bar at 80 columns: the badges shorten before the connection name is cut."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from textual.widgets import Static

from pgconsole.throwaway.cluster import ThrowawayCluster
from pgconsole.widgets.status_bar import StatusTexts, fit_status, shorten_target
from tests.helpers.ui import app_for, wait_until

FULL = StatusTexts(
    "postgres@127.0.0.1:47777/postgres",
    version=" PG 15.18 ",
    tls=" TLS verified ",
    tx=" TX open 00:00 · 1 change ",
    pool=" pool 1/4 1 used 0 idle ",
)


def bar(texts: StatusTexts) -> str:
    parts = (texts.version, texts.tls, texts.read_only, texts.tx, texts.pool)
    return " " + texts.target + "".join(p for p in parts if p is not None)


def test_at_80_columns_with_a_transaction_the_name_stays_whole() -> None:
    fitted = fit_status(FULL, 80, short_tls=" TLS ✓ ", short_pool=" pool 1/4 ")
    assert (
        bar(fitted)
        == " postgres@127.0.0.1:47777/postgres TLS ✓  TX open 00:00 · 1 change  pool 1/4 "
    )


def test_the_name_is_cut_last_in_the_middle_of_host_then_database() -> None:
    fitted = fit_status(FULL, 60, short_tls=" TLS ✓ ", short_pool=" pool 1/4 ")
    assert fitted.tx == FULL.tx and fitted.pool is None and fitted.version is None
    assert fitted.target == "postgres@127.…777/postgres" and fitted.width == 60
    assert shorten_target("dba@db1.example.com:5432/customers_archive", 30) == (
        "dba@db1.…432/customers_archive"
    )
    assert (
        shorten_target("dba@db1.example.com:5432/customers_archive", 20) == "dba@db…32/custo…hive"
    )


async def test_the_bar_at_80_columns_shows_the_whole_name_beside_a_transaction(
    cluster: ThrowawayCluster, dbname: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_for(cluster, dbname)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.main_screen
        await wait_until(
            pilot, lambda: screen.query_one("#status-pool", Static).display, "the pool badge"
        )
        # As if an edit transaction were open: the screen's 1 s tick would hide a badge that
        # no transaction backs.
        monkeypatch.setattr(screen.editor, "status_text", lambda: "TX open 00:00 · 1 change")
        screen.show_transaction("TX open 00:00 · 1 change")
        tx = screen.query_one("#status-tx", Static)
        await wait_until(pilot, lambda: tx.display and tx.region.width > 0, "the badge")
        target = screen.query_one("#status-target", Static)
        name = f"postgres@127.0.0.1:{cluster.port}/{dbname}"
        assert str(target.content) == name
        assert target.content_region.width >= cell_len(name)  # drawn whole, no ellipsis
        assert str(tx.content) == " TX open 00:00 · 1 change "
        assert tx.region.right <= 80
        assert str(screen.query_one("#status-tls", Static).content) == " TLS ✓ "
