"""Fixtures of the fleet tests: one throwaway PostgreSQL cluster per test session (per xdist worker)."""
import itertools
import shutil
import tempfile

import pytest

from tests.postgres import Cluster

_names = itertools.count(1)


@pytest.fixture(scope="session")
def pg_cluster():
    # not under pytest's own temp folder: that one is 0700 root's, and the server runs as `postgres`
    parent = tempfile.mkdtemp(prefix="fleet-pg-")
    cluster = Cluster.start(parent)
    yield cluster
    cluster.stop()
    shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def pg_url(pg_cluster):
    """A fresh, empty database on the session's cluster."""
    return pg_cluster.create_database("fleet_%d" % next(_names))


@pytest.fixture
def sandbox(tmp_path):
    """A sandbox of the test's own: its call log counts this test's Antom calls only."""
    from tools.sandbox.testing import running_sandbox
    with running_sandbox(time_scale=0.001, data_dir=str(tmp_path / "sandbox")) as sb:
        yield sb


# several instances share one database: PostgreSQL is the fleet's, SQLite (one file, several
# processes) must hold the same guarantees except the cross-instance wake-ups
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "db" / "gateway.sqlite3")
    return request.getfixturevalue("pg_url")
