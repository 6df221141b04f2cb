"""Where the password comes from: libpq's places plus a keyring, safe on a headless SSH host.

Order, first that gives one wins: the connection string, `password_command`, `$PGPASSWORD`,
the keyring (service `pgconsole`), the password file (`~/.pgpass`), and last a prompt in the UI.
The keyring step is time-boxed and skipped with a notice where no secure backend exists (no
D-Bus session, a plaintext or failing backend). Passwords are never logged or shown; errors
about them never include them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from pgconsole.db.connection.libpq import read_passfile

KEYRING_SERVICE = "pgconsole"
KEYRING_TIMEOUT = 3.0
"""Seconds the keyring may take before pgconsole moves on without it."""
COMMAND_TIMEOUT = 15.0

T = TypeVar("T")


class PasswordSource(StrEnum):
    """Where a password came from."""

    CONNINFO = "connection string"
    COMMAND = "password_command"
    ENVIRONMENT = "$PGPASSWORD"
    KEYRING = "keyring"
    PASSFILE = "password file"
    PROMPT = "prompt"
    NONE = "none"


STORED = (PasswordSource.KEYRING, PasswordSource.PASSFILE, PasswordSource.NONE)
"""Sources whose rejection leads to a prompt (explicit ones are the user's to fix)."""


@dataclass(frozen=True)
class PasswordChoice:
    """The password to try, where it came from, and what the search noticed on the way."""

    password: str | None = field(repr=False)
    source: PasswordSource
    detail: str = ""
    notices: tuple[str, ...] = ()

    @property
    def described(self) -> str:
        """`keyring (pgconsole / prod)`: the source and its detail, never the password."""
        return f"{self.source.value} ({self.detail})" if self.detail else self.source.value


class PasswordCommandError(Exception):
    """password_command failed; the message has its exit status and error output only."""


# -- keyring ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyringStatus:
    """Whether the keyring may be used, which backend it is, or why not."""

    usable: bool
    backend: str
    reason: str | None = None


_INSECURE_MODULES = {
    "keyring.backends.fail": "no keyring backend here (no desktop keyring or D-Bus session)",
    "keyring.backends.null": "the keyring is disabled (null backend)",
    "keyrings.alt": "only a file-based keyring is available, and it is not a secure store",
}
_DBUS_MODULES = (
    "keyring.backends.SecretService",
    "keyring.backends.kwallet",
    "keyring.backends.libsecret",
)


_BUILT_IN_BACKENDS = frozenset(
    f"keyring.backends.{name}"
    for name in ("kwallet", "SecretService", "Windows", "chainer", "libsecret", "macOS")
)
"""keyring's own backends: on Linux, each needs a D-Bus session or is not for Linux at all."""


_HEADLESS_VARIABLES = (
    "DBUS_SESSION_BUS_ADDRESS",
    "PYTHON_KEYRING_BACKEND",
    "HOME",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
)
_headless: dict[tuple[str, ...], bool] = {}
_headless_lock = threading.Lock()


def _nothing_to_reach(environ: Mapping[str, str]) -> bool:
    """Whether no secure keyring can be reached, told without importing keyring (its backend
    discovery costs 0.1-0.2 s of a start): Linux, no D-Bus session, nothing that chooses or
    adds a backend. False when only keyring can tell. Decided once per environment: the
    fleet asks for every server at once."""
    if sys.platform != "linux" or "keyring" in sys.modules:  # imported: maybe set_keyring()
        return False
    key = tuple(environ.get(name) or "" for name in _HEADLESS_VARIABLES)
    with _headless_lock:
        if key not in _headless:
            _headless[key] = _headless_host(environ)
        return _headless[key]


def _headless_host(environ: Mapping[str, str]) -> bool:
    if environ.get("DBUS_SESSION_BUS_ADDRESS") or environ.get("PYTHON_KEYRING_BACKEND"):
        return False
    home = Path(environ.get("HOME") or Path.home())
    config = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
    data = Path(environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    if any((root / "python_keyring" / "keyringrc.cfg").exists() for root in (config, data)):
        return False
    from importlib.metadata import entry_points

    return all(e.value in _BUILT_IN_BACKENDS for e in entry_points(group="keyring.backends"))


def keyring_status(environ: Mapping[str, str] = os.environ) -> KeyringStatus:
    """Decide whether the configured keyring is a secure store we can reach (may block)."""
    if _nothing_to_reach(environ):
        return KeyringStatus(False, "none", _INSECURE_MODULES["keyring.backends.fail"])
    import keyring
    from keyring.backends.chainer import ChainerBackend

    backend = keyring.get_keyring()
    members = list(backend.backends) if isinstance(backend, ChainerBackend) else [backend]
    name = ", ".join(f"{type(b).__module__}.{type(b).__name__}" for b in members) or "none"
    if not members:
        return KeyringStatus(False, name, "no keyring backend is available")
    for member in members:
        module = type(member).__module__
        for prefix, reason in _INSECURE_MODULES.items():
            if module.startswith(prefix):
                return KeyringStatus(False, name, reason)
        if module.startswith(_DBUS_MODULES) and not environ.get("DBUS_SESSION_BUS_ADDRESS"):
            return KeyringStatus(False, name, "no D-Bus session (a headless or SSH login)")
    return KeyringStatus(True, name)


async def in_daemon_thread(function: Callable[[], T], limit: float) -> T:
    """Run a blocking call in a daemon thread; give up after `limit` seconds.

    A daemon thread, unlike asyncio's executor threads, does not keep the app from exiting
    when a keyring call hangs on an unresponsive D-Bus.

    Raises:
        TimeoutError: The call did not finish in time (it is left to finish on its own).
        Exception: Whatever the call raised.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def run() -> None:
        try:
            result = function()
        except BaseException as error:  # delivered to the awaiting task
            outcome: tuple[T | None, BaseException | None] = (None, error)
        else:
            outcome = (result, None)
        # A call that outlived its loop (it timed out, then the app exited): nobody waits
        # for the answer, and a traceback on the terminal after exit would only alarm.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, future, *outcome)

    threading.Thread(target=run, name="pgconsole-keyring", daemon=True).start()
    return await asyncio.wait_for(future, limit)


def _settle(future: asyncio.Future[T], result: T | None, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]


async def keyring_lookup(key: str, limit: float = KEYRING_TIMEOUT) -> tuple[str | None, str | None]:
    """(password, notice): the stored password for `key`, or why the keyring was skipped."""

    def lookup() -> tuple[KeyringStatus, str | None]:
        status = keyring_status()
        if not status.usable:
            return status, None
        import keyring

        return status, keyring.get_password(KEYRING_SERVICE, key)

    try:
        status, password = await in_daemon_thread(lookup, limit)
    except TimeoutError:
        return None, f"keyring skipped: no answer within {limit:g} s"
    except Exception as error:  # a broken backend must not stop the connection
        return None, f"keyring skipped: {type(error).__name__}: {error}"
    if not status.usable:
        return None, f"keyring skipped: {status.reason}"
    return password, None


async def keyring_save(key: str, password: str, limit: float = KEYRING_TIMEOUT) -> str:
    """Store a password in a secure keyring; returns what happened, in words.

    Raises:
        RuntimeError: No secure keyring, a timeout, or the backend refused.
    """

    def save() -> str:
        status = keyring_status()
        if not status.usable:
            raise RuntimeError(f"not saved: {status.reason}")
        import keyring

        keyring.set_password(KEYRING_SERVICE, key, password)
        return f"saved in the keyring ({KEYRING_SERVICE} / {key})"

    try:
        return await in_daemon_thread(save, limit)
    except TimeoutError:
        raise RuntimeError(f"not saved: the keyring did not answer within {limit:g} s") from None


async def keyring_usable(limit: float = KEYRING_TIMEOUT) -> KeyringStatus:
    """The keyring's status, time-boxed."""
    try:
        return await in_daemon_thread(keyring_status, limit)
    except TimeoutError:
        return KeyringStatus(False, "unknown", f"no answer within {limit:g} s")
    except Exception as error:
        return KeyringStatus(False, "unknown", f"{type(error).__name__}: {error}")


# -- the chain --------------------------------------------------------------------------------


async def run_password_command(command: str) -> str:
    """Run `password_command` (no shell) and return the first line it prints.

    Raises:
        PasswordCommandError: It could not start, failed, timed out or printed nothing.
    """
    try:
        argv = shlex.split(command)
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except (OSError, ValueError) as error:
        raise PasswordCommandError(f"password_command could not start: {error}") from None
    try:
        out, err = await asyncio.wait_for(process.communicate(), COMMAND_TIMEOUT)
    except TimeoutError:
        process.kill()
        raise PasswordCommandError(
            f"password_command gave no answer within {COMMAND_TIMEOUT:g} s"
        ) from None
    if process.returncode != 0:
        first = err.decode(errors="replace").strip().splitlines()[:1]
        detail = f": {first[0]}" if first else ""
        raise PasswordCommandError(f"password_command exited with {process.returncode}{detail}")
    lines = out.decode(errors="replace").splitlines()
    if not lines or not lines[0]:
        raise PasswordCommandError("password_command printed no password")
    return lines[0]


@dataclass(frozen=True)
class PasswordQuery:
    """What the password search needs to know."""

    host: str
    port: int
    database: str
    user: str
    keyring_key: str
    passfile: Path
    conninfo_password: str | None = field(default=None, repr=False)
    password_command: str | None = None


async def find_password(
    query: PasswordQuery,
    environ: Mapping[str, str] = os.environ,
    *,
    keyring_limit: float = KEYRING_TIMEOUT,
) -> PasswordChoice:
    """Walk the sources in order and return the first password found (or none).

    Raises:
        PasswordCommandError: password_command is set but failed (an explicit source that
            fails is an error, not a reason to look elsewhere).
    """
    if query.conninfo_password is not None:
        return PasswordChoice(query.conninfo_password, PasswordSource.CONNINFO)
    if query.password_command:
        password = await run_password_command(query.password_command)
        return PasswordChoice(password, PasswordSource.COMMAND, query.password_command)
    if environ.get("PGPASSWORD"):
        return PasswordChoice(environ["PGPASSWORD"], PasswordSource.ENVIRONMENT)
    notices: list[str] = []
    stored, notice = await keyring_lookup(query.keyring_key, keyring_limit)
    if notice:
        notices.append(notice)
    if stored is not None:
        detail = f"{KEYRING_SERVICE} / {query.keyring_key}"
        return PasswordChoice(stored, PasswordSource.KEYRING, detail, tuple(notices))
    found = read_passfile(query.passfile, query.host, str(query.port), query.database, query.user)
    if found.notice:
        notices.append(found.notice)
    if found.password is not None:
        return PasswordChoice(
            found.password, PasswordSource.PASSFILE, str(found.path), tuple(notices)
        )
    return PasswordChoice(None, PasswordSource.NONE, notices=tuple(notices))
