"""The start path stays light (issue 17): what runs before the first page is drawn imports only what
that page needs.

`pgconsole CONNINFO --table NAME` imports `pgconsole.__main__` and `pgconsole.db.opening` and starts
connecting before Textual is imported (in a thread); then `pgconsole.app`. The keyring, the SQL
grammar, the console and the activity screen are loaded when first used, never on the way to the
first page. Each check runs in a fresh interpreter, so what an earlier test imported does not count.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers.imports import loaded_after

BEFORE_THE_UI = ("pgconsole.__main__", "pgconsole.db.opening")
UP_TO_THE_FIRST_PAGE = (*BEFORE_THE_UI, "pgconsole.app")

# Kept off until Textual is needed: the connection and the first page's query start without it.
OFF_BEFORE_THE_UI = ("textual", "rich", "keyring", "tree_sitter_sql", "pgconsole.app")
# Kept off the whole way to the first page: loaded by the screen or the prompt that uses them.
OFF_UP_TO_THE_FIRST_PAGE = (
    "keyring",
    "tree_sitter_sql",
    "pgconsole.screens.console",
    "pgconsole.screens.activity",
    "pgconsole.db.console",
    "pgconsole.db.activity",
    "pgconsole.doctor",
    "pgconsole.throwaway",
)


def test_nothing_of_the_ui_before_connecting() -> None:
    assert loaded_after(BEFORE_THE_UI, OFF_BEFORE_THE_UI) == []


def test_nothing_the_first_page_does_not_need() -> None:
    assert loaded_after(UP_TO_THE_FIRST_PAGE, OFF_UP_TO_THE_FIRST_PAGE) == []


def test_no_browsing_before_connecting() -> None:
    # `--activity` and a start without `--table` connect first: the table's modules load once
    # a table is named (`open_early`), or with the browser.
    browsing = ("pgconsole.db.browse", "pgconsole.db.first_page", "pgconsole.db.edit")
    assert loaded_after(BEFORE_THE_UI, browsing) == []


def test_the_activity_text_frame_is_drawn_without_textual() -> None:
    # It is drawn while Textual is imported: it must not wait for that import.
    assert loaded_after(("pgconsole.text_frame",), ("textual", "pgconsole.app")) == []


# With no config file and no PGCONSOLE_* variable there is nothing to validate: pydantic (about
# 80 ms of imports) is loaded only for a config file, a variable, or a flag that needs checking.
RESOLVE = (
    "from pgconsole.__main__ import build_parser, resolve\n"
    "resolve(build_parser().parse_args(['host=db.example user=u', '--read-only']))"
)


def nothing_configured(tmp_path: Path) -> dict[str, str]:
    """An environment with an empty config directory and no PGCONSOLE_* variable."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PGCONSOLE_")}
    return {**env, "XDG_CONFIG_HOME": str(tmp_path), "HOME": str(tmp_path)}


def test_no_pydantic_when_nothing_is_configured(tmp_path: Path) -> None:
    env = nothing_configured(tmp_path)
    assert loaded_after(UP_TO_THE_FIRST_PAGE, ("pydantic",), RESOLVE, env) == []


def test_pydantic_validates_a_setting_from_the_environment(tmp_path: Path) -> None:
    env = {**nothing_configured(tmp_path), "PGCONSOLE_LOCK_TIMEOUT": "1s"}
    assert loaded_after(UP_TO_THE_FIRST_PAGE, ("pydantic",), RESOLVE, env) == ["pydantic"]


@pytest.mark.parametrize(
    ("imports", "expected"),
    [
        (("pgconsole.screens.console",), ["pgconsole.db.console", "pgconsole.screens.console"]),
        (("textual.app",), ["rich", "textual"]),
    ],
)
def test_the_check_sees_a_module_that_is_loaded(
    imports: tuple[str, ...], expected: list[str]
) -> None:
    loaded = loaded_after(imports, OFF_BEFORE_THE_UI + OFF_UP_TO_THE_FIRST_PAGE)
    assert set(expected) <= set(loaded)


# On a headless Linux host the keyring can only say "no backend here", and keyring's backend
# discovery (0.1-0.2 s) would say it on every start: pgconsole tells without importing it, unless
# something could choose or add a backend.
KEYRING_LOOKUP = (
    "import asyncio\n"
    "from pgconsole.db.connection.passwords import keyring_lookup\n"
    "password, notice = asyncio.run(keyring_lookup('prod'))\n"
    "assert password is None and 'no keyring backend here' in notice, notice\n"
)
"""The keyring step of the password search, as a start takes it."""


def headless(tmp_path: Path) -> dict[str, str]:
    """`nothing_configured`, and no D-Bus session nor keyring variable (an SSH login)."""
    env = nothing_configured(tmp_path)
    for name in ("DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND"):
        env.pop(name, None)
    return env


def test_a_headless_host_has_no_keyring_without_loading_keyring(tmp_path: Path) -> None:
    assert loaded_after((), ("keyring",), KEYRING_LOOKUP, headless(tmp_path)) == []


FAIL_BACKEND = "keyring.backends.fail.Keyring"


@pytest.mark.parametrize("chosen_by", ["variable", "config file"])
def test_a_backend_chosen_by_the_user_is_asked(tmp_path: Path, chosen_by: str) -> None:
    env = headless(tmp_path)
    if chosen_by == "variable":
        env["PYTHON_KEYRING_BACKEND"] = FAIL_BACKEND
    else:
        config = tmp_path / "python_keyring" / "keyringrc.cfg"  # XDG_CONFIG_HOME is tmp_path
        config.parent.mkdir()
        config.write_text(f"[backend]\ndefault-keyring={FAIL_BACKEND}\n")
    assert loaded_after((), ("keyring",), KEYRING_LOOKUP, env) == ["keyring"]
