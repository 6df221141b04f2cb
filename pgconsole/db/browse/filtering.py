"""The data browser's filter box: a WHERE expression typed by the user, checked before it runs.

pgconsole sends `SELECT ... WHERE (<filter>) AND <keyset> ORDER BY ... LIMIT $n` inside a READ
ONLY transaction with a statement timeout. Those guard what the statement may do; this module
guards what the statement *is*: the filter must stay one expression inside the parentheses
pgconsole wraps it in. `check_filter` therefore refuses, before anything reaches the server:

- `;` outside strings and quoted identifiers: a second statement;
- comments, `--` and `/* */`: they hide text from the reader and swallow pgconsole's own SQL;
- a `)` or `]` with no opener (`true) OR (true` would turn `WHERE (f) AND keyset` into
  `WHERE (true) OR (true) AND keyset`), openers left open, and mismatched pairs;
- unterminated strings, quoted identifiers, dollar quotes and comments;
- `$1`-style parameters: they would read the values pgconsole binds for its own conditions.

Finding those needs to know where strings and identifiers begin and end exactly as the server
does, so `tokenize` follows PostgreSQL's lexer (src/backend/parser/scan.l) for everything that
can hide or reveal structure: the string kinds and their escapes, `'a'<newline>'b'` string
continuation, dollar quotes (`$` also continues an identifier: `a$b$` is one name), nested block
comments and parameters. Everything else (operators, numbers, keywords) only needs splitting
well enough not to miss one of those.

Plain `'...'` strings are read with `standard_conforming_strings = on`, the server default since
9.1, where a backslash is an ordinary character. The session that runs the filter should pin it
(`SET LOCAL standard_conforming_strings = on`), or pass the session's value to `check_filter`.

Server errors come back with a position in the whole statement; `filter_position` maps it into
the filter, `caret_excerpt` shows the filter's line holding it with a `^` under that character,
and `without_alias` takes pgconsole's alias for the relation out of the server's words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum, StrEnum

from pgconsole.db.sqltext import block_comment_end

__all__ = [
    "PG_WHITESPACE",
    "FilterError",
    "Token",
    "TokenKind",
    "caret_excerpt",
    "caret_line",
    "check_filter",
    "error_position",
    "filter_position",
    "tokenize",
    "without_alias",
]

PG_WHITESPACE = " \t\n\r\f\v"
"""What PostgreSQL's lexer skips as white space. Not `str.isspace()`: to the server a
no-break space is a letter, so stripping one would change the text's meaning."""

_NEWLINES = "\n\r"
_OPENERS = {"(": ")", "[": "]"}
_CLOSERS = {")": "(", "]": "["}


class FilterError(ValueError):
    """A filter pgconsole will not send, with where the problem is.

    Attributes:
        message: What is wrong, in one short line.
        position: 1-based character offset into the text that was checked, or None.
    """

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message, position)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        if self.position is None:
            return self.message
        return f"{self.message} (at character {self.position})"


class TokenKind(StrEnum):
    """What a token is, as far as the structure of an expression goes."""

    WORD = "word"
    """A keyword, an unquoted identifier or a number."""
    QUOTED_IDENTIFIER = "quoted identifier"
    """`"..."` or `U&"..."`."""
    STRING = "string"
    """`'...'`, `E'...'`, `U&'...'`, `B'...'`, `X'...'`, or the continuation of one."""
    DOLLAR_STRING = "dollar-quoted string"
    """`$$...$$` or `$tag$...$tag$`."""
    PARAMETER = "parameter"
    """`$1`, `$2`, ...: a value bound by the client."""
    DOLLAR = "dollar"
    """A `$` that starts neither a parameter nor a dollar quote (the server rejects it)."""
    COMMENT = "comment"
    """`-- ...` to the end of the line, or `/* ... */` (nested)."""
    OPEN = "open"
    """`(` or `[`."""
    CLOSE = "close"
    """`)` or `]`."""
    SEMICOLON = "semicolon"
    OTHER = "other"
    """Any other single character: operators, commas, dots, `::`..."""


