"""Fleet benchmark: the gateway on SQLite and on PostgreSQL, one and two instances. Prints ONE table.

    .venv/bin/python bench/bench_fleet.py [--seconds 5] [--terminals 200] [--polls 10000] [--backends sqlite postgresql]

Rows (issue 15.6 and 15.5):
  status req/s, 1 instance / 2 instances   signed `GET /v1/payments/{order}` back to back (closed loop)
                                           on --terminals keep-alive connections; with 2 instances the
                                           client spreads its connections over both (what an L4 load
                                           balancer does, without a proxy's cost on these same 2 cores)
  status: gateway CPU per request          the 1-instance run's gateway CPU time (user + system, all its
                                           threads) / requests answered: what the machine's load moves least
  held polls: memory per poll              --polls idle long polls (`?wait=600`, one connection each)
                                           held by ONE instance: (its RSS with them - before) / polls
  held polls: notification -> answer p99   a signed notifyPayment for one held poll's payment at a time,
                                           while all of them are held; from just before the
                                           notification is sent to that poll's answer (PAID)
  cross-instance notification -> answer    the poll held by instance B, the notification posted to
                                           instance A (PostgreSQL LISTEN/NOTIFY); p95

The gateways are real `python -m tools.gateway serve` processes (uvicorn, httptools, uvloop) on
127.0.0.1, PostgreSQL a throwaway cluster of its own (tests/postgres.py: fsync off, as a test
cluster), Antom the local sandbox. Terminals and payments are seeded into the database before the
gateways start (10,000 sandbox pays would measure the sandbox); the reconciler's first inquiry is
pushed past the run. The load generator is ONE asyncio process on uvloop with raw protocol
connections and requests signed before the clock starts; every answer's status is checked and one
in --verify-every answers has its signature verified. It shares the 2 cores with the gateways, so
every figure here is "gateway + client on one 2-core machine". Below the table, the ceiling: the
same client against uvicorn alone answering a fixed body (no signature, no database), which no
gateway on this machine can pass. Nothing is asserted: figures are printed as measured, goals
beside them.
"""
import argparse
import asyncio
import json
import os
import random
import resource
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tools.antom import signature  # noqa: E402
from tools.gateway import antom as antom_mod  # noqa: E402
from tools.gateway import credentials  # noqa: E402
from tools.gateway import terminal_auth as fast  # noqa: E402
from tools.gateway.testing import GatewayProcess, write_config  # noqa: E402

NOTIFY_PATH = "/antom/notify"
GOALS = {"status1": ">= 9,000 (SQLite), >= 5,000 (PostgreSQL)", "status2": "-", "cpu1": "-", "mem": "<= 20 KB",
         "p99": "<= 50 ms", "cross": "<= 50 ms"}


# --- a minimal HTTP/1.1 client ---------------------------------------------------------------------
class Conn(asyncio.Protocol):
    """One keep-alive connection; `send(raw)` returns a future of (status, headers_block, body)."""

    def __init__(self):
        self.transport = None
        self.buf = bytearray()
        self.waiting = []       # futures, in request order
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buf += data
        while self.waiting:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end])
            lower = head.lower()
            i = lower.find(b"content-length:")
            length = int(lower[i + 15:lower.find(b"\r\n", i) if lower.find(b"\r\n", i) > 0 else None]) if i >= 0 else 0
            if len(self.buf) < end + 4 + length:
                return
            body = bytes(self.buf[end + 4:end + 4 + length])
            del self.buf[:end + 4 + length]
            status = int(head[9:12])
            fut = self.waiting.pop(0)
            if not fut.done():
                fut.set_result((status, head, body))

    def connection_lost(self, exc):
        for fut in self.waiting:
            if not fut.done():
                fut.set_exception(ConnectionError("connection closed"))
        self.waiting = []
        if not self.closed.done():
            self.closed.set_result(None)

    def close(self):
        for fut in self.waiting:
            fut.cancel()
        self.waiting = []
        if self.transport is not None:
            self.transport.close()

    def send(self, raw):
        fut = asyncio.get_running_loop().create_future()
        self.waiting.append(fut)
        self.transport.write(raw)
        return fut


