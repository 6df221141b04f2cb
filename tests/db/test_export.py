"""Exports: the grid's rows, byte for byte as the server prints them, or nothing at all."""

from __future__ import annotations

import asyncio
import csv
import errno
import json
import os
import stat
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest

from pgconsole.db.browse.export import ExportFormat, ExportResult, export
from pgconsole.db.browse.pages import BrowseSpec, Column, Pager, Row, Sort
from pgconsole.db.connection.params import PoolSettings, SessionSettings
from pgconsole.db.connection.pool import Database, open_database
from pgconsole.db.quoting import quote_ident
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.conftest import admin_connect, open_pool, params_for
from tests.helpers.pgbouncer import ThrowawayPgBouncer

HOSTILE: list[str | None] = [
    "plain",
    "",
    None,
    "comma, here",
    'quote " inside',
    '""',
    '"',
    ",",
    "new\nline",
    "\n",
    "crlf\r\nend",
    "cr\ronly",
    "tab\there",
    "back\\slash \\n \\\\",
    "\\.",
    "\\N",
    "NULL",
    "[red]not markup[/red] [bold]",
    "ünïcödé 日本語 🐘 e\u0301",
    "line\u2028sep\u2029para\x85nel\x0bvt\x0cff\x1c\x1d",
    "ctl \x01\x02\x1e\x1f\x7f\x1b[31m",
    " leading and trailing ",
    "it's",
    '{"not": "json"}',
]
"""Text values built to break CSV, JSON Lines, markup and careless escaping."""

HOSTILE_NAME = 'we"ird, col\n'
"""A column name that needs quoting in SQL, in the CSV header and in JSON."""

HOSTILE_COLUMNS = (
    Column("id", "integer", numeric=True, not_null=True),
    Column(HOSTILE_NAME, "text"),
    Column("empty", "text"),
    Column("num", "numeric", numeric=True),
    Column("flag", "boolean"),
    Column("tags", "text[]"),
    Column("doc", "jsonb"),
    # Named like the row alias of the JSON export, and holding line breaks as JSON white
    # space, which row_to_json would otherwise copy into the line.
    Column("_pgconsole_j", "json"),
    Column("raw", "bytea"),
    Column("at", "timestamp with time zone"),
)

NUMERICS = ["1.50", "NaN", "-0", "1e-30", None]
MULTILINE_JSON = '{\n  "a" :\t[1,\r\n 2],\n  "s": "x\\ny\\u0000"  \n}'

TABLE_ROWS = 537
"""Rows of `t`: not a multiple of anything the exporter might chunk by."""
GROUP = "it's a \\ group $1"
"""A quick-filter value that needs escaping in a SQL literal, `$1` included."""


@pytest.fixture
async def database(cluster: ThrowawayCluster, dbname: str) -> AsyncIterator[Database]:
    conn = await admin_connect(cluster, dbname)
    try:
        columns = ", ".join(f"{quote_ident(c.name)} {c.type}" for c in HOSTILE_COLUMNS[1:])
        await conn.execute(f"CREATE TABLE hostile (id int PRIMARY KEY, {columns})")
        rows = []
        for i, value in enumerate(HOSTILE):
            rows.append(
                (
                    i,
                    value,
                    "" if i % 2 else None,  # NULL and '' on alternate rows
                    NUMERICS[i % len(NUMERICS)],
                    None if i % 3 == 0 else i % 2 == 0,
                    [value, None, "a,b"] if value is not None else None,
                    json.dumps({"v": value, "n": i, "nested": [value]}),
                    MULTILINE_JSON if i % 2 else None,
                    value.encode() if value is not None else None,
                    "2024-02-29 23:59:59.123456+00" if i % 2 else "infinity",
                )
            )
        await conn.executemany(
            "INSERT INTO hostile VALUES ($1, $2, $3, $4::text::numeric, $5, $6, $7::jsonb,"
            " $8::json, $9, $10::text::timestamptz)",
            rows,
        )
        await conn.execute(
            """
            CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL, w int, v text, g text);
            INSERT INTO t
            SELECT i, (i * 7919) % 1000, CASE WHEN i % 9 = 0 THEN NULL ELSE (i * 31) % 100 END,
                   CASE WHEN i % 13 = 0 THEN NULL ELSE 'row ' || i || E'\\n"' END,
                   CASE WHEN i % 4 = 0 THEN $1 ELSE 'other' END
            FROM generate_series(1, $2::int) AS i;
            """.replace("$1", "E'" + GROUP.replace("\\", "\\\\").replace("'", "''") + "'").replace(
                "$2::int", str(TABLE_ROWS)
            )
        )
    finally:
        await conn.close()
    async with open_pool(cluster, dbname, max_size=3) as database_:
        yield database_


