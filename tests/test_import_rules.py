"""The import-linter contracts in pyproject.toml hold, and a forbidden import breaks them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports run on the pgconsole package found in `tree`, with `tree`'s pyproject."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the package and its pyproject.toml."""
    shutil.copytree(ROOT / "pgconsole", tmp_path / "pgconsole")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_package_keeps_every_contract(tree: Path) -> None:
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("db/quoting.py", "import textual.app", "db is headless"),
        ("db/browse/catalog.py", "from pgconsole.config import Settings", "db is headless"),
        ("widgets/grid.py", "from pgconsole.screens import value", "widgets are built by screens"),
        ("db/connection/pool.py", "from pgconsole.db.browse import pages", "no import cycles"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tree: Path, module: str, line: str, contract: str
) -> None:
    path = tree / "pgconsole" / module
    text = path.read_text()
    # After the module's docstring and `from __future__`, where an import would really go.
    head, future, rest = text.partition("from __future__ import annotations\n")
    path.write_text(head + future + line + "  # noqa\n" + rest)
    result = lint_imports(tree)
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken
