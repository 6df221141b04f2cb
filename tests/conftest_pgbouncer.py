"""The `pgbouncer` fixture: one throwaway pgbouncer in front of the shared cluster.

Import it into a test module (or conftest.py) to use it:
`from tests.conftest_pgbouncer import pgbouncer  # noqa: F401`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pgconsole.throwaway.cluster import ThrowawayCluster
from tests.helpers.pgbouncer import ThrowawayPgBouncer, find_pgbouncer


@pytest.fixture(scope="session")
def pgbouncer(cluster: ThrowawayCluster) -> Iterator[ThrowawayPgBouncer]:
    """pgbouncer in transaction pooling mode with TLS on both sides, removed after the run.

    Tests that need it are skipped where pgbouncer is not installed (`scripts/ensure-postgres`
    installs it where apt-get is available).
    """
    if find_pgbouncer() is None:
        pytest.skip("pgbouncer is not installed")
    with ThrowawayPgBouncer(cluster) as bouncer:
        yield bouncer