async def connect(port, tries=5):
    for attempt in range(tries):
        try:
            _t, conn = await asyncio.get_running_loop().create_connection(Conn, "127.0.0.1", port)
            return conn
        except (TimeoutError, ConnectionRefusedError):  # a full accept queue on a busy machine
            if attempt == tries - 1:
                raise
            await asyncio.sleep(0.5)


def header(head, name):
    lower = head.lower()
    i = lower.find(b"\r\n" + name + b":")
    if i < 0:
        return ""
    j = head.find(b"\r\n", i + 2)
    return head[i + 3 + len(name):j if j > 0 else None].decode("latin-1").strip()


def signed_get(terminal_id, secret, target, ts=None):
    """(raw request, target, nonce), signed now."""
    nonce = os.urandom(16).hex()
    ts = str(int(time.time()) if ts is None else ts)
    sig = fast.sign_request(secret, "GET", target, ts, nonce, b"")
    raw = ("GET %s HTTP/1.1\r\nHost: gw\r\nX-Terminal-Id: %s\r\nX-Timestamp: %s\r\nX-Nonce: %s\r\n"
           "X-Signature: %s\r\n\r\n" % (target, terminal_id, ts, nonce, sig)).encode()
    return raw, target, nonce


def verified(secret, status, target, nonce, head, body):
    return header(head, b"x-signature") == fast.sign_response(secret, status, target, nonce,
                                                            header(head, b"x-timestamp"), body)


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


