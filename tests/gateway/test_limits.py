"""Issue 12.11: limits on what one client can hold or send. Silent and slow-header connections are
closed, a trickled body is a 408, idle connections cannot hold the connection cap's slots (long
polls are never cut; a connection past the cap when all are busy gets a clear 503), and a terminal
over its rate gets a signed 429 with Retry-After, counted in the store so it holds across gateway
processes on one database."""
import json
import socket
import threading
import time

from firmware.link import auth
from tests.waiting import wait_until
from tools.gateway.testing import running_gateway


def closed_by_peer(sock, timeout=20.0):
    """True when the gateway closes `sock` (whatever it sent before closing)."""
    sock.settimeout(timeout)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def connect(gw):
    return socket.create_connection(("127.0.0.1", gw.port))


def test_silent_and_slow_header_connections_are_closed_after_the_header_timeout(make_config):
    with running_gateway(make_config(gateway={"header_timeout": 0.5})) as gw:
        silent = connect(gw)
        slow = connect(gw)
        slow.sendall(b"GET /v1/time HTTP/1.1\r\nHost: x\r\n")   # and the rest never comes
        assert closed_by_peer(silent) and closed_by_peer(slow)
        # a kept-alive connection's next request has the same deadline
        gw.add_terminal("T1")
        c = gw.client("T1")
        assert c.health().status == 200
        kept = connect(gw)
        kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        kept.settimeout(10)
        assert kept.recv(4096).startswith(b"HTTP/1.1 200")
        kept.sendall(b"GET /healthz HTTP/1.1\r\n")
        assert closed_by_peer(kept)


def test_a_trickled_body_is_answered_408_and_the_connection_closed(make_config):
    with running_gateway(make_config(gateway={"body_timeout": 0.5})) as gw:
        gw.add_terminal("T1")
        body = b'{"order_id":"LIM-1","amount":100,"currency":"USD","description":""}'
        headers = auth.request_headers("T1", gw.secrets["T1"], "POST", "/v1/payments", body, int(time.time()),
                                       auth.new_nonce())
        s = connect(gw)
        head = "POST /v1/payments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" \
            % len(body)
        head += "".join("%s: %s\r\n" % kv for kv in headers.items()) + "\r\n"
        s.sendall(head.encode() + body[:10])   # the rest never comes
        s.settimeout(15)
        answer = s.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert b"x-signature" not in answer.lower()   # refused before authentication: unsigned
        assert closed_by_peer(s)
        assert gw.store.payment("T1", "LIM-1") is None