@dataclass(frozen=True)
class Token:
    """One token of a filter.

    Attributes:
        kind: What the token is.
        start: 0-based character offset of its first character in the text.
        text: The token exactly as written, quotes and prefixes included.
    """

    kind: TokenKind
    start: int
    text: str

    @property
    def position(self) -> int:
        """1-based character offset of the token, as error positions count."""
        return self.start + 1


class _Quoting(Enum):
    """How the inside of a single-quoted string is read."""

    STANDARD = "standard"
    """`''` is a quote; a backslash is an ordinary character."""
    ESCAPE = "escape"
    """`''` is a quote, and a backslash escapes the next character (`E'...'`)."""
    BITS = "bits"
    """`B'...'` and `X'...'`: the first quote ends them, no escapes at all."""


def _is_ident_start(char: str) -> bool:
    # scan.l: ident_start [A-Za-z\200-\377_]. The server lexes bytes, and every byte of a
    # non-ASCII UTF-8 character is >= 0x80, so any non-ASCII character counts as a letter.
    return char == "_" or "a" <= char <= "z" or "A" <= char <= "Z" or ord(char) >= 0x80


def _is_digit(char: str) -> bool:
    # ASCII only: str.isdigit() accepts digits of other scripts, which the server reads as
    # letters.
    return "0" <= char <= "9"


def _is_ident_cont(char: str) -> bool:
    # scan.l: ident_cont [A-Za-z\200-\377_0-9\$]. The `$` is why `a$b$` is one name and not
    # the identifier `a` followed by a dollar quote.
    return _is_ident_start(char) or _is_digit(char) or char == "$"


def _is_dollar_tag_cont(char: str) -> bool:
    # scan.l: dolq_cont [A-Za-z\200-\377_0-9] (no `$`: the `$` ends the tag).
    return _is_ident_start(char) or _is_digit(char)


