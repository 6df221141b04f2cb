"""SQL text as the console needs it: tokens, statements, what a statement is, and what it names.

Not a parser: a lexer that knows PostgreSQL's quoting (standard strings, `E''` escapes, dollar
quotes, quoted identifiers, nested block comments), so that a `;` or a keyword inside any of
them is never taken for SQL. On top of it: splitting a script into statements, the statement
under the cursor, a statement's kind, the read-only guard, the relations a statement names and
the word being typed (for completion). Everything is lossless and never raises, whatever the
text: the console calls it on every key press, on half-typed SQL.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple


class TokenKind(StrEnum):
    """What a token is."""

    WORD = "word"
    """A keyword or an unquoted identifier, as written."""
    QUOTED = "quoted"
    """A quoted identifier, quotes included."""
    STRING = "string"
    """A string constant of any form, quotes included: '', E'', U&'', B'', X'', N'', $tag$."""
    NUMBER = "number"
    PARAMETER = "parameter"
    """`$1`."""
    OPERATOR = "operator"
    PUNCT = "punct"
    """( ) [ ] , ; . :"""
    COMMENT = "comment"
    SPACE = "space"


class Token(NamedTuple):
    """One token and where it sits in the text (a tuple: a 1 MB script has 300,000 of them)."""

    kind: TokenKind
    text: str
    start: int
    end: int


# A letter, `_` or any character beyond ASCII (as the server's scanner takes them). Written as
# an alternation with a negated class: a class spanning U+0080 to U+10FFFF costs the regex
# compiler about 5 ms each time it appears, 16 ms of the start path for this pattern.
_IDENT_START = r"(?:[A-Za-z_]|[^\x00-\x7f])"
_IDENT_DOLLAR_TAG = r"(?:[A-Za-z_0-9]|[^\x00-\x7f])"
_IDENT_REST = r"(?:[A-Za-z_0-9$]|[^\x00-\x7f])"
_PATTERN = re.compile(
    rf"""
    (?P<space>\s+)
  | (?P<block>/\*)
  | (?P<dollar>\$(?:{_IDENT_START}{_IDENT_DOLLAR_TAG}*)?\$)
  | (?P<line_comment>--[^\n]*)
  | (?P<escape_string>[eE]'(?:[^'\\]|\\.|'')*(?:'|\Z))
  | (?P<string>(?:[bBxXnN]|[uU]&)?'(?:[^']|'')*(?:'|\Z))
  | (?P<quoted>(?:[uU]&)?"(?:[^"]|"")*(?:"|\Z))
  | (?P<parameter>\$[0-9]+)
  | (?P<number>(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9]+)?)
  | (?P<word>{_IDENT_START}{_IDENT_REST}*)
  | (?P<cast>::)
  | (?P<operator>(?:[+*<>=~!@#%^&|`?]|-(?!-)|/(?!\*))+)
  | (?P<punct>[()\[\],;.:])
    """,
    re.VERBOSE | re.DOTALL,
)
_GROUP_KIND = {
    "space": TokenKind.SPACE,
    "line_comment": TokenKind.COMMENT,
    "escape_string": TokenKind.STRING,
    "string": TokenKind.STRING,
    "quoted": TokenKind.QUOTED,
    "parameter": TokenKind.PARAMETER,
    "number": TokenKind.NUMBER,
    "word": TokenKind.WORD,
    "cast": TokenKind.OPERATOR,
    "operator": TokenKind.OPERATOR,
    "punct": TokenKind.PUNCT,
}


def tokens(text: str) -> list[Token]:
    """The tokens of `text`, losslessly: their texts joined give `text` back, for any input.

    An unterminated string, quoted identifier or comment runs to the end of the text.
    """
    found: list[Token] = []
    append = found.append
    match_at = _PATTERN.match
    position, size = 0, len(text)
    while position < size:
        match = match_at(text, position)
        if match is None:
            # Anything the lexer does not know (a stray `\`, `$` ...) is a one-character operator.
            append(Token(TokenKind.OPERATOR, text[position], position, position + 1))
            position += 1
            continue
        group = match.lastgroup
        end = match.end()
        if group == "block":
            closed = block_comment_end(text, position)
            end = size if closed is None else closed
            append(Token(TokenKind.COMMENT, text[position:end], position, end))
        elif group == "dollar":
            close = text.find(match.group(), end)
            end = size if close < 0 else close + len(match.group())
            append(Token(TokenKind.STRING, text[position:end], position, end))
        else:
            append(Token(_GROUP_KIND[group or "operator"], match.group(), position, end))
        position = end
    return found


def block_comment_end(text: str, start: int) -> int | None:
    """The offset just past the `*/` closing the block comment opened at `start`, or None when
    it is never closed. PostgreSQL nests them: `/* a /* b */ c */` is one comment."""
    depth, position = 0, start
    while position < len(text):
        if text.startswith("/*", position):
            depth += 1
            position += 2
        elif text.startswith("*/", position):
            depth -= 1
            position += 2
            if depth == 0:
                return position
        else:
            position += 1
    return None


def _significant(found: Sequence[Token]) -> list[Token]:
    return [t for t in found if t.kind not in (TokenKind.SPACE, TokenKind.COMMENT)]


def _upper_words(found: Sequence[Token]) -> list[str]:
    """Each significant token as compared: words upper-cased, everything else as written."""
    return [t.text.upper() if t.kind is TokenKind.WORD else t.text for t in found]


@dataclass(frozen=True)
class Statement:
    """One statement of a script, without its `;` and the white space and comments around it."""

    text: str
    start: int
    """Offset of `text` in the script."""
    end: int
    """Offset just past `text`."""

    @property
    def keyword(self) -> str:
        """The first word, upper-cased ('' when the statement starts otherwise, e.g. `(`)."""
        for token in tokens(self.text):
            if token.kind is TokenKind.WORD:
                return token.text.upper()
            if token.kind not in (TokenKind.SPACE, TokenKind.COMMENT):
                return ""
        return ""


def split_statements(script: str) -> list[Statement]:
    """The statements of `script` in order; empty ones (white space, comments) skipped.

    A `;` splits only outside parentheses and outside the body of a SQL-standard function
    (`BEGIN ATOMIC … END`, where `CASE … END` nests).
    """
    statements: list[Statement] = []
    depth = atomic = 0
    first: Token | None = None
    last: Token | None = None
    previous_word = ""
    for token in tokens(script):
        if token.kind in (TokenKind.SPACE, TokenKind.COMMENT):
            continue
        if token.kind is TokenKind.PUNCT and token.text == ";" and depth == 0 and atomic == 0:
            if first is not None and last is not None:
                statements.append(Statement(script[first.start : last.end], first.start, last.end))
            first = last = None
            previous_word = ""
            continue
        if first is None:
            first = token
        last = token
        if token.kind is TokenKind.PUNCT:
            if token.text in "([":
                depth += 1
            elif token.text in ")]" and depth > 0:
                depth -= 1
        word = token.text.upper() if token.kind is TokenKind.WORD else ""
        if (word == "ATOMIC" and previous_word == "BEGIN") or (atomic and word == "CASE"):
            atomic += 1
        elif atomic and word == "END":
            atomic -= 1
        previous_word = word
    if first is not None and last is not None:
        statements.append(Statement(script[first.start : last.end], first.start, last.end))
    return statements


def statement_at(script: str, offset: int) -> Statement | None:
    """The statement under the cursor at `offset`.

    The one that contains it (its end included); after a statement (past its `;`, on blank
    lines), the one before; before the first, the first; None when there is none.
    """
    statements = split_statements(script)
    if not statements:
        return None
    before = None
    for statement in statements:
        if statement.start <= offset <= statement.end:
            return statement
        if statement.end <= offset:
            before = statement
    return before if before is not None else statements[0]


class Kind(StrEnum):
    """What a statement does, as far as the console is concerned."""

    QUERY = "query"
    """Returns rows and can be a subquery: SELECT (not SELECT INTO), VALUES, TABLE, a
    parenthesised query, WITH … SELECT whose CTEs do not modify data."""
    BEGIN = "begin"
    """BEGIN, START TRANSACTION."""
    END = "end"
    """COMMIT, END, ROLLBACK, ABORT (with or without AND CHAIN), PREPARE TRANSACTION."""
    OTHER = "other"


_DML = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE"})
_LOCKING_LEAD = frozenset({"FOR", "KEY", "NO"})
"""Words before UPDATE/SHARE in a locking clause (FOR UPDATE, FOR NO KEY UPDATE, …)."""


def _text_of(statement: Statement | str) -> str:
    return statement.text if isinstance(statement, Statement) else statement


def _has_dml(words: Sequence[str]) -> bool:
    """Whether INSERT/UPDATE/DELETE/MERGE appears as a command (not FOR UPDATE)."""
    for i, word in enumerate(words):
        if word in _DML and not (word == "UPDATE" and i and words[i - 1] in _LOCKING_LEAD):
            return True
    return False


def _locks(words: Sequence[str]) -> bool:
    for i, word in enumerate(words[:-1]):
        if word == "FOR" and words[i + 1] in {"UPDATE", "SHARE", "NO", "KEY"}:
            return True
    return False


def kind(statement: Statement | str) -> Kind:
    """The statement's kind (see `Kind`)."""
    found = _significant(tokens(_text_of(statement)))
    words = _upper_words(found)
    if not words:
        return Kind.OTHER
    head = words[0]
    if head in ("BEGIN", "START"):
        return Kind.BEGIN
    if head in ("COMMIT", "END", "ROLLBACK", "ABORT"):
        rest = words[1:]
        if "TO" in rest or "PREPARED" in rest:
            return Kind.OTHER  # ROLLBACK TO SAVEPOINT; COMMIT/ROLLBACK PREPARED 'gid'
        return Kind.END
    if head == "PREPARE" and len(words) > 1 and words[1] == "TRANSACTION":
        return Kind.END
    if head in ("SELECT", "VALUES", "TABLE", "("):
        if head == "SELECT" and _depth_zero_word(found, "INTO"):
            return Kind.OTHER
        if head == "(" and _has_dml(words):
            return Kind.OTHER
        return Kind.QUERY
    if head == "WITH":
        return Kind.OTHER if _has_dml(words) or _depth_zero_word(found, "INTO") else Kind.QUERY
    return Kind.OTHER


def _depth_zero_word(found: Sequence[Token], wanted: str) -> bool:
    depth = 0
    for token in found:
        if token.kind is TokenKind.PUNCT and token.text == "(":
            depth += 1
        elif token.kind is TokenKind.PUNCT and token.text == ")":
            depth = max(0, depth - 1)
        elif depth == 0 and token.kind is TokenKind.WORD and token.text.upper() == wanted:
            return True
    return False


def may_write(statement: Statement | str) -> bool:
    """False only for statements that certainly change no data by themselves: a query without
    a locking clause, SHOW, and EXPLAIN unless it analyses a writing statement."""
    found = _significant(tokens(_text_of(statement)))
    words = _upper_words(found)
    if not words:
        return False
    head = words[0]
    if head == "SHOW":
        return False
    if head == "EXPLAIN":
        return "ANALYZE" in words and _has_dml(words)
    if kind(statement) is Kind.QUERY:
        return _locks(words)
    return True


_SETTING_NAMES = ("transaction_read_only",)
"""Matched as substrings: `default_transaction_read_only` contains it too."""
_READ_WRITE = re.compile(r"\bread\s+write\b", re.IGNORECASE)


def _reads_setting(found: Sequence[Token], at: int) -> bool:
    """Whether this mention of the read-only setting only reads it: anywhere in a `SHOW`, or as
    the name given to `current_setting(` in a statement that calls no `set_config` at all
    (which could change the setting under another spelling of its name)."""
    if found[0].kind is TokenKind.WORD and found[0].text.upper() == "SHOW":
        return True
    if any(
        "set_config" in t.text.lower()
        for t in found
        if t.kind in (TokenKind.WORD, TokenKind.QUOTED, TokenKind.STRING)
    ):
        return False
    return (
        found[at].kind is TokenKind.STRING
        and at >= 2
        and found[at - 1].text == "("
        and found[at - 2].kind is TokenKind.WORD
        and found[at - 2].text.lower() == "current_setting"
    )


def read_only_refusal(statements: Sequence[Statement]) -> str | None:
    """Why this run must be refused in read-only mode (one line), or None.

    Refused: anything that would make a transaction or the session READ WRITE (`SET
    TRANSACTION … READ WRITE`, `BEGIN/START … READ WRITE`, `SET SESSION CHARACTERISTICS …`),
    any mention of `default_transaction_read_only`/`transaction_read_only` outside comments
    (SET, RESET, set_config() in a query, inside a DO block's string) except reading it (`SHOW`,
    `current_setting('transaction_read_only')`), `RESET ALL` and
    `DISCARD ALL`, a transaction's end followed by more statements, and COPY with a program,
    from anywhere, or to a server file.
    """
    for number, statement in enumerate(statements, 1):
        found = _significant(tokens(statement.text))
        words = _upper_words(found)
        if not words:
            continue
        where = f"statement {number} ({_short(statement.text)})"
        for i, word in enumerate(words[:-1]):
            if word == "READ" and words[i + 1] == "WRITE":
                return f"{where} would make the transaction READ WRITE."
        for at, token in enumerate(found):
            if token.kind is TokenKind.WORD:
                value = token.text.lower()
            elif token.kind in (TokenKind.QUOTED, TokenKind.STRING):
                value = token.text.lower()
                if _READ_WRITE.search(value):
                    return f"{where} holds READ WRITE in a string (dynamic SQL)."
            else:
                continue
            if any(name in value for name in _SETTING_NAMES) and not _reads_setting(found, at):
                return f"{where} touches the read-only setting (transaction_read_only)."
        if words[0] in ("RESET", "DISCARD") and len(words) > 1 and words[1] == "ALL":
            return f"{where} would reset the session's read-only setting."
        if words[0] == "COPY":
            if "PROGRAM" in words:
                return f"{where} runs a program on the server."
            if _depth_zero_word(found, "FROM"):
                return f"{where} loads rows (COPY … FROM)."
            for i, token in enumerate(found[:-1]):
                if token.text.upper() == "TO" and found[i + 1].kind is TokenKind.STRING:
                    return f"{where} writes a file on the server."
        if kind(statement) is Kind.END and number < len(statements):
            return f"{where} ends the transaction and more statements follow: run them separately."
    return None


def console_refusal(statements: Sequence[Statement]) -> str | None:
    """Why the console cannot run these statements in any mode, or None.

    `COPY … FROM STDIN` would wait for data the console has no way to send (and hold the
    session until cancelled); `COPY … TO STDOUT` would print rows nowhere.
    """
    for number, statement in enumerate(statements, 1):
        found = _significant(tokens(statement.text))
        words = _upper_words(found)
        if not words or words[0] != "COPY":
            continue
        where = f"statement {number} ({_short(statement.text)})"
        if "STDIN" in words:
            return f"{where}: COPY … FROM STDIN needs a client file (psql's \\copy)."
        if "STDOUT" in words:
            return f"{where}: COPY … TO STDOUT prints nowhere here; run the query and press e."
    return None


def _short(text: str, width: int = 40) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


_RELATION_LEADS = frozenset({"FROM", "JOIN", "UPDATE", "INTO", "TABLE", "USING"})
_NOT_ALIAS = frozenset(
    """
    WHERE JOIN ON LEFT RIGHT INNER OUTER FULL CROSS NATURAL GROUP ORDER LIMIT SET USING UNION
    EXCEPT INTERSECT RETURNING WINDOW HAVING OFFSET FETCH FOR VALUES SELECT LATERAL TABLESAMPLE
    WITH DEFAULT OVERRIDING DO WHEN THEN AND OR NOT AS ONLY INTO FROM
    """.split()  # noqa: SIM905 (a list of words, kept readable)
)


def _fold(token: Token) -> str:
    """An identifier as PostgreSQL folds it: unquoted lower-cased, quoted exact."""
    if token.kind is TokenKind.QUOTED:
        inner = token.text[1:]
        if token.text[:2].upper() == "U&":
            inner = token.text[3:]
        if inner.endswith('"'):
            inner = inner[:-1]
        return inner.replace('""', '"')
    return token.text.lower()


def _is_name(token: Token) -> bool:
    return token.kind is TokenKind.QUOTED or (
        token.kind is TokenKind.WORD and token.text.upper() not in _NOT_ALIAS
    )


def relations_named(statement: str) -> list[tuple[str | None, str, str | None]]:
    """(schema, name, alias) of each relation the statement names after FROM, JOIN, UPDATE,
    INTO, TABLE, USING and in a FROM list; subqueries and functions skipped (relations inside
    a subquery found too). Best effort on any text, half-typed included."""
    found = _significant(tokens(statement))
    named: list[tuple[str | None, str, str | None]] = []
    i = 0
    while i < len(found):
        token = found[i]
        word = token.text.upper() if token.kind is TokenKind.WORD else ""
        i += 1
        if word not in _RELATION_LEADS:
            continue
        in_list = word == "FROM"
        while True:
            while i < len(found) and found[i].text.upper() in ("ONLY", "LATERAL"):
                i += 1
            parsed = _relation_at(found, i)
            if parsed is None:
                break
            relation, i = parsed
            if relation is not None:
                named.append(relation)
            if in_list and i < len(found) and found[i].text == ",":
                i += 1
                continue
            break
    return named


def _relation_at(
    found: Sequence[Token], i: int
) -> tuple[tuple[str | None, str, str | None] | None, int] | None:
    """The relation reference starting at `found[i]` and the index after it (and its alias)."""
    if i >= len(found) or not _is_name(found[i]):
        return None
    parts = [_fold(found[i])]
    i += 1
    while i + 1 < len(found) and found[i].text == "." and _is_name_or_word(found[i + 1]):
        parts.append(_fold(found[i + 1]))
        i += 2
    if i < len(found) and found[i].text == "(":
        return None, i  # a function call (or INSERT INTO t (cols): columns, no alias)
    if i < len(found) and found[i].text == "." and i + 1 == len(found):
        i += 1  # `schema.` being typed
    alias = None
    if i < len(found) and found[i].kind is TokenKind.WORD and found[i].text.upper() == "AS":
        i += 1
    if i < len(found) and _is_name(found[i]):
        alias = _fold(found[i])
        i += 1
    schema = parts[-2] if len(parts) >= 2 else None
    return (schema, parts[-1], alias), i


def _is_name_or_word(token: Token) -> bool:
    return token.kind in (TokenKind.WORD, TokenKind.QUOTED)


def word_at(text: str, offset: int) -> tuple[str, str | None, int]:
    """What completion completes at `offset`: (prefix typed, qualifier before a dot or None,
    where the prefix starts). Inside a string or a comment: ("", None, offset)."""
    found = tokens(text[:offset])
    if not found:
        return "", None, offset
    last = found[-1]
    if last.kind in (TokenKind.STRING, TokenKind.COMMENT):
        return "", None, offset
    if last.kind is TokenKind.QUOTED and not (len(last.text) > 1 and last.text.endswith('"')):
        return "", None, offset  # an identifier being quoted
    if last.kind is TokenKind.WORD:
        prefix, start, before = last.text, last.start, found[:-1]
    elif last.kind is TokenKind.PUNCT and last.text == ".":
        prefix, start, before = "", offset, found
    else:
        return "", None, offset
    qualifier = None
    if (
        len(before) >= 2
        and before[-1].text == "."
        and before[-2].kind
        in (
            TokenKind.WORD,
            TokenKind.QUOTED,
        )
    ):
        qualifier = _fold(before[-2])
    return prefix, qualifier, start
