"""SQL kept in files under `pgconsole/db/sql/`, read once per process.

Long statements live in `.sql` files rather than in Python strings so that they can be read,
diffed and run by hand (`psql -f`). Each file starts with a `--` line naming what it does and
the `$n` parameters it takes, if any.
"""

from __future__ import annotations

import functools
from importlib.resources import files


@functools.cache
def load_sql(name: str) -> str:
    """Return the text of `pgconsole/db/sql/<name>`.

    The files ship inside the package, so this works from a source checkout, an installed
    wheel or a zip archive alike. The result is cached: the files never change while the
    process runs.

    Args:
        name: A file name in `pgconsole/db/sql/`, such as `"seed_demo.sql"`.

    Raises:
        ValueError: `name` is a path rather than a plain `.sql` file name.
        FileNotFoundError: There is no such file.
    """
    # Names come from our own code, but a path here would read outside the SQL directory.
    if not name.endswith(".sql") or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"not an SQL file name: {name!r}")
    return (files("pgconsole.db") / "sql" / name).read_text(encoding="utf-8")
