"""`alipay-terminal selftest --measure`: the figures the heap, TLS and loop budgets are about.

On the virtual terminal (WebAssembly MicroPython: no display, network, TLS or threads) the heap
and the QR encode are measured and the rest is SKIPPED with its reason; in the MicroPython unix
port (real mbedTLS and threads) the device script's TLS handshake and loop-stall measurements run
against a verifying TLS server on loopback."""
import json
import os
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.terminal.conftest import SECRET, base_config, cli
from tools.terminal import selftest


@pytest.fixture
def ready(deployed, tmp_path):
    base = tmp_path / "base.json"
    base.write_text(json.dumps(base_config()))
    r = cli("provision", "--port", deployed.port, "--config-file", str(base), "--terminal-id", "T1", "--secret",
            SECRET, "--no-gateway-check", "--panel", "ttgo-t-display")
    assert r.returncode == 0, r.stderr
    return deployed


def _rows(stdout):
    measured = stdout.split("measured (", 1)[1].splitlines()[1:]
    return {line.split()[0]: line.split(None, 2)[1:] for line in measured if line[:1].isalpha()}


def test_measure_on_the_virtual_terminal_reports_what_it_can(ready):
    r = cli("selftest", "--port", ready.port, "--skip-keypad", "--measure")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("passed,") == 1  # the self-test's checks ran first
    rows = _rows(r.stdout)
    state, text = rows["heap"]
    assert state == "OK" and "live after boot" in text and "largest free block" in text, text
    assert "every module imported" in text and "FAILED" not in text
    assert "this port cannot import: firmware.link.http" in text  # no socket in the WebAssembly port
    assert rows["qr"][0] == "OK" and "encode" in rows["qr"][1] and "screen draw SKIPPED (no display)" in rows["qr"][1]
    assert rows["tls"] == ["SKIPPED", "no network connection"]
    assert rows["stall"][0] == "SKIPPED" and rows["stall"][1]


def test_measure_lines_and_mem_info_are_parsed():
    lines = ["MEMINFO-BEGIN", "stack: 736 out of 15360", "GC: total: 111168, used: 61200, free: 49968",
             " No. of 1-blocks: 500, 2-blocks: 90, max blk sz: 64, max free sz: 1523", "MEMINFO-END",
             'MEASURE {"name": "heap", "state": "ok", "values": {"live_after_boot": 61200, "free": 49968, '
             '"block_bytes": 16, "mem_info": true}, "detail": "every module imported, collected"}']
    (heap,) = selftest.parse_measures(lines)
    assert heap["values"]["largest_free_block"] == 1523 * 16
    assert "largest free block 24,368 B" in selftest.describe_measure(heap)


# --- in the MicroPython unix port: real mbedTLS, real threads --------------------------------------
class Hello(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


@pytest.fixture
def tls_gateway(tmp_path):
    from cryptography.hazmat.primitives import serialization

    from tests.firmware.test_tls import make_ca, make_leaf, pem

    ca_key, ca = make_ca("Shop Gateway CA")
    key, cert = make_leaf(ca_key, ca, "localhost")
    (tmp_path / "cert.pem").write_text(pem(cert))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.handle_error = lambda *a: None
    threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True).start()
    yield "https://localhost:%d" % srv.server_address[1], pem(ca)
    srv.shutdown()
    srv.server_close()


def _unix_port(tmp_path, url, ca_pem):
    from tools.sim import engines
    from tools.sim.control import write_config
    from tools.terminal.selftest import DEVICE_SCRIPT, MEASURE_SCRIPT

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    flash = tmp_path / "flash"
    write_config(str(flash), url, "T1", "ab" * 32, gateway={"ca_cert": ca_pem})
    script = open(DEVICE_SCRIPT).read() + "\n" + open(MEASURE_SCRIPT).read() + (
        "\nfrom firmware import config as _c\ncfg = _c.load(%r)\n"
        "measure_heap_after_boot(cfg, None, base=%r)\n"
        "t = measure_tls(cfg, True)\nmeasure_qr(cfg, None)\nmeasure_stall(cfg, t)\n" % (str(flash / "config.json"), root))
    env = dict(os.environ, MICROPYPATH=os.pathsep.join([".frozen", os.path.join(root, "lib"), root]))
    out = subprocess.run([engines.micropython_binary(), "-c", script], capture_output=True, text=True, timeout=120,
                         env=env, cwd=root)
    assert out.returncode == 0, out.stdout + out.stderr
    return selftest.parse_measures(out.stdout.splitlines())


def test_measure_in_the_micropython_unix_port_times_a_verified_handshake(tmp_path, tls_gateway):
    url, ca_pem = tls_gateway
    figures = {f["name"]: f for f in _unix_port(tmp_path, url, ca_pem)}
    assert figures["heap"]["state"] == "ok" and figures["heap"]["values"]["largest_free_block"] > 0
    assert figures["heap"]["values"]["block_bytes"] == 32  # a 64-bit port
    assert figures["tls"]["state"] == "ok" and figures["tls"]["values"]["handshake_ms"] >= 0
    assert figures["qr"]["state"] == "ok" and figures["qr"]["values"]["version"] >= 1
    assert figures["stall"]["state"] == "ok" and "worst_ms" in figures["stall"]["values"]


def test_measure_names_a_refused_certificate(tmp_path, tls_gateway):
    from tests.firmware.test_tls import make_ca, pem

    url, _ = tls_gateway
    _, other = make_ca("Not The Shop")
    figures = {f["name"]: f for f in _unix_port(tmp_path, url, pem(other))}
    assert figures["tls"]["state"] == "fail" and "handshake with localhost" in figures["tls"]["detail"]
    assert figures["stall"]["state"] == "skipped"
