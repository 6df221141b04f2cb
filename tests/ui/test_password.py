"""Passwords on a headless host: a prompt in the TUI, a keyring that is optional, never a hang."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import keyring
import pytest

from pgconsole.app import PgConsoleApp
from pgconsole.config import Settings
from pgconsole.db.connection.passwords import KEYRING_SERVICE, PasswordQuery
from pgconsole.db.quoting import quote_ident
from pgconsole.screens.confirm import ConfirmScreen
from pgconsole.screens.connection_error import ConnectionErrorScreen
from pgconsole.screens.main import MainScreen
from pgconsole.screens.password import PasswordScreen
from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.conftest import params_for
from tests.helpers.keyrings import HangingKeyring, MemoryKeyring
from tests.helpers.ui import drawn_lines, shown, wait_for_screen, wait_until

SIZE = (80, 24)


async def set_password(admin: asyncpg.Connection, role: str, password: str) -> None:
    """ALTER ROLE with the password quoted by the server (utility statements take no $n)."""
    sql = await admin.fetchval(
        "SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)", role, password
    )
    await admin.execute(sql)


@pytest.fixture
async def role(admin: asyncpg.Connection) -> AsyncIterator[str]:
    """A login role whose password is `first-password`."""
    name = f"r_{uuid.uuid4().hex[:8]}"
    await admin.execute(f"CREATE ROLE {quote_ident(name)}")
    await set_password(admin, name, "first-password")
    try:
        yield name
    finally:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", name
        )
        await admin.execute(f"DROP ROLE IF EXISTS {quote_ident(name)}")


def make_app(cluster: ThrowawayCluster, role: str, home: Path) -> PgConsoleApp:
    params = params_for(cluster, "postgres", user=role, password=None)
    query = PasswordQuery(
        host=params.host,
        port=params.port,
        database=params.database,
        user=role,
        keyring_key=f"{role}@{params.host}:{params.port}",
        passfile=home / ".pgpass",
    )
    return PgConsoleApp(params, Settings(), password_query=query)


def files_under(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()]


def connected(app: PgConsoleApp) -> bool:
    return app.database is not None and isinstance(app.screen, MainScreen)


async def type_password(pilot: object, app: PgConsoleApp, password: str) -> None:
    await pilot.press(*password)  # type: ignore[attr-defined]
    await pilot.press("enter")  # type: ignore[attr-defined]


async def test_no_keyring_prompts_in_the_tui_within_3_seconds(
    cluster: ThrowawayCluster, role: str, hermetic_environment: Path
) -> None:
    app = make_app(cluster, role, hermetic_environment)
    started = time.monotonic()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, app, PasswordScreen, "the prompt")
        assert time.monotonic() - started < 3.0
        assert "The server asks for a password." in shown(app, "#password-reason")
        await type_password(pilot, app, "first-password")
        await wait_until(pilot, lambda: connected(app), "a connection")
        assert "first-password" not in shown(app, "#status-target")
        # The offer looked for a keyring and said why it saves nothing: no question follows.
        await wait_until(
            pilot,
            lambda: any("password was not saved" in str(n.message) for n in app._notifications),
            "the word that nothing was saved",
        )
        assert not isinstance(app.screen, ConfirmScreen)  # nothing to save it in
    # Nothing may land in a plaintext keyring file (keyrings.alt keeps them under XDG_DATA_HOME).
    assert files_under(hermetic_environment) == []


@pytest.mark.slow
async def test_hanging_keyring_still_prompts_within_3_seconds(
    cluster: ThrowawayCluster, role: str, hermetic_environment: Path
) -> None:
    backend = HangingKeyring()
    keyring.set_keyring(backend)
    app = make_app(cluster, role, hermetic_environment)
    try:
        started = time.monotonic()
        async with app.run_test(size=SIZE) as pilot:
            await wait_for_screen(pilot, app, PasswordScreen, "the prompt")
            # The keyring's 3 s box, plus starting the UI (a second or more on a loaded host).
            elapsed = time.monotonic() - started
            assert elapsed < 5.0, f"the prompt took {elapsed:.2f} s"
            await type_password(pilot, app, "first-password")
            await wait_until(pilot, lambda: app.database is not None, "a connection")
    finally:
        backend.release()


async def test_wrong_typed_password_asks_again_and_esc_shows_the_error(
    cluster: ThrowawayCluster, role: str, hermetic_environment: Path
) -> None:
    app = make_app(cluster, role, hermetic_environment)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, app, PasswordScreen, "the prompt")
        await type_password(pilot, app, "wrong")
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, PasswordScreen)
                and "try again" in shown(app, "#password-reason")
            ),
            "a second prompt",
        )
        await pilot.press("escape")
        await wait_for_screen(pilot, app, ConnectionErrorScreen, "the error screen")
        assert "no password given" in shown(app, "#failure-summary")
        assert app.is_running


async def test_keyring_save_reuse_and_rotation(
    cluster: ThrowawayCluster, role: str, hermetic_environment: Path, admin: asyncpg.Connection
) -> None:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    key = (KEYRING_SERVICE, f"{role}@{cluster.host}:{cluster.port}")

    # First run: prompt, then an offer to save, accepted.
    app = make_app(cluster, role, hermetic_environment)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, app, PasswordScreen, "the prompt")
        await type_password(pilot, app, "first-password")
        await wait_for_screen(pilot, app, ConfirmScreen, "the save offer")
        assert "Save this password in the keyring?" in shown(app, "#confirm-question")
        await pilot.press("y")
        await wait_until(pilot, lambda: backend.store.get(key) == "first-password", "saving")
        assert connected(app)

    # Second run: the keyring has it, no prompt.
    app = make_app(cluster, role, hermetic_environment)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: connected(app), "a connection from the keyring")
        # The offer to save starts in the handler that makes the connection current (as in the
        # first run, where it asked): none was started, so no question can come later.
        assert not any(worker.name == "offer_to_save" for worker in app.workers)
        assert not isinstance(app.screen, PasswordScreen | ConfirmScreen)

    # The password is rotated on the server: the stored one is rejected once, then a prompt.
    await set_password(admin, role, "second-password")
    app = make_app(cluster, role, hermetic_environment)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, app, PasswordScreen, "the prompt")
        assert "stored in the keyring was rejected" in shown(app, "#password-reason")
        await type_password(pilot, app, "second-password")
        await wait_for_screen(pilot, app, ConfirmScreen, "the update offer")
        assert "Update the password stored in the keyring?" in shown(app, "#confirm-question")
        await pilot.press("y")
        await wait_until(pilot, lambda: backend.store.get(key) == "second-password", "update")
    assert backend.writes == 2


async def test_declined_save_stores_nothing(
    cluster: ThrowawayCluster, role: str, hermetic_environment: Path
) -> None:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    app = make_app(cluster, role, hermetic_environment)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, app, PasswordScreen, "the prompt")
        await type_password(pilot, app, "first-password")
        await wait_for_screen(pilot, app, ConfirmScreen, "the save offer")
        await pilot.press("n")
        await wait_until(pilot, lambda: connected(app), "the main screen")
    assert backend.store == {}


async def test_rejected_pgpass_password_leads_to_the_prompt(
    cluster: ThrowawayCluster, role: str, hermetic_environment: Path
) -> None:
    pgpass = hermetic_environment / ".pgpass"
    pgpass.write_text(f"*:*:*:{role}:stale-password\n")
    pgpass.chmod(0o600)
    app = make_app(cluster, role, hermetic_environment)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, app, PasswordScreen, "the prompt")
        assert f"The password from {pgpass} was rejected." in shown(app, "#password-reason")
        await type_password(pilot, app, "first-password")
        await wait_until(pilot, lambda: connected(app), "a connection")


async def test_explicit_wrong_password_is_an_error_screen_naming_its_source(
    cluster: ThrowawayCluster,
    role: str,
    hermetic_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PGPASSWORD", "not-it")
    app = make_app(cluster, role, hermetic_environment)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, app, ConnectionErrorScreen, "the error screen")
        drawn = "\n".join(drawn_lines(app))
        assert "Password from $PGPASSWORD" in drawn
        assert "not-it" not in drawn
