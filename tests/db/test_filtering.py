"""The filter box: one expression, refused before the server when it is not; errors point into it.

The first half checks the lexer and `check_filter` alone. The second half runs against a real
server: what `check_filter` refuses never leaves pgconsole, what it accepts stays inside its
parentheses, and what the server would do with refused text anyway (the reason for the check).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from pgconsole.db.browse.filtering import (
    FilterError,
    Token,
    TokenKind,
    caret_excerpt,
    caret_line,
    check_filter,
    error_position,
    filter_position,
    tokenize,
    without_alias,
)
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.conftest import admin_connect
from tests.helpers.queries import QueryCounter

W = TokenKind.WORD
S = TokenKind.STRING
D = TokenKind.DOLLAR_STRING
Q = TokenKind.QUOTED_IDENTIFIER
OP = TokenKind.OTHER


def kinds_and_texts(text: str, **options: bool) -> list[tuple[TokenKind, str]]:
    return [(token.kind, token.text) for token in tokenize(text, **options)]


# -- accepted ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("id > 5", id="comparison"),
        pytest.param("name = 'a;b'", id="semicolon-in-string"),
        pytest.param("note LIKE '%--%'", id="dashes-in-string"),
        pytest.param("note LIKE '/* x */'", id="block-comment-in-string"),
        pytest.param("name = 'it''s'", id="doubled-quote"),
        pytest.param('"weird;col" = 1', id="semicolon-in-identifier"),
        pytest.param('"a "") b" = 1', id="doubled-quote-in-identifier"),
        pytest.param("$$a;b$$ = x", id="dollar-quote"),
        pytest.param("$tag$ ) $tag$ = x", id="tagged-dollar-quote"),
        pytest.param("$a$ $b$ ) $b$ $a$ = x", id="other-tag-inside"),
        pytest.param("x = $_1$ ( $_1$", id="tag-with-digit"),
        pytest.param("name = E'it\\'s'", id="e-string-backslash-quote"),
        pytest.param("name = e'a\\\\' AND b = ')'", id="e-string-escaped-backslash"),
        pytest.param("name = E'it''s ('", id="e-string-doubled-quote"),
        pytest.param("name = U&'d\\0061t\\+000061 ('", id="unicode-string"),
        pytest.param('U&"d\\0061t" = 1', id="unicode-identifier"),
        pytest.param("bits = B'0101' OR hex = X'1F'", id="bit-strings"),
        pytest.param("name = N'x)'", id="national-string"),
        pytest.param("name = 'a'\n'b)'", id="string-continued-on-next-line"),
        pytest.param("((a = 1) OR (b = 2)) AND (c = 3)", id="nested-parens"),
        pytest.param("a[1] = 2", id="array-subscript"),
        pytest.param("m[1][2:3] = ARRAY[[1, 2]]", id="array-slice"),
        pytest.param("x IN (1,2)", id="in-list"),
        pytest.param("id = ANY ((SELECT array_agg(id) FROM t))", id="subquery"),
        pytest.param("naïve = 'café ☃' AND 名前 = '東京'", id="unicode"),
        pytest.param("v$x$ = 1", id="dollar-inside-name"),
        pytest.param("x::numeric(10, 2) > 1.5e-3 AND y <> -1", id="cast-and-minus"),
        pytest.param("a - -1 > 0", id="spaced-minus"),
        pytest.param("a */ b", id="stray-comment-closer-is-an-operator"),
        pytest.param("jsonb_col @> '{\"a\": [1]}' AND p ?| array['k']", id="json-operators"),
        pytest.param("  id > 5 \n\t", id="surrounding-white-space"),
    ],
)
def test_accepted(text: str) -> None:
    assert check_filter(text) == text.strip()


def test_blank_means_no_filter() -> None:
    assert check_filter("") == ""
    assert check_filter(" \t\r\n") == ""


def test_only_server_white_space_is_stripped() -> None:
    # To the server a no-break space is a letter (part of a name), so it must stay.
    assert check_filter("\u00a0x = 1 ") == "\u00a0x = 1"


# -- refused -------------------------------------------------------------------------------

SEMICOLON = "a filter is one expression: ';' is not allowed"
COMMENT = "comments are not allowed in a filter"
UNTERMINATED_STRING = "unterminated string: the ' that opens it is never closed"
UNTERMINATED_IDENTIFIER = 'unterminated quoted identifier: the " that opens it is never closed'
UNBALANCED_PAREN = "unbalanced ')': there is no '(' before it"
BACKSLASH = "a backslash is only allowed inside a string (E'...' for escapes)"
STRAY_DOLLAR = "a '$' outside a string must open a dollar quote, like $$text$$"


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        pytest.param("1=1; DELETE FROM t", SEMICOLON, 4, id="second-statement"),
        pytest.param("x = 1;", SEMICOLON, 6, id="trailing-semicolon"),
        pytest.param("true) OR (true", UNBALANCED_PAREN, 5, id="escapes-the-parentheses"),
        pytest.param("x = 1)", UNBALANCED_PAREN, 6, id="extra-close"),
        pytest.param("a]", "unbalanced ']': there is no '[' before it", 2, id="extra-bracket"),
        pytest.param("x = 1 -- ", COMMENT, 7, id="line-comment"),
        pytest.param("x = 1 /* */", COMMENT, 7, id="block-comment"),
        pytest.param("/* a /* b */ c */ x = 1", COMMENT, 1, id="nested-block-comment"),
        pytest.param("x = 1 --) OR (true", COMMENT, 7, id="comment-hiding-a-paren"),
        pytest.param("x =--1", COMMENT, 4, id="comment-inside-operator"),
        pytest.param("x = 'a' -- c\n'b'", COMMENT, 9, id="comment-in-string-continuation"),
        pytest.param("'abc", UNTERMINATED_STRING, 1, id="unterminated-string"),
        pytest.param("x = 'a''", UNTERMINATED_STRING, 5, id="unterminated-after-doubled-quote"),
        pytest.param("x = E'it\\'s", UNTERMINATED_STRING, 5, id="unterminated-e-string"),
        pytest.param("x = 'it\\'s'", UNTERMINATED_STRING, 11, id="backslash-is-not-an-escape"),
        pytest.param('"abc', UNTERMINATED_IDENTIFIER, 1, id="unterminated-identifier"),
        pytest.param(
            "$a$ abc",
            "unterminated dollar quote: $a$ is never closed by another $a$",
            1,
            id="unterminated-dollar-quote",
        ),
        pytest.param(
            "x = $A$ ) $a$",
            "unterminated dollar quote: $A$ is never closed by another $A$",
            5,
            id="dollar-tags-are-case-sensitive",
        ),
        pytest.param(
            "x = 1 /* a /* b */",
            "unterminated comment: /* is never closed by */",
            7,
            id="unterminated-nested-comment",
        ),
        pytest.param("(x = 1", "unclosed '(': it has no matching ')'", 1, id="unclosed-paren"),
        pytest.param("((x = 1)", "unclosed '(': it has no matching ')'", 1, id="unclosed-outer"),
        pytest.param("a[1 = 2", "unclosed '[': it has no matching ']'", 2, id="unclosed-bracket"),
        pytest.param(
            "(]", "mismatched ']': it closes the '(' at character 1", 2, id="mismatched-kinds"
        ),
        pytest.param(
            "a[1) OR (true]",
            "mismatched ')': it closes the '[' at character 2",
            4,
            id="paren-inside-brackets",
        ),
        pytest.param(
            "x = $1",
            "$1 is a query parameter, which a filter cannot use: write the value itself",
            5,
            id="parameter",
        ),
        pytest.param(
            "x = $12$ y $12$",
            "$12 is a query parameter, which a filter cannot use: write the value itself",
            5,
            id="digit-tag-is-a-parameter",
        ),
        pytest.param("x = $ 1", STRAY_DOLLAR, 5, id="lone-dollar"),
        pytest.param("x = $a y", STRAY_DOLLAR, 5, id="unclosed-tag"),
        pytest.param("x = 1 \\ 2", BACKSLASH, 7, id="backslash-outside-string"),
        pytest.param("x = '\x00'", "a filter cannot contain a NUL character", 6, id="nul"),
        pytest.param(
            # After E'...' a string continued on the next line is read with backslash escapes
            # too: the server sees `(v = E'a\' , ') OR true OR (v = E' , '' ')`.
            "v = E'a'\n'\\' , ') OR true OR (v = E' , \\' '",
            UNBALANCED_PAREN,
            17,
            id="e-string-continuation-trick",
        ),
    ],
)
def test_refused(text: str, message: str, position: int) -> None:
    with pytest.raises(FilterError) as caught:
        check_filter(text)
    assert (caught.value.message, caught.value.position) == (message, position)
    assert str(caught.value) == f"{message} (at character {position})"


def test_error_positions_count_the_text_as_typed() -> None:
    with pytest.raises(FilterError) as caught:
        check_filter("  é = 1;")
    assert caught.value.position == 8


def test_standard_conforming_strings_off_makes_backslash_an_escape() -> None:
    text = "v = 'a\\' OR true OR v = '"
    with pytest.raises(FilterError):
        check_filter(text)
    assert check_filter(text, standard_conforming_strings=False) == text


def test_filter_error_without_position() -> None:
    assert str(FilterError("too long")) == "too long"
    assert FilterError("too long").position is None


# -- the lexer -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        pytest.param(
            "a$b$ = $b$ ) $b$",
            [(W, "a$b$"), (OP, "="), (D, "$b$ ) $b$")],  # the ")" is inside the quote
            id="dollar-continues-a-name",
        ),
        pytest.param("1$a$;$a$", [(W, "1"), (D, "$a$;$a$")], id="dollar-quote-after-number"),
        pytest.param("$a$x$b$a$", [(D, "$a$x$b$a$")], id="delimiter-found-inside-a-tag"),
        pytest.param("1e'x'", [(W, "1"), (S, "e'x'")], id="e-string-after-number"),
        pytest.param("1e5 1.5e-3", [(W, "1e5"), (W, "1.5e-3")], id="exponents"),
        pytest.param("1..2", [(W, "1"), (OP, "."), (OP, "."), (W, "2")], id="range-dots"),
        pytest.param("nE'\\'", [(W, "nE"), (S, "'\\'")], id="prefix-only-as-a-whole-word"),
        pytest.param("B'0''1'", [(S, "B'0'"), (S, "'1'")], id="bit-string-has-no-doubling"),
        pytest.param("'a'\n'b'", [(S, "'a'"), (S, "'b'")], id="continuation"),
        pytest.param("'a' 'b'", [(S, "'a'"), (S, "'b'")], id="no-newline-no-continuation"),
        pytest.param(
            "E'a'\r\n'\\''", [(S, "E'a'"), (S, "'\\''")], id="e-continuation-keeps-escapes"
        ),
        pytest.param("U&\"a\" U&'b'", [(Q, 'U&"a"'), (S, "U&'b'")], id="unicode-prefixes"),
        pytest.param("U&x", [(W, "U"), (OP, "&"), (W, "x")], id="u-ampersand-without-quote"),
        pytest.param(
            "x::int[]",
            [
                (W, "x"),
                (OP, ":"),
                (OP, ":"),
                (W, "int"),
                (TokenKind.OPEN, "["),
                (TokenKind.CLOSE, "]"),
            ],
            id="cast",
        ),
    ],
)
def test_tokens(text: str, tokens: list[tuple[TokenKind, str]]) -> None:
    assert kinds_and_texts(text) == tokens


def test_tokens_carry_their_offsets() -> None:
    assert list(tokenize("(a /* x /* y */ z */ 'q')")) == [
        Token(TokenKind.OPEN, 0, "("),
        Token(TokenKind.WORD, 1, "a"),
        Token(TokenKind.COMMENT, 3, "/* x /* y */ z */"),
        Token(TokenKind.STRING, 21, "'q'"),
        Token(TokenKind.CLOSE, 24, ")"),
    ]
    assert Token(TokenKind.WORD, 1, "a").position == 2


def test_standard_conforming_strings_off_in_the_lexer() -> None:
    assert kinds_and_texts("'a\\'b'", standard_conforming_strings=False) == [(S, "'a\\'b'")]
    assert kinds_and_texts("'a\\' b") == [(S, "'a\\'"), (W, "b")]


# -- positions and carets ------------------------------------------------------------------


def test_filter_position_maps_into_the_filter() -> None:
    prefix = "SELECT id FROM t WHERE ("
    text = "id > 3 AND nope = 1"
    assert filter_position(len(prefix) + 12, len(prefix), text) == 12
    assert filter_position(len(prefix) + 1, len(prefix), text) == 1
    assert filter_position(len(prefix), len(prefix), text) is None  # the "(" before it
    assert filter_position(len(prefix) + len(text) + 1, len(prefix), text) == len(text) + 1
    assert filter_position(len(prefix) + len(text) + 2, len(prefix), text) is None
    assert filter_position(3, len(prefix), text) is None


def test_error_position_reads_asyncpg_strings() -> None:
    error = asyncpg.PostgresSyntaxError("syntax error")
    assert error_position(error) is None
    error.position = "42"
    assert error_position(error) == 42
    assert error_position(ValueError("no position")) is None


@pytest.mark.parametrize(
    ("text", "position", "caret"),
    [
        pytest.param("id > 3 AND nope = 1", 12, " " * 11 + "^", id="ascii"),
        pytest.param("id >", 5, "    ^", id="just-past-the-end"),
        pytest.param("a\tb = x", 3, " \t^", id="tab-copied"),
        pytest.param("名前 = x", 4, "     ^", id="wide-characters"),
        pytest.param("e\u0301 = x", 4, "  ^", id="combining-mark"),
        pytest.param("a = 1\nAND nope = 2", 11, "    ^", id="second-line"),
        pytest.param("a = 1\r\nAND b", 7, "     ^", id="crlf-end-of-line"),
        pytest.param("a = 1\r\nAND b", 8, "^", id="crlf-next-line"),
    ],
)
def test_caret_line(text: str, position: int, caret: str) -> None:
    assert caret_line(text, position) == caret


@pytest.mark.parametrize("position", [0, 7])
def test_caret_line_outside_the_filter(position: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        caret_line("a = 1", position)


# -- against the server --------------------------------------------------------------------

PREFIX = 'SELECT id AS "ид", v FROM t WHERE ('
"""The statement up to the filter. The non-ASCII alias shows positions count characters."""


def statement(filter_text: str) -> str:
    """pgconsole's shape: the filter in parentheses, a keyset condition, a bound LIMIT."""
    return f"{PREFIX}{filter_text}) AND id > $1 ORDER BY id LIMIT $2"