async def make_big(cluster: ThrowawayCluster, dbname: str, rows: int) -> BrowseSpec:
    """A table `big` of `rows` rows of about 100 bytes each, and the spec to export it."""
    conn = await admin_connect(cluster, dbname)
    try:
        await conn.execute(
            "CREATE TABLE big (id int PRIMARY KEY, payload text);"
            f" INSERT INTO big SELECT i, repeat(md5(i::text), 3) FROM generate_series(1, {rows}) i;"
            " ANALYZE big"
        )
    finally:
        await conn.close()
    columns = (Column("id", "integer", numeric=True, not_null=True), Column("payload", "text"))
    return BrowseSpec("public", "big", columns, key=("id",))


def hostile_spec() -> BrowseSpec:
    return BrowseSpec("public", "hostile", HOSTILE_COLUMNS, key=("id",))


T_COLUMNS = (
    Column("id", "integer", numeric=True, not_null=True),
    Column("n", "integer", numeric=True, not_null=True),
    Column("w", "integer", numeric=True),
    Column("v", "text"),
    Column("g", "text"),
)


def csv_cells(text: str) -> list[list[str | None]]:
    """Parse COPY's CSV strictly, telling NULL (an unquoted empty field) from '' (`""`)."""
    rows: list[list[str | None]] = []
    row: list[str | None] = []
    i = 0
    while i < len(text):
        value: str | None
        if text[i] == '"':
            parts, j = [], i + 1
            while True:
                k = text.index('"', j)
                parts.append(text[j:k])
                if text.startswith('""', k):
                    parts.append('"')
                    j = k + 2
                else:
                    i = k + 1
                    break
            value = "".join(parts)
        else:
            k = i
            while text[k] not in ",\n":
                k += 1
            assert '"' not in text[i:k] and "\r" not in text[i:k], "must have been quoted"
            value = text[i:k] or None
            i = k
        row.append(value)
        assert text[i] in ",\n"
        if text[i] == "\n":
            rows.append(row)
            row = []
        i += 1
    assert not row
    return rows


def json_lines(path: Path) -> Iterator[dict[str, object]]:
    """Each line of a JSON Lines file, split on `\\n` only (not str.splitlines()'s U+2028)."""
    data = path.read_bytes()
    assert data.endswith(b"\n")
    for line in data[:-1].split(b"\n"):
        value = json.loads(line)
        assert isinstance(value, dict)
        yield value


async def text_rows(database: Database, sql: str) -> list[tuple[str | None, ...]]:
    async with database.transaction(readonly=True) as conn:
        return [tuple(r) for r in await conn.fetch(sql)]


async def grid_rows(database: Database, spec: BrowseSpec) -> list[Row]:
    """Every row the grid shows for `spec`, page after page."""
    pager = Pager(database, spec, page_size=50)
    try:
        page = await pager.first()
        rows = list(page.rows)
        while page.more_after:
            page = await pager.after(page.rows[-1])
            rows.extend(page.rows)
        return rows
    finally:
        await pager.close()


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- what is in the file -------------------------------------------------------------------


async def test_csv_cells_are_the_servers_text_output(database: Database, tmp_path: Path) -> None:
    path = tmp_path / "hostile.csv"
    result = await export(database, hostile_spec(), path, ExportFormat.CSV)
    # format('%s') prints with each type's output function, as COPY and psql do (a cast
    # to text need not: `true::text` is 'true' where psql shows 't').
    casts = ", ".join(
        f"CASE WHEN {name} IS NOT NULL THEN format('%s', {name}) END"
        for name in (quote_ident(c.name) for c in HOSTILE_COLUMNS)
    )
    expected = await text_rows(database, f"SELECT {casts} FROM hostile ORDER BY id")

    assert result == ExportResult(path, len(HOSTILE), path.stat().st_size, result.seconds)
    text = path.read_bytes().decode("utf-8")
    header, *rows = csv_cells(text)
    assert header == [c.name for c in HOSTILE_COLUMNS]
    assert [tuple(r) for r in rows] == expected  # NULL stays apart from ''
    assert any(v == "" for r in rows for v in r) and any(v is None for r in rows for v in r)
    # And any CSV reader gets the same cells (NULL and '' both read as empty there).
    with path.open(newline="", encoding="utf-8") as file:
        read_back = list(csv.reader(file))
    assert read_back[0] == header
    assert read_back[1:] == [[v or "" for v in r] for r in expected]


