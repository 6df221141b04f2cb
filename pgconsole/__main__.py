"""`pgconsole [CONNINFO] [--profile NAME] [--config PATH] [--read-only] [--demo] [--activity]`
`pgconsole doctor [CONNINFO] [--profile NAME] [--config PATH]` and
`pgconsole snapshot [CONNINFO] [--out FILE] [--window 10s] [--redact] [--profile NAME] ...` and
`pgconsole record [CONNINFO] --out FILE [--interval 1s] [--for 24h] [--max-size 1GB] ...` and
`pgconsole replay FILE [--at TIME]` and
`pgconsole fleet [--profiles A,B,C | --all] [--config PATH] [--once]`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pgconsole import __version__
from pgconsole.config import ConfigError, Settings, load_settings, read_config_file
from pgconsole.db.connection.params import ConnectParams, ConnInfoError, duration_seconds
from pgconsole.db.connection.passwords import PasswordQuery
from pgconsole.db.quoting import parse_qualified_name
from pgconsole.target import Target, resolve_target

if TYPE_CHECKING:
    from pgconsole.db.activity.sampler import EarlySample
    from pgconsole.db.opening import Opening
    from pgconsole.server_list import ServerList


FRAME_HEAD_START = 0.5
"""Seconds `--activity` on a terminal lets the connection and the first sample run before it
imports Textual, at most. Run side by side, the imports take the GIL from the event loop, and
on a machine saturated by the load being diagnosed the text frame came 0.3 s later (0.8 s
instead of 0.5 s under 50 pgbench clients on 2 cores), and the screen itself no sooner. On a
quiet machine the sample takes about 40 ms; a server that does not answer delays the screen by
this much."""


class UsageError(Exception):
    """Command-line arguments that do not make sense together."""


def _common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "conninfo",
        nargs="?",
        metavar="CONNINFO",
        help="a postgresql:// URI or a libpq keyword string (host=... dbname=...)",
    )
    parser.add_argument("--profile", metavar="NAME", help="use a profile from the config file")
    parser.add_argument("--config", metavar="PATH", type=Path, help="config file to read")
    parser.add_argument(
        "--ssh",
        metavar="[USER@]BASTION[:PORT]",
        help="connect through an SSH tunnel via this host, with the system's ssh "
        "(host names in CONNINFO are as the bastion sees them)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The console's command line."""
    parser = argparse.ArgumentParser(
        prog="pgconsole",
        description="A keyboard-driven terminal admin console for PostgreSQL. "
        "`pgconsole doctor --help` checks a connection without the UI; "
        "`pgconsole snapshot --help` writes an incident snapshot; "
        "`pgconsole record --help` records the activity screen's samples; "
        "`pgconsole replay --help` replays a recording; "
        "`pgconsole fleet --help` shows every server of the config, worst first.",
    )
    _common_arguments(parser)
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
    parser.add_argument(
        "--table",
        metavar="SCHEMA.NAME",
        help='open this table or view at start (quoted parts keep case: \'"My Schema"."Order"\')',
    )
    parser.add_argument(
        "--activity",
        action="store_true",
        help="show the live activity screen (sessions, locks, pool) once connected",
    )
    parser.add_argument("--version", action="version", version=f"pgconsole {__version__}")
    return parser


def _subcommand_parser(name: str, description: str) -> argparse.ArgumentParser:
    """`pgconsole NAME`'s command line, with the connection's arguments."""
    parser = argparse.ArgumentParser(prog=f"pgconsole {name}", description=description)
    _common_arguments(parser)
    return parser


def build_doctor_parser() -> argparse.ArgumentParser:
    """`pgconsole doctor`'s command line."""
    return _subcommand_parser(
        "doctor",
        "Show the resolved connection settings and where each came from, connect, "
        "and report TLS, server, role and pool. Exit 0 when the connection works.",
    )


