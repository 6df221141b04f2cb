"""The password sources, in libpq's order plus the keyring, and their failure modes."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from pgconsole.db.connection.passwords import (
    KEYRING_SERVICE,
    PasswordCommandError,
    PasswordQuery,
    PasswordSource,
    find_password,
    in_daemon_thread,
    keyring_save,
    keyring_status,
    keyring_usable,
)
from tests.helpers.keyrings import HangingKeyring, MemoryKeyring, PlaintextKeyring


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend


def query(home: Path, **changes: object) -> PasswordQuery:
    values: dict[str, object] = {
        "host": "db1",
        "port": 5432,
        "database": "shop",
        "user": "dba",
        "keyring_key": "prod",
        "passfile": home / ".pgpass",
    }
    values.update(changes)
    return PasswordQuery(**values)  # type: ignore[arg-type]


def write_pgpass(home: Path, line: str, mode: int = 0o600) -> Path:
    path = home / ".pgpass"
    path.write_text(line + "\n")
    path.chmod(mode)
    return path


async def test_each_source_beats_the_ones_after_it(
    hermetic_environment: Path, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = hermetic_environment
    write_pgpass(home, "db1:5432:shop:dba:from-pgpass")
    memory_keyring.set_password(KEYRING_SERVICE, "prod", "from-keyring")
    monkeypatch.setenv("PGPASSWORD", "from-env")
    full = query(home, conninfo_password="from-uri", password_command="echo from-command")

    expected = [
        (full, "from-uri", PasswordSource.CONNINFO),
        (query(home, password_command="echo from-command"), "from-command", PasswordSource.COMMAND),
        (query(home), "from-env", PasswordSource.ENVIRONMENT),
    ]
    for q, password, source in expected:
        choice = await find_password(q)
        assert (choice.password, choice.source) == (password, source)
    monkeypatch.delenv("PGPASSWORD")
    choice = await find_password(query(home))
    assert (choice.password, choice.source) == ("from-keyring", PasswordSource.KEYRING)
    assert choice.described == "keyring (pgconsole / prod)"
    memory_keyring.store.clear()
    choice = await find_password(query(home))
    assert (choice.password, choice.source) == ("from-pgpass", PasswordSource.PASSFILE)
    assert choice.detail == str(home / ".pgpass")


async def test_nothing_found_says_why(hermetic_environment: Path) -> None:
    choice = await find_password(query(hermetic_environment))
    assert choice.password is None and choice.source is PasswordSource.NONE
    assert choice.notices == (
        "keyring skipped: no keyring backend here (no desktop keyring or D-Bus session)",
    )


async def test_loose_pgpass_is_ignored_with_a_notice(hermetic_environment: Path) -> None:
    path = write_pgpass(hermetic_environment, "*:*:*:*:secret", mode=0o644)
    choice = await find_password(query(hermetic_environment))
    assert choice.password is None
    assert f"{path} ignored: its permissions 0644 are wider than 0600" in choice.notices[-1]


async def test_hanging_keyring_is_skipped_in_time(hermetic_environment: Path) -> None:
    backend = HangingKeyring()
    keyring.set_keyring(backend)
    try:
        started = time.monotonic()
        choice = await find_password(query(hermetic_environment), keyring_limit=0.5)
        # Against a hang (the keyring holds every call for 60 s), not a measure of the limit.
        assert time.monotonic() - started < 10.0
        assert choice.notices == ("keyring skipped: no answer within 0.5 s",)
    finally:
        backend.release()


def test_plaintext_and_dbus_less_backends_are_not_secure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keyring.set_keyring(PlaintextKeyring())
    status = keyring_status()
    assert not status.usable and "not a secure store" in (status.reason or "")
    from keyring.backends.SecretService import Keyring as SecretServiceKeyring

    keyring.set_keyring(SecretServiceKeyring())  # type: ignore[no-untyped-call]
    status = keyring_status({})
    assert not status.usable and status.reason == "no D-Bus session (a headless or SSH login)"
    keyring.set_keyring(MemoryKeyring())
    assert keyring_status().usable


async def test_saving_needs_a_secure_keyring(memory_keyring: MemoryKeyring) -> None:
    assert await keyring_save("prod", "s3cret") == "saved in the keyring (pgconsole / prod)"
    assert memory_keyring.store == {(KEYRING_SERVICE, "prod"): "s3cret"}
    keyring.set_keyring(PlaintextKeyring())
    with pytest.raises(RuntimeError, match="not saved: only a file-based keyring"):
        await keyring_save("prod", "s3cret")
    assert not (await keyring_usable()).usable


async def test_password_command_gives_its_first_line(hermetic_environment: Path) -> None:
    choice = await find_password(
        query(hermetic_environment, password_command="printf 'first\\nsecond\\n'")
    )
    assert (choice.password, choice.source) == ("first", PasswordSource.COMMAND)


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("sh -c 'echo leaked-secret; echo broken >&2; exit 3'", "exited with 3: broken"),
        ("true", "printed no password"),
        ("/nonexistent/helper", "could not start"),
        ("'unbalanced", "could not start"),
    ],
)
async def test_failing_password_command_is_an_error_without_its_output(
    hermetic_environment: Path, command: str, message: str
) -> None:
    with pytest.raises(PasswordCommandError, match=message) as raised:
        await find_password(query(hermetic_environment, password_command=command))
    assert "leaked-secret" not in str(raised.value)


def test_a_keyring_call_that_outlives_its_loop_ends_quietly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    failures: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", failures.append)
    answer = threading.Event()
    finished = threading.Event()

    def slow() -> str:
        answer.wait(10)  # until the loop is closed: the keyring answers only then
        finished.set()
        return "late"

    before = set(threading.enumerate())
    loop = asyncio.new_event_loop()
    with pytest.raises(TimeoutError):
        loop.run_until_complete(in_daemon_thread(slow, 0.05))
    (thread,) = set(threading.enumerate()) - before
    loop.close()  # the app exited before the keyring answered
    answer.set()
    thread.join(10)  # its last step comes after the call returned: wait for the thread's end
    assert not thread.is_alive() and finished.is_set()
    assert failures == []
