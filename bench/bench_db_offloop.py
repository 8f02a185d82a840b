"""Database calls off the event loop (issue 15.4): the gateway's answers while its database is busy.

    .venv/bin/python bench/bench_db_offloop.py [--seconds 8] [--hold 0.25] [--writers 2] [--backends sqlite postgresql]

For each backend, the same run twice: store calls made on the event loop (as before 15.4:
bench/gateway_inline_db.py) and through the thread pool (tools/gateway/dbcalls.py). During the run
another process keeps the database busy: it holds the write lock for --hold seconds, lets go for
0.05 s, and again (SQLite: BEGIN IMMEDIATE on the gateway's file; PostgreSQL: the write
transactions' advisory lock), while --writers terminals send heartbeats (one write each) back to
back. Two figures, printed one line per run:

  loop stall    GET /healthz (no database work) every 20 ms: its worst and p99 answer time. With
                store calls on the loop, a heartbeat waiting for the lock stalls every answer.
  late poll     long polls `?wait=1` on a payment that stays PENDING: how much later than 1 s they
                are answered (p50, max). The poll's own read needs no lock (WAL / MVCC).

The gateway is a real `python -m tools.gateway serve` process, Antom the local sandbox, PostgreSQL
a throwaway cluster (tests/postgres.py). Nothing is asserted: the figures are printed as measured.
"""
import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time

import httpx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tools.gateway.db_postgres import WRITE_LOCK  # noqa: E402
from tools.gateway.testing import FAST_RECONCILER, GatewayProcess, write_config  # noqa: E402

INLINE = [os.path.join(ROOT, "bench", "gateway_inline_db.py")]


def hold_lock(db, hold, stop):
    """Another process's long write transactions, back to back (a thread here, its own connection)."""
    if "://" in db:
        import psycopg
        conn = psycopg.connect(db, autocommit=True)
        while not stop.is_set():
            conn.execute("SELECT pg_advisory_lock(%s)", (WRITE_LOCK,))
            time.sleep(hold)
            conn.execute("SELECT pg_advisory_unlock(%s)", (WRITE_LOCK,))
            time.sleep(0.05)
        conn.close()
        return
    import sqlite3
    conn = sqlite3.connect(db, isolation_level=None, timeout=30)
    while not stop.is_set():
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE terminals SET heartbeat=heartbeat WHERE 1=0")
        time.sleep(hold)
        conn.execute("COMMIT")
        time.sleep(0.05)
    conn.close()


def run(backend, mode, db, sandbox, folder, seconds, hold, writers):
    os.makedirs(folder, mode=0o700)
    cfg = write_config(folder, sandbox, db=db, reconciler=dict(FAST_RECONCILER, first_inquiry_after=3600.0,
                                                              inquiry_interval=3600.0))
    gp = GatewayProcess(cfg, python_args=INLINE if mode == "inline" else ())
    gp.start(timeout=60)
    stop = threading.Event()
    stalls, late, errors = [], [], []
    order = "BUSY-%s-%s" % (backend[:2], mode)  # one sandbox for every run: an order id of its own
    try:
        for i in range(writers + 1):
            gp.add_terminal("B%d" % i)
        poller = gp.client("B0", timeout=30)
        created = poller.create(order, 100, "USD", "bench")
        assert created.body["status"] == "PENDING", created.body

        def probe():
            with httpx.Client(timeout=30) as http:
                while not stop.is_set():
                    t0 = time.perf_counter()
                    http.get(gp.base_url + "/healthz")
                    stalls.append(time.perf_counter() - t0)
                    time.sleep(0.02)

        def poll():
            while not stop.is_set():
                t0 = time.perf_counter()
                r = poller.status(order, wait=1)
                if r.status != 200 or r.body["status"] != "PENDING":
                    errors.append(r.status)
                late.append(time.perf_counter() - t0 - 1.0)

        def write(n):
            c = gp.client("B%d" % n, timeout=60)
            while not stop.is_set():
                if c.heartbeat(version="bench").status != 200:
                    errors.append("heartbeat")

        busy = threading.Thread(target=hold_lock, args=(gp.cfg["gateway"]["db"], hold, stop), daemon=True)
        threads = [threading.Thread(target=probe, daemon=True), threading.Thread(target=poll, daemon=True)]
        threads += [threading.Thread(target=write, args=(n,), daemon=True) for n in range(1, writers + 1)]
        busy.start()
        time.sleep(0.1)
        for t in threads:
            t.start()
        time.sleep(seconds)
        stop.set()
        for t in threads + [busy]:
            t.join(60)
    finally:
        stop.set()
        gp.stop()
    stalls.sort()
    late.sort()
    label = "store calls on the event loop (before)" if mode == "inline" else "store calls in the thread pool"
    print("db-offloop %-10s %-40s loop stall: /healthz worst %7.1f ms p99 %7.1f ms | late poll (wait=1 s): "
          "p50 %+7.1f ms max %+7.1f ms (%d polls)%s"
          % (backend, label, 1000 * stalls[-1], 1000 * stalls[int(0.99 * (len(stalls) - 1))],
             1000 * statistics.median(late), 1000 * late[-1], len(late),
             " ERRORS %r" % errors[:5] if errors else ""), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--hold", type=float, default=0.25, help="seconds the other process holds the write lock")
    parser.add_argument("--writers", type=int, default=2, help="terminals sending heartbeats back to back")
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    from tools.sandbox.testing import running_sandbox
    with tempfile.TemporaryDirectory(prefix="bench-offloop-") as tmp, contextlib.ExitStack() as stack:
        sandbox = stack.enter_context(running_sandbox(time_scale=1.0, data_dir=os.path.join(tmp, "sandbox")))
        cluster = None
        if "postgresql" in args.backends:
            from tests.postgres import Cluster
            pg_parent = tempfile.mkdtemp(prefix="bench-offloop-pg-")
            cluster = Cluster.start(pg_parent)
            stack.callback(cluster.stop)
        print("db-offloop: --hold %.2f s of every %.2f s the write lock is taken by another process; %d heartbeat "
              "writers; %.0f s per run" % (args.hold, args.hold + 0.05, args.writers, args.seconds), flush=True)
        for backend in args.backends:
            for mode in ("inline", "pool"):
                name = "%s_%s" % (backend, mode)
                if backend == "postgresql":
                    db = cluster.create_database(name)
                else:
                    db = os.path.join(tmp, name, "gateway.sqlite3")
                run(backend, mode, db, sandbox, os.path.join(tmp, name), args.seconds, args.hold, args.writers)


if __name__ == "__main__":
    main()