async def test_null_is_unquoted_and_empty_text_is_quoted(
    database: Database, tmp_path: Path
) -> None:
    spec = BrowseSpec("public", "hostile", (HOSTILE_COLUMNS[0], HOSTILE_COLUMNS[2]), key=("id",))
    path = tmp_path / "empty.csv"
    await export(database, spec, path, ExportFormat.CSV, overwrite=False)
    assert path.read_bytes().splitlines()[:3] == [b"id,empty", b"0,", b'1,""']


async def test_json_lines_equal_row_to_json(database: Database, tmp_path: Path) -> None:
    path = tmp_path / "hostile.jsonl"
    result = await export(database, hostile_spec(), path, ExportFormat.JSON)
    expected = await text_rows(
        database, "SELECT row_to_json(h.*)::text FROM hostile AS h ORDER BY id"
    )

    lines = list(json_lines(path))
    assert lines == [json.loads(str(row[0])) for row in expected]
    assert result.rows == len(lines) == len(HOSTILE)
    assert [line[HOSTILE_NAME] for line in lines] == HOSTILE
    assert list(lines[0]) == [c.name for c in HOSTILE_COLUMNS]  # keys in column order
    assert lines[1]["_pgconsole_j"] == {"a": [1, 2], "s": "x\ny\x00"}
    assert lines[1]["num"] == "NaN" and lines[0]["num"] == 1.50  # NaN is no JSON number
    # No raw control character but the tab a `json` value may hold as white space.
    for raw in path.read_bytes().split(b"\n")[:-1]:
        assert {byte for byte in raw if byte < 0x20} <= {0x09}


async def test_values_arrive_whole(
    cluster: ThrowawayCluster, dbname: str, database: Database, tmp_path: Path
) -> None:
    conn = await admin_connect(cluster, dbname)
    try:
        await conn.execute("INSERT INTO hostile (id, empty) VALUES (1000, repeat('é', 100000))")
    finally:
        await conn.close()
    spec = BrowseSpec("public", "hostile", HOSTILE_COLUMNS[:3], key=("id",), filter="id = 1000")
    path = tmp_path / "wide.csv"
    await export(database, spec, path, ExportFormat.CSV)
    assert csv_cells(path.read_text(encoding="utf-8"))[1] == ["1000", None, "é" * 100000]


# -- the grid's rows, in the grid's order ----------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "equals"),
    [
        (Sort("w", descending=True), (("g", GROUP),)),  # nullable, unindexed: cursor paging
        (Sort("id", descending=True, indexed=True), (("g", GROUP), ("w", None))),  # keyset
        (None, ()),
    ],
)
async def test_rows_and_order_are_the_grids(
    database: Database,
    tmp_path: Path,
    sort: Sort | None,
    equals: tuple[tuple[str, str | None], ...],
) -> None:
    # `'$1'` inside the filter: asyncpg's own inlining for COPY would rewrite it.
    spec = BrowseSpec(
        "public",
        "t",
        T_COLUMNS,
        key=("id",),
        sort=sort,
        filter="v IS DISTINCT FROM '$1' AND id % 5 <> 0",
        equals=equals,
    )
    grid = await grid_rows(database, spec)
    assert 0 < len(grid) < TABLE_ROWS

    csv_path = tmp_path / "t.csv"
    result = await export(database, spec, csv_path, ExportFormat.CSV)
    header, *rows = csv_cells(csv_path.read_text(encoding="utf-8"))
    assert header == [c.name for c in T_COLUMNS]
    assert rows == [list(r.cells) for r in grid]
    assert result.rows == len(grid)

    json_path = tmp_path / "t.jsonl"
    result = await export(database, spec, json_path, ExportFormat.JSON)
    assert [line["id"] for line in json_lines(json_path)] == [int(str(r.cells[0])) for r in grid]
    assert result.rows == len(grid)


