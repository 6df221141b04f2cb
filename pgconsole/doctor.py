"""`pgconsole doctor`: what pgconsole would connect with, where each value came from, and
whether it works: TLS, server, role and pool, without starting the UI."""

from __future__ import annotations

import asyncio
import getpass
import sys
from dataclasses import replace
from typing import TextIO

import asyncpg

from pgconsole.config import Settings
from pgconsole.db.connection.failures import classify, password_failure
from pgconsole.db.connection.params import TIMEOUT_LABELS
from pgconsole.db.connection.passwords import (
    PasswordChoice,
    PasswordCommandError,
    PasswordSource,
    find_password,
)
from pgconsole.db.connection.pool import Database, TlsState, open_database
from pgconsole.db.connection.tls import plan_tls
from pgconsole.db.connection.tunnel import Tunnel, TunnelError
from pgconsole.db.sqlfiles import load_sql
from pgconsole.target import Target
from pgconsole.text import visible

_SECRET_KEYWORDS = {"password", "sslpassword"}
_SHOWN_SETTINGS = (
    "read_only", "statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout",
    "command_timeout", "pool_min_size", "pool_max_size", "max_inactive_connection_lifetime",
    "password_command", "pooler", "ssh", "ssh_command", "color",
)  # fmt: skip


class Report:
    """Aligned `label  value  source` lines on a stream, terminal-safe."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def heading(self, text: str) -> None:
        """A section title."""
        print(f"\n{text}", file=self.out)

    def row(self, label: str, value: object, source: str = "") -> None:
        """One fact; database and user text is shown with control characters made visible."""
        line = f"  {label:<36} {visible(str(value))}"
        if source:
            line = f"{line:<71}  {visible(source)}"
        print(line.rstrip(), file=self.out)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def report_settings(target: Target, report: Report) -> None:
    """The resolved connection keywords and pgconsole settings, each with its source."""
    report.heading("Connection settings (value, then where it came from)")
    for key in sorted(target.keywords):
        sourced = target.keywords[key]
        value = "(hidden)" if key in _SECRET_KEYWORDS else sourced.value
        report.row(key, value, sourced.source)
    for note in target.params.ignored:
        report.row("ignored", note)
    report.heading("pgconsole settings")
    for name in _SHOWN_SETTINGS:
        value = getattr(target.settings, name)
        if isinstance(value, bool):
            value = _yes(value)
        report.row(name, "(not set)" if value is None else value, target.source(name))


def report_connection(
    target: Target, database: Database, role: asyncpg.Record, report: Report
) -> None:
    """What the live session turned out to be."""
    info = database.info
    plan = plan_tls(target.params)
    report.heading("Connected")
    report.row("session", info.target)
    report.row("server", f"PostgreSQL {info.server_version}")
    if info.tls.state is TlsState.LOCAL:
        report.row("transport", "Unix-domain socket (TLS does not apply)")
    elif info.tls.state is TlsState.NONE:
        report.row("TLS", "NOT ENCRYPTED: traffic and password exchange in plain text")
    else:
        report.row("TLS", f"{info.tls.protocol} {info.tls.cipher}")
        verified = info.tls.state in (TlsState.VERIFIED, TlsState.CA_ONLY)
        against = f" (against {plan.rootcert})" if verified and plan.rootcert else ""
        report.row("certificate verified", _yes(verified) + against)
        report.row("host name checked", _yes(info.tls.state is TlsState.VERIFIED))
        report.row("client certificate", str(plan.client_cert) if plan.client_cert else "none")
    report.row("badge", info.tls.state.value)
    report.row("role", info.current_user)
    for power in ("superuser", "pg_monitor", "pg_read_all_stats", "pg_signal_backend"):
        report.row(f"  {power}", _yes(bool(role[power])))
    settings = target.settings
    report.row(
        "pool",
        f"min {settings.pool_min_size}, max {settings.pool_max_size}, "
        f"command_timeout {settings.command_timeout:g} s, idle connections closed after "
        f"{settings.max_inactive_connection_lifetime:g} s",
    )
    mode = "on (detected)" if database.pooler_detected else _yes(settings.pooler == "transaction")
    report.row("pooler mode", mode)
    report.row(
        "session settings",
        f"read-only {_yes(info.read_only)}; each time limit in effect is the stricter of "
        "pgconsole's and the server's (role, database, server; 0: none)",
    )
    for name, label in TIMEOUT_LABELS.items():
        effective, ours, servers = (
            "n/a" if value is None else value
            for value in (
                getattr(timeouts, name)
                for timeouts in (info.timeouts, info.pgconsole_timeouts, info.server_timeouts)
            )
        )
        report.row(f"{label} limit", f"{effective} (pgconsole {ours}, server {servers})")


async def report_tunnel(tunnel: Tunnel, report: Report, err: TextIO) -> bool:
    """The tunnel step by step: what ssh makes of the bastion, then logging in and
    forwarding. False (with the reason on `err`) at the first step that fails."""
    report.heading(f"SSH tunnel via {tunnel.bastion}")
    try:
        config = await tunnel.resolved()
    except TunnelError as error:
        print(f"pgconsole doctor: {visible(str(error))}", file=err)
        return False
    for key, label in (("hostname", "ssh to"), ("port", "ssh port"), ("user", "ssh user")):
        report.row(label, config.get(key, "?"), "ssh -G (your ssh config)")
    if config.get("proxyjump", "none") != "none":
        report.row("jump host", config["proxyjump"], "ssh -G (your ssh config)")
    try:
        for host, port in tunnel.endpoints:
            local = await tunnel.local(host, port)
            report.row("forward", f"{local[0]}:{local[1]} -> {host}:{port} (ssh pid {tunnel.pid})")
    except TunnelError as error:
        report.row("logged in and forwarding", "no")
        print(f"pgconsole doctor: SSH tunnel: {visible(str(error))}", file=err)
        return False
    report.row("logged in and forwarding", "yes")
    return True


async def _diagnose(target: Target, report: Report, err: TextIO, interactive: bool) -> int:
    report_settings(target, report)
    tunnel = target.params.tunnel
    try:
        if tunnel is not None and not await report_tunnel(tunnel, report, err):
            return 1
        return await _connect_and_report(target, report, err, interactive)
    finally:
        if tunnel is not None:
            await tunnel.close()


async def _connect_and_report(
    target: Target, report: Report, err: TextIO, interactive: bool
) -> int:
    report.heading("Password")
    try:
        choice = await find_password(target.password_query)
    except PasswordCommandError as error:
        print(f"pgconsole doctor: {error}", file=err)
        return 1
    for notice in choice.notices:
        report.row("notice", notice)
    report.row("source", choice.described)
    settings: Settings = replace(target.settings, pool_min_size=1)
    for attempt in range(2):
        params = target.params.with_password(choice.password)
        try:
            database = await open_database(params, settings.session(), settings.pool())
        except Exception as error:
            needs_prompt = isinstance(error, asyncpg.InvalidPasswordError) and (
                choice.source
                in (PasswordSource.NONE, PasswordSource.KEYRING, PasswordSource.PASSFILE)
            )
            if needs_prompt and attempt == 0 and interactive:
                typed = getpass.getpass(f"Password for {target.params.target}: ")
                choice = PasswordChoice(typed, PasswordSource.PROMPT)
                report.row("source", choice.described)
                continue
            if needs_prompt and choice.source is PasswordSource.NONE:
                failure = password_failure(
                    "the server asks for one and no source had it", target.params
                )
            else:
                failure = classify(error, target.params, password_from=choice.described)
            print(f"pgconsole doctor: {visible(failure.summary)}", file=err)
            return 1
        break
    try:
        async with database.transaction() as conn:
            role = await conn.fetchrow(
                load_sql("pgconsole.db.connection.pool", "describe_role.sql")
            )
        assert role is not None
        report_connection(target, database, role, report)
    finally:
        await database.close()
    print(f"\nOK: connected, {database.info.tls.state.value}", file=report.out)
    return 0


def run_doctor(
    target: Target,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    *,
    interactive: bool | None = None,
) -> int:
    """Print the report; return 0 when a connection worked, 1 with a one-line reason otherwise."""
    if interactive is None:
        interactive = sys.stdin.isatty()
    report = Report(out)
    print("pgconsole doctor", file=out)
    return asyncio.run(_diagnose(replace(target), report, err, interactive))
