"""SQL kept in files, in a `sql/` folder beside the module that runs it, read once per process.

Long statements live in `.sql` files rather than in Python strings so that they can be read,
diffed and run by hand (`psql -f`). Each file starts with a `--` line naming what it does and
the `$n` parameters it takes, if any. `pgconsole/db/browse/catalog.py` reads
`pgconsole/db/browse/sql/list_relations.sql` as `load_sql(__name__, "list_relations.sql")`.
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

ROOMS = ("pgconsole.db.connection", "pgconsole.db.browse", "pgconsole.db.console",
         "pgconsole.db.activity", "pgconsole.db.diagnostics", "pgconsole.db.fleet",
         "pgconsole.throwaway")  # fmt: skip
"""The packages with a `sql/` folder."""


@functools.cache
def load_sql(module: str, name: str) -> str:
    """Return the text of the file `name` in the `sql/` folder beside `module`.

    The files ship inside the package, so this works from a source checkout, an installed
    wheel or a zip archive alike. The result is cached: the files never change while the
    process runs.

    Args:
        module: The dotted name of the module that runs the SQL (its `__name__`).
        name: A file name in that folder, such as `"list_relations.sql"`.

    Raises:
        ValueError: `name` is a path rather than a plain `.sql` file name.
        FileNotFoundError: There is no such file.
    """
    # Names come from our own code, but a path here would read outside the SQL directory.
    if not name.endswith(".sql") or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"not an SQL file name: {name!r}")
    return _folder(module.rpartition(".")[0]).joinpath("sql", name).read_text(encoding="utf-8")


def _folder(package: str) -> Traversable:
    """The folder of `package` (imported if need be): a plain path when the package lies on disk,
    the usual case. `importlib.resources` is loaded only for another place (a zip archive):
    its imports (zipfile, shutil, tempfile, lzma) would cost over 10 ms of every start."""
    spec = importlib.import_module(package).__spec__
    locations = spec.submodule_search_locations if spec is not None else None
    for location in locations or ():
        if Path(location).is_dir():
            return Path(location)
    from importlib.resources import files

    return files(package)


@functools.cache
def sql_file_names() -> frozenset[str]:
    """The name (without `.sql`) of every file in every room's `sql/` folder.

    The folders are found from the top package, without importing the rooms: the activity
    screen asks this of its first sample, and would load the console's and the fleet's code.
    """
    top = _folder("pgconsole")
    folders: list[Traversable] = [top.joinpath(*room.split(".")[1:], "sql") for room in ROOMS]
    return frozenset(
        entry.name.removesuffix(".sql")
        for folder in folders
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    )
