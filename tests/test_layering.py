"""pgconsole.db is headless: it never imports Textual, directly or through another module."""

from __future__ import annotations

import ast
from pathlib import Path

import pgconsole.db
from tests.helpers.imports import loaded_after

DB_PACKAGE = Path(pgconsole.db.__file__).parent
UI_MODULES = ("textual", "rich", "pgconsole.app", "pgconsole.screens", "pgconsole.widgets")


def imported_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_db_module_names_a_ui_module() -> None:
    offenders = {
        f"{path.relative_to(DB_PACKAGE)}: {name}"
        for path in DB_PACKAGE.rglob("*.py")
        for name in imported_names(path)
        if name.startswith(UI_MODULES)
    }
    assert not offenders


def test_importing_every_db_module_loads_no_textual() -> None:
    modules = sorted(
        "pgconsole.db." + ".".join(path.relative_to(DB_PACKAGE).with_suffix("").parts)
        for path in DB_PACKAGE.rglob("*.py")
        if path.name != "__init__.py"
    )
    assert "pgconsole.db.connection.pool" in modules
    assert loaded_after(modules, ("textual", "rich")) == []


def test_the_check_catches_an_offender(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from textual.widgets import Static\nimport rich.text\n")
    assert imported_names(bad) == {"textual.widgets", "rich.text"}
