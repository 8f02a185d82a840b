"""Issue 12.13: the gateway says which Antom it talks to (a start-up line and /v1/health) and
refuses to run on the local sandbox's defaults, or against any sandbox, unless its configuration
asks for one (`[antom] sandbox = true`)."""
import os
import subprocess
import sys

import pytest

from tools.antom import signature
from tools.gateway import config as config_mod
from tools.gateway import environment
from tools.gateway.testing import ROOT, GatewayProcess, write_toml

PRODUCTION = {"base_url": "https://open-sea-global.alipay.com", "path_prefix": "/ams/api", "client_id": "5Y0001",
              "public_key_file": "/etc/gateway/antom_public.pem", "sandbox": False}


def serve(path):
    return subprocess.run([sys.executable, "-m", "tools.gateway", "--config", path, "serve", "--port", "0"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if not k.startswith(("ANTOM_", "GATEWAY_"))})


def test_the_gateway_refuses_the_sandbox_defaults_unless_the_config_asks_for_them(tmp_path):
    with open(tmp_path / "a.pem", "wb") as f:
        f.write(signature.public_pem(signature.generate_private_key()))
    gateway = {"db": str(tmp_path / "g.sqlite3"), "port": 0, "kek_file": str(tmp_path / "kek" / "k")}
    keys = {"private_key_file": str(tmp_path / "m.pem"), "public_key_file": str(tmp_path / "a.pem")}
    r = serve(write_toml(str(tmp_path / "g.toml"), {"gateway": gateway, "antom": keys}))
    assert r.returncode == 2, r.stderr
    assert "[antom] sandbox = true" in r.stderr and "antom.base_url" in r.stderr and "antom.client_id" in r.stderr
    assert "Traceback" not in r.stderr
    # not the defaults, but still a sandbox (Antom's own): refused the same way
    r = serve(write_toml(str(tmp_path / "g2.toml"), {"gateway": gateway, "antom": dict(
        keys, base_url="https://open-sea-global.alipay.com", client_id="SANDBOX_5Y0001")}))
    assert r.returncode == 2 and "Antom's sandbox" in r.stderr and "sandbox = true" in r.stderr


@pytest.mark.parametrize("changes, expected", [
    ({}, "production"),
    ({"client_id": "SANDBOX_5Y0001"}, "antom-sandbox"),
    ({"path_prefix": "/ams/sandbox/api"}, "antom-sandbox"),
    ({"base_url": "http://127.0.0.1:8600"}, "local-sandbox"),
    ({"base_url": "http://localhost:8600"}, "local-sandbox"),
    ({"base_url": "http://[::1]:8600"}, "local-sandbox"),
])
def test_the_environment_follows_the_antom_host_and_client_id(changes, expected):
    access = dict(PRODUCTION, **changes)
    assert environment.environment(access) == expected
    if expected == "production":
        assert environment.check(access) == "production"   # production needs no flag
    else:
        with pytest.raises(config_mod.ConfigError):
            environment.check(access)
        assert environment.check(dict(access, sandbox=True)) == expected


def test_a_production_host_with_a_sandbox_default_left_over_is_refused():
    left_over = dict(PRODUCTION, public_key_file="var/sandbox/sandbox_public.pem")
    assert environment.environment(left_over) == "production"
    with pytest.raises(config_mod.ConfigError, match="antom.public_key_file"):
        environment.check(left_over)


def test_start_up_and_health_name_the_antom_environment(make_config, sandbox):
    gp = GatewayProcess(make_config())
    try:
        gp.start()
        with open(gp.log_path + ".out") as out:
            text = out.read()
        assert "Antom environment: local-sandbox (%s, client id %s)" % (sandbox.base_url, sandbox.client_id) in text
        gp.add_terminal("T1")
        health = gp.client("T1").health()
        assert health.verified and health.body["environment"] == "local-sandbox"
    finally:
        gp.stop()
