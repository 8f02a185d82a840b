"""Issue 12.13: the sandbox's admin API is not on the wallet port. `/_sandbox/*` (list live codes,
faults, expiry) lives on its own port bound to 127.0.0.1 whatever --host says; the wallet page
says SANDBOX, sends a Content-Security-Policy and X-Frame-Options, and a real browser will not
frame it."""
import os

import httpx

from tests.sandbox.conftest import order, text_code
from tests.sandbox.test_wallet import CHROMIUM, CHROMIUM_ARGS
from tools.sandbox.testing import running_sandbox


def test_the_admin_api_is_not_served_on_the_wallet_port(sandbox):
    for method, path in (("GET", "/_sandbox/payments"), ("GET", "/_sandbox/notifications"),
                         ("POST", "/_sandbox/faults"), ("DELETE", "/_sandbox/faults"), ("GET", "/_sandbox/calls"),
                         ("POST", "/_sandbox/expire/X")):
        assert httpx.request(method, sandbox.base_url + path, trust_env=False).status_code == 404, path
    assert httpx.get(sandbox.admin_url + "/_sandbox/payments", trust_env=False).status_code == 200
    assert sandbox.admin_url.startswith("http://127.0.0.1:") and sandbox.admin_url != sandbox.base_url
    # and the admin port serves nothing of the public API
    assert httpx.get(sandbox.admin_url + "/c/anything", trust_env=False).status_code == 404


def listening_addresses(port):
    """Local addresses of the listening TCP sockets on `port`, from the kernel's socket table."""
    found = []
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:   # 0A: LISTEN
                found.append(".".join(str(int(address[i:i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


def test_the_admin_port_stays_on_127_0_0_1_whatever_host_the_wallet_listens_on():
    # (tests bind loopback only: 127.0.0.2 stands in for a LAN address such as --host 0.0.0.0)
    with running_sandbox(args=["--host", "127.0.0.2"]) as sb:
        admin_port = int(sb.admin_url.rsplit(":", 1)[1])
        assert listening_addresses(admin_port) == ["127.0.0.1"]
        assert listening_addresses(sb.port) == ["127.0.0.2"]
        assert sb.payments() == []
        assert httpx.get("http://127.0.0.2:%d/_sandbox/payments" % sb.port, trust_env=False).status_code == 404


def test_the_wallet_page_says_sandbox_and_sends_csp_and_x_frame_options(sandbox, receiver):
    answer = sandbox.call("pay", order(notify_url=receiver.url)).json()
    page = sandbox.http.get(text_code(answer))
    assert "id=sandbox-banner" in page.text and "SANDBOX" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp and "script-src" not in csp
    unknown = sandbox.http.get(sandbox.base_url + "/c/NoSuchToken")
    assert unknown.status_code == 404 and unknown.headers["x-frame-options"] == "DENY"
    assert "SANDBOX" in unknown.text


def test_a_real_browser_shows_the_banner_and_will_not_frame_the_wallet_page(sandbox, receiver, tmp_path):
    from playwright.sync_api import sync_playwright
    assert os.path.exists(CHROMIUM)
    answer = sandbox.call("pay", order(notify_url=receiver.url, value="990")).json()
    url = text_code(answer)
    framing = tmp_path / "framing.html"   # another site's page trying to frame the wallet
    framing.write_text("<!doctype html><h1>elsewhere</h1><iframe id=f src='%s' width=400 height=600></iframe>" % url)
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 390, "height": 844})
        try:
            page = context.new_page()
            blocked = []
            page.on("console", lambda m: blocked.append(m.text))
            page.goto(url)
            banner = page.locator("#sandbox-banner")
            assert banner.is_visible() and "SANDBOX" in banner.inner_text()
            assert banner.bounding_box()["y"] < 50   # at the top, before the order
            page.goto(framing.as_uri())
            page.wait_for_load_state("load")
            frames = [f for f in page.frames if f != page.main_frame]
            # the browser refused to render the wallet inside another page: no wallet content in it
            assert frames and all("Corner Cafe" not in f.content() for f in frames)
            assert page.inner_text("h1") == "elsewhere"
        finally:
            context.close()