def tokenize(text: str, *, standard_conforming_strings: bool = True) -> Iterator[Token]:
    """Split a SQL expression into tokens the way PostgreSQL's lexer delimits them.

    White space is skipped. Comments are returned as tokens, so a caller can refuse them.

    Args:
        text: The SQL text.
        standard_conforming_strings: The session's setting of that name. When off, plain
            `'...'` strings treat a backslash as an escape, as `E'...'` strings always do.

    Yields:
        The tokens, in order.

    Raises:
        FilterError: A string, quoted identifier, dollar quote or block comment is not closed
            (position: where it opens).
    """
    plain = _Quoting.STANDARD if standard_conforming_strings else _Quoting.ESCAPE
    length = len(text)
    i = 0
    # After a closing quote, white space holding a newline followed by another quote continues
    # the same string, read the same way ('a'<newline>'b' is 'ab', and after E'...' the
    # continuation is an E string too). `--` comments may sit in that white space.
    continued: _Quoting | None = None
    newline_seen = False
    while i < length:
        char = text[i]
        if char in PG_WHITESPACE:
            newline_seen = newline_seen or char in _NEWLINES
            i += 1
            continue
        if text.startswith("--", i):
            end = _line_end(text, i)
            yield Token(TokenKind.COMMENT, i, text[i:end])
            i = end
            continue
        if char == "'" and continued is not None and newline_seen:
            end = _string_end(text, i, continued, opened_at=i)
            yield Token(TokenKind.STRING, i, text[i:end])
            i, newline_seen = end, False
            continue
        continued, newline_seen = None, False

        if text.startswith("/*", i):
            closed = block_comment_end(text, i)
            if closed is None:
                raise FilterError("unterminated comment: /* is never closed by */", i + 1)
            yield Token(TokenKind.COMMENT, i, text[i:closed])
            i = closed
        elif char == "'":
            end = _string_end(text, i, plain, opened_at=i)
            yield Token(TokenKind.STRING, i, text[i:end])
            i, continued = end, plain
        elif char == '"':
            end = _identifier_end(text, i, opened_at=i)
            yield Token(TokenKind.QUOTED_IDENTIFIER, i, text[i:end])
            i = end
        elif char == "$":
            token = _dollar_token(text, i)
            yield token
            i += len(token.text)
        elif _is_digit(char):
            end = _number_end(text, i)
            yield Token(TokenKind.WORD, i, text[i:end])
            i = end
        elif _is_ident_start(char):
            end = i + 1
            while end < length and _is_ident_cont(text[end]):
                end += 1
            word = text[i:end]
            # A one-letter word right before a quote is a string prefix (E'', B'', X'', U&'').
            # Only a whole word counts: `nE'x'` is the name `nE` followed by a plain string.
            quoting = {"e": _Quoting.ESCAPE, "b": _Quoting.BITS, "x": _Quoting.BITS}.get(
                word.lower()
            )
            if quoting is not None and text.startswith("'", end):
                stop = _string_end(text, end, quoting, opened_at=i)
                yield Token(TokenKind.STRING, i, text[i:stop])
                i, continued = stop, quoting
            elif word.lower() == "u" and text.startswith("&'", end):
                # U&'...' reads like a standard string; its \XXXX escapes cannot hold a quote.
                stop = _string_end(text, end + 1, _Quoting.STANDARD, opened_at=i)
                yield Token(TokenKind.STRING, i, text[i:stop])
                i, continued = stop, _Quoting.STANDARD
            elif word.lower() == "u" and text.startswith('&"', end):
                stop = _identifier_end(text, end + 1, opened_at=i)
                yield Token(TokenKind.QUOTED_IDENTIFIER, i, text[i:stop])
                i = stop
            else:
                yield Token(TokenKind.WORD, i, word)
                i = end
        else:
            if char in _OPENERS:
                kind = TokenKind.OPEN
            elif char in _CLOSERS:
                kind = TokenKind.CLOSE
            elif char == ";":
                kind = TokenKind.SEMICOLON
            else:
                kind = TokenKind.OTHER
            yield Token(kind, i, char)
            i += 1


def _line_end(text: str, start: int) -> int:
    """Where a `--` comment stops: at the next newline, or the end of the text."""
    ends = [found for newline in _NEWLINES if (found := text.find(newline, start)) != -1]
    return min(ends, default=len(text))


def _string_end(text: str, quote: int, quoting: _Quoting, *, opened_at: int) -> int:
    """The offset just past the quote closing the string whose opening quote is at `quote`."""
    i = quote + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and quoting is _Quoting.ESCAPE:
            i += 2  # whatever follows is escaped, a quote included
        elif char == "'":
            if quoting is not _Quoting.BITS and text.startswith("''", i):
                i += 2
            else:
                return i + 1
        else:
            i += 1
    raise FilterError("unterminated string: the ' that opens it is never closed", opened_at + 1)


def _identifier_end(text: str, quote: int, *, opened_at: int) -> int:
    """The offset just past the `"` closing the identifier whose `"` is at `quote`."""
    i = quote + 1
    while i < len(text):
        if text[i] == '"':
            if not text.startswith('""', i):
                return i + 1
            i += 2
        else:
            i += 1
    raise FilterError(
        'unterminated quoted identifier: the " that opens it is never closed', opened_at + 1
    )


def _dollar_token(text: str, start: int) -> Token:
    """A parameter, a dollar-quoted string, or a stray `$`, starting at `text[start] == "$"`."""
    end = start + 1
    if end < len(text) and _is_digit(text[end]):
        while end < len(text) and _is_digit(text[end]):
            end += 1
        return Token(TokenKind.PARAMETER, start, text[start:end])
    # A tag is empty or starts with a letter or underscore: `$1$` is the parameter $1.
    if end < len(text) and _is_ident_start(text[end]):
        while end < len(text) and _is_dollar_tag_cont(text[end]):
            end += 1
    if not text.startswith("$", end):
        return Token(TokenKind.DOLLAR, start, "$")
    delimiter = text[start : end + 1]
    # The string ends at the first occurrence of its delimiter, wherever it stands: the
    # server's lexer also finds `$a$` inside `x$a$` or `$b$a$`.
    close = text.find(delimiter, end + 1)
    if close == -1:
        raise FilterError(
            f"unterminated dollar quote: {delimiter} is never closed by another {delimiter}",
            start + 1,
        )
    return Token(TokenKind.DOLLAR_STRING, start, text[start : close + len(delimiter)])


