"""Connection strings in both of libpq's forms parse to the keywords psql would see."""

from __future__ import annotations

import pytest

from pgconsole.db.connection.conninfo import (
    LIBPQ_KEYWORDS,
    is_uri,
    parse_conninfo,
    parse_keywords,
    parse_uri_keywords,
    quote_keyword_value,
)
from pgconsole.db.connection.params import ConnInfoError

# -- keyword strings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("host=db1 port=5432", {"host": "db1", "port": "5432"}),
        ("  host=db1\tdbname=app\n", {"host": "db1", "dbname": "app"}),
        ("host = db1 port =5433 user= dba", {"host": "db1", "port": "5433", "user": "dba"}),
        ("dbname='my db'", {"dbname": "my db"}),
        (r"dbname='it\'s'", {"dbname": "it's"}),
        (r"dbname='back\\slash'", {"dbname": "back\\slash"}),
        (r"dbname=it\'s\ here", {"dbname": "it's here"}),
        ("password='' user=dba", {"password": "", "user": "dba"}),
        ("application_name='a=b c'", {"application_name": "a=b c"}),
        ("host=db1 host=db2", {"host": "db2"}),  # the last one wins, as in libpq
        ("", {}),
        # libpq skips blanks after `=`, so an empty value must be written ''.
        ("host= port=5433", {"host": "port=5433"}),
    ],
    ids=[
        "plain",
        "whitespace",
        "spaces-around-equals",
        "quoted",
        "escaped-quote",
        "escaped-backslash",
        "escapes-unquoted",
        "empty-value",
        "equals-in-value",
        "repeated-key",
        "empty-string",
        "blank-is-not-empty",
    ],
)
def test_keyword_string(text: str, expected: dict[str, str]) -> None:
    assert parse_keywords(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("host", 'missing "=" after "host" in connection info string'),
        ("host=db1 port", 'missing "=" after "port" in connection info string'),
        ("dbname='unterminated", "unterminated quoted string in connection info string"),
        (r"dbname='ends in escape\'", "unterminated quoted string in connection info string"),
    ],
)
def test_malformed_keyword_string(text: str, message: str) -> None:
    with pytest.raises(ConnInfoError) as caught:
        parse_conninfo(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "value",
    ["db1", "my db", "it's", "back\\slash", "", "tab\there", "'", "\\", "a=b", "x'y\\z w"],
)
def test_quoted_values_round_trip(value: str) -> None:
    text = f"dbname={quote_keyword_value(value)} user=dba"
    assert parse_keywords(text) == {"dbname": value, "user": "dba"}


def test_plain_values_are_left_unquoted() -> None:
    assert quote_keyword_value("db1.example.com") == "db1.example.com"
    assert quote_keyword_value("my db") == "'my db'"
    assert quote_keyword_value("") == "''"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("requiressl=1", {"sslmode": "require"}),
        ("requiressl=0", {"sslmode": "prefer"}),
        ("sslmode=disable requiressl=1", {"sslmode": "require"}),
        ("requiressl=1 sslmode=disable", {"sslmode": "disable"}),
        ("postgresql:///?requiressl=1", {"sslmode": "require"}),
    ],
)
def test_requiressl_is_sslmode_as_soon_as_it_is_read(text: str, expected: dict[str, str]) -> None:
    # libpq's conninfo_storeval turns it into sslmode on the spot (checked with psql 15).
    assert parse_conninfo(text) == expected


# -- URIs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("postgresql://", {}),
        ("postgresql://db1", {"host": "db1"}),
        ("postgres://db1/app", {"host": "db1", "dbname": "app"}),
        (
            "postgresql://dba:s%40cr%3At@db1:5433/app",
            {"user": "dba", "password": "s@cr:t", "host": "db1", "port": "5433", "dbname": "app"},
        ),
        ("postgresql://d%20ba@db1", {"user": "d ba", "host": "db1"}),
        ("postgresql://dba:@db1", {"user": "dba", "host": "db1"}),  # empty password: none
        ("postgresql://:pw@db1", {"password": "pw", "host": "db1"}),
        ("postgresql://h1:5433,h2/app", {"host": "h1,h2", "port": "5433,", "dbname": "app"}),
        ("postgresql://h1:5433,h2:5434", {"host": "h1,h2", "port": "5433,5434"}),
        ("postgresql://[::1]:5432/app", {"host": "::1", "port": "5432", "dbname": "app"}),
        ("postgresql://[2001:db8::7],h2", {"host": "2001:db8::7,h2"}),
        (
            "postgresql://%2Fvar%2Frun%2Fpostgresql/app",
            {"host": "/var/run/postgresql", "dbname": "app"},
        ),
        ("postgresql:///app?host=/tmp", {"dbname": "app", "host": "/tmp"}),
        ("postgresql://db1/my%20db", {"host": "db1", "dbname": "my db"}),
        ("postgresql://db1/", {"host": "db1"}),
        (
            "postgresql://db1/app?sslmode=verify-full&connect_timeout=5",
            {"host": "db1", "dbname": "app", "sslmode": "verify-full", "connect_timeout": "5"},
        ),
        ("postgresql://db1?ssl=true", {"host": "db1", "sslmode": "require"}),
        (
            "postgresql://db1?options=-c%20geqo%3Doff&application_name=a%20b",
            {"host": "db1", "options": "-c geqo=off", "application_name": "a b"},
        ),
        ("postgresql://db1?sslmode=require&", {"host": "db1", "sslmode": "require"}),
    ],
)
def test_uri(uri: str, expected: dict[str, str]) -> None:
    assert is_uri(uri)
    assert parse_uri_keywords(uri) == expected
    assert parse_conninfo(uri) == expected


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("postgresql://db1:abc/app", 'invalid port number: "abc"'),
        ("postgresql://h1,h2:5x", 'invalid port number: "5x"'),
        ("postgresql://[::1/app", 'unterminated IPv6 host address in URI: "[::1"'),
        ("postgresql://[::1]x/app", 'unexpected character after IPv6 host address: "[::1]x"'),
        ("postgresql://[]:5432", 'IPv6 host address may not be empty in URI: "[]:5432"'),
        (
            "postgresql://db1?sslmode",
            'missing key/value separator "=" in URI query parameter: "sslmode"',
        ),
        (
            "postgresql://db1?options=-c%20geqo=off",
            'extra key/value separator "=" in URI query parameter: "options"',
        ),
    ],
)
def test_malformed_uri(uri: str, message: str) -> None:
    with pytest.raises(ConnInfoError) as caught:
        parse_conninfo(uri)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "text",
    ["host=db1", "dbname=postgresql://x", "POSTGRESQL://db1", "postgresql:/db1", "service=x"],
)
def test_only_the_two_prefixes_make_a_uri(text: str) -> None:
    assert not is_uri(text)


# -- unknown keywords ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "conninfo",
    [
        "host=db1 work_mem=64MB",
        "postgresql://db1/app?work_mem=64MB",
        "postgres://db1?sslmode=require&work_mem=64MB",
    ],
)
def test_an_unknown_keyword_is_an_error_not_a_server_setting(conninfo: str) -> None:
    with pytest.raises(ConnInfoError) as caught:
        parse_conninfo(conninfo)
    assert str(caught.value) == 'invalid connection option "work_mem"'


@pytest.mark.parametrize("keyword", sorted(LIBPQ_KEYWORDS - {"requiressl"}))
def test_every_libpq_keyword_is_accepted_in_both_forms(keyword: str) -> None:
    assert parse_conninfo(f"{keyword}=x") == {keyword: "x"}
    assert parse_conninfo(f"postgresql://?{keyword}=x") == {keyword: "x"}