def build_snapshot_parser() -> argparse.ArgumentParser:
    """`pgconsole snapshot`'s command line."""
    parser = _subcommand_parser(
        "snapshot",
        "Watch the server for a while, then write everything pgconsole's diagnostics know "
        "(sessions, locks, waits, statements, horizon, progress, replication, settings) to "
        "FILE.json and FILE.md, readable by you only. Exit 0 when both are written. "
        "With --from, of a recording instead, at --at: no server needed.",
    )
    parser.add_argument(
        "--from",
        dest="recording",
        metavar="RECORDING",
        type=Path,
        help="a recording (pgconsole record, or R on the activity screen) to take it from: "
        "the sessions and locks at --at, the waits over the --window before",
    )
    parser.add_argument(
        "--at",
        metavar="TIME",
        help="with --from: the moment, a clock time (03:12:05), an offset from the start "
        "(4m) or from the end (-4m); the last sample by default",
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        type=Path,
        help="write FILE.json and FILE.md (default: pgconsole-snapshot-HOST-TIME here)",
    )
    parser.add_argument(
        "--window",
        default="10s",
        metavar="DURATION",
        help="how long to sample waits and statements: 10s, 1min, 500ms or seconds (10s)",
    )
    _redact_argument(parser)
    return parser


def _redact_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--redact",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="replace every query text by its first keywords and length "
        "(default: the redact_queries setting, off)",
    )


def build_record_parser() -> argparse.ArgumentParser:
    """`pgconsole record`'s command line."""
    parser = _subcommand_parser(
        "record",
        "Record what the activity screen shows (sessions, locks, waits, server counters) every "
        "interval into FILE, an SQLite database readable by you only, until --for has passed, "
        "SIGTERM or Ctrl-C. An existing FILE is appended to only when it is a recording of the "
        "same server, database, interval and redaction. Exit 0 when stopped that way, 1 when "
        "it could not start or stopped at --max-size or a full disk (the file holds every "
        "sample before).",
    )
    parser.add_argument(
        "--out", metavar="FILE", type=Path, required=True, help="the recording file"
    )
    parser.add_argument(
        "--interval",
        default="1s",
        metavar="DURATION",
        help="time between two samples: 1s, 500ms, or seconds (1s)",
    )
    parser.add_argument(
        "--for",
        dest="duration",
        metavar="DURATION",
        help="stop after this long: 10m, 24h, 2d (default: until SIGTERM or Ctrl-C)",
    )
    parser.add_argument(
        "--max-size",
        default="1GB",
        metavar="SIZE",
        help="stop when the file reaches this size: 200MB, 1GB (1GB)",
    )
    _redact_argument(parser)
    return parser


