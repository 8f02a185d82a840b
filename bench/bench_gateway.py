"""Gateway benchmark: many simulated terminals against a real gateway subprocess (and a real sandbox).

    .venv/bin/python bench/bench_gateway.py [--terminals 500] [--seconds 10] [--notifications 200]

1. Status throughput: every terminal keeps one HTTP/1.1 keep-alive connection and sends signed
   `GET /v1/payments/{order}` requests back to back (closed loop) for --seconds; each answer's
   signature is verified. Reports requests/s and p50/p99 latency.
2. Notification -> long-poll delay: terminals hold `?wait=25` long polls; a notifyPayment signed with
   the sandbox's key is posted to the gateway for one payment at a time; the delay is measured from
   just before the notification is sent to the arrival of that terminal's answer (PAID), while the
   other terminals send --notify-load status requests per second (0: idle).

The gateway runs as `python -m tools.gateway serve` (one uvicorn process, httptools on uvloop). The load generator is a single asyncio process with a minimal
HTTP/1.1 client (httpx would cost more CPU than the server on this 2-core machine). The reconciler's
first inquiry is pushed past the measurement window so the figures are the terminal API's own.
"""
import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tools.gateway import terminal_auth as fast  # noqa: E402
from tools.antom import signature  # noqa: E402
from tools.gateway import credentials  # noqa: E402
from tools.gateway.testing import GatewayProcess, write_config  # noqa: E402


class Conn:
    """One keep-alive HTTP/1.1 connection speaking signed terminal requests."""

    def __init__(self, host, port, terminal_id, secret):
        self.host, self.port = host, port
        self.terminal_id, self.secret = terminal_id, secret
        self.reader = self.writer = None

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method, target, body=b""):
        nonce = os.urandom(16).hex()
        ts = str(int(time.time()))
        # the same strings as firmware/link/auth.py, signed with CPython's C HMAC: the load generator
        # shares the 2 cores with the gateway, so it should cost as little as it can
        sig = fast.sign_request(self.secret, method, target, ts, nonce, body)
        head = ("%s %s HTTP/1.1\r\nHost: %s\r\nX-Terminal-Id: %s\r\nX-Timestamp: %s\r\nX-Nonce: %s\r\n"
                "X-Signature: %s\r\nContent-Length: %d\r\n\r\n" % (method, target, self.host, self.terminal_id, ts,
                                                                   nonce, sig, len(body)))
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        headers = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        raw = await self.reader.readexactly(int(headers["content-length"]))
        expected = fast.sign_response(self.secret, status, target, nonce, headers.get("x-timestamp", ""), raw)
        if headers.get("x-signature") != expected:
            raise AssertionError("answer does not verify")
        return status, raw

    def close(self):
        if self.writer:
            self.writer.close()


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


async def setup_payments(conns, order_of):
    sem = asyncio.Semaphore(32)

    async def one(c):
        async with sem:
            body = json.dumps({"order_id": order_of[c.terminal_id], "amount": 100, "currency": "USD",
                               "description": "bench"}).encode()
            status, raw = await c.request("POST", "/v1/payments", body)
            assert status == 200, raw
    await asyncio.gather(*(one(c) for c in conns))


async def status_load(conns, order_of, seconds, latencies, stop):
    deadline = time.monotonic() + seconds

    async def loop(c):
        target = "/v1/payments/" + order_of[c.terminal_id]
        while time.monotonic() < deadline and not stop.is_set():
            t0 = time.perf_counter()
            status, _raw = await c.request("GET", target)
            latencies.append(time.perf_counter() - t0)
            assert status == 200

    await asyncio.gather(*(loop(c) for c in conns))


async def paced_load(conns, order_of, rate, seconds, latencies):
    """Open loop: each terminal sends at rate/len(conns) per second on a fixed schedule; latency is
    measured from the scheduled send time, so falling behind shows up (no coordinated omission)."""
    interval = len(conns) / rate
    start = time.perf_counter() + 0.1
    end = start + seconds

    async def loop(i, c):
        target = "/v1/payments/" + order_of[c.terminal_id]
        k = 0
        while True:
            scheduled = start + (i / len(conns)) * interval + k * interval
            if scheduled >= end:
                break
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            status, _raw = await c.request("GET", target)
            latencies.append(time.perf_counter() - scheduled)
            assert status == 200
            k += 1

    await asyncio.gather(*(loop(i, c) for i, c in enumerate(conns)))
    return time.perf_counter() - start