def _number_end(text: str, start: int) -> int:
    """The offset just past the number starting at `text[start]`, a digit.

    As the lexer of PostgreSQL 14 and earlier reads it: digits, a fraction, an exponent only
    when digits follow `e`. What follows starts a new token, so in `1e'x'` the `e'x'` is an
    E string and in `1abc$$` the `abc$$` is a name. Newer servers reject a letter right after
    a number as trailing junk, so reading it the older way never misses what they accept.
    """
    length = len(text)
    i = start
    while i < length and _is_digit(text[i]):
        i += 1
    if text.startswith(".", i) and not text.startswith("..", i):
        i += 1
        while i < length and _is_digit(text[i]):
            i += 1
    if i < length and text[i] in "eE":
        exponent = i + 1
        if exponent < length and text[exponent] in "+-":
            exponent += 1
        if exponent < length and _is_digit(text[exponent]):
            i = exponent
            while i < length and _is_digit(text[i]):
                i += 1
    return i


def check_filter(text: str, *, standard_conforming_strings: bool = True) -> str:
    """Check a WHERE expression typed by the user before pgconsole runs it.

    An empty or blank filter means "no filter" and is returned as "": the caller then leaves
    the WHERE clause out rather than sending `WHERE ()`.

    Args:
        text: What the user typed.
        standard_conforming_strings: The setting of the session that will run the filter
            (on unless someone turned it off; pgconsole should pin it with SET LOCAL).

    Returns:
        The filter without surrounding white space, ready to go between parentheses.

    Raises:
        FilterError: The filter is not one self-contained expression, or holds something a
            filter may not (a `;`, a comment, a `$n` parameter). Its position counts characters
            of `text` as given, from 1.
    """
    if "\x00" in text:
        raise FilterError("a filter cannot contain a NUL character", text.index("\x00") + 1)
    opened: list[Token] = []
    for token in tokenize(text, standard_conforming_strings=standard_conforming_strings):
        match token.kind:
            case TokenKind.SEMICOLON:
                raise FilterError("a filter is one expression: ';' is not allowed", token.position)
            case TokenKind.COMMENT:
                raise FilterError("comments are not allowed in a filter", token.position)
            case TokenKind.PARAMETER:
                raise FilterError(
                    f"{token.text} is a query parameter, which a filter cannot use: "
                    "write the value itself",
                    token.position,
                )
            case TokenKind.DOLLAR:
                raise FilterError(
                    "a '$' outside a string must open a dollar quote, like $$text$$",
                    token.position,
                )
            case TokenKind.OPEN:
                opened.append(token)
            case TokenKind.CLOSE:
                if not opened:
                    raise FilterError(
                        f"unbalanced '{token.text}': there is no '{_CLOSERS[token.text]}' "
                        "before it",
                        token.position,
                    )
                opener = opened.pop()
                if _OPENERS[opener.text] != token.text:
                    raise FilterError(
                        f"mismatched '{token.text}': it closes the '{opener.text}' "
                        f"at character {opener.position}",
                        token.position,
                    )
            case TokenKind.OTHER if token.text == "\\":
                # The server rejects it too; refusing it here also means a backslash the
                # server would read as an escape can never sit where we see plain code.
                raise FilterError(
                    "a backslash is only allowed inside a string (E'...' for escapes)",
                    token.position,
                )
            case _:
                pass
    if opened:
        opener = opened[-1]
        raise FilterError(
            f"unclosed '{opener.text}': it has no matching '{_OPENERS[opener.text]}'",
            opener.position,
        )
    return text.strip(PG_WHITESPACE)