@pytest.mark.parametrize("fmt", list(ExportFormat))
async def test_through_pgbouncer_in_transaction_mode(
    cluster: ThrowawayCluster,
    dbname: str,
    database: Database,
    pgbouncer: ThrowawayPgBouncer,
    tmp_path: Path,
    fmt: ExportFormat,
) -> None:
    spec = BrowseSpec("public", "t", T_COLUMNS, key=("id",), sort=Sort("w"), equals=(("g", GROUP),))
    bounced = await open_database(
        params_for(cluster, dbname, host=pgbouncer.host, port=pgbouncer.port),
        SessionSettings(statement_timeout="5s"),
        PoolSettings(max_size=2, pooler=True),
    )
    try:
        result = await export(bounced, spec, tmp_path / f"bounced{fmt.suffix}", fmt)
    finally:
        await bounced.close()
    direct = await export(database, spec, tmp_path / f"direct{fmt.suffix}", fmt)
    assert result.rows == direct.rows > 0
    assert result.path.read_bytes() == direct.path.read_bytes()


# -- progress, cancellation, failure ---------------------------------------------------------


async def test_progress_counts_bytes_and_estimates_rows(
    cluster: ThrowawayCluster, dbname: str, database: Database, tmp_path: Path
) -> None:
    spec = await make_big(cluster, dbname, 20_000)
    calls: list[tuple[int, int | None]] = []
    path = tmp_path / "big.csv"
    result = await export(
        database, spec, path, ExportFormat.CSV, progress=lambda n, total: calls.append((n, total))
    )
    assert len(calls) > 1
    written = [n for n, _ in calls]
    assert written == sorted(set(written))  # strictly increasing
    assert written[-1] == result.bytes == path.stat().st_size
    estimates = {total for _, total in calls}
    assert len(estimates) == 1
    (estimate,) = estimates
    assert estimate is not None and 10_000 < estimate < 40_000  # the planner's guess
    assert result.rows == 20_000
    assert result.seconds > 0


async def pgconsole_sessions(admin: asyncpg.Connection, dbname: str) -> list[str]:
    """State and query of each pgconsole session on `database` that is not idle."""
    rows = await admin.fetch(
        "SELECT state, query FROM pg_stat_activity"
        " WHERE application_name = 'pgconsole' AND datname = $1 AND state <> 'idle'",
        dbname,
    )
    return [f"{r['state']}: {r['query']}" for r in rows]


async def settled(admin: asyncpg.Connection, dbname: str) -> list[str]:
    """pgconsole's busy sessions once there are none, or those left after 5 seconds."""
    for _ in range(100):
        busy = await pgconsole_sessions(admin, dbname)
        if not busy:
            return busy
        await asyncio.sleep(0.05)
    return await pgconsole_sessions(admin, dbname)


@pytest.mark.parametrize("fmt", list(ExportFormat))
@pytest.mark.parametrize("from_progress", [True, False], ids=["from-progress", "from-outside"])
async def test_cancelling_leaves_no_file_and_an_idle_session(
    cluster: ThrowawayCluster,
    dbname: str,
    database: Database,
    admin: asyncpg.Connection,
    tmp_path: Path,
    fmt: ExportFormat,
    from_progress: bool,
) -> None:
    # 30 MB: far more than the socket buffers hold, so a COPY that was not stopped would sit
    # there, active, waiting for a reader.
    spec = await make_big(cluster, dbname, 300_000)
    path = tmp_path / f"big{fmt.suffix}"
    calls: list[int] = []
    started = asyncio.Event()

    def on_progress(written: int, _estimate: int | None) -> None:
        calls.append(written)
        started.set()
        if from_progress and len(calls) == 1:
            task.cancel()  # lands at the export's next await, mid-COPY

    task = asyncio.create_task(export(database, spec, path, fmt, progress=on_progress))
    await started.wait()
    if not from_progress:
        task.cancel()  # as a UI worker is cancelled: whatever the export awaits right now
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(calls) < 100
    assert files_in(tmp_path) == []  # neither the file nor its .part
    assert await settled(admin, dbname) == []  # no COPY left running
    # The pool is fine afterwards.
    result = await export(database, spec, path, fmt)
    assert result.rows == 300_000


