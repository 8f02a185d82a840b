"""Fixtures for the gateway suite: one real sandbox per test worker, a fresh real gateway per test."""
import os

import pytest

from tools.gateway.testing import GatewayProcess, running_gateway, write_config


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    from tools.sandbox.testing import running_sandbox
    with running_sandbox(time_scale=0.001, data_dir=str(tmp_path_factory.mktemp("sandbox"))) as sb:
        yield sb


@pytest.fixture
def make_config(tmp_path, sandbox):
    def make(**sections):
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
