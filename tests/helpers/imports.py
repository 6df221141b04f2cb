"""What importing some modules loads, seen from a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys


def loaded_after(
    imports: tuple[str, ...] | list[str],
    watched: tuple[str, ...],
    then: str = "",
    env: dict[str, str] | None = None,
) -> list[str]:
    """Which of `watched` (a module, or a package with its modules) importing `imports`, then
    running the statements `then`, loads, in a fresh interpreter (with `env` as its
    environment, if given) so that what this process imported does not count."""
    code = (
        "import importlib, sys\n"
        f"for name in {tuple(imports)!r}: importlib.import_module(name)\n"
        f"{then}\n"
        f"watched = {watched!r}\n"
        "print('\\n'.join(sorted({w for w in watched for m in sys.modules "
        "if m == w or m.startswith(w + '.')})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    return out.split()
