"""SQL highlighting for the console's editor: tree-sitter's SQL grammar parses the text, and a
walk over the tree names each token as Textual's editor themes do (`keyword`, `string`, ...).

Why not the editor's own `language="sql"`: it compiles a tree-sitter *query* for the grammar,
which on this large grammar costs about 30 ms and 30 MB at its peak (13 MB kept) whatever the
query holds. Parsing alone costs well under a megabyte, and a walk over the few tokens of a
console's statements a millisecond or two.

Without tree-sitter or its SQL grammar installed, `highlights` returns nothing: the editor shows
plain text and works the same.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node, Parser

Highlight = tuple[int, int | None, str]
"""Start and end of a span in its line, in bytes of UTF-8 as the editor counts them (end None:
to the line's end), and the theme's name for it."""

KEYWORD_NAMES = {
    "boolean": {"true", "false"},
    "conditional": {"case", "when", "then", "else"},
    "keyword.operator": {
        "and", "or", "not", "in", "is", "like", "ilike", "similar", "between", "exists",
    },
    "type.builtin": {
        "null", "int", "integer", "bigint", "smallint", "serial", "bigserial", "numeric",
        "decimal", "real", "float", "double", "precision", "boolean", "char", "varchar",
        "character", "varying", "text", "bytea", "date", "time", "timestamp", "timestamptz",
        "interval", "uuid", "json", "jsonb", "xml", "inet", "cidr", "money", "oid",
    },
}  # fmt: skip
"""A `keyword_*` token's name when not the plain `keyword`."""
_KEYWORDS = {word: name for name, words in KEYWORD_NAMES.items() for word in words}
OPERATORS = {"+", "-", "*", "/", "%", "^", ":=", "=", "<", "<=", "!=", ">=", ">", "<>"}
PUNCTUATION = {"(": "punctuation.bracket", ")": "punctuation.bracket"} | dict.fromkeys(
    (";", ",", "."), "punctuation.delimiter"
)
_INTEGER = re.compile(r"[-+]?\d+")
_FLOAT = re.compile(r"[-+]?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?|[-+]?\d+[eE][-+]?\d+")


@cache
def _parser() -> Parser | None:
    """A parser for SQL, or None without tree-sitter's SQL grammar."""
    try:
        import tree_sitter_sql
        from tree_sitter import Language, Parser
    except ImportError:
        return None
    return Parser(Language(tree_sitter_sql.language()))


def available() -> bool:
    """Whether SQL can be highlighted here."""
    return _parser() is not None


def highlights(text: str) -> dict[int, list[Highlight]]:
    """The highlighted spans of `text`, by line (0-based)."""
    parser = _parser()
    by_line: dict[int, list[Highlight]] = defaultdict(list)
    if parser is None or not text:
        return by_line
    tree = parser.parse(text.encode("utf-8"))
    for node, name in _named(tree.root_node):
        (start_row, start), (end_row, end) = node.start_point, node.end_point
        if start_row == end_row:
            by_line[start_row].append((start, end, name))
            continue
        by_line[start_row].append((start, None, name))
        for row in range(start_row + 1, end_row):
            by_line[row].append((0, None, name))
        by_line[end_row].append((0, end, name))
    return by_line


def _named(root: Node) -> Iterator[tuple[Node, str]]:
    """Every token worth a colour, with its name, in document order.

    A tree cursor, not `Node.children`: building a list of children for every node made the
    walk six times slower (80 ms against 12 for a 1,000-line script).
    """
    cursor = root.walk()
    ancestors: list[str] = []
    """The types of the cursor's node's ancestors, the parent last."""
    while True:
        node = cursor.node
        assert node is not None
        name = _name_of(node, cursor.field_name, ancestors)
        if name is not None:
            yield node, name
        elif cursor.goto_first_child():
            ancestors.append(node.type)
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return
            ancestors.pop()


def _name_of(node: Node, field: str | None, ancestors: list[str]) -> str | None:
    """The theme's name for `node` (`field`: its field in its parent), None to look inside."""
    kind = node.type
    if kind.startswith("keyword_"):
        return _KEYWORDS.get(kind.removeprefix("keyword_"), "keyword")
    if kind in ("comment", "marginalia"):
        return "comment"
    if kind == "literal":
        if node.named_child_count:  # NULL, TRUE, FALSE: named by their keyword
            return None
        value = (node.text or b"").decode("utf-8", errors="replace")
        if _INTEGER.fullmatch(value):
            return "number"
        return "float" if _FLOAT.fullmatch(value) else "string"
    if kind == "parameter":
        return "parameter"
    if not node.is_named:
        if kind in OPERATORS:
            return "operator"
        return PUNCTUATION.get(kind)
    if kind in ("op_other", "op_unary_other"):
        return "operator"
    if kind == "identifier" and field == "name" and ancestors[-1:] == ["object_reference"]:
        # a relation's or a function's name; other identifiers stay plain
        return "function.call" if ancestors[-2:-1] == ["invocation"] else "type"
    return None
