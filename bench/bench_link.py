"""Benchmark the terminal's network link on the MicroPython engine, counted at the server side.

    .venv/bin/python bench/bench_link.py [--sales 20] [--cancels 20]

The real sandbox and gateway on loopback; the gateway served over TLS (a test CA) behind a
counting TCP proxy (tests/link/proxy.py) and a request counter (tests/link/servers.py); one
simulated terminal on the MicroPython engine (the unmodified firmware in the unix port, https
through firmware/link/http.py on mbedTLS). After a first sale has warmed both lanes, N paid sales
and M cancelled ones. Printed:
- sockets to the gateway open at once, at most (proxy);
- threads of the terminal's MicroPython process started after boot (/proc/PID/task);
- TLS handshakes (ClientHellos at the proxy) per request the gateway received, on the warm link;
- cancel key -> 'cancelling' on screen: from the keystroke reaching the simulator to the checking
  screen that says cancelling, while the long poll is outstanding (p50, p95).
"""
import argparse
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def pct(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def _children(pid):
    out = []
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def _micropython_pid(sim_pid, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in _children(sim_pid):
            try:
                with open("/proc/%d/cmdline" % child, "rb") as f:
                    if b"micropython" in f.read():
                        return child
            except OSError:
                pass
        time.sleep(0.05)
    raise RuntimeError("no MicroPython process under the simulator")


def _threads(pid):
    return len(os.listdir("/proc/%d/task" % pid))


def run(sales, cancels):
    from tests.link.proxy import CountingProxy
    from tests.link.servers import TlsGateway
    from tools.gateway.testing import running_gateway, write_config
    from tools.sandbox.testing import running_sandbox
    from tools.sim.control import SimProcess
    from tools.sim.control import write_config as terminal_config

    tmp = tempfile.mkdtemp(prefix="bench-link-")
    cancelling = []
    threads_seen = []
    with running_sandbox(client_id="SANDBOX_BENCH", time_scale=0.001) as sb:
        with running_gateway(write_config(os.path.join(tmp, "gw"), sb)) as gw:
            tls = TlsGateway(gw, os.path.join(tmp, "tls"))
            proxy = CountingProxy(tls.port)
            secret = gw.add_terminal("K1", pin="123456")
            flash = os.path.join(tmp, "flash")
            terminal_config(flash, "https://localhost:%d" % proxy.port, "K1", secret,
                            gateway={"ca_cert": tls.ca_pem})
            term = SimProcess(flash, engine="micropython").start()
            try:
                term.wait_ready(timeout=60)
                mpy = _micropython_pid(term.proc.pid)
                booted = _threads(mpy)

                def sale(i, pay):
                    term.keys(str(1000 + i), "ok")
                    qr = term.wait_screen("qr", timeout=30)
                    threads_seen.append(_threads(mpy))
                    time.sleep(0.3)  # the customer scans; the long poll is outstanding
                    if pay:
                        sb.pay(qr["code"])
                    else:
                        sent = time.monotonic()
                        term.keys("cancel")
                        ev = term.wait(lambda e: e.get("event") == "screen" and e.get("screen") == "checking",
                                       timeout=30)
                        cancelling.append((ev["host_t"] - sent) * 1000)
                    res = term.wait_result(timeout=30)
                    threads_seen.append(_threads(mpy))
                    term.keys("ok")
                    term.wait_screen("idle", timeout=30)
                    return res["state"]

                sale(0, True)  # warms both lanes
                hellos0, requests0 = proxy.hellos, tls.app.requests
                states = [sale(1 + i, True) for i in range(sales)]
                states += [sale(1 + sales + i, False) for i in range(cancels)]
                threads_seen.append(_threads(mpy))
                hellos, calls = proxy.hellos - hellos0, tls.app.requests - requests0
                engine = term.engine
            finally:
                term.stop()
                proxy.close()
                tls.stop()
    print("Link on the %s engine, https through a counting proxy: %d paid + %d cancelled sales after a "
          "warm-up sale; final states %s" % (engine or "MicroPython", sales, cancels, ",".join(sorted(set(states)))))
    print("  sockets to the gateway open at once, at most: %d (all %d connections of the run)"
          % (proxy.max_open, proxy.accepted))
    print("  threads of the MicroPython process: %d after boot, at most %d during the sales: %d started after boot"
          % (booted, max(threads_seen), max(threads_seen) - booted))
    print("  TLS handshakes on the warm link: %d for %d requests the gateway received (%.3f per call)"
          % (hellos, calls, hellos / float(calls or 1)))
    print("  cancel key -> 'cancelling' on screen (1): p50 %.1f ms, p95 %.1f ms, max %.1f ms (n=%d)"
          % (pct(cancelling, 50), pct(cancelling, 95), max(cancelling), len(cancelling)))
    print("  (1) from the keystroke reaching the simulator: includes the 60 ms key hold and the 30 ms debounce")
    print("link: at most %d sockets, %d threads after boot, %.3f TLS handshakes per call on a warm link; "
          "cancel key -> cancelling p95 %.0f ms"
          % (proxy.max_open, max(threads_seen) - booted, hellos / float(calls or 1), pct(cancelling, 95)))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sales", type=int, default=20)
    p.add_argument("--cancels", type=int, default=20)
    args = p.parse_args(argv)
    run(args.sales, args.cancels)
    return 0


if __name__ == "__main__":
    sys.exit(main())