async def test_a_server_error_mid_export_leaves_no_file(
    cluster: ThrowawayCluster, dbname: str, database: Database, tmp_path: Path
) -> None:
    conn = await admin_connect(cluster, dbname)
    try:
        await conn.execute(
            "INSERT INTO t (id, n, v) SELECT i, 0, repeat('x', 100)"
            " FROM generate_series(1000, 60000) i"
        )
    finally:
        await conn.close()
    # No key and no sort: rows stream in heap order, and the filter divides by zero at id
    # 50000, after megabytes have reached the file.
    spec = BrowseSpec("public", "t", T_COLUMNS, filter="1 / (50000 - id) >= -1")
    path = tmp_path / "t.csv"
    written: list[int] = []
    with pytest.raises(asyncpg.DivisionByZeroError):
        await export(
            database, spec, path, ExportFormat.CSV, progress=lambda n, _: written.append(n)
        )
    assert written and written[-1] > 1 << 20  # past the first write to disk
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("rows", [300_000, 1_000], ids=["mid-copy", "last-write"])
async def test_a_full_disk_leaves_no_file_and_stops_the_copy(
    cluster: ThrowawayCluster,
    dbname: str,
    database: Database,
    admin: asyncpg.Connection,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rows: int,
) -> None:
    # 30 MB fails while the COPY runs (a batch is written while the next is gathered, so the
    # failure comes back with a later chunk); 100 kB fails in the one write at the end.
    spec = await make_big(cluster, dbname, rows)
    path = tmp_path / "big.csv"

    def full_disk(_fd: int, _buffers: Sequence[memoryview]) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "writev", full_disk)
    with pytest.raises(OSError) as raised:
        await export(database, spec, path, ExportFormat.CSV)
    assert raised.value.errno == errno.ENOSPC
    assert files_in(tmp_path) == []
    assert await settled(admin, dbname) == []  # no COPY left running
    monkeypatch.undo()
    assert (await export(database, spec, path, ExportFormat.CSV)).rows == rows


