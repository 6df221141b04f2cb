"""SQL text: lexing, splitting, the statement at the cursor, kinds, the read-only guard, names."""

from __future__ import annotations

import random

import pytest

from pgconsole.db.sqltext import (
    Kind,
    TokenKind,
    console_refusal,
    kind,
    may_write,
    read_only_refusal,
    relations_named,
    split_statements,
    statement_at,
    tokens,
    word_at,
)


def texts(script: str) -> list[str]:
    return [s.text for s in split_statements(script)]


def test_tokens_give_the_text_back_whatever_it_is() -> None:
    generator = random.Random(7)
    alphabet = "ab $'\"-/*;()E.1\\\n\t:[]U&"
    for _ in range(3000):
        text = "".join(generator.choice(alphabet) for _ in range(generator.randint(0, 60)))
        assert "".join(t.text for t in tokens(text)) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("'it''s'", TokenKind.STRING),
        ("E'a\\'b'", TokenKind.STRING),
        ("$$a;b$$", TokenKind.STRING),
        ("$fn$ x $$ y $fn$", TokenKind.STRING),
        ('"My ""T"""', TokenKind.QUOTED),
        ("/* a /* b */ c */", TokenKind.COMMENT),
        ("-- to the end", TokenKind.COMMENT),
        ("$1", TokenKind.PARAMETER),
        ("'unterminated", TokenKind.STRING),
    ],
)
def test_each_quoting_is_one_token(text: str, expected: TokenKind) -> None:
    found = tokens(text)
    assert [t.kind for t in found] == [expected]


def test_a_backslash_ends_nothing_in_a_standard_string() -> None:
    assert texts("SELECT 'a\\'; SELECT 2") == ["SELECT 'a\\'", "SELECT 2"]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("SELECT 1; SELECT 2;", ["SELECT 1", "SELECT 2"]),
        ("SELECT ';'; SELECT 2", ["SELECT ';'", "SELECT 2"]),
        ("SELECT $$;$$; SELECT 2", ["SELECT $$;$$", "SELECT 2"]),
        ('SELECT 1 AS ";"; SELECT 2', ['SELECT 1 AS ";"', "SELECT 2"]),
        ("SELECT 1 -- ;\n; SELECT 2", ["SELECT 1", "SELECT 2"]),
        ("SELECT /* ; /* ; */ ; */ 1; SELECT 2", ["SELECT /* ; /* ; */ ; */ 1", "SELECT 2"]),
        ("  ;; -- only a comment\n ; ", []),
        (
            "DO $x$ BEGIN PERFORM 1; END $x$; SELECT 2",
            ["DO $x$ BEGIN PERFORM 1; END $x$", "SELECT 2"],
        ),
        (
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true "
            "THEN 1 END; SELECT 2; END; SELECT 3",
            [
                "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true "
                "THEN 1 END; SELECT 2; END",
                "SELECT 3",
            ],
        ),
        ("/* lead */ SELECT 1", ["SELECT 1"]),
        ("SELECT 1", ["SELECT 1"]),
    ],
)
def test_split_statements(script: str, expected: list[str]) -> None:
    assert texts(script) == expected
    for statement in split_statements(script):
        assert script[statement.start : statement.end] == statement.text


@pytest.mark.parametrize(
    ("script", "offset", "expected"),
    [
        ("SELECT 1;\nSELECT 2;", 0, "SELECT 1"),
        ("SELECT 1;\nSELECT 2;", 9, "SELECT 1"),  # right after the ';'
        ("SELECT 1;\nSELECT 2;", 12, "SELECT 2"),
        ("SELECT 1;\nSELECT 2;", 19, "SELECT 2"),  # at the very end
        ("SELECT 1;\n\n\nSELECT 2;", 11, "SELECT 1"),  # blank lines after the first
        ("SELECT 1; /* note */ SELECT 2", 13, "SELECT 1"),  # inside the comment between
        ("\n\nSELECT 1", 0, "SELECT 1"),
    ],
)
def test_statement_at(script: str, offset: int, expected: str) -> None:
    found = statement_at(script, offset)
    assert found is not None and found.text == expected