# --- the fleet under test -------------------------------------------------------------------------
class Fleet:
    """Seeded database + gateway processes (started on demand) for one backend."""

    def __init__(self, tmp, sandbox, db, terminals, polls, max_wait):
        self.tmp, self.sandbox, self.db = tmp, sandbox, db
        self.instances = []
        self.cfgs = []
        self.kek = os.path.join(tmp, "kek", "terminal-secrets.key")
        self.max_wait = max_wait
        self.secrets = {}
        self.orders = []          # (terminal_id, order_id, payment_request_id, payment_id)
        self.payment_id = {}      # payment_request_id -> payment_id
        self.n_terminals, self.n_polls = terminals, polls

    def config(self, i):
        return write_config(os.path.join(self.tmp, "gw%d" % i), self.sandbox,
                            # limits (12.11) out of reach: thousands of held polls, terminals sending
                            # hundreds of requests a second (the checks still run)
                            gateway={"db": self.db, "kek_file": self.kek, "max_wait": self.max_wait,
                                     "max_connections": 100_000, "rate_limit": 1_000_000_000},
                            reconciler={"tick": 1.0, "first_inquiry_after": 3600.0, "inquiry_interval": 3.0,
                                        "expiry_grace": 2.0, "retry_interval": 3.0, "probe_interval": 60.0})

    def seed(self):
        """Terminals and PENDING payments straight into the database, in one transaction each."""
        gp = GatewayProcess(self.config(0))
        store = gp.store
        now = int(time.time())
        with store.transaction():
            for t in range(self.n_terminals):
                tid = "F%04d" % t
                self.secrets[tid] = credentials.new_secret()
                store.add_terminal(tid, self.secrets[tid], None)
        with store.transaction():
            for k in range(self.n_polls):
                t = k % self.n_terminals
                tid = "F%04d" % t
                oid = "%s-%d" % (tid, k // self.n_terminals)
                prid = antom_mod.payment_request_id(tid, oid)
                pid = "SEED%08d" % len(self.orders)
                store.insert_payment(terminal_id=tid, order_id=oid, payment_request_id=prid, amount=100,
                                     currency="USD", description="bench", status="PENDING", pay_body="{}",
                                     payment_id=pid, code_value="https://sandbox.invalid/c/" + pid,
                                     expires_at=now + 7200, next_check_at=now + 7200)
                self.orders.append((tid, oid, prid, pid))
                self.payment_id[prid] = pid
        gp.close_clients()
        self.gp0 = gp

    def start(self, n):
        while len(self.instances) < n:
            i = len(self.instances)
            gp = self.gp0 if i == 0 else GatewayProcess(self.config(i))
            gp.start()
            self.instances.append(gp)
        return self.instances[:n]

    def stop(self):
        for gp in self.instances:
            gp.stop()
        self.instances = []


def notification(prid, payment_id, sandbox_key, client_id, port):
    note = json.dumps({"notifyType": "PAYMENT_RESULT",
                       "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
                       "paymentRequestId": prid, "paymentId": payment_id,
                       "paymentAmount": {"currency": "USD", "value": "100"},
                       "paymentTime": "2026-12-01T18:00:00+00:00"}, separators=(",", ":")).encode()
    rt = str(int(time.time() * 1000))
    sig = signature.sign_message(sandbox_key, "POST", NOTIFY_PATH, client_id, rt, note)
    return ("POST %s HTTP/1.1\r\nHost: gw\r\nclient-id: %s\r\nrequest-time: %s\r\nsignature: %s\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % (NOTIFY_PATH, client_id, rt, sig, len(note))).encode() + note


# --- measurements ------------------------------------------------------------------------------------
async def status_rate(fleet, ports, seconds, verify_every, terminals, pids=()):
    """Closed-loop signed status requests over `terminals` connections spread over `ports`:
    (requests per second, CPU microseconds the processes `pids` spent per request)."""
    tids = sorted(fleet.secrets)[:terminals]
    first_order = {}
    for tid, oid, _prid, _pid in fleet.orders:
        first_order.setdefault(tid, oid)
    conns = [await connect(ports[i % len(ports)]) for i in range(len(tids))]
    per_conn = int(12000 * (seconds + 1.5) / len(conns)) + 10
    pools = []
    for tid in tids:  # signed before the clock starts
        target = "/v1/payments/" + first_order[tid]
        pools.append([signed_get(tid, fleet.secrets[tid], target) for _ in range(per_conn)])
    counts = [0]
    bad = [0]

    async def loop(i, deadline, count):
        conn, pool, tid = conns[i], pools[i], tids[i]
        secret = fleet.secrets[tid]
        n = 0
        while time.perf_counter() < deadline:
            raw, target, nonce = pool.pop() if pool else signed_get(tid, secret, target_of[i])
            status, head, body = await conn.send(raw)
            n += 1
            if status != 200 or (n % verify_every == 0 and not verified(secret, status, target, nonce, head, body)):
                bad[0] += 1
        if count:
            counts[0] += n

    target_of = ["/v1/payments/" + first_order[t] for t in tids]
    warm = time.perf_counter() + 1.0
    await asyncio.gather(*(loop(i, warm, False) for i in range(len(conns))))
    ticks = sum(cpu_ticks(pid) for pid in pids)
    start = time.perf_counter()
    await asyncio.gather(*(loop(i, start + seconds, True) for i in range(len(conns))))
    took = time.perf_counter() - start
    ticks = sum(cpu_ticks(pid) for pid in pids) - ticks
    for c in conns:
        c.close()
    if bad[0]:
        raise AssertionError("%d status answers were not 200 or did not verify" % bad[0])
    return counts[0] / took, 1e6 * ticks / os.sysconf("SC_CLK_TCK") / max(1, counts[0])


BARE_APP = """
BODY = b'{"order_id":"F0000-0","status":"PENDING","amount":100,"currency":"USD","expires_at":1800000000,' \\
       b'"code_value":"https://sandbox.invalid/c/SEED00000000","reason":null,"late":false}'
HEAD = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope, receive, send):
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": HEAD})
        await send({"type": "http.response.body", "body": BODY})
"""


async def bare_uvicorn_rate(tmp, seconds, terminals):
    """The ceiling of this machine and client: uvicorn (httptools, uvloop) serving a fixed answer of
    a status answer's size with no work at all, the same closed loop on the same connections."""
    import socket
    import subprocess
    folder = os.path.join(tmp, "bare")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "bare_app.py"), "w") as f:
        f.write(BARE_APP)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--app-dir", folder, "bare_app:app", "--port", str(port),
                             "--http", "httptools", "--loop", "uvloop", "--log-level", "warning", "--no-access-log"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        conns = None
        deadline = time.monotonic() + 30
        while conns is None:
            try:
                conns = [await connect(port) for _ in range(terminals)]
            except OSError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
        raw = b"GET /v1/payments/F0000-0 HTTP/1.1\r\nHost: gw\r\n\r\n"
        counts = [0]

        async def loop(conn, deadline, count):
            n = 0
            while time.perf_counter() < deadline:
                status, _h, _b = await conn.send(raw)
                n += 1
            if count:
                counts[0] += n
        warm = time.perf_counter() + 1.0
        await asyncio.gather(*(loop(c, warm, False) for c in conns))
        ticks = cpu_ticks(proc.pid)
        start = time.perf_counter()
        await asyncio.gather(*(loop(c, start + seconds, True) for c in conns))
        took = time.perf_counter() - start
        ticks = cpu_ticks(proc.pid) - ticks
        for c in conns:
            c.close()
        return counts[0] / took, 1e6 * ticks / os.sysconf("SC_CLK_TCK") / max(1, counts[0])
    finally:
        proc.terminate()
        proc.wait()


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


