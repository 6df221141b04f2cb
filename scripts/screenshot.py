"""Save docs/screenshot.svg: pgconsole at 80x24, connected to the demo server.

Run with `.venv/bin/python scripts/screenshot.py`.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from pgconsole.app import PgConsoleApp
from pgconsole.config import Settings
from pgconsole.db.demo_server import demo_server

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshot.svg"


async def shoot(app: PgConsoleApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        while app.database is None:
            await pilot.pause(0.05)
        await pilot.pause(1.2)  # let the pool badge refresh once
        app.save_screenshot(filename=OUT.name, path=str(OUT.parent))


def main() -> int:
    with demo_server(lambda line: print(line, file=sys.stderr)) as params:
        asyncio.run(shoot(PgConsoleApp(params, Settings())))
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