async def browse(conn: asyncpg.Connection, filter_text: str, after: int = 0) -> list[int]:
    """Run one page as pgconsole does: READ ONLY, a statement timeout, parameters bound."""
    async with conn.transaction(readonly=True):
        await conn.execute("SET LOCAL statement_timeout = '2s'")
        rows = await conn.fetch(statement(filter_text), after, 100)
    return [row["ид"] for row in rows]


async def checked_browse(conn: asyncpg.Connection, text: str, after: int = 0) -> list[int]:
    """What the data browser does with the filter box: check it, then run the page."""
    return await browse(conn, check_filter(text), after)


async def row_count(conn: asyncpg.Connection) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM t")
    return count


@pytest.fixture
async def table(cluster: ThrowawayCluster, dbname: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to a fresh database holding t(id, v) with ids 1 to 10."""
    conn = await admin_connect(cluster, dbname)
    try:
        await conn.execute(
            "CREATE TABLE t (id int PRIMARY KEY, v text);"
            "INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 10) AS g"
        )
        yield conn
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        pytest.param("1=1; DELETE FROM t", SEMICOLON, 4, id="second-statement"),
        pytest.param("true) OR (true", UNBALANCED_PAREN, 5, id="escapes-the-parentheses"),
    ],
)
async def test_refused_filter_never_reaches_the_server(
    table: asyncpg.Connection, text: str, message: str, position: int
) -> None:
    async with QueryCounter(table) as sent:
        assert await checked_browse(table, "id > 5", after=7) == [8, 9, 10]
        with pytest.raises(FilterError) as caught:
            await checked_browse(table, text, after=7)
    assert (caught.value.message, caught.value.position) == (message, position)
    # The page with a good filter was sent (the logger works); the refused text never was.
    queries = sent.queries
    assert [query for query in queries if query.startswith("SELECT")] == [statement("id > 5")]
    assert not any(text in query for query in queries)
    assert await row_count(table) == 10


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        # Inside pgconsole's parentheses the `;` is a syntax error before anything runs ...
        pytest.param("1=1; DELETE FROM t", 'syntax error at or near ";"', id="unbalanced"),
        # ... and balanced around it, the server will not prepare two commands at once.
        pytest.param(
            # A DELETE in a WITH takes pgconsole's ORDER BY and LIMIT, so both commands parse.
            "true); WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d WHERE (true",
            "cannot insert multiple commands into a prepared statement",
            id="balanced",
        ),
    ],
)
async def test_a_second_statement_is_refused_by_the_server_too(
    table: asyncpg.Connection, text: str, refusal: str
) -> None:
    # Belt and braces: sent unchecked, with parameters (so asyncpg prepares the statement) in
    # a READ ONLY transaction, the text still runs nothing.
    with pytest.raises(FilterError):
        check_filter(text)
    with pytest.raises(asyncpg.PostgresSyntaxError) as caught:
        await browse(table, text)
    assert str(caught.value) == refusal
    assert await row_count(table) == 10


async def test_escaping_the_parentheses_is_why_the_check_runs_first(
    table: asyncpg.Connection,
) -> None:
    # The server runs `WHERE (true) OR (true) AND id > $1`: still only a SELECT, but the OR now
    # swallows pgconsole's keyset condition, so "the page after 7" is every row.
    assert await browse(table, "true", after=7) == [8, 9, 10]
    assert await browse(table, "true) OR (true", after=7) == list(range(1, 11))
    assert await row_count(table) == 10


async def test_the_e_string_continuation_trick_escapes_on_the_server(
    table: asyncpg.Connection,
) -> None:
    trick = "v = E'a'\n'\\' , ') OR true OR (v = E' , \\' '"
    with pytest.raises(FilterError, match="unbalanced"):
        check_filter(trick)
    # Read without string continuation, the text looks balanced; the server proves otherwise.
    assert await browse(table, trick, after=7) == list(range(1, 11))


@pytest.mark.parametrize(
    "text",
    [
        "v = ') OR (true'",
        "v = E'\\') OR (true'",
        "v = 'a'\n') OR (true'",
        "v = E'a'\n'\\') OR (true'",
        "v = $$) OR (true$$",
        "v = $q$ $$) OR (true $q$",
        "v = U&'\\0029 OR (true'",
        "\"v\" = ') OR (true'",
        "v = 'x' OR v = B'0'::text",
    ],
)
async def test_what_is_accepted_stays_inside_its_parentheses(
    table: asyncpg.Connection, text: str
) -> None:
    # Each hides `) OR (true` in a string; had it escaped, the page after 10 would not be empty.
    assert await checked_browse(table, text, after=10) == []


async def test_read_only_stops_a_filter_that_calls_a_writing_function(
    table: asyncpg.Connection,
) -> None:
    # A function call is a valid expression, so the check lets it through: READ ONLY is the
    # guard for what the statement does.
    await table.execute(
        "CREATE FUNCTION zap() RETURNS boolean LANGUAGE sql AS 'DELETE FROM t RETURNING true'"
    )
    with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
        await checked_browse(table, "zap()")
    assert await row_count(table) == 10


async def test_the_statement_timeout_stops_a_slow_filter(table: asyncpg.Connection) -> None:
    async with table.transaction(readonly=True):
        await table.execute("SET LOCAL statement_timeout = '100ms'")
        with pytest.raises(asyncpg.QueryCanceledError):
            await table.fetch(statement(check_filter("pg_sleep(5) IS NOT NULL")), 0, 100)


async def test_without_parameters_execute_runs_every_statement(table: asyncpg.Connection) -> None:
    # asyncpg's execute() with no arguments uses the simple query protocol, which runs several
    # statements; COMMIT then ends the READ ONLY transaction. For a statement built without
    # parameters (a DECLARE ... CURSOR, say) check_filter is the only gate.
    text = "true); COMMIT; DELETE FROM t WHERE (true"
    with pytest.raises(FilterError):
        check_filter(text)
    await table.execute("BEGIN READ ONLY")
    await table.execute(f"DECLARE c CURSOR FOR SELECT id FROM t WHERE ({text})")
    await table.execute("ROLLBACK")
    assert await row_count(table) == 0


@pytest.mark.parametrize(
    ("text", "expected", "caret"),
    [
        pytest.param("id > 3 AND no_such_column = 1", 12, " " * 11 + "^", id="unknown-column"),
        pytest.param("v <> 'éé☃' AND nope = 1", 16, " " * 15 + "^", id="after-non-ascii"),
        pytest.param("id >", 5, "    ^", id="stops-short"),
        pytest.param("id = 'x' + 1", 6, "     ^", id="bad-value"),
    ],
)
async def test_server_error_position_maps_into_the_filter(
    table: asyncpg.Connection, text: str, expected: int, caret: str
) -> None:
    filter_text = check_filter(text)
    with pytest.raises(asyncpg.PostgresError) as caught:
        await browse(table, filter_text)
    assert isinstance(caught.value.position, str)  # asyncpg keeps the protocol's text
    server_position = error_position(caught.value)
    assert server_position is not None
    position = filter_position(server_position, len(PREFIX), filter_text)
    assert position == expected
    assert caret_line(filter_text, position) == caret


async def test_an_error_outside_the_filter_maps_to_none(table: asyncpg.Connection) -> None:
    with pytest.raises(asyncpg.UndefinedColumnError) as caught:
        await table.fetch(f"SELECT nope FROM t WHERE ({check_filter('id > 1')})")
    server_position = error_position(caught.value)
    assert server_position == 8
    assert filter_position(server_position, len("SELECT nope FROM t WHERE ("), "id > 1") is None


async def test_the_server_reads_strings_as_the_check_assumes(table: asyncpg.Connection) -> None:
    assert await table.fetchval("SHOW standard_conforming_strings") == "on"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            'Perhaps you meant to reference the column "_pgconsole_r.name".',
            'Perhaps you meant to reference the column "name".',
        ),
        ("column _pgconsole_r.nam does not exist", "column nam does not exist"),
        ('"_pgconsole_r"."Name" is odd', '"Name" is odd'),
        ("x_pgconsole_r.y stays", "x_pgconsole_r.y stays"),
    ],
)
def test_without_alias_speaks_the_users_names(message: str, expected: str) -> None:
    assert without_alias(message, "_pgconsole_r") == expected


@pytest.mark.parametrize(
    ("text", "position", "expected"),
    [
        ("id > 0 AND nam = 1", 12, "id > 0 AND nam = 1\n           ^"),
        ("id > 0\nAND nam = 1", 12, "AND nam = 1\n    ^"),
        ("id > 0\r\nAND nam = 1", 7, "id > 0\n      ^"),
        ("id >", 5, "id >\n    ^"),
    ],
)
def test_caret_excerpt_shows_the_line_holding_the_position(
    text: str, position: int, expected: str
) -> None:
    assert caret_excerpt(text, position) == expected