async def notify_delays(gp, pollers, order_of, count, sandbox_key, client_id):
    """Long polls on `pollers`; notify one payment at a time; delay until its poll answers."""
    notify_path = "/antom/notify"
    delays = []
    host, port = "127.0.0.1", gp.port
    for i in range(count):
        c = pollers[i % len(pollers)]
        order = order_of[c.terminal_id] + "-n%d" % i
        body = json.dumps({"order_id": order, "amount": 100, "currency": "USD", "description": "bench"}).encode()
        status, raw = await c.request("POST", "/v1/payments", body)
        assert status == 200, raw
        created = json.loads(raw)
        poll = asyncio.ensure_future(c.request("GET", "/v1/payments/%s?wait=25" % order))
        await asyncio.sleep(0.02)  # the poll is parked at the gateway
        note = json.dumps({"notifyType": "PAYMENT_RESULT",
                           "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
                           "paymentRequestId": "%s.%s" % (c.terminal_id, order), "paymentId": created["payment_id"],
                           "paymentAmount": {"currency": "USD", "value": "100"},
                           "paymentTime": "2026-11-25T18:00:00+00:00"}, separators=(",", ":")).encode()
        rt = str(int(time.time() * 1000))
        sig = signature.sign_message(sandbox_key, "POST", notify_path, client_id, rt, note)
        r, w = await asyncio.open_connection(host, port)
        t0 = time.perf_counter()
        w.write(("POST %s HTTP/1.1\r\nHost: x\r\nclient-id: %s\r\nrequest-time: %s\r\nsignature: %s\r\n"
                 "Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                 % (notify_path, client_id, rt, sig, len(note))).encode() + note)
        status, raw = await poll
        delays.append(time.perf_counter() - t0)
        assert json.loads(raw)["status"] == "PAID", raw
        await r.read()
        w.close()
    return delays


async def main_async(args, gp, secrets, sandbox_key, client_id):
    conns = [Conn("127.0.0.1", gp.port, tid, s) for tid, s in secrets.items()]
    await asyncio.gather(*(c.open() for c in conns))
    order_of = {tid: tid + "-1" for tid in secrets}
    t0 = time.monotonic()
    await setup_payments(conns, order_of)
    print("created %d payments through the gateway in %.1f s" % (len(conns), time.monotonic() - t0))

    # warm-up, then measure
    await status_load(conns, order_of, 1.0, [], asyncio.Event())
    latencies = []
    started = time.monotonic()
    await status_load(conns, order_of, args.seconds, latencies, asyncio.Event())
    took = time.monotonic() - started
    rate = len(latencies) / took
    print("status: %d terminals, %d requests in %.1f s = %.0f req/s; latency p50 %.1f ms, p99 %.1f ms "
          "(signed requests, verified answers)" % (len(conns), len(latencies), took, rate,
                                                    1000 * pct(latencies, 50), 1000 * pct(latencies, 99)))

    for offered in args.rate:
        lat = []
        took = await paced_load(conns, order_of, offered, args.seconds, lat)
        print("status at an offered %d req/s (open loop, %d terminals): achieved %.0f req/s; latency p50 %.1f ms, "
              "p99 %.1f ms" % (offered, len(conns), len(lat) / took, 1000 * pct(lat, 50), 1000 * pct(lat, 99)))

    # notification -> long-poll answer, with the status load running on the other terminals
    pollers = [Conn("127.0.0.1", gp.port, tid, s) for tid, s in list(secrets.items())[:10]]
    await asyncio.gather(*(c.open() for c in pollers))
    background = None
    if args.notify_load:
        loaders = conns[10:]
        background = asyncio.ensure_future(paced_load(loaders, order_of, args.notify_load, 3600, []))
        await asyncio.sleep(1.0)
    delays = await notify_delays(gp, pollers, order_of, args.notifications, sandbox_key, client_id)
    if background:
        background.cancel()
        try:
            await background
        except asyncio.CancelledError:
            pass
    print("notification -> long-poll answer (%s): n=%d p50 %.1f ms, p95 %.1f ms, max %.1f ms" % (
        "with %d other terminals sending %d status req/s" % (len(conns) - 10, args.notify_load)
        if args.notify_load else "idle", len(delays),
        1000 * pct(delays, 50), 1000 * pct(delays, 95), 1000 * max(delays)))
    for c in conns + pollers:
        c.close()
    return rate, latencies, delays


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--terminals", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--notifications", type=int, default=200)
    parser.add_argument("--rate", type=int, nargs="*", default=[2000, 1000, 500],
                        help="offered status rates (req/s) for the open-loop latency runs")
    parser.add_argument("--notify-load", type=int, default=500,
                        help="status req/s the other terminals send while notification delays are measured (0: idle)")
    parser.add_argument("--profile", help="run the gateway under cProfile, writing this file")
    args = parser.parse_args()

    from tools.sandbox.testing import running_sandbox
    with tempfile.TemporaryDirectory(prefix="bench-gw-") as tmp, running_sandbox(time_scale=1.0) as sb:
        cfg_path = write_config(os.path.join(tmp, "gw"), sb,
                                # the per-terminal rate check runs on every request (its cost is in
                                # the figures) but never refuses: each terminal here sends far more
                                # than one at a shop counter would
                                gateway={"rate_limit": 1_000_000_000},
                                reconciler={"tick": 0.5, "first_inquiry_after": 3600.0, "inquiry_interval": 3.0,
                                            "expiry_grace": 2.0, "retry_interval": 3.0, "probe_interval": 30.0})
        gp = GatewayProcess(cfg_path, python_args=["-m", "cProfile", "-o", args.profile] if args.profile else ())
        secrets = {}
        for i in range(args.terminals):
            tid = "B%04d" % i
            secrets[tid] = credentials.new_secret()
            gp.store.add_terminal(tid, secrets[tid], None)
        gp.start()
        with open(os.path.join(sb.data_dir, "sandbox_private.pem"), "rb") as f:
            sandbox_key = signature.load_private_key(f.read())
        print("gateway pid %d on port %d; machine: %d CPUs" % (gp.process.pid, gp.port, os.cpu_count()))
        try:
            asyncio.run(main_async(args, gp, secrets, sandbox_key, sb.client_id))
        except BaseException:
            print("--- gateway log ---\n" + open(gp.log_path).read()[-3000:])
            raise
        finally:
            if args.profile:  # SIGINT lets cProfile write its file
                gp.process.send_signal(signal.SIGINT)
                gp.process.wait(15)
            gp.stop()


if __name__ == "__main__":
    main()
