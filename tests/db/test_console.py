"""The SQL console's session against a real server: streaming, tags, transactions, cancel,
read-only mode."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from pgconsole.db.browse.export import ExportFormat, export, query_source
from pgconsole.db.connection.params import SessionSettings
from pgconsole.db.console.connection import (
    ConsoleConnection,
    ConsoleRefused,
    ResultPager,
    SessionLost,
    returning_query,
    wrapped_query,
)
from pgconsole.db.sqltext import Statement, split_statements
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.conftest import open_pool
from tests.helpers.queries import backend_reaches, backend_state
from tests.helpers.waiting import poll_until


def one(sql: str) -> Statement:
    """The script's only statement."""
    statements = split_statements(sql)
    assert len(statements) == 1, statements
    return statements[0]


@contextlib.asynccontextmanager
async def console_session(
    cluster: ThrowawayCluster,
    dbname: str,
    *,
    read_only: bool,
    pool_session: SessionSettings | None = None,
    idle_seconds: float = 5.0,
) -> AsyncIterator[ConsoleConnection]:
    """A console session beside the app's pool on `database`, both closed on the way out."""
    async with open_pool(cluster, dbname, pool_session) as database:
        session = ConsoleConnection(database, read_only=read_only, idle_seconds=idle_seconds)
        try:
            yield session
        finally:
            await session.close()


