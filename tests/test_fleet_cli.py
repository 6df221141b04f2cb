"""`pgconsole fleet --once`: the config's servers read once, worst first, exit 1 when one is
down; a clear line and exit 2 for an empty fleet or an unknown profile; never Textual."""

from __future__ import annotations

import os
from pathlib import Path

from pgconsole.throwaway.cluster import ThrowawayCluster, free_port
from tests.helpers.imports import loaded_after
from tests.test_cli import run_cli

NO_KEYRING = "keyring.backends.fail.Keyring"


def write_config(tmp_path: Path, cluster: ThrowawayCluster, stopped: int) -> tuple[Path, Path]:
    """Profiles `up` (the cluster) and `gone` (a port nobody listens on); the password file."""
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"*:*:*:{cluster.superuser}:{cluster.password}\n")
    passfile.chmod(0o600)
    config = tmp_path / "config.toml"
    common = (
        f'user = "{cluster.superuser}"\ndbname = "postgres"\nsslmode = "verify-full"\n'
        f'sslrootcert = "{cluster.ca_file}"\n'
    )
    config.write_text(
        f'[profiles.up]\nhost = "{cluster.host}"\nport = {cluster.port}\n{common}'
        f'[profiles.gone]\nhost = "127.0.0.1"\nport = {stopped}\n{common}'
    )
    return config, passfile


def fleet(*args: str, passfile: Path | None = None) -> tuple[int, str, str]:
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": NO_KEYRING}
    if passfile is not None:
        env["PGPASSFILE"] = str(passfile)
    result = run_cli("fleet", *args, env=env)
    return result.returncode, result.stdout, result.stderr


def test_once_prints_the_worst_first_and_exits_1_when_one_is_down(
    cluster: ThrowawayCluster, tmp_path: Path
) -> None:
    stopped = free_port()
    config, passfile = write_config(tmp_path, cluster, stopped)
    code, out, err = fleet("--once", "--config", str(config), passfile=passfile)
    assert code == 1, err
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["server", "state", "role", "conn"]
    assert lines[1].split()[:2] == ["gone", "down"]
    assert f"Connection refused by 127.0.0.1:{stopped}" in lines[1]
    assert lines[2].split()[0] == "up" and "primary" in lines[2] and "TLSv1.3" in lines[2]
    assert lines[-1].startswith("2 servers read in ") and lines[-1].endswith(", 1 down")
    # Named twice, read once.
    code, out, err = fleet(
        "--once", "--profiles", "up, up", "--config", str(config), passfile=passfile
    )
    assert code == 0, err
    assert [line.split()[0] for line in out.splitlines()[1:-2]] == ["up"]
    assert out.splitlines()[-1].startswith("1 server read in ")


def test_an_empty_fleet_or_an_unknown_profile_is_one_line_and_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    code, out, err = fleet("--once", "--config", str(empty))
    assert code == 2 and out == ""
    assert err.startswith("pgconsole fleet: no servers: add [profiles.NAME] tables")
    code, _, err = fleet("--profiles", "nope", "--config", str(empty))
    assert code == 2
    assert err.startswith('pgconsole fleet: no profile "nope"')
    code, _, err = fleet("--profiles", " , ", "--config", str(empty))
    assert code == 2
    assert err.startswith("pgconsole fleet: --profiles names no profile")


def test_once_never_imports_textual(cluster: ThrowawayCluster, tmp_path: Path) -> None:
    config, passfile = write_config(tmp_path, cluster, free_port())
    run = (
        "import contextlib, io\n"
        "from pgconsole.__main__ import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['fleet', '--once', '--config', {str(config)!r}]) == 1\n"
    )
    env = {**os.environ, "PGPASSFILE": str(passfile), "PYTHON_KEYRING_BACKEND": NO_KEYRING}
    assert loaded_after(["pgconsole.__main__"], ("textual",), then=run, env=env) == []
