"""Fixtures for the gateway suite: one real sandbox per test worker, a fresh real gateway per test.

Every test that uses a database runs twice, through the parametrized `db_url` fixture: `sqlite` (a
file in the test's folder) and `postgresql` (a fresh database in a throwaway cluster, one cluster
per test worker, started on first use; tests/postgres.py). A test about SQLite's own files pins
itself with `@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)`.
"""
import os
import secrets
import shutil
import tempfile

import pytest

from tools.gateway.testing import GatewayProcess, running_gateway, write_config


@pytest.fixture(scope="session")
def sandboxes(tmp_path_factory):
    """One sandbox per backend and test worker, started on first use: a test runs once per backend
    with the same order ids, and Antom (the sandbox) must see each run's payments as new ones."""
    import contextlib
    from tools.sandbox.testing import running_sandbox
    started = {}
    with contextlib.ExitStack() as stack:
        def get(backend):
            if backend not in started:
                started[backend] = stack.enter_context(running_sandbox(
                    time_scale=0.001, data_dir=str(tmp_path_factory.mktemp("sandbox-" + backend))))
            return started[backend]
        yield get


@pytest.fixture
def sandbox(request, sandboxes):
    callspec = getattr(request.node, "callspec", None)
    return sandboxes(callspec.params.get("db_url", "sqlite") if callspec else "sqlite")


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostgreSQL cluster for this test worker. Missing server binaries are an error
    (with the fix in the message), never a skip."""
    from tests.postgres import Cluster, bin_dir
    bin_dir()
    parent = tempfile.mkdtemp(prefix="gateway-pg-")  # under /tmp: the server user must reach it
    cluster = Cluster.start(parent)
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(parent, ignore_errors=True)


def _admin(cluster, sql):
    import psycopg
    with psycopg.connect(cluster.dsn, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """The `db` setting of this test's gateway: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield str(tmp_path / "gw" / "gateway.sqlite3")
        return
    cluster = request.getfixturevalue("pg_cluster")
    name = "gw_" + secrets.token_hex(6)
    _admin(cluster, 'CREATE DATABASE "%s"' % name)
    yield "postgresql://postgres@127.0.0.1:%d/%s" % (cluster.port, name)
    _admin(cluster, 'DROP DATABASE "%s" WITH (FORCE)' % name)


@pytest.fixture
def open_store(db_url):
    """`open_store(clock=..., box=...)`: a Store on this test's database, closed after the test."""
    from tools.gateway.store import Store
    opened = []

    def open_(**kwargs):
        opened.append(Store(db_url, **kwargs))
        return opened[-1]
    yield open_
    for store in opened:
        store.close()


@pytest.fixture
def make_config(tmp_path, sandbox, db_url):
    def make(**sections):
        sections["gateway"] = {"db": db_url, **sections.get("gateway", {})}
        return write_config(str(tmp_path / "gw"), sandbox, **sections)
    return make


@pytest.fixture
def gateway(make_config):
    """A gateway (uvicorn in a thread) talking to the sandbox, with terminal T1 (PIN 123456)."""
    with running_gateway(make_config()) as gw:
        gw.add_terminal("T1", pin="123456")
        yield gw


@pytest.fixture
def t1(gateway):
    return gateway.client("T1")


@pytest.fixture
def gateway_process(make_config):
    gp = GatewayProcess(make_config())
    yield gp
    gp.stop()


def sandbox_private_key(sandbox):
    """The sandbox's own key, to forge-or-not notifications exactly as the sandbox would sign them."""
    from tools.antom import signature
    with open(os.path.join(sandbox.data_dir, "sandbox_private.pem"), "rb") as f:
        return signature.load_private_key(f.read())
