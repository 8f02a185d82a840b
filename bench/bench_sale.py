"""Benchmark whole sales: memory inside the real MicroPython, latency in the simulator.

    .venv/bin/python bench/bench_sale.py [--sales 30] [--mpy-sales 100]

1. Inside the WebAssembly MicroPython (tests/firmware/mpy_sales.py): the flow, the signed gateway
   client, the journal and the screens run N whole paid sales against an in-process fake gateway
   (each sale a new order code, so each encodes a new QR). Printed: bytes allocated per sale
   (every byte, garbage included) and the heap in use after a collection, after sale 1, 5 and N
   (no growth = the last two equal).
2. In the simulator (sandbox + gateway + one simulated terminal, all real, on loopback), N sales:
   - cashier OK -> QR on screen: from the flow taking the OK key (state CREATING) to the QR screen
     drawn, on the terminal's own clock;
   - payment -> PAID on screen: from the wallet's pay call returning to the PAID screen drawn
     (both on this machine's clock; includes Antom's notification to the gateway and the long poll);
   - cancel key -> "cancelling" on screen while the long poll is outstanding, and -> CANCELLED.
   p50 and p95 of each.
"""
import argparse
import os
import statistics
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


def line(name, values, unit="ms"):
    print("  %-42s p50 %7.1f %s   p95 %7.1f %s   max %7.1f %s   (n=%d)" % (
        name, pct(values, 50), unit, pct(values, 95), unit, max(values), unit, len(values)))


def bench_micropython(n):
    from tests.firmware.mpy_sales import run_sales

    t0 = time.monotonic()
    r = run_sales(n)
    took = time.monotonic() - t0
    alloc = r["allocated"]
    kept = r["retained"]
    print("MicroPython (WebAssembly 1.27), %d whole paid sales, in-process fake gateway:" % n)
    print("  bytes allocated per sale: first %d, then median %d, max %d" % (
        alloc[0], statistics.median(alloc[1:]), max(alloc[1:])))
    print("  heap in use after a collection: after sale 1 %d, sale 5 %d, sale %d %d (growth 5->%d: %d bytes)" % (
        kept[0], kept[4], n, kept[-1], n, kept[-1] - kept[4]))
    print("  final states: %s; %.1f s for all (WebAssembly on this machine, not an ESP32 figure)" % (
        ",".join(sorted(set(r["states"]))), took))


def bench_simulator(n):
    from tools.gateway.testing import running_gateway, write_config
    from tools.sandbox.testing import running_sandbox
    from tools.sim.control import SimProcess
    from tools.sim.control import write_config as terminal_config

    tmp = tempfile.mkdtemp(prefix="bench-sale-")
    ok_to_qr, pay_to_paid, cancel_screen, cancel_final = [], [], [], []
    with running_sandbox(client_id="SANDBOX_BENCH", time_scale=0.001) as sb:
        with running_gateway(write_config(os.path.join(tmp, "gw"), sb)) as gw:
            secret = gw.add_terminal("B1", pin="123456")
            flash = os.path.join(tmp, "flash")
            terminal_config(flash, gw.base_url, "B1", secret)
            term = SimProcess(flash).start()
            try:
                term.wait_ready(timeout=30)
                for i in range(n):
                    term.keys(str(1000 + i), "ok")
                    creating = term.wait_state("CREATING")
                    qr = term.wait_screen("qr")
                    ok_to_qr.append(qr["t"] - creating["t"])
                    time.sleep(0.3)  # the customer scans and confirms; the long poll is outstanding
                    sb.pay(qr["code"])
                    paid_at = time.monotonic()
                    res = term.wait(lambda e: e.get("event") == "screen" and e.get("screen") == "result")
                    pay_to_paid.append((res["host_t"] - paid_at) * 1000)
                    term.keys("ok")
                    term.wait_screen("idle")
                for i in range(max(10, n // 3)):
                    term.keys(str(2000 + i), "ok")
                    term.wait_screen("qr")
                    time.sleep(0.3)
                    sent = time.monotonic()
                    term.keys("cancel")
                    ev = term.wait(lambda e: e.get("event") == "screen" and e.get("screen") == "checking")
                    cancel_screen.append((ev["host_t"] - sent) * 1000)
                    res = term.wait_result()
                    cancel_final.append((res["host_t"] - sent) * 1000)
                    term.keys("ok")
                    term.wait_screen("idle")
            finally:
                term.stop()
    print("Simulator (real sandbox + gateway + terminal process on loopback), %d sales:" % n)
    line("cashier OK -> QR on screen", ok_to_qr)
    line("payment -> PAID on screen", pay_to_paid)
    line("cancel key -> 'cancelling' on screen (1)", cancel_screen)
    line("cancel key -> CANCELLED on screen (1)", cancel_final)
    print("  (1) from the keystroke reaching the simulator: includes the 60 ms key hold and the 30 ms debounce")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sales", type=int, default=30)
    p.add_argument("--mpy-sales", type=int, default=100)
    args = p.parse_args(argv)
    bench_micropython(args.mpy_sales)
    bench_simulator(args.sales)
    return 0


if __name__ == "__main__":
    sys.exit(main())