def error_position(error: BaseException) -> int | None:
    """The statement position of a server error, as an int, or None if it has none.

    asyncpg keeps the error field `P` (PostgreSQL's `position`) as a string attribute
    `position`: 1-based, in characters of the statement.
    """
    value = getattr(error, "position", None)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdecimal():
        return int(value)
    return None


def filter_position(server_position: int, prefix_length: int, filter_text: str) -> int | None:
    """Map a server error position in the whole statement to a position in the filter.

    Args:
        server_position: The error's `position` (1-based, in characters of the statement:
            PostgreSQL counts characters, not bytes, and so does Python's `str`).
        prefix_length: How many characters of the statement come before the filter's first
            character (`len("SELECT ... WHERE (")`).
        filter_text: The filter as it was put in the statement (`check_filter`'s result; add
            the length of any white space it stripped to point into the raw input).

    Returns:
        The 1-based position in `filter_text`, or None when the error lies outside it.
        `len(filter_text) + 1` means just past its end: when a filter stops short (`id >`),
        the server points at the `)` pgconsole puts right after it, and the fix is at the end
        of the filter.
    """
    position = server_position - prefix_length
    if 1 <= position <= len(filter_text) + 1:
        return position
    return None


def _cell_width(char: str) -> int:
    """Terminal cells one character takes, so the caret lines up under wide characters."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf", "Cc"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def caret_line(filter_text: str, position: int) -> str:
    """A line with a `^` under one character of the filter, to print below it.

    For a filter over several lines the caret goes under the line holding `position`, so
    show it below that line. Tabs are copied, so the terminal expands both lines alike;
    wide (East Asian) characters take two cells and combining marks none.

    Args:
        filter_text: The filter as displayed.
        position: 1-based character position; `len(filter_text) + 1` marks its end.

    Returns:
        Padding followed by `^`.

    Raises:
        ValueError: The position lies outside the filter.
    """
    if not 1 <= position <= len(filter_text) + 1:
        raise ValueError(f"position {position} is outside a filter of {len(filter_text)}")
    index = position - 1
    # The `\n` of a `\r\n` ends the line it follows, like the `\r` does.
    limit = index - 1 if index > 0 and filter_text[index - 1 : index + 1] == "\r\n" else index
    line_start = max(filter_text.rfind(newline, 0, limit) for newline in _NEWLINES) + 1
    padding = "".join(
        "\t" if char == "\t" else " " * _cell_width(char) for char in filter_text[line_start:index]
    )
    return padding + "^"


def caret_excerpt(filter_text: str, position: int) -> str:
    """The line of the filter holding `position`, and a caret line under that character.

    Args:
        filter_text: The filter as it was sent.
        position: 1-based character position; `len(filter_text) + 1` marks its end.

    Returns:
        Two lines: the filter's line (the whole filter when it has one line) and its caret.

    Raises:
        ValueError: The position lies outside the filter.
    """
    caret = caret_line(filter_text, position)
    index = position - 1
    limit = index - 1 if index > 0 and filter_text[index - 1 : index + 1] == "\r\n" else index
    start = max(filter_text.rfind(newline, 0, limit) for newline in _NEWLINES) + 1
    ends = [found for newline in _NEWLINES if (found := filter_text.find(newline, limit)) != -1]
    return filter_text[start : min(ends, default=len(filter_text))] + "\n" + caret


def without_alias(text: str, alias: str) -> str:
    """A server message with `alias.` taken off the column names it qualifies.

    pgconsole reads the relation as `... AS alias`, so the server's words name columns as the
    statement did (`Perhaps you meant to reference the column "alias.name".`); the user typed
    `name`, and should read it back.
    """
    quoted = '"' + alias.replace('"', '""') + '"'
    text = text.replace(quoted + ".", "")
    return re.sub(r"(?<![\w$])" + re.escape(alias) + r"\.", "", text)
