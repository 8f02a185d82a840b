"""The reconciler: the gateway's own schedule of Antom calls, driven by state in the database.

Every tick it looks for due work: inquiries of open payments without a result, expiries, cancels
and refunds whose outcome is not known yet, and (when idle) an upstream reachability probe. Work
is found from database rows (`next_check_at`), so a restarted gateway picks up where it stopped.
"""
import asyncio
import logging
import os
import socket

log = logging.getLogger("gateway.reconciler")


class Reconciler:
    def __init__(self, gateway, concurrency=16):
        self.gw = gateway
        self.rc = gateway.cfg["reconciler"]
        self.busy = set()
        self.tasks = set()
        self.limit = asyncio.Semaphore(concurrency)
        self.last_probe = 0.0
        self.last_sweep = 0.0
        self._stop = asyncio.Event()

    async def run(self):
        while not self._stop.is_set():
            try:
                await self.tick()
            except Exception:  # keep reconciling whatever one step did
                log.exception("reconciler tick failed")
            try:
                await asyncio.wait_for(self._stop.wait(), self.rc["tick"])
            except asyncio.TimeoutError:
                pass

    async def stop(self):
        self._stop.set()
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)

    async def tick(self):
        store, service = self.gw.store, self.gw.service
        now = self.gw.clock()
        sweep = now - self.last_sweep >= 5.0
        if sweep:
            self.last_sweep = now

        def due_work():  # one store step, off the event loop
            if sweep:
                free_dead_leases(store)
            return (store.due_open_payments(now), store.due_cancels(now), store.due_refunds(now),
                    self.gw.antom)
        open_rows, cancels, refunds, config_client = await self.gw.db(due_work)
        for row in open_rows:
            self.spawn(("open", row["id"]), service.check_open(row))
        for row in cancels:
            self.spawn(("cancel", row["id"]), service.reconcile_cancel(row))
        for ref in refunds:
            self.spawn(("refund", ref["id"]), service.retry_refund(ref))
        # reachability of each merchant's Antom access in use (the configuration merchant's at least)
        clients = {id(c): c for c in self.gw.clients.held() + [config_client] if c is not None}
        due = [c for c in clients.values()
               if now - max(c.last_contact[1] or 0, self.last_probe) >= self.rc["probe_interval"]]
        if due:
            self.last_probe = now
            for client in due:
                self.spawn(("probe", client.client_id, client.agent_token), client.inquiry("PROBE-REACHABILITY", timeout=5.0))

    def spawn(self, key, coro):
        if key in self.busy:
            coro.close()
            return
        self.busy.add(key)

        async def guarded():
            try:
                async with self.limit:
                    await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reconciler step %s failed", key)
            finally:
                self.busy.discard(key)

        task = asyncio.get_running_loop().create_task(guarded())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def free_dead_leases(store):
    """Leases of processes on this host that no longer run (a killed gateway or CLI) are freed at
    once rather than after `lease_seconds`; leases of other hosts simply run out."""
    host = socket.gethostname()
    for owner in store.lease_owners():
        parts = owner.split(":")
        if len(parts) >= 3 and parts[0] == host and parts[1].isdigit():
            pid = int(parts[1])
            if pid != os.getpid() and not pid_alive(pid):
                log.warning("freeing the work leases of process %d, which is gone", pid)
                store.release_owner(owner)
