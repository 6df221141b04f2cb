"""`pgconsole [CONNINFO] [--profile NAME] [--config PATH] [--read-only] [--demo]`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pgconsole import __version__
from pgconsole.config import ConfigError, Settings, load_settings, read_config_file
from pgconsole.db.cluster import ClusterError
from pgconsole.db.params import ConnectParams, ConnInfoError, parse_uri


class UsageError(Exception):
    """Command-line arguments that do not make sense together."""


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="pgconsole",
        description="A keyboard-driven terminal admin console for PostgreSQL.",
    )
    parser.add_argument(
        "conninfo",
        nargs="?",
        metavar="CONNINFO",
        help="connection URI, e.g. postgresql://user@host:5432/db?sslmode=verify-full",
    )
    parser.add_argument("--profile", metavar="NAME", help="use a profile from the config file")
    parser.add_argument("--config", metavar="PATH", type=Path, help="config file to read")
    parser.add_argument(
        "--read-only",
        action="store_true",
        default=None,
        help="run every transaction READ ONLY and refuse writing actions",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="start a throwaway local server with sample data and connect to it",
    )
    parser.add_argument("--version", action="version", version=f"pgconsole {__version__}")
    return parser


def resolve(args: argparse.Namespace) -> tuple[Settings, ConnectParams | None]:
    """Settings from every layer, and the connection unless this is a demo.

    Raises:
        ConfigError, ConnInfoError, UsageError: With a message naming what is wrong.
    """
    overrides: dict[str, Any] = {}
    if args.read_only:
        overrides["read_only"] = True
    if args.conninfo:
        if args.demo:
            raise UsageError("--demo starts its own server: give no CONNINFO with it")
        overrides["dsn"] = args.conninfo
    settings = load_settings(read_config_file(args.config), args.profile, overrides)
    if args.demo:
        return settings, None
    if not settings.dsn:
        raise UsageError("no connection given: pass a postgresql:// URI, --profile NAME, or --demo")
    return settings, parse_uri(settings.dsn, connect_timeout=settings.connect_timeout)


def main(argv: Sequence[str] | None = None) -> int:
    """Run pgconsole; returns the process exit status."""
    args = build_parser().parse_args(argv)
    try:
        settings, params = resolve(args)
    except (ConfigError, ConnInfoError, UsageError) as error:
        print(f"pgconsole: {error}", file=sys.stderr)
        return 2
    if params is None:
        return run_demo(settings)
    return run_app(params, settings)


def run_app(params: ConnectParams, settings: Settings) -> int:
    """Run the TUI until the user quits."""
    from pgconsole.app import PgConsoleApp  # Textual loads only when a UI is wanted

    app = PgConsoleApp(params, settings)
    app.run()
    return app.return_code or 0


def run_demo(settings: Settings) -> int:
    """Start the demo server, run the TUI against it, and remove the server afterwards."""
    from pgconsole.db.demo_server import demo_server

    def progress(line: str) -> None:
        print(f"pgconsole demo: {line}", file=sys.stderr, flush=True)

    try:
        with demo_server(progress) as params:
            return run_app(params, settings)
    except ClusterError as error:
        print(f"pgconsole: the demo server could not start: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