def test_statement_at_in_an_empty_script() -> None:
    assert statement_at("", 0) is None
    assert statement_at("  -- nothing\n", 5) is None


@pytest.mark.parametrize(
    ("sql", "expected", "writes"),
    [
        ("SELECT * FROM t", Kind.QUERY, False),
        ("select 1 for update", Kind.QUERY, True),
        ("SELECT * FROM t FOR NO KEY UPDATE", Kind.QUERY, True),
        ("SELECT 1 INTO new_table", Kind.OTHER, True),
        ("VALUES (1), (2)", Kind.QUERY, False),
        ("TABLE t", Kind.QUERY, False),
        ("(SELECT 1) UNION (SELECT 2)", Kind.QUERY, False),
        ("WITH a AS (SELECT 1) SELECT * FROM a", Kind.QUERY, False),
        ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", Kind.OTHER, True),
        ("BEGIN", Kind.BEGIN, True),
        ("start transaction read only", Kind.BEGIN, True),
        ("COMMIT", Kind.END, True),
        ("ROLLBACK AND CHAIN", Kind.END, True),
        ("ROLLBACK TO SAVEPOINT a", Kind.OTHER, True),
        ("ROLLBACK TO a", Kind.OTHER, True),
        ("PREPARE TRANSACTION 'x'", Kind.END, True),
        ("COMMIT PREPARED 'x'", Kind.OTHER, True),
        ("END", Kind.END, True),
        ("UPDATE t SET a = 1", Kind.OTHER, True),
        ("SHOW work_mem", Kind.OTHER, False),
        ("EXPLAIN SELECT 1", Kind.OTHER, False),
        ("EXPLAIN ANALYZE UPDATE t SET a = 1", Kind.OTHER, True),
        ("EXPLAIN ANALYZE SELECT 1", Kind.OTHER, False),
    ],
)
def test_kind_and_may_write(sql: str, expected: Kind, writes: bool) -> None:
    assert kind(sql) is expected
    assert may_write(sql) is writes


REFUSED = [
    "SET TRANSACTION READ WRITE",
    "set transaction isolation level serializable, read write",
    "SET /* x */ TRANSACTION READ /* y */ WRITE",
    "SET LOCAL TRANSACTION READ\n  WRITE",
    "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
    "BEGIN READ WRITE",
    "BEGIN ISOLATION LEVEL REPEATABLE READ, READ WRITE",
    "START TRANSACTION READ WRITE",
    "SET default_transaction_read_only = off",
    "SET default_transaction_read_only TO DEFAULT",
    'SET "default_transaction_read_only" = false',
    "SET SESSION transaction_read_only = off",
    "RESET default_transaction_read_only",
    "RESET ALL",
    "DISCARD ALL",
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    "DO $$ BEGIN EXECUTE 'SET TRANSACTION READ WRITE'; END $$",
    "ALTER ROLE me SET default_transaction_read_only = off",
    "COPY t FROM PROGRAM 'rm -rf /'",
    "COPY t FROM '/etc/passwd'",
    "COPY (SELECT 1) TO '/tmp/out'",
    "SET transaction_read_only = off",
    "SET TRANSACTION_READ_ONLY TO DEFAULT",
    "RESET transaction_read_only",
    "SELECT set_config('transaction_read_only', 'off', true)",
    "SELECT current_setting('transaction_read_only'),"
    " set_config('default_transaction_read_only', 'off', false)",
    "SELECT current_setting('transaction_read_only'), pg_catalog.set_config('x', 'y', false)",
    "UPDATE pg_settings SET setting = 'off' WHERE name = 'transaction_read_only'",
    "SELECT * FROM pg_settings WHERE name = 'default_transaction_read_only'",
    "DO $$ BEGIN PERFORM current_setting('transaction_read_only'); END $$",
]