async def test_short_writes_still_write_every_byte_in_order(
    cluster: ThrowawayCluster,
    dbname: str,
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = await make_big(cluster, dbname, 20_000)
    whole = tmp_path / "whole.csv"
    await export(database, spec, whole, ExportFormat.CSV)
    real_writev = os.writev
    calls: list[int] = []

    def short_writev(fd: int, buffers: Sequence[memoryview]) -> int:
        # The kernel may take fewer bytes than asked, stopping inside a buffer.
        calls.append(len(buffers))
        return real_writev(fd, [buffers[0][:4099]])

    monkeypatch.setattr(os, "writev", short_writev)
    path = tmp_path / "short.csv"
    result = await export(database, spec, path, ExportFormat.CSV)
    monkeypatch.undo()
    assert len(calls) > 100  # about 2 MB, 4099 bytes at a time
    assert path.read_bytes() == whole.read_bytes()
    assert result.bytes == whole.stat().st_size


async def test_the_session_statement_timeout_does_not_cut_an_export(
    cluster: ThrowawayCluster, dbname: str, tmp_path: Path
) -> None:
    # Big enough that the socket buffers cannot take it all while the reader is held up.
    spec = await make_big(cluster, dbname, 300_000)
    strict = await open_database(
        params_for(cluster, dbname),
        SessionSettings(statement_timeout="200ms"),
        PoolSettings(max_size=2, command_timeout=0.5),
    )
    try:
        with pytest.raises((asyncpg.QueryCanceledError, TimeoutError)):
            async with strict.transaction(readonly=True) as conn:
                await conn.execute("SELECT pg_sleep(1)")

        def slow_reader(_written: int, _estimate: int | None) -> None:
            # Blocks the loop on purpose: the COPY then outlasts both timeouts.
            if not held:
                held.append(True)
                time.sleep(1.0)

        held: list[bool] = []
        path = tmp_path / "big.csv"
        result = await export(strict, spec, path, ExportFormat.CSV, progress=slow_reader)
        assert held and result.rows == 300_000
    finally:
        await strict.close()


# -- the file on disk ------------------------------------------------------------------------


async def test_refuses_to_overwrite_unless_asked(database: Database, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("keep me")
    with pytest.raises(FileExistsError):
        await export(database, hostile_spec(), path, ExportFormat.CSV)
    assert path.read_text() == "keep me"
    assert files_in(tmp_path) == ["t.csv"]

    result = await export(database, hostile_spec(), path, ExportFormat.CSV, overwrite=True)
    assert result.rows == len(HOSTILE)
    assert path.read_bytes().startswith(b"id,")


async def test_a_leftover_part_file_is_not_touched(database: Database, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    part = tmp_path / "t.csv.part"
    part.write_text("another export's")
    with pytest.raises(FileExistsError, match="left it behind"):
        await export(database, hostile_spec(), path, ExportFormat.CSV)
    assert part.read_text() == "another export's"
    assert not path.exists()


async def test_refuses_a_directory(database: Database, tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        await export(database, hostile_spec(), tmp_path, ExportFormat.CSV, overwrite=True)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that takes nothing away, so only the exporter decides the mode."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("open_umask")
async def test_the_file_is_readable_by_its_owner_only(database: Database, tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    await export(database, hostile_spec(), path, ExportFormat.JSON)
    assert mode(path) == 0o600
    path.chmod(0o644)
    await export(database, hostile_spec(), path, ExportFormat.JSON, overwrite=True)
    assert mode(path) == 0o600


def test_format_suffixes() -> None:
    assert [f.suffix for f in ExportFormat] == [".csv", ".jsonl"]
    assert ExportFormat("json") is ExportFormat.JSON


# -- memory ----------------------------------------------------------------------------------


def rss_bytes() -> int:
    """Resident set size of this process, from /proc/self/statm."""
    resident = int(Path("/proc/self/statm").read_text().split()[1])
    return resident * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("fmt", list(ExportFormat))
async def test_a_million_rows_stream_in_constant_memory(
    cluster: ThrowawayCluster, dbname: str, database: Database, tmp_path: Path, fmt: ExportFormat
) -> None:
    spec = await make_big(cluster, dbname, 1_000_000)
    warm = replace(spec, filter="id <= 1000")
    await export(database, warm, tmp_path / f"warm{fmt.suffix}", fmt)  # first-use allocations
    before = rss_bytes()
    peak = before

    def sample(_written: int, _estimate: int | None) -> None:
        nonlocal peak
        peak = max(peak, rss_bytes())

    path = tmp_path / f"big{fmt.suffix}"
    result = await export(database, spec, path, fmt, progress=sample)
    assert result.rows == 1_000_000
    assert result.bytes > 80 << 20  # more than the growth allowed
    assert peak - before < 50 << 20, f"RSS grew by {(peak - before) >> 20} MB"


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("public.orders", "public.orders.csv"),
        ("public.new\nline", "public.new_line.csv"),
        ("a/b\\c", "a_b_c.csv"),
        ("tab\there\r\x1b[31m", "tab_here__[31m.csv"),
        ("bidi\u202etxt.exe", "bidi_txt.exe.csv"),
        (".hidden", "_.hidden.csv"),
        ("-rf", "_-rf.csv"),
        ("what?*<>|:", "what______.csv"),
        ("Ünïcode tables", "Ünïcode tables.csv"),
        ("", "export.csv"),
        pytest.param("é" * 300, "é" * 120 + ".csv", id="long"),
    ],
)
def test_file_names_made_from_identifiers_are_safe(stem: str, expected: str) -> None:
    from pgconsole.db.browse.export import file_name

    assert file_name(stem, ".csv") == expected


def test_the_default_folder_is_the_download_folder_else_home(tmp_path: Path) -> None:
    from pgconsole.db.browse.export import default_folder

    home = tmp_path / "home"
    home.mkdir()
    environ = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    assert default_folder(environ) == home  # never the current directory
    (home / "Downloads").mkdir()
    assert default_folder(environ) == home / "Downloads"
    (home / ".config").mkdir()
    (home / "Téléchargements").mkdir()
    (home / ".config" / "user-dirs.dirs").write_text(
        '# written by xdg-user-dirs-update\nXDG_DOWNLOAD_DIR="$HOME/Téléchargements"\n',
        encoding="utf-8",
    )
    assert default_folder(environ) == home / "Téléchargements"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert default_folder({**environ, "XDG_DOWNLOAD_DIR": str(elsewhere)}) == elsewhere
    missing = {**environ, "XDG_DOWNLOAD_DIR": str(tmp_path / "missing")}
    assert default_folder(missing) == home / "Téléchargements"