def build_fleet_parser() -> argparse.ArgumentParser:
    """`pgconsole fleet`'s command line."""
    parser = argparse.ArgumentParser(
        prog="pgconsole fleet",
        description="One row per server of the config file (its profiles and [fleet] servers), "
        "the worst first: down, blocked sessions, held-back vacuum horizon, replication lag, "
        "load. Enter opens a server's browser, a its activity, F10 switches between the open "
        "servers. With --once, print the table and exit: 0 when every server answered, 1 "
        "when one is down.",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--profiles", metavar="A,B,C", help="only these profiles, in this order")
    which.add_argument(
        "--all", action="store_true", help="every profile and [fleet] server (the default)"
    )
    parser.add_argument("--config", metavar="PATH", type=Path, help="config file to read")
    parser.add_argument("--once", action="store_true", help="print the table once (no UI) and exit")
    return parser


def fleet(arguments: list[str]) -> int:
    """`pgconsole fleet`: the fleet view; with --once a table, exit 1 when a server is down;
    2 for bad settings or an empty fleet."""
    args = build_fleet_parser().parse_args(arguments)
    from pgconsole.server_list import server_list

    names = None
    if args.profiles is not None:  # each once, in the order given
        names = list(dict.fromkeys(n.strip() for n in args.profiles.split(",") if n.strip()))
        if not names:
            print("pgconsole fleet: --profiles names no profile (A,B,C)", file=sys.stderr)
            return 2
    try:
        config = read_config_file(args.config)
        servers = server_list(config, names)
        settings = load_settings(config)
    except (ConfigError, ConnInfoError) as error:
        print(f"pgconsole fleet: {error}", file=sys.stderr)
        return 2
    if not servers.entries:
        print(
            "pgconsole fleet: no servers: add [profiles.NAME] tables or a [fleet] servers "
            "list to the config file (see config.example.toml)",
            file=sys.stderr,
        )
        return 2
    if args.once:
        from pgconsole.fleet import print_fleet

        return print_fleet(servers)
    return asyncio.run(_run_fleet(settings, servers))


async def _run_fleet(settings: Settings, servers: ServerList) -> int:
    from pgconsole.fleet import FleetReading

    # Read the servers while Textual is imported in a thread, as `_run_app` connects.
    reading = FleetReading(servers)
    app_module = await asyncio.to_thread(importlib.import_module, "pgconsole.app")
    app = app_module.FleetApp(settings, servers, reading)
    try:
        await app.run_async()
    finally:
        await reading.close()  # if the app ended before taking it
    return int(app.return_code or 0)


def build_replay_parser() -> argparse.ArgumentParser:
    """`pgconsole replay`'s command line (no server: no connection arguments)."""
    parser = argparse.ArgumentParser(
        prog="pgconsole replay",
        description="Replay a recording (`pgconsole record`, or R on the activity screen) in "
        "the activity screen's layout, with no server: Space plays and pauses, + and - change "
        "the speed (1x to 60x), ',' '.' '[' ']' '{' '}' step by a sample, 10 s, a minute, t "
        "goes to a typed time, n / W / X to the next blocked session, wait spike, new "
        "longest transaction. Exit 1 when FILE cannot be read as a recording.",
    )
    parser.add_argument("file", metavar="FILE", type=Path, help="the recording")
    parser.add_argument(
        "--at",
        metavar="TIME",
        help="start at this moment: a clock time (03:12:05) or an offset from the start "
        "(4m, +90s; -4m: before the end)",
    )
    return parser


def _offset_value(arguments: list[str]) -> list[str]:
    """`--at -4m` as `--at=-4m`: argparse takes a value starting with `-` for an option."""
    joined: list[str] = []
    for argument in arguments:
        if joined and joined[-1] == "--at" and argument.startswith("-"):
            joined[-1] = f"--at={argument}"
        else:
            joined.append(argument)
    return joined


def resolve(args: argparse.Namespace) -> Target:
    """Everything needed to connect, from every layer.

    Raises:
        ConfigError, ConnInfoError: With a message naming what is wrong and where it came from.
    """
    overrides: dict[str, Any] = {}
    if getattr(args, "read_only", None):
        overrides["read_only"] = True
    if getattr(args, "redact", None) is not None:
        overrides["redact_queries"] = args.redact
    if getattr(args, "ssh", None):
        overrides["ssh"] = args.ssh
    return resolve_target(
        read_config_file(args.config),
        conninfo=args.conninfo,
        profile=args.profile,
        overrides=overrides,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run pgconsole; returns the process exit status (130 after Ctrl+C before the UI took
    the keyboard, with a line rather than a traceback, as psql ends)."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        # On a terminal the ^C the terminal echoed is still on the line: start a new one.
        print(("\n" if sys.stderr.isatty() else "") + "pgconsole: interrupted", file=sys.stderr)
        return 130


def _main(argv: Sequence[str] | None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["doctor"]:
        return doctor(arguments[1:])
    if arguments[:1] == ["snapshot"]:
        return snapshot(arguments[1:])
    if arguments[:1] == ["record"]:
        return record(arguments[1:])
    if arguments[:1] == ["fleet"]:
        return fleet(arguments[1:])
    if arguments[:1] == ["replay"]:
        args = build_replay_parser().parse_args(_offset_value(arguments[1:]))
        from pgconsole.replay import run_replay

        return run_replay(args.file, args.at)
    args = build_parser().parse_args(arguments)
    try:
        if args.demo:
            if args.conninfo or args.profile:
                raise UsageError("--demo starts its own server: give no CONNINFO or --profile")
            overrides = {"read_only": True} if args.read_only else {}
            settings = load_settings(read_config_file(args.config), None, overrides)
            return run_demo(settings, args.table, activity=args.activity)
        if args.table:
            parse_qualified_name(args.table)  # a malformed name fails here, before the UI
        target = resolve(args)
    except (ConfigError, ConnInfoError, UsageError, ValueError) as error:
        print(f"pgconsole: {error}", file=sys.stderr)
        return 2
    return run_app(
        target.params,
        target.settings,
        target.password_query,
        args.table,
        activity=args.activity,
        name=target.profile,
        config=args.config,
    )


def doctor(arguments: list[str]) -> int:
    """`pgconsole doctor`: exit 0 when it connected, 1 with a reason, 2 for bad settings."""
    args = build_doctor_parser().parse_args(arguments)
    try:
        target = resolve(args)
    except (ConfigError, ConnInfoError) as error:
        print(f"pgconsole doctor: {error}", file=sys.stderr)
        return 2
    from pgconsole.doctor import run_doctor

    return run_doctor(target)


def snapshot(arguments: list[str]) -> int:
    """`pgconsole snapshot`: exit 0 when both files were written, 1 with a reason, 2 for bad
    settings or arguments."""
    args = build_snapshot_parser().parse_args(_offset_value(arguments))
    try:
        window = duration_seconds(args.window, default_unit="s")
        if window <= 0:
            raise ValueError("it must be longer than 0")
    except ValueError as error:
        print(
            f"pgconsole snapshot: --window {args.window}: {error} (10s, 1min, 500ms, or seconds)",
            file=sys.stderr,
        )
        return 2
    if args.recording is not None:
        if args.conninfo or args.profile:
            print(
                "pgconsole snapshot: --from reads a recording: give no CONNINFO or --profile",
                file=sys.stderr,
            )
            return 2
        from pgconsole.snapshot import run_snapshot_from

        return run_snapshot_from(
            args.recording, at=args.at, window=window, out=args.out, redact=bool(args.redact)
        )
    if args.at is not None:
        print("pgconsole snapshot: --at needs --from RECORDING", file=sys.stderr)
        return 2
    try:
        target = resolve(args)
    except (ConfigError, ConnInfoError) as error:
        print(f"pgconsole snapshot: {error}", file=sys.stderr)
        return 2
    from pgconsole.snapshot import run_snapshot

    return run_snapshot(target, window=window, out=args.out)


def record(arguments: list[str]) -> int:
    """`pgconsole record`: exit 0 when stopped by --for or a signal, 1 with a reason, 2 for bad
    settings or arguments."""
    args = build_record_parser().parse_args(arguments)
    from pgconsole.record import parse_duration, parse_size, run_record

    options = (
        ("--interval", args.interval, parse_duration, "1s, 500ms, 10m, 24h, or seconds"),
        ("--for", args.duration, parse_duration, "1s, 500ms, 10m, 24h, or seconds"),
        ("--max-size", args.max_size, parse_size, "200MB, 1GB, or bytes"),
    )
    values: list[float | None] = []
    for option, text, parse, examples in options:
        try:
            values.append(None if text is None else parse(text))
        except ValueError as error:
            print(f"pgconsole record: {option} {text}: {error} ({examples})", file=sys.stderr)
            return 2
    interval, duration, max_bytes = values
    assert interval is not None and max_bytes is not None  # both have a default
    try:
        target = resolve(args)
    except (ConfigError, ConnInfoError) as error:
        print(f"pgconsole record: {error}", file=sys.stderr)
        return 2
    return run_record(
        target, out=args.out, interval=interval, duration=duration, max_bytes=int(max_bytes)
    )


def run_app(
    params: ConnectParams,
    settings: Settings,
    password_query: PasswordQuery | None = None,
    table: str | None = None,
    *,
    activity: bool = False,
    name: str | None = None,
    config: Path | None = None,
) -> int:
    """Run the TUI until the user quits; F10 offers the servers of the config file (`config`,
    else the default one)."""
    return asyncio.run(_run_app(params, settings, password_query, table, activity, name, config))


async def _run_app(
    params: ConnectParams,
    settings: Settings,
    password_query: PasswordQuery | None,
    table: str | None,
    activity: bool,
    name: str | None = None,
    config: Path | None = None,
) -> int:
    from pgconsole.db.opening import open_early

    # Connect (and read the first page of --table) while Textual is imported in a thread:
    # the handshake and the queries wait on the network, the imports on the interpreter.
    framing = activity and sys.stdin.isatty() and sys.stdout.isatty()
    sampled: asyncio.Future[EarlySample] = asyncio.get_running_loop().create_future()
    opening = asyncio.create_task(
        open_early(
            params,
            settings,
            password_query,
            table,
            activity,
            on_sample=sampled.set_result if framing else None,
        )
    )
    if framing:  # the sample first: the imports would share the one CPU the GIL gives
        await asyncio.wait(
            (opening, sampled), timeout=FRAME_HEAD_START, return_when=asyncio.FIRST_COMPLETED
        )
    importing = asyncio.ensure_future(asyncio.to_thread(_import_ui, activity))
    framed = framing and await _first_frame(sampled, opening, importing)
    app = None
    try:
        app_module = await importing
        app = app_module.PgConsoleApp(
            params,
            settings,
            password_query=password_query,
            table=table,
            activity=activity,
            opening=opening,
            name=name,
            servers=lambda: _config_servers(config),
        )
        if framed:
            from pgconsole.text_frame import CLEAR

            # Textual paints only what it has laid out: its first screens would come up beside
            # parts of the frame.
            _write_to_terminal(CLEAR)
        await app.run_async()
    finally:
        if framed and (app is None or app._driver is None):  # Textual never took the terminal
            from pgconsole.text_frame import LEAVE

            _write_to_terminal(LEAVE)
        if app is None or app.connector.opening is not None:  # the app ended before taking it
            opening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await (await opening).discard()
    return int(app.return_code or 0)


async def _first_frame(
    sampled: asyncio.Future[EarlySample],
    opening: asyncio.Task[Opening],
    importing: asyncio.Future[Any],
) -> bool:
    """Write the activity screen's first sample as a text frame (`pgconsole.text_frame`) when
    it is taken before Textual is loaded: as soon as it is read, before the pool opens, or,
    behind a pooler, with the opening; whether it was written."""
    await asyncio.wait((sampled, opening, importing), return_when=asyncio.FIRST_COMPLETED)
    if importing.done():
        return False
    from pgconsole.text_frame import FirstFrame, frame_text

    if sampled.done():
        early = sampled.result()
        frame = FirstFrame(early.target, early.sample, early.taken)
    else:  # the opening ended without an early sample
        opened = opening.result() if not opening.cancelled() and not opening.exception() else None
        first = opened.first_sample if opened is not None else None
        if opened is None or first is None or opened.database is None:
            return False
        frame = FirstFrame(opened.database.info.target, first.sample, first.taken)
    size = os.get_terminal_size(sys.stdout.fileno())
    return _write_to_terminal(frame_text(frame, size.columns, size.lines))


def _write_to_terminal(text: str) -> bool:
    """Write `text` to the terminal now; False if it could not be."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except (OSError, UnicodeEncodeError):
        return False
    return True


def _config_servers(config: Path | None) -> Any:
    """The config file's servers for F10 (none if the file cannot be read now)."""
    from pgconsole.server_list import ServerList, server_list

    try:
        return server_list(read_config_file(config))
    except (ConfigError, ConnInfoError):
        return ServerList()


def _import_ui(activity: bool) -> Any:
    """The app's module, and the activity screen's when it shows first."""
    app = importlib.import_module("pgconsole.app")
    if activity:
        importlib.import_module("pgconsole.screens.activity")
    return app


def run_demo(settings: Settings, table: str | None = None, *, activity: bool = False) -> int:
    """Start the demo server, run the TUI against it, and remove the server afterwards."""
    from pgconsole.throwaway.cluster import ClusterError
    from pgconsole.throwaway.demo_server import demo_server

    def progress(line: str) -> None:
        print(f"pgconsole demo: {line}", file=sys.stderr, flush=True)

    try:
        with demo_server(progress) as params:
            return run_app(params, settings, table=table, activity=activity)
    except ClusterError as error:
        print(f"pgconsole: the demo server could not start: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
