"""The command line: bad input is a message and a non-zero exit, before any UI starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pgconsole", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env=env,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("mysql://h/db",), 'missing "=" after "mysql://h/db"'),
        (("postgresql://h/db?work_mem=1",), 'invalid connection option "work_mem"'),
        (("host=h work_mem=1",), 'invalid connection option "work_mem"'),
        (("postgresql://h/db?sslmode=maybe",), "sslmode=maybe (command line): invalid sslmode"),
        (("host=h hostaddr=10.0.0.1",), "hostaddr=10.0.0.1 (command line): not supported"),
        (("--demo", "postgresql://h/db"), "--demo starts its own server"),
        (("--profile", "nope", "postgresql://h/db"), 'no profile "nope"'),
    ],
)
def test_bad_arguments(args: tuple[str, ...], message: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert result.stderr.startswith("pgconsole: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_config_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("read_only = 'sometimes'\n")
    result = run_cli("--config", str(path), "postgresql://h/db")
    assert result.returncode == 2
    assert f"invalid value for {path}: read_only" in result.stderr


def test_password_in_uri_is_not_echoed_on_error() -> None:
    result = run_cli("postgresql://bob:s3cret-pw@h/db?sslmode=bogus")
    assert result.returncode == 2
    assert "s3cret-pw" not in result.stderr + result.stdout


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("pgconsole ")


def test_version_matches_the_package_metadata() -> None:
    from importlib.metadata import version

    import pgconsole

    assert pgconsole.__version__ == version("pgconsole")


FRAME_PERIOD = (
    "import pgconsole.__main__, textual.screen; print(round(1 / textual.screen.UPDATE_PERIOD))"
)


@pytest.mark.parametrize(("given", "expected"), [(None, 240), ("30", 30)])
def test_the_command_sets_the_frame_rate_unless_the_user_did(
    given: str | None, expected: int
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_FPS"}
    if given is not None:
        env["TEXTUAL_FPS"] = given
    result = subprocess.run(
        [sys.executable, "-c", FRAME_PERIOD], env=env, capture_output=True, text=True, check=True
    )
    assert int(result.stdout) == expected


def test_ctrl_c_before_the_ui_is_a_line_and_exit_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import pgconsole.__main__ as cli

    def interrupted(args: object) -> None:
        raise KeyboardInterrupt  # as Ctrl+C lands while the settings are read

    monkeypatch.setattr(cli, "resolve", interrupted)
    assert cli.main(["host=db.example"]) == 130
    assert capsys.readouterr().err == "pgconsole: interrupted\n"
