"""SQL files live in a `sql/` folder beside the module that runs them."""

from __future__ import annotations

import importlib
import sys
import zipfile
from pathlib import Path

import pytest

import pgconsole
from pgconsole.db.sqlfiles import ROOMS, load_sql, sql_file_names
from tests.helpers.imports import loaded_after

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


def test_a_package_on_disk_is_read_without_importlib_resources() -> None:
    # Its imports (zipfile, shutil, tempfile, lzma) cost over 10 ms of every start.
    reads = "from pgconsole.db.sqlfiles import load_sql, sql_file_names\n" + (
        "load_sql('pgconsole.db.activity.stats', 'activity_sample.sql'); sql_file_names()"
    )
    assert loaded_after((), ("importlib.resources", "zipfile"), reads) == []


def test_a_package_in_a_zip_archive_is_read_too(tmp_path: Path) -> None:
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("zipped_room/__init__.py", "")
        bundle.writestr("zipped_room/sql/hello.sql", "-- hello: a test\nSELECT 1\n")
    sys.path.insert(0, str(archive))
    try:
        importlib.import_module("zipped_room")
        assert load_sql("zipped_room.reader", "hello.sql").startswith("-- hello: a test")
    finally:
        sys.path.remove(str(archive))
        sys.modules.pop("zipped_room", None)
