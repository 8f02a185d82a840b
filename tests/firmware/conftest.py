"""The real system on loopback for the firmware's integration tests: sandbox + gateway + terminals."""
import contextlib
import itertools
import os

import pytest

_ids = itertools.count(1)


class System:
    def __init__(self, sandbox, gateway, tmp):
        self.sandbox = sandbox
        self.gateway = gateway
        self.tmp = tmp
        self.terminals = []

    def terminal(self, name=None, describe=None, gateway_url=None, **cfg):
        """A freshly provisioned simulated terminal (not started)."""
        from tools.sim.control import SimProcess, write_config

        tid = name or "F%d" % next(_ids)
        secret = self.gateway.add_terminal(tid, pin="123456")
        flash = os.path.join(str(self.tmp), tid)
        write_config(flash, gateway_url or self.gateway.base_url, tid, secret, **cfg)
        term = SimProcess(flash, describe=describe)
        term.terminal_id = tid
        self.terminals.append(term)
        return term

    def payments(self, terminal_id, order_id):
        return self.sandbox.payments(reference_order_id="%s.%s" % (terminal_id, order_id))

    def close(self):
        for t in self.terminals:
            t.stop()


@contextlib.contextmanager
def running_system(tmp, client_id, **gateway):
    """Sandbox + gateway (with these `gateway` settings) + the terminals a test makes, all stopped
    at the end."""
    from tools.gateway.testing import running_gateway, write_config
    from tools.sandbox.testing import running_sandbox

    with running_sandbox(client_id=client_id, time_scale=0.001) as sb:
        cfg = write_config(str(tmp / "gw"), sb, gateway=gateway)
        with running_gateway(cfg) as gw:
            s = System(sb, gw, tmp)
            try:
                yield s
            finally:
                s.close()


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    with running_system(tmp_path_factory.mktemp("system"), "SANDBOX_FW", code_lifetime=10) as s:
        yield s
