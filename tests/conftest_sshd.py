"""The `sshd` and `localhost_cluster` fixtures: a bastion to tunnel through, and a server whose
certificate is valid only for the name at the tunnel's far end.

Import them into a test module (or conftest.py) to use them:
`from tests.conftest_sshd import localhost_cluster, sshd  # noqa: F401`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from pgconsole.throwaway.cluster import ThrowawayCluster
from pgconsole.throwaway.sshd import ThrowawaySshd, find_sshd

LOCALHOST_ONLY = ("DNS:localhost",)
"""The subjectAltName of `localhost_cluster`'s certificate: no IP address at all."""


def missing_openssh() -> list[str]:
    """The OpenSSH programs the SSH tests need that are not installed."""
    missing = [] if find_sshd() is not None else ["sshd"]
    return missing + [name for name in ("ssh", "ssh-keygen") if shutil.which(name) is None]


@pytest.fixture(scope="session")
def sshd() -> Iterator[ThrowawaySshd]:
    """An sshd on 127.0.0.1 that lets the current user in with its own key, removed after the
    run: `ssh -F {sshd.ssh_config} bastion` reaches it with strict host key checking.

    Tests that need it are skipped where OpenSSH is not installed (`scripts/ensure-postgres`
    installs it where apt-get is available).
    """
    if missing := missing_openssh():
        pytest.skip(f"OpenSSH is not installed (no {', '.join(missing)})")
    with ThrowawaySshd() as server:
        yield server


@pytest.fixture(scope="session")
def localhost_cluster() -> Iterator[ThrowawayCluster]:
    """A real server like `cluster`, whose certificate names only `DNS:localhost`: verify-full
    succeeds for host `localhost` and fails for `127.0.0.1`. Started on first use."""
    with ThrowawayCluster(server_names=LOCALHOST_ONLY) as server:
        yield server
