"""SQL files live in a `sql/` folder beside the module that runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

import pgconsole
from pgconsole.db.sqlfiles import ROOMS, load_sql, sql_file_names

PACKAGE = Path(pgconsole.__file__).parent


def test_every_sql_folder_is_a_room() -> None:
    folders = {
        ".".join(("pgconsole", *path.parent.relative_to(PACKAGE).parts))
        for path in PACKAGE.rglob("sql")
        if path.is_dir()
    }
    assert folders == set(ROOMS)


def test_names_span_every_room() -> None:
    names = sql_file_names()
    assert {"list_relations", "activity_sample", "describe_session", "seed_demo"} <= names
    assert len(names) == len(list(PACKAGE.rglob("sql/*.sql")))


def test_load_sql_reads_beside_the_module() -> None:
    text = load_sql("pgconsole.db.browse.catalog", "list_relations.sql")
    assert text.startswith("-- list_relations:")
    with pytest.raises(FileNotFoundError):
        load_sql("pgconsole.db.activity.stats", "list_relations.sql")
    with pytest.raises(ValueError, match="not an SQL file name"):
        load_sql("pgconsole.db.browse.catalog", "../sql/list_relations.sql")
