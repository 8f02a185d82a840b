"""Deliver notifyPayment as Antom does: signed POSTs, an exact acknowledgement, and retries on
Antom's schedule (scaled by --time-scale), driven from SQLite so a restart resumes them.
Also closes expired order codes (which queues their F notifications).
"""
import asyncio
import json
import logging
import time
from urllib.parse import urlsplit

import httpx

from tools.antom import signature

# Delay before attempt 1..8: 0 s, 2 min, 10 min, 10 min, 1 h, 2 h, 6 h, 15 h (ALIPAY.md).
SCHEDULE = (0, 120, 600, 600, 3600, 7200, 21600, 54000)
ACK = {"result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"}}
TIMEOUT = 10.0
TICK = 0.05
log = logging.getLogger("tools.sandbox.notifier")


def is_ack(response: httpx.Response) -> bool:
    if response.status_code != 200:
        return False
    try:
        return json.loads(response.content) == ACK
    except ValueError:
        return False


def signed_path(url: str) -> str:
    return urlsplit(url).path or "/"


class Notifier:
    def __init__(self, ledger, private_key, time_scale: float):
        self.ledger = ledger
        self.store = ledger.store
        self.private_key = private_key
        self.time_scale = time_scale
        self._wrong_key = None
        self._busy: set[int] = set()
        self._tasks: set[asyncio.Task] = set()
        self._wake = asyncio.Event()
        ledger.on_queued = self._wake.set

    def wrong_key(self):
        """A key that is not the sandbox's, for the notify-bad-signature fault."""
        if self._wrong_key is None:
            self._wrong_key = signature.generate_private_key()
        return self._wrong_key

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=TIMEOUT, trust_env=False) as client:
            while True:
                try:
                    self.ledger.sweep_expired()
                    for note in self.store.due_notifications(time.time()):
                        if note["id"] not in self._busy:
                            self._busy.add(note["id"])
                            task = asyncio.create_task(self.deliver(client, note))
                            self._tasks.add(task)
                            task.add_done_callback(self._tasks.discard)
                except Exception:  # keep delivering whatever one bad row does
                    log.exception("notifier tick failed")
                try:  # poll for due retries, but start at once when something is queued
                    await asyncio.wait_for(self._wake.wait(), TICK)
                except asyncio.TimeoutError:
                    pass
                self._wake.clear()

    async def deliver(self, client: httpx.AsyncClient, note: dict) -> None:
        try:
            await self._attempt(client, note)
        finally:
            self._busy.discard(note["id"])

    async def _attempt(self, client: httpx.AsyncClient, note: dict) -> None:
        body = note["body"].encode("utf-8")
        request_time = str(int(time.time() * 1000))
        bad = note["attempts"] < note["bad_signatures"]
        # private_key: one key, or a function of the client id (api.AntomKeys)
        own = self.private_key(note["client_id"]) if callable(self.private_key) else self.private_key
        key = self.wrong_key() if bad else own
        headers = {"content-type": "application/json; charset=UTF-8", "client-id": note["client_id"],
                   "request-time": request_time,
                   "signature": signature.sign_message(key, "POST", signed_path(note["url"]),
                                                       note["client_id"], request_time, body)}
        try:
            response = await client.post(note["url"], content=body, headers=headers)
            acked, error = is_ack(response), "HTTP %d %r" % (response.status_code, response.content[:200])
        except httpx.HTTPError as problem:
            acked, error = False, "%s: %s" % (type(problem).__name__, problem)
        sent = note["sent"] + 1
        if acked:
            if note["duplicates"] > 0:  # the notify-duplicate fault: send the same body once more
                self.store.update_notification(note["id"], sent=sent, duplicates=note["duplicates"] - 1,
                                               next_at=time.time(), last_error=None)
                self._wake.set()
            else:
                self.store.update_notification(note["id"], sent=sent, state="acked", last_error=None)
            return
        attempts = note["attempts"] + 1
        if attempts >= len(SCHEDULE):
            self.store.update_notification(note["id"], sent=sent, attempts=attempts, state="failed",
                                           last_error=error)
        else:
            self.store.update_notification(note["id"], sent=sent, attempts=attempts, last_error=error,
                                           next_at=time.time() + SCHEDULE[attempts] * self.time_scale)