@pytest.mark.parametrize("sql", REFUSED)
def test_read_only_escapes_are_refused(sql: str) -> None:
    reason = read_only_refusal(split_statements(sql))
    assert reason is not None and "statement 1" in reason


def test_an_end_followed_by_more_is_refused_as_a_whole() -> None:
    reason = read_only_refusal(split_statements("SELECT 1; COMMIT; DELETE FROM t"))
    assert reason is not None and "statement 2" in reason


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 'transaction' AS word",
        "BEGIN; SELECT 1; COMMIT",
        "BEGIN ISOLATION LEVEL SERIALIZABLE",
        "SET search_path = app, public",
        "SHOW work_mem",
        "SELECT 1 -- SET default_transaction_read_only = off",
        "/* READ WRITE */ SELECT 1",
        "COPY (SELECT * FROM t) TO STDOUT",
        "SET TRANSACTION READ ONLY",
        "SHOW transaction_read_only",
        "show default_transaction_read_only",
        'SHOW "transaction_read_only"',
        "SELECT current_setting('transaction_read_only')",
        "select pg_catalog.current_setting('default_transaction_read_only', true)::bool",
        "SELECT current_setting( 'transaction_read_only' ) AS ro, 1",
    ],
)
def test_harmless_statements_are_not_refused(sql: str) -> None:
    assert read_only_refusal(split_statements(sql)) is None


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM people", [(None, "people", None)]),
        ("SELECT * FROM app.People AS p", [("app", "people", "p")]),
        (
            'SELECT * FROM "My ""Schema"""."Order; DROP" o JOIN b ON true',
            [('My "Schema"', "Order; DROP", "o"), (None, "b", None)],
        ),
        (
            "SELECT * FROM a, b x, c WHERE true",
            [(None, "a", None), (None, "b", "x"), (None, "c", None)],
        ),
        ("SELECT * FROM (SELECT * FROM inner_t) s", [(None, "inner_t", None)]),
        ("SELECT * FROM generate_series(1, 3) g", []),
        ("UPDATE t SET a = 1 FROM u WHERE u.id = t.id", [(None, "t", None), (None, "u", None)]),
        ("INSERT INTO t (a) VALUES (1)", []),
        ("SELECT a. FROM t AS a WHERE", [(None, "t", "a")]),
        ("DELETE FROM ONLY t USING u", [(None, "t", None), (None, "u", None)]),
    ],
)
def test_relations_named(sql: str, expected: list[tuple[str | None, str, str | None]]) -> None:
    assert relations_named(sql) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT t.na", ("na", "t", 9)),
        ("SELECT na", ("na", None, 7)),
        ("SELECT * FROM public.", ("", "public", 21)),
        ('SELECT * FROM "My T".', ("", "My T", 21)),
        ("SELECT 'na", ("", None, 10)),
        ("SELECT 1 -- na", ("", None, 14)),
        ("", ("", None, 0)),
    ],
)
def test_word_at(text: str, expected: tuple[str, str | None, int]) -> None:
    assert word_at(text, len(text)) == expected


def test_copy_with_the_client_is_refused_in_every_mode() -> None:
    assert console_refusal(split_statements("SELECT 1; COPY t FROM STDIN")) is not None
    assert console_refusal(split_statements("COPY t TO STDOUT")) is not None
    assert console_refusal(split_statements("COPY t FROM '/srv/file.csv'")) is None
    assert console_refusal(split_statements("SELECT 'COPY t FROM STDIN'")) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("été_2$x", ["été_2$x"]),  # letters beyond ASCII, digits and $ after the first
        ("日本 _ok", ["日本", "_ok"]),
        ("$é$ body $é$", ["$é$ body $é$"]),  # a dollar quote's tag may be non-ASCII
        ("2x", ["2", "x"]),  # a digit starts no identifier
    ],
)
def test_identifiers_beyond_ascii(text: str, expected: list[str]) -> None:
    found = [t.text for t in tokens(text) if t.kind is not TokenKind.SPACE]
    assert found == expected