def test_a_body_nobody_reads_does_not_keep_the_connection(make_config):
    # a route that takes no body answers at once; the trickled rest of the body is not waited for
    with running_gateway(make_config(gateway={"body_timeout": 30.0, "header_timeout": 30.0})) as gw:
        s = connect(gw)
        s.sendall(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
        s.settimeout(10)
        assert s.recv(4096).startswith(b"HTTP/1.1 ")
        assert closed_by_peer(s, timeout=5)   # not kept for the keep-alive's 30 s


def test_idle_connections_past_the_cap_give_up_their_slots(make_config):
    # the review held 250 idle connections open: with a cap of 250, the 251st connection still
    # gets its request answered, and it is the oldest idle connection that is closed for it
    with running_gateway(make_config(gateway={"max_connections": 250, "header_timeout": 60.0})) as gw:
        held = [connect(gw) for _ in range(250)]
        wait_until(lambda: len(gw.server.server_state.connections) == 250, timeout=20)
        gw.add_terminal("T1")
        assert gw.client("T1").health().status == 200   # the 251st connection
        assert closed_by_peer(held[0])
        assert len(gw.server.server_state.connections) <= 250
        for s in held:
            s.close()


def test_at_the_cap_long_polls_are_kept_and_a_new_connection_gets_a_clear_503(make_config):
    with running_gateway(make_config(gateway={"max_connections": 3, "header_timeout": 60.0})) as gw:
        gw.add_terminal("T1")
        setup = gw.client("T1")
        assert setup.create("LP-1", 100, "USD", "").status == 200
        setup.close()
        wait_until(lambda: len(gw.server.server_state.connections) == 0, timeout=10)
        answers = []
        pollers = [gw.client("T1") for _ in range(3)]
        threads = [threading.Thread(target=lambda c=c: answers.append(c.status("LP-1", wait=4))) for c in pollers]
        for t in threads:
            t.start()
        rowid = gw.store.payment("T1", "LP-1")["id"]
        waiters = gw.gateway.service.waiters
        wait_until(lambda: waiters.count(rowid) == 3, timeout=15)
        extra = connect(gw)
        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        extra.settimeout(10)
        refused = extra.recv(4096)
        assert refused.startswith(b"HTTP/1.1 503") and b"retry-after: 1" in refused.lower()
        assert json.loads(refused.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "TOO_MANY_CONNECTIONS"
        for t in threads:
            t.join(30)
        assert [a.status for a in answers] == [200, 200, 200] and all(a.verified for a in answers)
        assert all(a.body["status"] == "PENDING" for a in answers)


def test_a_terminal_over_its_rate_gets_a_signed_429_with_retry_after(make_config):
    with running_gateway(make_config(gateway={"rate_limit": 5, "rate_window": 2.0})) as gw:
        gw.add_terminal("T1")
        gw.add_terminal("T2")
        c = gw.client("T1")
        answers = [c.health() for _ in range(8)]
        assert [a.status for a in answers] == [200] * 5 + [429] * 3
        limited = answers[5:]
        assert all(a.verified and a.code == "RATE_LIMITED" for a in limited)   # signed like any answer
        assert all(a.body["retry_after"] == 2 and a.headers["retry-after"] == "2" for a in limited)
        assert all("order_id" not in a.body for a in limited)   # never a refusal of an order: not final
        assert c.time().status == 429   # /v1/time too
        assert gw.client("T2").health().status == 200   # per terminal: the others are not affected
        time.sleep(limited[-1].body["retry_after"] + 0.3)
        assert c.health().status == 200   # who waits Retry-After gets through


def test_the_rate_limit_holds_across_gateway_processes_on_one_database(make_config):
    path = make_config(gateway={"rate_limit": 6, "rate_window": 30.0})
    with running_gateway(path) as one, running_gateway(path) as two:
        secret = one.add_terminal("T1")
        a, b = one.client("T1"), two.client("T1", secret)
        statuses = [(a if i % 2 else b).health().status for i in range(8)]
        assert statuses == [200] * 6 + [429] * 2


def test_per_payment_locks_and_waiters_return_to_zero_after_many_payments(gateway, t1, sandbox):
    # what the gateway keeps per payment in memory (its locks, the long polls' events, background
    # tasks) lives only while used: after 40 sales of every kind, nothing is left
    service = gateway.gateway.service
    for i in range(40):
        order = "MANY-%d" % i
        created = t1.create(order, 100 + i, "USD", "")
        assert created.status == 200
        if i % 4 == 3:
            assert t1.cancel(order).body["status"] == "CANCELLED"
            continue
        poller = gateway.client("T1")
        polled = []
        thread = threading.Thread(target=lambda: polled.append(poller.status(order, wait=10)))
        thread.start()
        rowid = gateway.store.payment("T1", order)["id"]
        wait_until(lambda: service.waiters.count(rowid) >= 1, timeout=10)
        assert len(service.waiters) >= 1 and len(service._locks) + len(service.waiters) > 0
        assert sandbox.pay(created.body["code_value"])["status"] == "SUCCESS"
        thread.join(20)
        assert polled[0].body["status"] == "PAID"
        if i % 4 == 1:
            assert t1.refund(order, order + "-R", 50, "123456").body["status"] == "SUCCEEDED"
    wait_until(lambda: (len(service._locks), len(service.waiters), len(service._background)) == (0, 0, 0),
               timeout=15)