async def test_a_query_streams_page_by_page_in_the_servers_order(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    async with console_session(cluster, dbname, read_only=False) as session:
        result = await session.run(
            one("SELECT g, g * 2 AS double FROM generate_series(1, 250000) g")
        )
        assert result.tag == "SELECT"
        assert [c.name for c in result.columns] == ["g", "double"]
        assert result.columns[0].numeric
        assert result.page is not None and result.pager is not None
        assert [r.cells for r in result.page.rows[:2]] == [("1", "2"), ("2", "4")]
        assert len(result.page.rows) == 100 and result.page.more_after
        second = await result.pager.after(result.page.rows[-1])
        assert second.rows[0].cells == ("101", "202")
        last = await result.pager.last()
        assert last.rows[-1].cells == ("250000", "500000")
        assert not last.more_after and result.pager.total == 250000
        back = await result.pager.before(last.rows[0])
        assert back.rows[-1].cells[0] == str(250000 - 100)


async def test_a_cursor_of_ours_ends_its_transaction_when_idle_and_reopens_at_the_same_row(
    cluster: ThrowawayCluster, dbname: str, conn: asyncpg.Connection
) -> None:
    async with console_session(cluster, dbname, read_only=False, idle_seconds=0.2) as session:
        result = await session.run(one("SELECT g FROM generate_series(1, 1000) g ORDER BY g"))
        assert result.pager is not None and result.page is not None
        assert session.pid is not None
        assert await backend_state(conn, session.pid) == "idle in transaction"
        await asyncio.sleep(0.3)
        assert await session.close_if_idle()
        assert not session.holds_transaction
        assert await backend_state(conn, session.pid) == "idle"
        page = await result.pager.after(result.page.rows[-1])
        assert page.rows[0].cells == ("101",)
        # Reopened READ ONLY: the query ran again, and a writing function could not.
        assert session.holds_transaction


async def test_a_result_that_fits_in_its_first_page_holds_no_transaction(
    cluster: ThrowawayCluster, dbname: str, conn: asyncpg.Connection
) -> None:
    async with console_session(cluster, dbname, read_only=False, idle_seconds=60) as session:
        result = await session.run(one("SELECT g FROM generate_series(1, 100) g"))
        assert result.page is not None and len(result.page.rows) == 100
        assert not result.page.more_after
        assert result.pager is not None and result.pager.total == 100
        assert not session.holds_transaction
        assert session.pid is not None
        assert await backend_state(conn, session.pid) == "idle"
        # One row more than a page: the cursor's transaction stays for the next page.
        await session.run(one("SELECT g FROM generate_series(1, 101) g"))
        assert session.holds_transaction
        assert await backend_state(conn, session.pid) == "idle in transaction"


async def test_statements_report_their_tags_and_rows(
    cluster: ThrowawayCluster, dbname: str, conn: asyncpg.Connection
) -> None:
    await conn.execute("CREATE TABLE t (id int PRIMARY KEY, flag boolean, note text)")
    async with console_session(cluster, dbname, read_only=False) as session:
        inserted = await session.run(
            one("INSERT INTO t SELECT g, g % 2 = 0, 'n' || g FROM generate_series(1, 5) g")
        )
        assert inserted.tag == "INSERT 0 5" and inserted.rows_affected == 5
        assert inserted.page is None
        updated = await session.run(one("UPDATE t SET note = 'x' WHERE id <= 3"))
        assert updated.tag == "UPDATE 3" and updated.rows_affected == 3
        returned = await session.run(one("DELETE FROM t WHERE id > 3 RETURNING id, flag"))
        assert returned.rows_affected == 2 and returned.tag == "DELETE 2"
        assert returned.page is not None
        # Text made by the server (`::text`, as the grid shows it), not Python's True/False.
        assert sorted(r.cells for r in returned.page.rows) == [("4", "true"), ("5", "false")]
        shown = await session.run(one("SHOW statement_timeout"))
        assert shown.page is not None and shown.page.rows[0].cells == ("30s",)
        created = await session.run(one("CREATE INDEX t_note ON t (note)"))
        assert created.tag == "CREATE INDEX"
        vacuumed = await session.run(one("VACUUM t"))  # cannot run inside a transaction
        assert vacuumed.tag == "VACUUM"
        assert await conn.fetchval("SELECT count(*) FROM t") == 3


async def test_a_users_transaction_is_followed_and_its_waiters_are_named(
    cluster: ThrowawayCluster, dbname: str, conn: asyncpg.Connection
) -> None:
    await conn.execute("CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0)")
    async with console_session(cluster, dbname, read_only=False) as session:
        await session.run(one("BEGIN"))
        assert session.in_transaction and session.tx_statements == 1
        await session.run(one("UPDATE t SET v = 1 WHERE id = 1"))
        assert session.tx_statements == 2
        # Another session now waits on the row lock.
        blocked = asyncio.create_task(conn.execute("UPDATE t SET v = 2 WHERE id = 1"))

        async def named() -> bool:
            return bool(await session.waiters())

        await poll_until(named, "the waiter on the row lock")
        waiters = await session.waiters()
        assert [w.pid for w in waiters] == [conn.get_server_pid()]
        assert "UPDATE t SET v = 2" in waiters[0].query
        generation = session.generation
        await session.run(one("ROLLBACK"))
        await blocked
        assert not session.in_transaction and session.generation == generation + 1
        assert await conn.fetchval("SELECT v FROM t") == 2  # ours was rolled back


async def test_a_failed_statement_aborts_the_users_transaction_until_rollback(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    async with console_session(cluster, dbname, read_only=False) as session:
        await session.run(one("BEGIN"))
        with pytest.raises(asyncpg.DivisionByZeroError):
            await session.run(one("SELECT 1 / 0"))
        assert session.aborted and session.in_transaction
        with pytest.raises(asyncpg.InFailedSQLTransactionError):
            await session.run(one("SELECT 1"))
        await session.run(one("ROLLBACK"))
        assert not session.aborted and not session.in_transaction
        result = await session.run(one("SELECT 42"))
        assert result.page is not None and result.page.rows[0].cells == ("42",)


async def test_a_cursor_in_the_users_transaction_is_declared_again_after_it_ends(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    async with console_session(cluster, dbname, read_only=False) as session:
        await session.run(one("BEGIN"))
        result = await session.run(one("SELECT g FROM generate_series(1, 500) g"))
        assert result.pager is not None and result.page is not None
        assert not session.holds_transaction  # the cursor lives in the user's
        await session.run(one("COMMIT"))
        page = await result.pager.after(result.page.rows[-1])
        assert page.rows[0].cells == ("101",)


async def test_cancel_ends_the_statement_on_the_server_and_the_session_goes_on(
    cluster: ThrowawayCluster, dbname: str, conn: asyncpg.Connection
) -> None:
    async with console_session(cluster, dbname, read_only=False) as session:
        await session.open()
        running = asyncio.create_task(session.run(one("SELECT pg_sleep(60)")))
        await backend_reaches(conn, session.pid, "active")
        assert await session.cancel()
        # Long before pg_sleep(60) ends by itself; how soon is benchmarks/console.py's.
        with pytest.raises(asyncpg.QueryCanceledError, match="user request"):
            await asyncio.wait_for(running, 30)
        assert await backend_state(conn, session.pid or 0) == "idle"
        result = await session.run(one("SELECT 'still here'"))
        assert result.page is not None and result.page.rows[0].cells == ("still here",)
        assert not await session.cancel()  # nothing runs


@pytest.mark.parametrize("in_transaction", [False, True])
async def test_a_cancel_between_two_steps_of_a_statement_is_not_lost(
    cluster: ThrowawayCluster,
    dbname: str,
    monkeypatch: pytest.MonkeyPatch,
    in_transaction: bool,
) -> None:
    """ctrl+c after DECLARE, before FETCH: the backend is idle for that moment and ignores a
    cancel signal, and pg_sleep would then run its full minute."""
    declare = ResultPager.declare

    async def declare_then_cancel(pager: ResultPager, *args: Any, **kwargs: Any) -> None:
        await declare(pager, *args, **kwargs)
        assert await pager.session.cancel()  # the signal lands on an idle backend

    async with console_session(cluster, dbname, read_only=False) as session:
        if in_transaction:
            await session.run(one("BEGIN"))
        monkeypatch.setattr(ResultPager, "declare", declare_then_cancel)
        with pytest.raises(asyncpg.QueryCanceledError, match="user request"):
            await asyncio.wait_for(session.run(one("SELECT pg_sleep(60)")), 10)
        monkeypatch.setattr(ResultPager, "declare", declare)
        # Nothing failed on the server: the user's transaction is open and usable.
        assert session.in_transaction is in_transaction and not session.aborted
        result = await session.run(one("SELECT 'next'"))
        assert result.page is not None and result.page.rows[0].cells == ("next",)


async def test_the_statement_timeout_applies_and_is_shown(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    async with console_session(cluster, dbname, read_only=False) as session:
        await session.open()
        assert session.statement_timeout == "30s"
        await session.run(one("SET statement_timeout = '150ms'"))
        assert session.statement_timeout == "150ms"
        with pytest.raises(asyncpg.QueryCanceledError, match="statement timeout"):
            await session.run(one("SELECT pg_sleep(2)"))


async def test_a_second_statement_never_rides_along(
    cluster: ThrowawayCluster, dbname: str, conn: asyncpg.Connection
) -> None:
    await conn.execute("CREATE TABLE keep (id int)")
    async with console_session(cluster, dbname, read_only=False) as session:
        for sql in (
            "SELECT 1; DROP TABLE keep",
            "SELECT 1) AS q(_c0); DROP TABLE keep; SELECT * FROM (SELECT 1",
            "UPDATE keep SET id = 1; DROP TABLE keep",
        ):
            with pytest.raises(asyncpg.PostgresError):
                await session.run(Statement(sql, 0, len(sql)))
        assert await conn.fetchval("SELECT to_regclass('keep') IS NOT NULL")
        # A trailing comment does not swallow the wrapper's closing parenthesis.
        result = await session.run(Statement("SELECT 7 -- the answer", 0, 22))
        assert result.page is not None and result.page.rows[0].cells == ("7",)


async def test_a_procedure_that_commits_can_be_called(
    cluster: ThrowawayCluster, dbname: str, conn: asyncpg.Connection
) -> None:
    await conn.execute(
        "CREATE TABLE log (n int);"
        "CREATE PROCEDURE p(INOUT done int) LANGUAGE plpgsql AS $$"
        " BEGIN INSERT INTO log VALUES (1); COMMIT; done := 1; END $$"
    )
    async with console_session(cluster, dbname, read_only=False) as session:
        result = await session.run(one("CALL p(NULL)"))
        assert result.page is not None and result.page.rows[0].cells == ("1",)
        assert await conn.fetchval("SELECT count(*) FROM log") == 1


READ_ONLY_ESCAPES = [
    "SET TRANSACTION READ WRITE",
    "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
    "BEGIN READ WRITE",
    "START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE",
    "SET default_transaction_read_only = off",
    "set /* hidden */ DEFAULT_TRANSACTION_READ_ONLY to off",
    "RESET default_transaction_read_only",
    "SELECT set_config('default_transaction_read_only', 'off', false)",
]


@pytest.mark.parametrize("sql", READ_ONLY_ESCAPES)
async def test_read_only_mode_refuses_escapes(
    cluster: ThrowawayCluster, dbname: str, conn: asyncpg.Connection, sql: str
) -> None:
    await conn.execute("CREATE TABLE t (id int); INSERT INTO t VALUES (1)")
    async with console_session(
        cluster, dbname, read_only=True, pool_session=SessionSettings(read_only=True)
    ) as session:
        with pytest.raises(ConsoleRefused):
            await session.run(one(sql))
        assert session.refusal(split_statements(f"COMMIT; {sql}")) is not None
        assert session.refusal(split_statements("COMMIT; DELETE FROM t")) is not None
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await session.run(one("DELETE FROM t"))
        await session.run(one("BEGIN"))
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await session.run(one("DELETE FROM t"))
        await session.run(one("ROLLBACK"))
        assert await conn.fetchval("SELECT count(*) FROM t") == 1


async def test_read_only_mode_holds_without_the_session_setting(
    cluster: ThrowawayCluster, dbname: str, conn: asyncpg.Connection
) -> None:
    """Behind a pooler the session settings are not sent: the console's own READ ONLY holds."""
    await conn.execute("CREATE TABLE t (id int); INSERT INTO t VALUES (1)")
    async with console_session(
        cluster, dbname, read_only=True
    ) as session:  # default_transaction_read_only off
        for sql in ("DELETE FROM t", "INSERT INTO t VALUES (2) RETURNING id"):
            with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
                await session.run(one(sql))
        await session.run(one("BEGIN"))
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await session.run(one("UPDATE t SET id = 3"))
        await session.run(one("ROLLBACK"))
        plan_error = None
        try:
            await session.explain(one("DELETE FROM t"), analyze=True)
        except asyncpg.ReadOnlySQLTransactionError as error:
            plan_error = error
        assert plan_error is not None
        assert await conn.fetchval("SELECT count(*) FROM t") == 1


async def test_explain_analyze_of_an_update_changes_nothing(
    cluster: ThrowawayCluster, dbname: str, conn: asyncpg.Connection
) -> None:
    await conn.execute(
        "CREATE TABLE a (id int PRIMARY KEY, v int);"
        "CREATE TABLE b (id int PRIMARY KEY, a_id int);"
        "INSERT INTO a SELECT g, 0 FROM generate_series(1, 2000) g;"
        "INSERT INTO b SELECT g, g FROM generate_series(1, 2000) g; ANALYZE a; ANALYZE b"
    )
    async with console_session(cluster, dbname, read_only=False) as session:
        plan = await session.explain(
            one("SELECT * FROM a JOIN b ON b.a_id = a.id WHERE a.v = 0"), analyze=False
        )
        assert "Join" in plan.root.node_type or plan.root.children
        analysed = await session.explain(one("UPDATE a SET v = v + 1"), analyze=True)
        assert analysed.analyzed and analysed.rolled_back
        assert await conn.fetchval("SELECT sum(v) FROM a") == 0
        # Inside the user's transaction too, which stays usable.
        await session.run(one("BEGIN"))
        await session.run(one("UPDATE a SET v = 5 WHERE id = 1"))
        await session.explain(one("UPDATE a SET v = v + 1"), analyze=True)
        check = await session.run(one("SELECT sum(v) FROM a"))
        assert check.page is not None and check.page.rows[0].cells == ("5",)
        await session.run(one("ROLLBACK"))
        assert await conn.fetchval("SELECT sum(v) FROM a") == 0


def test_wrappers_keep_a_trailing_comment_inside_its_line() -> None:
    assert wrapped_query("SELECT 1 -- c", 1).endswith('\n) AS q("_c0")')
    assert "\n) SELECT" in returning_query("DELETE FROM t RETURNING id -- c", 1)


async def test_a_query_exports_with_copy(
    cluster: ThrowawayCluster, dbname: str, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    await conn.execute(
        "CREATE TABLE t (id int, note text);"
        "INSERT INTO t VALUES (1, 'a,b'), (2, E'line\\nbreak'), (3, NULL)"
    )
    source = query_source("SELECT id, note FROM t WHERE id < 3 ORDER BY id -- trailing", "q")
    async with open_pool(cluster, dbname) as database:
        csv_result = await export(database, source, tmp_path / "q.csv", ExportFormat.CSV)
        json_result = await export(database, source, tmp_path / "q.jsonl", ExportFormat.JSON)
    assert csv_result.rows == 2 and json_result.rows == 2
    assert (tmp_path / "q.csv").read_text() == 'id,note\n1,"a,b"\n2,"line\nbreak"\n'
    lines = (tmp_path / "q.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"id": 1, "note": "a,b"},
        {"id": 2, "note": "line\nbreak"},
    ]


async def test_an_export_sees_what_the_console_sees_and_keeps_nothing(
    cluster: ThrowawayCluster, dbname: str, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    await conn.execute(
        "CREATE SCHEMA app; CREATE TABLE app.t (id int);"
        "CREATE FUNCTION app.bump() RETURNS int LANGUAGE sql"
        " AS 'INSERT INTO app.t VALUES (9) RETURNING id'"
    )
    async with console_session(cluster, dbname, read_only=False) as session:
        for sql in (
            "SET search_path = app",  # the query names `t` unqualified
            "CREATE TEMP TABLE scratch (n int)",
            "BEGIN",
            "INSERT INTO t VALUES (1), (2)",  # not committed: only this session sees it
            "INSERT INTO scratch VALUES (7)",
        ):
            await session.run(one(sql))
        statements = session.tx_statements
        source = query_source("SELECT t.id, s.n FROM t, scratch s ORDER BY t.id", "q")
        result = await export(session, source, tmp_path / "q.csv", ExportFormat.CSV)
        assert result.rows == 2
        assert (tmp_path / "q.csv").read_text() == "id,n\n1,7\n2,7\n"
        # READ ONLY inside the user's transaction, and undone with its savepoint.
        writer = query_source("SELECT bump()", "w")
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await export(session, writer, tmp_path / "w.csv", ExportFormat.CSV)
        assert not (tmp_path / "w.csv").exists()
        # The user's transaction goes on as it was: writable, its changes, its timeout.
        assert session.in_transaction and session.tx_statements == statements
        tag = (await session.run(one("INSERT INTO t VALUES (3)"))).tag
        assert tag == "INSERT 0 1"
        check = await session.run(
            one("SELECT count(*), current_setting('statement_timeout') FROM t")
        )
        assert check.page is not None and check.page.rows[0].cells == ("3", "30s")
        await session.run(one("ROLLBACK"))
        # Outside a transaction: one of its own, READ ONLY, and nothing stays open.
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await export(session, writer, tmp_path / "w.csv", ExportFormat.CSV)
        result = await export(session, source, tmp_path / "empty.csv", ExportFormat.CSV)
        assert result.rows == 0 and not session.conn.is_in_transaction()  # type: ignore[union-attr]


async def test_an_export_cancelled_on_the_server_leaves_the_session_usable(
    cluster: ThrowawayCluster, dbname: str, tmp_path: Path
) -> None:
    async with console_session(cluster, dbname, read_only=False) as session:
        await session.run(one("BEGIN"))
        await session.run(one("CREATE TEMP TABLE kept (n int)"))
        source = query_source("SELECT g, repeat('x', 500) FROM generate_series(1, 5000000) g", "q")
        task = asyncio.create_task(export(session, source, tmp_path / "big.csv", ExportFormat.CSV))
        while not (tmp_path / "big.csv.part").exists() or (
            (tmp_path / "big.csv.part").stat().st_size < 1 << 20
        ):
            assert not task.done()
            await asyncio.sleep(0.05)
        assert await session.cancel()  # as Esc in the export screen: on the server
        with pytest.raises(asyncpg.QueryCanceledError):
            await task
        assert not (tmp_path / "big.csv").exists() and not (tmp_path / "big.csv.part").exists()
        result = await session.run(one("SELECT count(*) FROM kept"))
        assert result.page is not None and result.page.rows[0].cells == ("0",)
        assert session.in_transaction  # the user's transaction survived the cancelled COPY


async def test_copy_with_the_client_is_refused_and_the_session_goes_on(
    cluster: ThrowawayCluster, dbname: str, conn: asyncpg.Connection
) -> None:
    await conn.execute("CREATE TABLE t (a int)")
    async with console_session(cluster, dbname, read_only=False) as session:
        for sql in ("COPY t FROM STDIN", "copy t (a) from stdin with (format csv)"):
            with pytest.raises(ConsoleRefused, match="STDIN"):
                await asyncio.wait_for(session.run(one(sql)), 5)
        with pytest.raises(ConsoleRefused, match="STDOUT"):
            await session.run(one("COPY (SELECT 1) TO STDOUT"))
        for sql, tag in (
            ("PREPARE p AS SELECT 1", "PREPARE"),
            ("LISTEN x", "LISTEN"),
            ("SELECT 1 INTO t2", "SELECT 1"),
        ):
            assert (await asyncio.wait_for(session.run(one(sql)), 5)).tag == tag
        executed = await session.run(one("EXECUTE p"))
        assert executed.page is not None and executed.page.rows[0].cells == ("1",)


async def test_the_servers_notices_come_with_the_result(
    cluster: ThrowawayCluster, dbname: str
) -> None:
    async with console_session(cluster, dbname, read_only=False) as session:
        result = await session.run(
            one("DO $$ BEGIN RAISE NOTICE 'hello %', 1; RAISE NOTICE '[red]x[/]'; END $$")
        )
        assert result.tag == "DO"
        assert result.notices == ("NOTICE: hello 1", "NOTICE: [red]x[/]")
        committed = await session.run(one("COMMIT"))
        assert committed.notices == ("WARNING: there is no transaction in progress",)
        with pytest.raises(asyncpg.RaiseError):
            await session.run(
                one("DO $$ BEGIN RAISE NOTICE 'before'; RAISE EXCEPTION 'boom'; END $$")
            )
        assert session.notices == ["NOTICE: before"]


async def test_a_lost_connection_under_an_idle_cursor_is_no_error(
    cluster: ThrowawayCluster, dbname: str, conn: asyncpg.Connection
) -> None:
    async with console_session(cluster, dbname, read_only=False, idle_seconds=0.1) as session:
        result = await session.run(one("SELECT g FROM generate_series(1, 500) g"))
        assert session.holds_transaction and result.pager is not None
        pid = session.pid
        await conn.execute("SELECT pg_terminate_backend($1)", pid)
        await backend_reaches(conn, pid, None)  # gone on the server

        async def seen_closed() -> bool:
            return session.conn is None or session.conn.is_closed()

        await poll_until(seen_closed, "the client to see the connection end")
        await asyncio.sleep(0.1)  # past the cursor's idle deadline (idle_seconds=0.1)
        assert await session.close_if_idle()  # the timer's call: no exception
        again = await session.run(one("SELECT 'new connection'"))
        assert again.page is not None and again.page.rows[0].cells == ("new connection",)
        assert result.page is not None
        page = await result.pager.after(result.page.rows[-1])  # declared again
        assert page.rows[0].cells == ("101",)


async def test_a_transaction_lost_with_its_connection_is_said_and_nothing_runs_outside_it(
    cluster: ThrowawayCluster, dbname: str, conn: asyncpg.Connection
) -> None:
    """psql's behaviour: the statement after the loss is not run (on the new session it would
    commit at once, outside the transaction the user believes open); the next one is."""
    await conn.execute("CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0)")
    async with console_session(cluster, dbname, read_only=False) as session:
        await session.run(one("BEGIN"))
        await session.run(one("UPDATE t SET v = 1 WHERE id = 1"))
        pid = session.pid
        await conn.execute("SELECT pg_terminate_backend($1)", pid)
        await backend_reaches(conn, pid, None)

        async def seen_closed() -> bool:
            return session.conn is None or session.conn.is_closed()

        await poll_until(seen_closed, "the client to see the connection end")
        with pytest.raises(SessionLost, match=r"lost with your transaction open \(2 statements\)"):
            await session.run(one("UPDATE t SET v = 2 WHERE id = 1"))
        assert not session.in_transaction and session.pid != pid
        assert await conn.fetchval("SELECT v FROM t") == 0  # neither update
        await session.run(one("UPDATE t SET v = 3 WHERE id = 1"))  # now on the new session
        assert await conn.fetchval("SELECT v FROM t") == 3
