"""A real gateway on loopback (no Antom needed for time, health and heartbeat) and a terminal for it."""
import pytest


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    from tools.gateway.testing import ThreadGateway, write_config

    cfg = write_config(str(tmp_path_factory.mktemp("gw")))
    gw = ThreadGateway(cfg, reconcile=False).start()
    yield gw
    gw.stop()
