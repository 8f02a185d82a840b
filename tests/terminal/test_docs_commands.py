"""The docs' commands, run as written (only fixed ports become free ones): docs/gateway.md "Run it"
pasted into a fresh copy of the checkout; the examples/ files; the CA and server certificate lines
for an https gateway."""
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from tests.terminal.conftest import ROOT, cli

DOCS = os.path.join(ROOT, "docs")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sh_block_after(doc, heading):
    """The first ```sh block after a heading of a doc."""
    with open(os.path.join(DOCS, doc), encoding="utf-8") as f:
        text = f.read()
    start = text.index(heading)
    m = re.search(r"```sh\n(.*?)```", text[start:], re.S)
    assert m, "no sh block after %r in %s" % (heading, doc)
    return m.group(1)


@pytest.fixture
def fresh_clone(tmp_path):
    """What `git clone` gives (the tracked files, no var/), with this checkout's .venv."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    root = tmp_path / "clone"
    for rel in files.decode().split("\0"):
        if not rel or not os.path.isfile(os.path.join(ROOT, rel)):
            continue
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(os.path.join(ROOT, rel), "rb") as src:
            dest.write_bytes(src.read())
    os.symlink(os.path.join(ROOT, ".venv"), str(root / ".venv"))
    assert not (root / "var").exists()
    return root


def test_gateway_run_it_works_pasted_into_a_fresh_clone(fresh_clone):
    script = sh_block_after("gateway.md", "## Run it")
    sandbox_port, gateway_port = free_port(), free_port()
    assert "--port 8600" in script
    script = script.replace("--port 8600", "--port %d" % sandbox_port)
    # The gateway's defaults point at the sandbox on 8600 and listen on 8700: the same override a
    # reader with those ports taken would use (docs/gateway.md, Environment).
    env = dict(os.environ, ANTOM_BASE_URL="http://127.0.0.1:%d" % sandbox_port, GATEWAY_PORT=str(gateway_port))
    env.pop("GATEWAY_CONFIG", None)
    proc = subprocess.Popen(["bash", "-e", "-c", script], cwd=str(fresh_clone), env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    out = []
    try:
        proc.stdin.write("482613\n482613\n")  # a PIN, should the add command ask for it
        proc.stdin.close()
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(x) for x in iter(proc.stdout.readline, "")] + [lines.put(None)],
                         daemon=True).start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                if proc.poll() is not None and proc.returncode != 0:
                    break  # a line of the doc failed (bash -e)
                continue
            if line is None:
                break
            out.append(line)
            if "gateway listening on http://127.0.0.1:%d" % gateway_port in line:
                break
        text = "".join(out)
        assert "gateway listening on" in text, text
        secrets = re.findall(r"^([0-9a-f]{64})$", text, re.M)
        assert secrets, text
        from tools.terminal import provision
        provision.check_gateway({"gateway": {"url": "http://127.0.0.1:%d" % gateway_port},
                                 "terminal": {"id": "T1", "secret": secrets[0]}})  # a signed round trip
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()


def test_example_gateway_toml_is_a_valid_gateway_config():
    from tools.gateway import config as gateway_config
    cfg = gateway_config.load(os.path.join(ROOT, "examples", "gateway.toml"), environ={})
    assert cfg["merchant"]["name"] == "Corner Cafe" and cfg["gateway"]["currencies"] == ["USD"]


def test_example_shop_config_and_certificate_provision_every_preset(tmp_path):
    made = subprocess.run(["sh", os.path.join(ROOT, "examples", "make-tls-certs.sh"), "pay.cornercafe.example",
                           str(tmp_path / "tls")], cwd=str(tmp_path), capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    from tools.terminal import boards
    for name in boards.names():
        r = cli("provision", "--config-file", os.path.join(ROOT, "examples", "shop.json"),
                "--ca-cert", str(tmp_path / "tls" / "ca.pem"), "--panel", name, "--terminal-id", "CAFE-T1",
                "--no-gateway-check", "--dry-run", env={"ALIPAY_TERMINAL_SECRET": "5e" * 32})
        assert r.returncode == 0, (name, r.stderr)
        assert "gateway:      https://pay.cornercafe.example (CA certificate set)" in r.stdout
        assert "board:        %s" % name in r.stdout


@pytest.fixture
def https_with_made_certificates(tmp_path):
    """An https server with the certificate examples/make-tls-certs.sh makes for localhost."""
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    made = subprocess.run(["sh", os.path.join(ROOT, "examples", "make-tls-certs.sh"), "localhost", str(tmp_path)],
                          capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert sorted(os.listdir(tmp_path)) == ["ca.key", "ca.pem", "server.key", "server.pem"]

    class Hello(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(tmp_path / "server.pem"), str(tmp_path / "server.key"))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.handle_error = lambda *a: None
    threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True).start()
    yield srv.server_address[1], (tmp_path / "ca.pem").read_text()
    srv.shutdown()
    srv.server_close()


def test_the_terminal_trusts_the_made_certificate_and_checks_the_name(https_with_made_certificates):
    import ssl

    from firmware import config
    from firmware.link import http
    port, ca_pem = https_with_made_certificates
    t = http.Transport(http.tls_context(ca_pem))
    r = t.request("GET", "https://localhost:%d/v1/health" % port, timeout=5)
    assert r.status_code == 200
    with pytest.raises(ssl.SSLError):  # the certificate names localhost only
        http.Transport(http.tls_context(ca_pem)).request("GET", "https://127.0.0.1:%d/v1/health" % port, timeout=5)
    from tests.firmware.fakes import make_config
    cfg = make_config(gateway={"url": "https://localhost:%d" % port, "ca_cert": ca_pem})
    assert cfg.ca_cert == ca_pem and isinstance(cfg, config.Config)