async def settle(pid, quiet=0.5, limit=60):
    """Wait until the process uses (almost) no CPU for `quiet` seconds."""
    deadline = time.monotonic() + limit
    last = cpu_ticks(pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(quiet)
        now = cpu_ticks(pid)
        if now - last <= 1:
            return
        last = now


async def hold_polls(fleet, port, orders, wait):
    """One connection per order, each with an idle long poll parked at the gateway."""
    sem = asyncio.Semaphore(100)
    held = {}

    async def one(order):
        tid, oid, prid, pid = order
        async with sem:
            conn = await connect(port)
            raw, target, nonce = signed_get(tid, fleet.secrets[tid], "/v1/payments/%s?wait=%d" % (oid, wait))
            held[prid] = (conn, conn.send(raw), tid, target, nonce)
    await asyncio.gather(*(one(o) for o in orders))
    return held


async def notify_to_answer(held, samples, notify_port, sandbox_key, client_id, fleet):
    """Notify one held poll's payment at a time; seconds from sending to that poll's answer."""
    sender = await connect(notify_port)
    delays = []
    for prid in samples:
        conn, answer, tid, target, nonce = held[prid]
        pid = fleet.payment_id[prid]
        raw = notification(prid, pid, sandbox_key, client_id, notify_port)
        t0 = time.perf_counter()
        ack = sender.send(raw)
        status, head, body = await asyncio.wait_for(answer, 30)
        delays.append(time.perf_counter() - t0)
        if status != 200 or json.loads(body)["status"] != "PAID" or not verified(
                fleet.secrets[tid], status, target, nonce, head, body):
            raise AssertionError("a woken poll did not answer PAID, verified: %r" % body[:200])
        ack_status, _h, _b = await ack
        assert ack_status == 200
    sender.close()
    return delays


async def measure_backend(name, fleet, args, sandbox_key, client_id, out):
    orders = list(fleet.orders)
    random.Random(15).shuffle(orders)
    # 1 instance, then 2
    (a,) = fleet.start(1)
    out["status1"], out["cpu1"] = await status_rate(fleet, [a.port], args.seconds, args.verify_every,
                                                    args.terminals, pids=[a.process.pid])
    a2, b = fleet.start(2)
    out["status2"], _cpu = await status_rate(fleet, [a.port, b.port], args.seconds, args.verify_every,
                                             args.terminals)
    # cross-instance: polls held by B, notifications posted to A
    cross_orders, orders = orders[:args.cross], orders[args.cross:]
    held = await hold_polls(fleet, b.port, cross_orders, args.wait)
    await settle(b.process.pid)
    if name == "postgresql":
        delays = await notify_to_answer(held, [o[2] for o in cross_orders], a.port, sandbox_key, client_id, fleet)
        out["cross"] = "p95 %.1f ms" % (1000 * pct(delays, 95))
        out["cross_detail"] = (len(delays), pct(delays, 50), pct(delays, 95), max(delays))
    else:
        out["cross"] = "n/a (in-process wake-ups)"
    for conn, *_ in held.values():
        conn.close()
    # B goes; A holds --polls idle long polls
    b.stop()
    fleet.instances = fleet.instances[:1]
    await settle(a.process.pid)
    before = rss_kb(a.process.pid)
    t0 = time.monotonic()
    poll_orders = orders[:args.polls]
    held = await hold_polls(fleet, a.port, poll_orders, args.wait)
    await settle(a.process.pid)
    took = time.monotonic() - t0
    after = rss_kb(a.process.pid)
    answered_early = sum(1 for v in held.values() if v[1].done())
    out["mem"] = (after - before) / float(len(held))
    out["mem_detail"] = (len(held), before, after, took, answered_early)
    samples = [o[2] for o in random.Random(6).sample(poll_orders, min(args.notifications, len(poll_orders)))]
    delays = await notify_to_answer(held, samples, a.port, sandbox_key, client_id, fleet)
    out["p99"] = pct(delays, 99)
    out["p99_detail"] = (len(delays), pct(delays, 50), pct(delays, 95), max(delays))
    still = sum(1 for v in held.values() if not v[1].done())
    out["still_held"] = still
    for conn, *_ in held.values():
        conn.close()
    return out


def raise_file_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, need)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        sys.exit("the file limit is %d (hard %d): %d polls need about %d; lower --polls or raise "
                 "the hard limit (ulimit -Hn)" % (soft, hard, need // 1 - 500, need))
    return soft


def table(results, args, limit):
    rows = []
    cols = [b for b in ("sqlite", "postgresql") if b in results]
    label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}

    def cell(b, key):
        r = results[b]
        v = r.get(key)
        if v is None:
            return "not measured (below)" if "error" in r else "-"
        if key.startswith("status"):
            return "%s req/s" % format(int(round(v)), ",")
        if key == "mem":
            return "%.1f KB" % v
        if key == "cpu1":
            return "%d us" % round(v)
        if key == "p99":
            return "%.1f ms" % (1000 * v)
        return str(v)

    names = [("status1", "status req/s, 1 instance"), ("status2", "status req/s, 2 instances"),
             ("cpu1", "status: gateway CPU per request, 1 instance"),
             ("mem", "%s idle long polls on 1 instance: memory per poll" % format(args.polls, ",")),
             ("p99", "notification -> answer p99, %s polls held" % format(args.polls, ",")),
             ("cross", "cross-instance notification -> answer (B holds, A notified)")]
    head = ["measurement"] + [label[b] for b in cols] + ["goal"]
    for key, name in names:
        rows.append([name] + [cell(b, key) for b in cols] + [GOALS[key]])
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"
    out = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows]
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each status run")
    parser.add_argument("--terminals", type=int, default=200, help="terminals (status connections)")
    parser.add_argument("--polls", type=int, default=10000, help="idle long polls held by one instance")
    parser.add_argument("--poll-terminals", type=int, default=2000, help="terminals the held polls belong to")
    parser.add_argument("--notifications", type=int, default=500, help="notification -> answer samples")
    parser.add_argument("--cross", type=int, default=300, help="cross-instance samples")
    parser.add_argument("--wait", type=int, default=600, help="the long polls' ?wait= (s)")
    parser.add_argument("--verify-every", type=int, default=16, help="verify one answer signature in N")
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    limit = raise_file_limit(args.polls + 1500)
    load_start = os.getloadavg()[0]

    import uvloop
    from tools.sandbox.testing import running_sandbox
    results = {}
    cluster = None
    details = []
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp, running_sandbox(time_scale=1.0) as sb:
        with open(os.path.join(sb.data_dir, "sandbox_private.pem"), "rb") as f:
            sandbox_key = signature.load_private_key(f.read())
        try:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                bare = runner.run(bare_uvicorn_rate(tmp, args.seconds, args.terminals))
            details.append("ceiling: uvicorn (httptools, uvloop) answering a fixed status-sized body with no work, "
                           "same client and %d connections: %s req/s, %d us of its CPU per request" % (
                               args.terminals, format(int(round(bare[0])), ","), round(bare[1])))
            for backend in args.backends:
                if backend == "sqlite":
                    db = os.path.join(tmp, "sqlite", "gateway.sqlite3")
                    os.makedirs(os.path.dirname(db), mode=0o700)
                else:
                    from tests.postgres import Cluster
                    if cluster is None:
                        pg_parent = tempfile.mkdtemp(prefix="bench-fleet-pg-")
                        cluster = Cluster.start(pg_parent)
                    db = cluster.create_database("bench_fleet")
                n_terminals = max(args.terminals, args.poll_terminals)
                fleet = Fleet(os.path.join(tmp, backend), sb, db, n_terminals, args.polls + args.cross, args.wait)
                t0 = time.monotonic()
                fleet.seed()
                seeded = time.monotonic() - t0
                partial = {}
                try:
                    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                        results[backend] = runner.run(measure_backend(backend, fleet, args, sandbox_key,
                                                                      sb.client_id, partial))
                except Exception as e:  # the table still prints what was measured, and why the rest is not
                    for gp in fleet.instances:
                        print("--- %s log ---\n%s" % (gp.log_path, open(gp.log_path).read()[-2000:]))
                    partial["error"] = "%s: %s" % (type(e).__name__, e)
                    results[backend] = partial
                    details.append("%s: stopped by %s" % (backend, partial["error"]))
                    continue
                finally:
                    fleet.stop()
                r = results[backend]
                n, before, after, took, early = r["mem_detail"]
                details.append("%s: seeded %d terminals, %d payments in %.1f s; %d polls held in %.1f s "
                               "(RSS %d -> %d KB; %d answered before their notification, %d still held at the end); "
                               "notification -> answer n=%d p50 %.1f p95 %.1f max %.1f ms" % (
                                   backend, n_terminals, len(fleet.orders), seeded, n, took, before, after, early,
                                   r["still_held"], r["p99_detail"][0], 1000 * r["p99_detail"][1],
                                   1000 * r["p99_detail"][2], 1000 * r["p99_detail"][3]))
                if "cross_detail" in r:
                    c = r["cross_detail"]
                    details.append("%s cross-instance: n=%d p50 %.1f p95 %.1f max %.1f ms" % (
                        backend, c[0], 1000 * c[1], 1000 * c[2], 1000 * c[3]))
        finally:
            if cluster is not None:
                cluster.stop()
    print()
    print("Fleet bench: %d CPUs, %d terminals (status), status runs %.0f s each, file limit %d; "
          "load average %.1f at the start, %.1f at the end (other work on the machine)" % (
              os.cpu_count(), args.terminals, args.seconds, limit, load_start, os.getloadavg()[0]))
    print(table(results, args, limit))
    for d in details:
        print("  " + d)


if __name__ == "__main__":
    main()
