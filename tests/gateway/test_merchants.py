"""Many merchants on one gateway, in Antom's integration modes, end to end against the sandbox:

- a system-integrator deployment: three merchants, each with its own client id, key pair and Antom
  key (the sandbox signs each one's answers and notifications with a key of its own);
- an ISV deployment: two merchants on one ISV client id and key, each named by its agent token.

Each runs sales from terminals (one per deployment is the real firmware in the MicroPython unix
port, the others the signed terminal-protocol client), and the sandbox's call log shows every call
arrived under the merchant's client id (verified there with that client id's registered key) and
with its agent token. Then every cross-merchant read and write is tried and refused: a terminal of
one merchant asking about another's order, an operator of one listing or showing or refunding
another's, a notification signed for one posted to another's URL, a foreign agent token. Both deployments run on SQLite and on PostgreSQL.
"""
import json
import os
import subprocess
import sys
import time

import httpx
import pytest

from tests.waiting import wait_until
from tools.antom import signature
from tools.gateway.testing import running_gateway, write_config

pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PIN = "246810"


def cli(cfg_path, *args, stdin=None, ok=True):
    done = subprocess.run([sys.executable, "-m", "tools.gateway", "--config", cfg_path, *args], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    if ok:
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done


def new_client_id(sandbox, tmp, client_id, isv=False):
    """A client id at the sandbox (own Antom key) and its key files for `merchant add`."""
    key = signature.generate_private_key()
    antom_pem = sandbox.register_client(client_id, signature.public_pem(key), isv=isv, own_antom_key=True)
    private_path, antom_path = str(tmp / (client_id + ".pem")), str(tmp / (client_id + "_antom.pem"))
    with open(private_path, "wb") as f:
        f.write(signature.private_pem(key))
    with open(antom_path, "wb") as f:
        f.write(antom_pem)
    return private_path, antom_path, signature.load_public_key(antom_pem)


def add_terminal(cfg_path, terminal_id, store_id):
    done = cli(cfg_path, "terminal", "add", terminal_id, "--store", store_id, "--json", stdin=PIN + "\n")
    return json.loads(done.stdout)["secret"]


def sell_with_protocol_client(gw, sandbox, client, order_id, amount):
    created = client.create(order_id, amount)
    assert created.status == 200 and created.verified, created
    sandbox.pay(created.body["code_value"])
    final = wait_until(lambda: (lambda a: a if a.body["status"] != "PENDING" else None)(client.status(order_id, wait=5)),
                       timeout=30)
    assert final.body["status"] == "PAID", final.body
    return created.body


def sell_with_firmware(tmp, gw_url, sandbox, terminal_id, secret, amount, merchant_name):
    """One sale on the unmodified firmware in the MicroPython unix port (tools/sim)."""
    from tools.sim.control import SimProcess
    from tools.sim.control import write_config as write_terminal

    flash = str(tmp / terminal_id)
    write_terminal(flash, gw_url, terminal_id, secret, merchant=merchant_name)
    term = SimProcess(flash).start()
    try:
        term.wait_ready(timeout=60)
        assert term.engine_name == "micropython"
        term.keys(str(amount), "ok")
        qr = term.wait_state("SHOW_QR", timeout=30)
        sandbox.pay(qr["code"])
        result = term.wait_result(timeout=40)
        assert result["state"] == "PAID", result
        return result["order_id"]
    finally:
        term.stop()


def calls_for(sandbox, prid):
    return [(c["operation"], c["client_id"], c["agent_token"]) for c in sandbox.calls(key=prid)]


def acked_notifications(sandbox, payment_id):
    return [n for n in sandbox.notifications() if n["paymentId"] == payment_id and n["state"] == "acked"]


def operator_cannot_see(cfg_path, merchant, terminal_id, order_id):
    """Every operator command of `merchant` misses the other merchant's terminal and order."""
    listed = json.loads(cli(cfg_path, "payments", "list", "--merchant", merchant, "--json").stdout)["payments"]
    assert listed and all(p["merchant_id"] == merchant for p in listed)
    assert (terminal_id, order_id) not in {(p["terminal_id"], p["order_id"]) for p in listed}
    shown = cli(cfg_path, "payments", "show", terminal_id, order_id, "--merchant", merchant, ok=False)
    assert shown.returncode == 1 and "no such payment" in shown.stderr and order_id not in shown.stdout
    refund = cli(cfg_path, "refund", terminal_id, order_id, "100", "--merchant", merchant, ok=False)
    assert refund.returncode == 1 and "NOT_FOUND" in refund.stderr
    terminals = json.loads(cli(cfg_path, "terminal", "list", "--merchant", merchant, "--json").stdout)["terminals"]
    assert terminals and terminal_id not in {t["terminal_id"] for t in terminals}
    events = json.loads(cli(cfg_path, "events", "--merchant", merchant, "--limit", "1000", "--json").stdout)["events"]
    assert events and terminal_id not in {e["terminal_id"] for e in events}
    alerts = json.loads(cli(cfg_path, "alerts", "--all", "--merchant", merchant, "--json").stdout)["alerts"]
    assert terminal_id not in {a["terminal_id"] for a in alerts}
    today = time.strftime("%Y-%m-%d", time.gmtime())
    report = cli(cfg_path, "report", "--from", today, "--to", today, "--merchant", merchant, "--json").stdout
    assert order_id not in report and terminal_id not in report


def terminal_cannot_touch(client, order_id):
    """The other merchant's order does not exist for this terminal: status, cancel, refund."""
    for answer in (client.status(order_id), client.cancel(order_id), client.refund(order_id, "X1", 100, PIN)):
        assert answer.status == 404 and answer.code == "NOT_FOUND" and answer.verified, answer


def post_notification(gw_url, path, client_id, antom_key, body):
    raw = json.dumps(body, separators=(",", ":")).encode()
    rt = str(int(time.time() * 1000))
    headers = {"content-type": "application/json; charset=UTF-8", "client-id": client_id, "request-time": rt,
               "signature": signature.sign_message(antom_key, "POST", path, client_id, rt, raw)}
    return httpx.post(gw_url + path, content=raw, headers=headers, timeout=10, trust_env=False)


def sandbox_antom_private(sandbox, client_id):
    """The sandbox's private Antom key of a client id (to sign as Antom would, for the tests)."""
    from tools.sandbox.store import Store
    store = Store(sandbox.data_dir)
    try:
        return signature.load_private_key(store.client(client_id)["antom_private_pem"].encode())
    finally:
        store.close()


def success_note(payment):
    return {"notifyType": "PAYMENT_RESULT",
            "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
            "paymentRequestId": payment["payment_request_id"], "paymentId": payment["payment_id"] or "P-none",
            "paymentAmount": {"currency": payment["currency"], "value": str(payment["amount"])},
            "paymentCreateTime": "2026-12-01T00:00:00+00:00", "paymentTime": "2026-12-01T00:00:01+00:00"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def deployment_db(request):
    """`new()`: the gateway database of one deployment: None (a SQLite file in its folder) or a
    fresh PostgreSQL database in the worker's throwaway cluster (tests/gateway/conftest.py)."""
    if request.param == "sqlite":
        yield lambda: None
        return
    import secrets as random

    import psycopg
    cluster = request.getfixturevalue("pg_cluster")
    names = []

    def new():
        names.append("merchants_" + random.token_hex(6))
        with psycopg.connect(cluster.dsn, autocommit=True) as conn:
            conn.execute('CREATE DATABASE "%s"' % names[-1])
        return "postgresql://postgres@127.0.0.1:%d/%s" % (cluster.port, names[-1])
    yield new
    with psycopg.connect(cluster.dsn, autocommit=True) as conn:
        for name in names:
            conn.execute('DROP DATABASE "%s" WITH (FORCE)' % name)


# --- system integrator: three merchants, each its own credentials -------------------------------------
@pytest.fixture(scope="module")
def si(tmp_path_factory, deployment_db):
    from tools.sandbox.testing import running_sandbox

    tmp = tmp_path_factory.mktemp("si")
    with running_sandbox(client_id="SANDBOX_SI_UNUSED", time_scale=0.001) as sb:
        cfg_path = write_config(str(tmp / "gw"), sb, db=deployment_db())
        merchants = {}
        for mid, name in (("CAFE_A", "Cafe A"), ("BAKERY_B", "Bakery B"), ("DELI_C", "Deli C")):
            private_path, antom_path, antom_public = new_client_id(sb, tmp, "SI_" + mid)
            cli(cfg_path, "merchant", "add", mid, "--name", name, "--mcc", "5812", "--client-id", "SI_" + mid,
                "--private-key-file", private_path, "--antom-public-key-file", antom_path, "--sandbox",
                "--store-id", mid + "-1", "--store-name", name + " Main St")
            merchants[mid] = {"client_id": "SI_" + mid, "antom_public": antom_public, "store": mid + "-1"}
        secrets = {"TA1": add_terminal(cfg_path, "TA1", "CAFE_A-1"), "TB1": add_terminal(cfg_path, "TB1", "BAKERY_B-1"),
                   "TC1": add_terminal(cfg_path, "TC1", "DELI_C-1")}
        with running_gateway(cfg_path) as gw:
            gw.secrets = secrets
            yield {"sandbox": sb, "gw": gw, "cfg": cfg_path, "merchants": merchants, "tmp": tmp}


def test_si_three_merchants_sell_each_under_its_own_client_id(si):
    sb, gw, merchants = si["sandbox"], si["gw"], si["merchants"]
    listed = json.loads(cli(si["cfg"], "merchant", "list", "--json").stdout)
    assert listed["mode"] == "system-integrator"
    assert sorted(m["id"] for m in listed["merchants"]) == ["BAKERY_B", "CAFE_A", "DELI_C"]
    assert all(m["mode"] == "own" and "private" not in json.dumps(m) for m in listed["merchants"])
    order_a = sell_with_firmware(si["tmp"], gw.base_url, sb, "TA1", gw.secrets["TA1"], 1250, "Cafe A")
    sold = {("TA1", order_a): "CAFE_A"}
    for terminal, mid, amount in (("TB1", "BAKERY_B", 480), ("TC1", "DELI_C", 2999)):
        sell_with_protocol_client(gw, sb, gw.client(terminal), "O-" + terminal, amount)
        sold[(terminal, "O-" + terminal)] = mid
    for (terminal, order), mid in sold.items():
        shown = json.loads(cli(si["cfg"], "payments", "show", terminal, order, "--merchant", mid).stdout)
        assert shown["status"] == "PAID" and shown["merchant_id"] == mid
        prid = shown["payment_request_id"]
        logged = calls_for(sb, prid)
        assert logged and {(c, t) for _op, c, t in logged} == {(merchants[mid]["client_id"], None)}, logged
        at_sandbox = [p for p in sb.payments() if p["paymentRequestId"] == prid]
        assert [p["clientId"] for p in at_sandbox] == [merchants[mid]["client_id"]]
        # the notification went to the merchant's own URL, signed with its own Antom key, and was acked
        notes = wait_until(lambda: acked_notifications(sb, shown["payment_id"]), timeout=20)
        assert notes[0]["url"].endswith("/antom/notify/" + mid)
    # the sale on the firmware's screen named the right merchant's payment at Antom
    assert json.loads(cli(si["cfg"], "payments", "list", "--merchant", "CAFE_A", "--json").stdout)["payments"][0][
        "order_id"] == order_a


def test_si_no_cross_merchant_read_or_write_succeeds(si):
    sb, gw, merchants, cfg = si["sandbox"], si["gw"], si["merchants"], si["cfg"]
    a = gw.client("TA1")
    mine = sell_with_protocol_client(gw, sb, a, "O-A-X", 700)
    for other in ("TB1", "TC1"):  # each merchant has sales of its own to list
        sell_with_protocol_client(gw, sb, gw.client(other), "O-%s-X" % other, 300)
    row = gw.store.payment("TA1", "O-A-X")
    # terminals of B and C cannot read or change A's order
    for other in ("TB1", "TC1"):
        terminal_cannot_touch(gw.client(other), "O-A-X")
    # operators of B and C see nothing of A's
    for merchant in ("BAKERY_B", "DELI_C"):
        operator_cannot_see(cfg, merchant, "TA1", "O-A-X")
    # A notification signed for A, posted to B's notify URL: refused (B's client id and key, B's path)
    note = success_note(row)
    a_key = sandbox_antom_private(sb, "SI_CAFE_A")
    b_key = sandbox_antom_private(sb, "SI_BAKERY_B")
    assert post_notification(gw.base_url, "/antom/notify/CAFE_A", "SI_CAFE_A", a_key, note).status_code == 200
    for path, client_id, key in (("/antom/notify/BAKERY_B", "SI_CAFE_A", a_key),   # A's, at B's URL
                                 ("/antom/notify/BAKERY_B", "SI_BAKERY_B", a_key),  # claims B, signed by A's key
                                 ("/antom/notify/CAFE_A", "SI_BAKERY_B", b_key)):   # B's, at A's URL
        assert post_notification(gw.base_url, path, client_id, key, note).status_code == 401
    # correctly signed by B's Antom key at B's URL, but about A's payment: never applied
    forged_fail = dict(note, result={"resultCode": "ORDER_IS_CLOSED", "resultStatus": "F", "resultMessage": "x"},
                       paymentTime=None)
    answer = post_notification(gw.base_url, "/antom/notify/BAKERY_B", "SI_BAKERY_B", b_key, forged_fail)
    assert answer.status_code == 400 and answer.json()["result"]["resultCode"] == "ORDER_NOT_EXIST"
    assert gw.store.payment("TA1", "O-A-X")["status"] == "PAID"
    # B's own payments are B's: A's terminal cannot reach them either
    terminal_cannot_touch(a, "O-TB1-X")
    # the refund A may do goes to Antom under A's client id only
    refund = a.refund("O-A-X", "R1", 200, PIN)
    assert refund.status == 200 and refund.body["status"] == "SUCCEEDED"
    rr = gw.store.refund(row["id"], "R1")["refund_request_id"]
    assert calls_for(sb, rr) == [("refund", "SI_CAFE_A", None)]
    assert mine["order_id"] == "O-A-X"


def test_si_merchant_changes_and_limits(si):
    cfg, gw = si["cfg"], si["gw"]
    cli(cfg, "merchant", "set", "DELI_C", "--max-amount", "500", "--currencies", "USD")
    too_much = gw.client("TC1").create("O-C-BIG", 501)
    assert too_much.status == 400 and too_much.code == "INVALID_AMOUNT"
    other_currency = gw.client("TC1").create("O-C-EUR", 100, currency="EUR")
    assert other_currency.status == 400 and other_currency.code == "UNKNOWN_CURRENCY"
    # the other merchants keep the gateway's limits
    assert gw.client("TB1").create("O-B-BIG", 501).status == 200
    shown = json.loads(cli(cfg, "merchant", "show", "DELI_C", "--json").stdout)
    assert shown["max_amount"] == 500 and shown["currencies"] == ["USD"] and shown["terminals"] == ["TC1"]
    # secrets never on the command line, never in what is shown
    assert "PRIVATE" not in json.dumps(shown)


# --- ISV: two merchants on one ISV client id, each its agent token ------------------------------------
@pytest.fixture(scope="module")
def isv(tmp_path_factory, deployment_db):
    from tools.sandbox.testing import running_sandbox

    tmp = tmp_path_factory.mktemp("isv")
    with running_sandbox(client_id="SANDBOX_ISV_UNUSED", time_scale=0.001) as sb:
        cfg_path = write_config(str(tmp / "gw"), sb, db=deployment_db())
        private_path, antom_path, _public = new_client_id(sb, tmp, "ISV_POS", isv=True)
        tokens = {}
        for mid, name in (("SHOP1", "Shop One"), ("SHOP2", "Shop Two")):
            tokens[mid] = sb.add_agent("ISV_POS", name)
            token_path = str(tmp / (mid + ".token"))
            with open(token_path, "w") as f:
                f.write(tokens[mid] + "\n")
            keys = ["--private-key-file", private_path, "--antom-public-key-file", antom_path,
                    "--sandbox"] if mid == "SHOP1" else []
            cli(cfg_path, "merchant", "add", mid, "--name", name, "--mcc", "5411", "--client-id", "ISV_POS",
                *keys, "--agent-token-file", token_path, "--store-id", mid + "-1", "--store-name", name)
        secrets = {"TS1": add_terminal(cfg_path, "TS1", "SHOP1-1"), "TS2": add_terminal(cfg_path, "TS2", "SHOP2-1")}
        with running_gateway(cfg_path) as gw:
            gw.secrets = secrets
            yield {"sandbox": sb, "gw": gw, "cfg": cfg_path, "tokens": tokens, "tmp": tmp,
                   "keys": (private_path, _public)}


def test_isv_two_merchants_sell_each_with_its_agent_token(isv):
    sb, gw, tokens = isv["sandbox"], isv["gw"], isv["tokens"]
    listed = json.loads(cli(isv["cfg"], "merchant", "list", "--json").stdout)
    assert listed["mode"] == "isv" and {m["client_id"] for m in listed["merchants"]} == {"ISV_POS"}
    assert tokens["SHOP1"] not in json.dumps(listed) and tokens["SHOP2"] not in json.dumps(listed)
    order_1 = sell_with_firmware(isv["tmp"], gw.base_url, sb, "TS1", gw.secrets["TS1"], 990, "Shop One")
    sell_with_protocol_client(gw, sb, gw.client("TS2"), "O-TS2", 1500)
    for terminal, order, mid in (("TS1", order_1, "SHOP1"), ("TS2", "O-TS2", "SHOP2")):
        shown = json.loads(cli(isv["cfg"], "payments", "show", terminal, order, "--merchant", mid).stdout)
        assert shown["status"] == "PAID"
        logged = calls_for(sb, shown["payment_request_id"])
        assert logged and {(c, t) for _op, c, t in logged} == {("ISV_POS", tokens[mid])}, logged
        notes = wait_until(lambda: acked_notifications(sb, shown["payment_id"]), timeout=20)
        assert notes[0]["url"].endswith("/antom/notify/" + mid)


def test_isv_no_cross_merchant_read_or_write_succeeds(isv):
    sb, gw, cfg = isv["sandbox"], isv["gw"], isv["cfg"]
    one, two = gw.client("TS1"), gw.client("TS2")
    sell_with_protocol_client(gw, sb, one, "O-1-X", 800)
    sell_with_protocol_client(gw, sb, two, "O-2-X", 400)
    row = gw.store.payment("TS1", "O-1-X")
    terminal_cannot_touch(two, "O-1-X")
    operator_cannot_see(cfg, "SHOP2", "TS1", "O-1-X")
    # both merchants share the ISV's Antom key: the per-merchant path in the signature tells them apart
    key = sandbox_antom_private(sb, "ISV_POS")
    note = success_note(row)
    assert post_notification(gw.base_url, "/antom/notify/SHOP2", "ISV_POS", key, note).status_code == 400
    signed_for_one = json.dumps(note, separators=(",", ":")).encode()
    rt = str(int(time.time() * 1000))
    headers = {"content-type": "application/json; charset=UTF-8", "client-id": "ISV_POS", "request-time": rt,
               "signature": signature.sign_message(key, "POST", "/antom/notify/SHOP1", "ISV_POS", rt, signed_for_one)}
    moved = httpx.post(gw.base_url + "/antom/notify/SHOP2", content=signed_for_one, headers=headers, timeout=10,
                       trust_env=False)
    assert moved.status_code == 401
    assert httpx.post(gw.base_url + "/antom/notify/SHOP1", content=signed_for_one, headers=headers, timeout=10,
                      trust_env=False).status_code == 200
    # a cancel/refund/inquiry of merchant 1's payment under merchant 2's agent token: Antom says no
    from tools.gateway.antom import AntomClient
    import asyncio
    with open(isv["keys"][0], "rb") as f:
        isv_key = signature.load_private_key(f.read())
    probe = AntomClient(sb.base_url, "/ams/api", "ISV_POS", isv_key, isv["keys"][1], agent_token=isv["tokens"]["SHOP2"])

    async def foreign():
        try:
            return (await probe.inquiry(row["payment_request_id"]), await probe.cancel(row["payment_request_id"]),
                    await probe.refund("RF-X", row["payment_id"], 100, "USD"))
        finally:
            await probe.close()

    for answer in asyncio.run(foreign()):
        assert answer.signed and answer.status == "F" and answer.code == "ORDER_NOT_EXIST", answer
    assert gw.store.payment("TS1", "O-1-X")["status"] == "PAID"


def test_isv_a_foreign_or_unknown_agent_token_is_refused(isv):
    sb, gw, cfg, tmp = isv["sandbox"], isv["gw"], isv["cfg"], isv["tmp"]
    # one merchant cannot be given the other's token (it would be the same merchant at Antom)
    taken = cli(cfg, "merchant", "set", "SHOP2", "--agent-token-file", "-", stdin=isv["tokens"]["SHOP1"], ok=False)
    assert taken.returncode == 1 and "another merchant" in taken.stderr
    # a token Antom never issued: the sale fails with Antom's ACCESS_DENIED, nothing is created there
    cli(cfg, "merchant", "set", "SHOP2", "--agent-token-file", "-", stdin="AT-never-issued")
    try:
        answer = wait_until(lambda: (lambda a: a if a.status == 200 else None)(gw.client("TS2").create("O-TS2-BAD", 300)),
                            timeout=10)
        assert answer.body["status"] == "FAILED" and answer.body["reason"] == "ACCESS_DENIED", answer.body
        prid = gw.store.payment("TS2", "O-TS2-BAD")["payment_request_id"]
        assert calls_for(sb, prid) == [("pay", "ISV_POS", "AT-never-issued")]
        assert [p for p in sb.payments() if p["paymentRequestId"] == prid] == []
    finally:
        cli(cfg, "merchant", "set", "SHOP2", "--agent-token-file", "-", stdin=isv["tokens"]["SHOP2"])
    sell_with_protocol_client(gw, sb, gw.client("TS2"), "O-TS2-OK", 300)


def test_isv_merchant_registration(isv):
    sb, cfg = isv["sandbox"], isv["cfg"]
    done = json.loads(cli(cfg, "merchant", "register", "SHOP1", "--json").stdout)
    assert done["status"] == "COMPLETED" and done["store_id"] == "SHOP1-1"
    ops = [(c["operation"], c["client_id"], c["agent_token"]) for c in sb.calls() if c["operation"] in
           ("registration", "inquiryRegistrationStatus")]
    assert ops == [("registration", "ISV_POS", isv["tokens"]["SHOP1"]),
                   ("inquiryRegistrationStatus", "ISV_POS", isv["tokens"]["SHOP1"])]
    shown = json.loads(cli(cfg, "merchant", "show", "SHOP1", "--json").stdout)
    assert shown["registration"]["status"] == "COMPLETED"
