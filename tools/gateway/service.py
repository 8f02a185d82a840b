"""Payment rules: create, status, cancel, refund, and applying what Antom says.

Every state change is one database transaction together with its event-log entry, committed before
the caller answers anyone. Store work never runs on the event loop: each synchronous step (a store
call, a transaction block, the sync helpers below) is awaited through `self.db` (dbcalls.py). A final status (PAID, FAILED, CANCELLED, EXPIRED) never changes; money that
lands after the terminal gave up (CANCELLED/EXPIRED) is marked `late` and returned by the reconciler.
"""
import asyncio
import contextlib
import itertools
import json
import os
import secrets
import socket
import time

from tools.gateway import antom as antom_mod
from tools.gateway import dbcalls
from tools.gateway import environment as environment_mod
from tools.gateway import merchants as merchants_mod
from tools.gateway import wakeup as wakeup_mod
from tools.gateway import wallet_figures
from tools.gateway.store import FINAL, OPEN


class ServiceError(Exception):
    """An answer for the terminal: HTTP status + stable code + message. `order_id` makes it a
    refusal of that order (the answer names it), which the terminal may take as final."""

    def __init__(self, status, code, message, order_id=None, **extra):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.order_id = order_id
        self.extra = extra  # more fields of the answer (BAD_PIN's tries_left)


def no_such_payment(order_id):
    return ServiceError(404, "NOT_FOUND", "no payment %s for this terminal" % order_id, order_id)


def payment_view(row, refunded=0):
    """The payment object of docs/protocol.md (CREATING is PENDING without a code)."""
    status = row["status"]
    return {
        "order_id": row["order_id"],
        "payment_id": row["payment_id"],
        "status": "PENDING" if status == "CREATING" else status,
        "amount": row["amount"],
        "currency": row["currency"],
        "description": row["description"],
        "code_value": row["code_value"],
        "expires_at": row["expires_at"],
        "created_at": row["created_at"],
        "paid_at": row["paid_at"],
        "reason": row["reason"],
        "late": bool(row["late"]),
        "refunded_amount": refunded,
        **wallet_figures.for_terminal(row),
    }


def refund_view(row, payment_row, refunded_total):
    return {
        "refund_id": row["refund_id"],
        "order_id": payment_row["order_id"],
        "amount": row["amount"],
        "currency": row["currency"],
        "status": row["status"],
        "reason": row["reason"],
        "created_at": row["created_at"],
        "refunded_total": refunded_total,
    }


class Waiters:
    """Long polls waiting for a payment's status to change, keyed by payment row id.

    Each waiting poll is one future in its payment's list: a wake-up resolves every future of the
    row and drops the list, a poll that leaves takes its own future out, so payments nobody waits
    for cost nothing. A held poll costs that future and its timer only -- no Event, no Task or
    coroutine of its own -- because one instance holds thousands of them (docs/gateway.md).
    """

    def __init__(self):
        self._polls = {}   # rowid -> [the future of each waiting poll]

    def wake(self, rowid):
        _resolve(self._polls.pop(rowid, ()))

    def wake_all(self):
        """Every waiting poll re-reads its row (after a wake-up channel was down: one may be missed)."""
        polls, self._polls = self._polls, {}
        for futures in polls.values():
            _resolve(futures)

    def watch(self, rowid):
        """A future resolved at the row's next wake-up: interest registered now, the wait (its
        `time_limit`, then `await`) later, so a wake between the two (while the row is read on a
        database thread) is not lost. Every watch ends with `leave`."""
        changed = asyncio.get_running_loop().create_future()
        futures = self._polls.get(rowid)
        if futures is None:
            self._polls[rowid] = [changed]
        else:
            futures.append(changed)
        return changed

    def leave(self, rowid, changed):
        futures = self._polls.get(rowid)
        if futures is not None and changed in futures:
            futures.remove(changed)
            if not futures:
                del self._polls[rowid]

    @staticmethod
    def time_limit(changed, timeout):
        """Resolve `changed` with False after `timeout` seconds (True: woken first); the timer to
        cancel once it is awaited."""
        return asyncio.get_running_loop().call_later(timeout, _time_is_up, changed)

    async def wait(self, rowid, timeout):
        """True when woken, False when `timeout` seconds passed first."""
        changed = self.watch(rowid)
        timer = self.time_limit(changed, timeout)
        try:
            return await changed
        finally:
            timer.cancel()
            self.leave(rowid, changed)

    def count(self, rowid):
        """How many polls wait for this row now."""
        return len(self._polls.get(rowid, ()))

    def __len__(self):
        return len(self._polls)


def _resolve(futures):
    for changed in futures:
        if not changed.done():
            changed.set_result(True)


def _time_is_up(changed):
    if not changed.done():
        changed.set_result(False)


class KeyedLocks:
    """Per-key asyncio locks that exist only while someone holds or waits for them, so a gateway
    that has seen a million payments keeps no million locks."""

    def __init__(self):
        self._locks = {}   # key -> [lock, holders and waiters]

    @contextlib.asynccontextmanager
    async def __call__(self, key):
        entry = self._locks.get(key)
        if entry is None:
            entry = self._locks[key] = [asyncio.Lock(), 0]
        entry[1] += 1
        try:
            async with entry[0]:
                yield
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self._locks[key]

    def __len__(self):
        return len(self._locks)


def owner_prefix():
    """host:pid:random, so a lease names the process that holds it (and a dead one can be freed)."""
    return "%s:%d:%s" % (socket.gethostname(), os.getpid(), secrets.token_hex(3))


def about_this_payment(row, result):
    """`result`, or an untrusted U when it is a signed answer naming another paymentRequestId (the
    response signature does not bind the request, so a mixed-up or replayed answer verifies)."""
    prid = result.body.get("paymentRequestId")
    if result.signed and prid is not None and prid != row["payment_request_id"]:
        return antom_mod.Result(antom_mod.UNKNOWN, "WRONG_PAYMENT", "a signed answer about another payment",
                                result.body, False, result.http_status, result.latency)
    return result


class PaymentService:
    PAY_LEASE_WAIT = 1.0  # how long a create waits for a pay in flight elsewhere before "retry"

    def __init__(self, cfg, store, antom, notify_url, clock=time.time, db=None):
        """`antom`: a merchants.MerchantClients (an Antom client per merchant) or one AntomClient
        for every payment; `notify_url`: the notify base (tools/gateway/merchants.py); `db`: where
        store steps run (dbcalls.DbCalls; by default a pool of the service's own)."""
        self.cfg = cfg
        self.store = store
        self.db = db if db is not None else dbcalls.DbCalls(getattr(store, "dialect", "sqlite"))
        self.clients = antom if hasattr(antom, "for_merchant") else merchants_mod.SingleClient(antom)
        self.notify_url = notify_url
        self.clock = clock
        self.waiters = Waiters()
        # after each committed change: this process's long polls, and (PostgreSQL) every instance's
        self.wakeup = wakeup_mod.LocalWakeup(self.waiters)
        self._locks = KeyedLocks()
        self._background = set()
        self.owner = owner_prefix()
        self._claims = itertools.count(1)
        self.lease_seconds = cfg["reconciler"]["lease_seconds"]

    def changed(self, rowid):
        """Wake the polls of a payment whose change this step made, once it is committed: a caller's
        outer transaction (the notify endpoint's) may still be open, and a poll woken before the
        commit would read the old row on another thread and sleep on."""
        self.store.after_commit(self.wakeup.changed, rowid)

    def lock(self, key):
        """`async with service.lock(key)`: one coroutine of this process at a time."""
        return self._locks(key)

    def new_lease_token(self):
        return "%s#%d" % (self.owner, next(self._claims))

    @contextlib.asynccontextmanager
    async def leased(self, kind, rowid, wait=0.0):
        """`async with service.leased("payment"|"refund", rowid) as mine:` -- when `mine`, this
        coroutine is the one owner of the row's Antom calls (across processes) until the block ends."""
        token = self.new_lease_token()
        deadline = time.monotonic() + wait
        got = await self.db(self.store.claim, kind, rowid, token, self.lease_seconds)
        while not got and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            got = await self.db(self.store.claim, kind, rowid, token, self.lease_seconds)
        try:
            yield got
        finally:
            if got:
                await self.db(self.store.release, kind, rowid, token)

    def antom_for(self, row):
        """The Antom client of the payment's merchant (its keys, client id and agent token)."""
        try:
            client = self.clients.for_merchant(row["merchant_id"])
        except environment_mod.EnvironmentRefused as e:
            raise ServiceError(503, "MERCHANT_UNAVAILABLE", "the merchant's Antom access is refused: %s" % e)
        if client is None:
            raise ServiceError(503, "MERCHANT_UNAVAILABLE", "the payment's merchant is not on record")
        return client

    def merchant_for_terminal(self, terminal_id):
        """(merchant row or None, the pay body's merchant and store fields) of a terminal."""
        mid = self.store.terminal_merchant_id(terminal_id)
        if mid is None and self.store.terminal(terminal_id)["store_id"] is None:
            # a terminal from before merchants (or added without a store): the configuration's merchant's
            config = self.store.config_merchant()
            if config is not None and self.store.shop(self.cfg["merchant"]["store_id"]) is not None:
                self.store.attach_terminal(terminal_id, self.cfg["merchant"]["store_id"])
                mid = config["id"]
        merchant = self.store.merchant(mid) if mid else None
        if merchant is None:  # a store without merchants (unit tests): the configuration's fields
            return None, dict(self.cfg["merchant"])
        shop = self.store.shop(self.store.terminal(terminal_id)["store_id"])
        return merchant, {"id": merchant["id"], "name": merchant["name"], "mcc": merchant["mcc"],
                          "store_id": shop["id"], "store_name": shop["name"], "store_mcc": shop["mcc"],
                          "settlement_currency": merchant["settlement_currency"],
                          "merchant_account_id": merchant["merchant_account_id"]}

    @staticmethod
    def check_limits(merchant, amount, currency):
        """A merchant's own limits, within the gateway's (validated before)."""
        if merchant is None:
            return
        if merchant["max_amount"] is not None and amount > merchant["max_amount"]:
            raise ServiceError(400, "INVALID_AMOUNT", "amount must be between 1 and %d minor units"
                               % merchant["max_amount"])
        if merchant["currencies"] and currency not in json.loads(merchant["currencies"]):
            raise ServiceError(400, "UNKNOWN_CURRENCY", "currency %r is not accepted here" % currency[:8])

    def view(self, row):
        return payment_view(row, self.store.refunded_total(row["id"]) if row["status"] == "PAID" else 0)

    def get(self, terminal_id, order_id):
        row = self.store.payment(terminal_id, order_id)
        if row is None:
            raise no_such_payment(order_id)
        return row

    # --- create ------------------------------------------------------------------------------
    async def create(self, terminal_id, order_id, amount, currency, description):
        async with self.lock(("pay", terminal_id, order_id)):
            row = await self.db(self._create_row, terminal_id, order_id, amount, currency, description)
            if row["status"] != "CREATING":
                return await self.db(self.view, row)
            # The pay is sent by the payment's lease holder only: a retry that reaches another
            # gateway instance (or this one) while the first pay is in flight never sends a second.
            async with self.leased("payment", row["id"], wait=self.PAY_LEASE_WAIT) as mine:
                row = await self.db(self.store.payment_by_rowid, row["id"])
                if row["status"] != "CREATING":
                    return await self.db(self.view, row)
                if not mine:
                    raise ServiceError(503, "UPSTREAM_UNAVAILABLE", "this payment's request to Antom is in "
                                       "progress: retry the same request")
                # Antom's rule: a pay whose answer was lost is re-sent with the same body.
                client = await self.db(self.antom_for, row)
                result = about_this_payment(row, await client.pay(row["pay_body"].encode("utf-8")))
                return await self.db(lambda: self.view(self._apply_pay(row, result)))

    def _create_row(self, terminal_id, order_id, amount, currency, description):
        """The payment row of this order, inserted (CREATING) when it is new (a store step)."""
        row = self.store.payment(terminal_id, order_id)
        if row is None:
            merchant, fields = self.merchant_for_terminal(terminal_id)
            self.check_limits(merchant, amount, currency)
            try:
                client = self.clients.for_merchant(merchant["id"] if merchant is not None else None)
            except environment_mod.EnvironmentRefused as e:
                raise ServiceError(503, "MERCHANT_UNAVAILABLE", "this merchant's Antom access is refused: %s" % e)
            if client is None:
                raise ServiceError(503, "MERCHANT_UNAVAILABLE", "this terminal's merchant has no Antom access")
            prid = antom_mod.payment_request_id(terminal_id, order_id)
            expires_at = int(self.clock()) + self.cfg["gateway"]["code_lifetime"]
            body = client.pay_body(prid, order_id, amount, currency, description,
                                   merchants_mod.notify_url_for(self.notify_url, merchant),
                                   fields, terminal_id, expires_at)
            with self.store.transaction():
                # A cancel that overtook this create left a tombstone: the order stays cancelled.
                cancelled = self.store.cancelled_order(terminal_id, order_id) is not None
                # another gateway instance (on the same database) may have just made it
                row = None if cancelled else self.store.payment(terminal_id, order_id)
                if cancelled:
                    self.store.event("create_after_cancel_refused", terminal_id, order_id, amount=amount,
                                     currency=currency)
                elif row is None:
                    rowid = self.store.insert_payment(
                        terminal_id=terminal_id, order_id=order_id, payment_request_id=prid, amount=amount,
                        currency=currency, description=description, status="CREATING",
                        merchant_id=merchant["id"] if merchant is not None else None,
                        pay_body=body.decode("utf-8"), expires_at=expires_at,
                        next_check_at=self.clock() + self.cfg["antom"]["timeout"]
                        + self.cfg["reconciler"]["first_inquiry_after"])
                    self.store.event("payment_requested", terminal_id, order_id, amount=amount,
                                     currency=currency, payment_request_id=prid)
            if cancelled:
                raise ServiceError(409, "ORDER_CANCELLED",
                                   "order %s was cancelled before it was created" % order_id, order_id)
            if row is None:
                row = self.store.payment_by_rowid(rowid)
        if (row["amount"], row["currency"], row["description"]) != (amount, currency, description):
            raise ServiceError(409, "ORDER_MISMATCH",
                               "order %s already exists with another amount, currency or description" % order_id)
        return row

    def _apply_pay(self, row, result):
        code = antom_mod.code_value(result.body) if result.signed else None
        tid, oid = row["terminal_id"], row["order_id"]
        if result.signed and code and result.status in ("S", "U"):
            expires = antom_mod.parse_iso((result.body.get("orderCodeForm") or {}).get("expireTime"))
            with self.store.transaction():
                fresh = self.store.payment_by_rowid(row["id"])
                if fresh["status"] != "CREATING":
                    return fresh
                self.store.update_payment(
                    row["id"], status="PENDING", code_value=code, payment_id=result.body.get("paymentId"),
                    expires_at=expires or row["expires_at"],
                    next_check_at=self.clock() + self.cfg["reconciler"]["first_inquiry_after"])
                self.store.event("payment_created", tid, oid, payment_id=result.body.get("paymentId"),
                                 result=result.status + " " + result.code, expires_at=expires)
            self.changed(row["id"])
            return self.store.payment_by_rowid(row["id"])
        if result.signed and result.status == "F" and result.code not in ("REQUEST_TRAFFIC_EXCEED_LIMIT",):
            with self.store.transaction():
                fresh = self.store.payment_by_rowid(row["id"])
                if fresh["status"] != "CREATING":
                    return fresh
                self.store.update_payment(row["id"], status="FAILED", reason=result.code)
                self.store.event("payment_failed", tid, oid, source="pay", code=result.code, message=result.message)
            self.changed(row["id"])
            return self.store.payment_by_rowid(row["id"])
        with self.store.transaction():
            # Antom's in-store guidance: inquire ~5 s after an unknown pay, then every 3 s (12.8).
            # A signed refusal (traffic limit) is not unknown: nothing was created, the retry will.
            fresh = self.store.payment_by_rowid(row["id"])
            first = self.clock() + self.cfg["reconciler"]["first_inquiry_after"]
            if fresh["status"] == "CREATING" and fresh["next_check_at"] > first and not result.signed:
                self.store.update_payment(row["id"], next_check_at=first)
            self.store.event("pay_unknown", tid, oid, status=result.status, code=result.code,
                             signed=result.signed, http=result.http_status, message=result.message[:200])
        if result.status == "F" and not result.signed:
            raise ServiceError(502, "UPSTREAM_ERROR", "Antom refused the request unsigned (%s)" % result.code)
        raise ServiceError(503, "UPSTREAM_UNAVAILABLE",
                           "Antom's answer is not known yet (%s): retry the same request" % result.code)

    # --- status --------------------------------------------------------------------------------
    async def status(self, terminal_id, order_id, wait):
        deadline = time.monotonic() + wait
        rowid, view = await self.db.read_many(self._first_status_steps, (terminal_id, order_id, wait > 0))
        while view is None:  # open, and the terminal waits: until a change or the deadline
            changed = self.waiters.watch(rowid)
            try:
                # watched before this read: a change committed after it wakes the poll
                view = await self.db.read(self._status_step, rowid, deadline > time.monotonic())
                if view is None:
                    # awaited here, not in a helper coroutine: one frame less per held poll
                    timer = self.waiters.time_limit(changed, max(0.0, deadline - time.monotonic()))
                    try:
                        await changed
                    finally:
                        timer.cancel()
            finally:
                self.waiters.leave(rowid, changed)
        return view

    def _first_status_steps(self, asked):
        """The first step of many status requests at once ((terminal_id, order_id, may_wait) each):
        their rows in one query, then for each (the row's id, its view; None while it is open and
        the poll may wait), or the ServiceError of a payment that does not exist."""
        rows = self.store.payments_by_key([(t, o) for t, o, _w in asked])
        out = []
        for terminal_id, order_id, may_wait in asked:
            row = rows.get((terminal_id, order_id))
            if row is None:
                out.append(no_such_payment(order_id))
            else:
                out.append((row["id"], self._view_unless_waiting(row, may_wait)))
        return out

    def _status_step(self, rowid, may_wait):
        """A held poll's re-read (one store step): the view, or None while it may go on waiting. A
        held poll keeps the row's id only, not the row (a few KB each, times thousands of polls)."""
        return self._view_unless_waiting(self.store.payment_by_rowid(rowid), may_wait)

    def _view_unless_waiting(self, row, may_wait):
        return None if may_wait and row["status"] in OPEN else self.view(row)

    # --- upstream outcomes (notification, inquiry) ----------------------------------------------
    def apply_outcome(self, row, payment_status, code=None, paid_time=None, source="inquiry", answer=None):
        """Apply Antom's paymentStatus (SUCCESS, FAIL, CANCELLED, PROCESSING) to a payment row;
        `answer` is the verified body it came in (its wallet figures are kept on SUCCESS)."""
        tid, oid, rowid = row["terminal_id"], row["order_id"], row["id"]
        now = self.clock()
        changed = False
        with self.store.transaction():
            row = self.store.payment_by_rowid(rowid)
            status = row["status"]
            if payment_status == "SUCCESS" and answer is not None:
                self._keep_figures(row, answer, source)
            if status in OPEN:
                if payment_status == "SUCCESS":
                    self.store.update_payment(rowid, status="PAID", paid_at=paid_time or int(now), reason=None)
                    self.store.event("payment_paid", tid, oid, source=source)
                    changed = True
                elif payment_status == "FAIL":
                    expired = code == "ORDER_IS_CLOSED" and now >= row["expires_at"] - 5
                    self.store.update_payment(rowid, status="EXPIRED" if expired else "FAILED", reason=code)
                    self.store.event("payment_expired" if expired else "payment_failed", tid, oid,
                                     source=source, code=code)
                    changed = True
                elif payment_status == "CANCELLED":
                    self.store.update_payment(rowid, status="CANCELLED", reason=code or "CANCELLED_AT_ANTOM",
                                              cancel_state="DONE")
                    self.store.event("payment_cancelled", tid, oid, source=source, code=code)
                    changed = True
            elif payment_status == "SUCCESS" and status in ("CANCELLED", "EXPIRED"):
                # The customer paid after the terminal gave up: return the money (cancel, else refund).
                if not row["late"]:
                    self.store.update_payment(rowid, late=1, cancel_state="PENDING", next_check_at=0)
                    self.store.event("late_payment", tid, oid, source=source, status=status)
            elif payment_status == "SUCCESS" and status == "FAILED" and not row["late"]:
                self.store.update_payment(rowid, late=1, cancel_state="PENDING", next_check_at=0)
                self.store.event("late_payment", tid, oid, source=source, status=status)
            else:
                self.store.event("outcome_ignored", tid, oid, source=source, status=status,
                                 upstream=payment_status, code=code)
        if changed:
            self.changed(rowid)
        return self.store.payment_by_rowid(rowid)

    def _keep_figures(self, row, answer, source):
        """The wallet figures of the first verified answer that names them (inside the caller's
        transaction)."""
        if row["wallet"] is not None:
            return
        figures = wallet_figures.from_answer(answer, row)
        if figures:
            self.store.update_payment(row["id"], **figures)
            self.store.event("payment_wallet", row["terminal_id"], row["order_id"], source=source,
                             **{k: v for k, v in figures.items() if k not in ("quote", "settlement_quote")})

    # --- cancel ----------------------------------------------------------------------------------
    async def cancel(self, terminal_id, order_id, reason="CASHIER"):
        row = await self.db(self.remember_cancel, terminal_id, order_id, reason)
        if row is None:
            raise ServiceError(404, "NOT_FOUND", "no payment %s: cancelled before it was created, and a "
                               "later create of it will be refused" % order_id, order_id)
        if row["status"] in FINAL:
            return await self.db(self.view, row)
        limit = self.cfg["gateway"]["cancel_inquiry_timeout"]
        # lease first, then the process lock (the reconciler takes them in the same order)
        async with self.leased("payment", row["id"], wait=min(1.0, limit)) as mine:
            async with self.lock(("pay", terminal_id, order_id)):
                row = await self.db(self.store.payment_by_rowid, row["id"])
                if row["status"] in FINAL:
                    return await self.db(self.view, row)
                if row["status"] == "PENDING" and mine:
                    # A payment that already landed wins over the cancel. (Without the lease another
                    # owner is asking Antom right now; a payment that lands is then a late one.)
                    result = await (await self.db(self.antom_for, row)).inquiry(row["payment_request_id"], timeout=limit)

                    def counted_and_applied():
                        self._count_inquiry(row)
                        return self.apply_inquiry(row, result)
                    row = await self.db(counted_and_applied)
                    if row["status"] in FINAL:
                        return await self.db(self.view, row)
                await self.db(self.give_up, row, "CANCELLED", reason)
        # Try the cancel at Antom now, but answer the terminal within a bounded time either way: the
        # answer (CANCELLED) is already final and committed; the reconciler retries what is unknown.
        given_up = await self.db(self.store.payment_by_rowid, row["id"])
        task = asyncio.get_running_loop().create_task(self.reconcile_cancel(given_up))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        await asyncio.wait({task}, timeout=self.cfg["gateway"]["cancel_inquiry_timeout"])
        return await self.db(lambda: self.view(self.store.payment_by_rowid(row["id"])))

    def remember_cancel(self, terminal_id, order_id, reason):
        """The payment row, or None after storing a tombstone: a cancel for an order not seen yet
        (its create may still be on its way) is remembered, so that create is refused later."""
        row = self.store.payment(terminal_id, order_id)
        if row is not None:
            return row
        with self.store.transaction():  # look again inside the write: no create slips in between
            row = self.store.payment(terminal_id, order_id)
            if row is None and self.store.add_cancelled_order(terminal_id, order_id, reason):
                self.store.event("cancelled_before_create", terminal_id, order_id, reason=reason)
        return row

    def give_up(self, row, status, reason):
        """Final status for the terminal now; the cancel at Antom follows (and is retried)."""
        with self.store.transaction():
            fresh = self.store.payment_by_rowid(row["id"])
            if fresh["status"] in FINAL:
                return fresh
            self.store.update_payment(row["id"], status=status, reason=reason, cancel_state="PENDING",
                                      next_check_at=0)
            self.store.event("payment_" + status.lower(), row["terminal_id"], row["order_id"], reason=reason)
        self.changed(row["id"])
        return self.store.payment_by_rowid(row["id"])

    @staticmethod
    def inquiry_status(row, result):
        """paymentStatus of a trusted inquiry answer about *this* payment, else None. The response
        signature does not bind the request, so a signed answer about another payment (or amount)
        must not count, as for notifications."""
        if not (result.signed and result.status == "S"):
            return None
        body = result.body
        prid, money = body.get("paymentRequestId"), body.get("paymentAmount")
        if prid is not None and prid != row["payment_request_id"]:
            return None
        if money is not None and not (isinstance(money, dict) and money.get("currency") == row["currency"]
                                      and money.get("value") == str(row["amount"])):
            return None
        return body.get("paymentStatus")

    def apply_inquiry(self, row, result):
        ps = self.inquiry_status(row, result)
        if ps is not None:
            if ps in ("SUCCESS", "FAIL", "CANCELLED"):
                return self.apply_outcome(row, ps, result.body.get("paymentResultCode"),
                                          antom_mod.parse_iso(result.body.get("paymentTime")), "inquiry",
                                          answer=result.body)
        return self.store.payment_by_rowid(row["id"])

    async def reconcile_cancel(self, row):
        """One attempt at returning a given-up payment's money at Antom; retried by the reconciler."""
        async with self.leased("payment", row["id"]) as mine:
            if mine:
                await self._reconcile_cancel_held(row)

    async def _reconcile_cancel_held(self, row):
        """reconcile_cancel's work; the caller holds the payment's lease."""
        row = await self.db(self.store.payment_by_rowid, row["id"])
        state = row["cancel_state"]
        retry_at = self.clock() + self.cfg["reconciler"]["retry_interval"]
        tid, oid = row["terminal_id"], row["order_id"]
        if state == "PENDING":
            result = about_this_payment(row, await (await self.db(self.antom_for, row)).cancel(row["payment_request_id"]))
            # ORDER_NOT_EXIST may mean "not landed yet" (ALIPAY.md): final only once the code has
            # expired and nobody can pay it any more; until then, cancel again later.
            not_landed = result.code == "ORDER_NOT_EXIST" and self.clock() < row["expires_at"]
            done = result.signed and not not_landed and (result.status == "S" or result.code in (
                "ORDER_NOT_EXIST", "ORDER_IS_CANCELED"))
            # Every decision below is taken on the row as it is inside the write transaction: a
            # SUCCESS notification may have landed while Antom's answer was on its way (12.6).
            if done:
                def cancelled():
                    with self.store.transaction():
                        fresh = self.store.payment_by_rowid(row["id"])
                        if fresh["cancel_state"] != "PENDING":
                            return
                        self.store.update_payment(row["id"], cancel_state="DONE", attempts=fresh["attempts"] + 1)
                        self.store.event("antom_cancelled", tid, oid, code=result.code)
                        if fresh["late"]:
                            self._alert(fresh, "LATE_PAYMENT",
                                        "paid after the terminal gave up; cancelled at Antom (money returned)")
                await self.db(cancelled)
                return
            if result.signed and result.status == "F" and not not_landed:
                # CANCEL_WINDOW_EXCEED, ORDER_STATUS_INVALID, ...: what is the payment, really?
                inq = await (await self.db(self.antom_for, row)).inquiry(row["payment_request_id"])
                ps = self.inquiry_status(row, inq)

                def refused():
                    """True when the cancel was refused because the payment succeeded (a refund next)."""
                    with self.store.transaction():
                        fresh = self.store.payment_by_rowid(row["id"])
                        if fresh["cancel_state"] != "PENDING":
                            return False
                        if ps in ("FAIL", "CANCELLED"):
                            self.store.update_payment(row["id"], cancel_state="DONE")
                            self.store.event("antom_cancel_not_needed", tid, oid, code=result.code, upstream=ps)
                            if fresh["late"] and ps == "CANCELLED":
                                self._alert(fresh, "LATE_PAYMENT",
                                            "paid after the terminal gave up; cancelled at Antom (money returned)")
                        elif ps == "SUCCESS":
                            if not fresh["late"]:
                                self.store.event("late_payment", tid, oid, source="inquiry", status=fresh["status"])
                            self.store.update_payment(row["id"], cancel_state="REFUND", next_check_at=0, late=1)
                            self.store.event("antom_cancel_refused", tid, oid, code=result.code)
                            return True
                        else:  # still payable (or unknown): the customer may yet pay; look again later
                            self.store.update_payment(row["id"], next_check_at=retry_at, attempts=fresh["attempts"] + 1)
                            self.store.event("antom_cancel_retry", tid, oid, status=result.status, code=result.code,
                                             upstream=ps)
                        return False
                if not await self.db(refused):
                    return
                row = await self.db(self.store.payment_by_rowid, row["id"])
                state = "REFUND"
            else:
                def retry_later():
                    with self.store.transaction():
                        fresh = self.store.payment_by_rowid(row["id"])
                        self.store.update_payment(row["id"], next_check_at=retry_at, attempts=fresh["attempts"] + 1)
                        self.store.event("antom_cancel_retry", tid, oid, status=result.status, code=result.code,
                                         signed=result.signed)
                await self.db(retry_later)
                return
        if state == "REFUND":
            await self._late_refund(row)

    async def _late_refund(self, row):
        """Refund the whole payment (cancel window passed) with a deterministic refund id."""
        ref = await self.db(self._late_refund_row, row)
        if ref is None:  # already settled (and alerted) by an earlier pass
            return
        payment_id = row["payment_id"]
        if payment_id is None:
            inq = await (await self.db(self.antom_for, row)).inquiry(row["payment_request_id"])
            payment_id = inq.body.get("paymentId") if self.inquiry_status(row, inq) is not None else None
            row = await self.db(self._late_refund_payment_id, row, payment_id)
            if payment_id is None:
                return
        ref = await self._send_refund_leased(row, ref["id"])
        if ref is not None:
            await self.db(self._late_refund_outcome, row, ref)

    def _late_refund_row(self, row):
        """The payment's LATE refund row, made when missing; None when it is settled already."""
        prid = row["payment_request_id"]
        ref = self.store.refund(row["id"], "LATE")
        if ref is None:
            with self.store.transaction():
                rowid = self.store.insert_refund(
                    payment=row["id"], refund_id="LATE", refund_request_id=antom_mod.refund_request_id(prid, "LATE"),
                    amount=row["amount"], currency=row["currency"], status="PENDING", kind="LATE")
                self.store.event("late_refund_requested", row["terminal_id"], row["order_id"], amount=row["amount"])
            return self.store.refund_by_rowid(rowid)
        if ref["status"] != "PENDING":
            with self.store.transaction():
                self.store.update_payment(row["id"], cancel_state="DONE" if ref["status"] == "SUCCEEDED" else "FAILED")
            return None
        return ref

    def _late_refund_payment_id(self, row, payment_id):
        """Keep the payment id an inquiry named (None: look again later); the fresh row."""
        with self.store.transaction():
            if payment_id is None:
                self.store.update_payment(row["id"], next_check_at=self.clock() + self.cfg["reconciler"]["retry_interval"])
            else:
                self.store.update_payment(row["id"], payment_id=payment_id)
        return self.store.payment_by_rowid(row["id"])

    def _late_refund_outcome(self, row, ref):
        with self.store.transaction():
            if ref["status"] == "SUCCEEDED":
                self.store.update_payment(row["id"], cancel_state="DONE")
                self._alert(row, "LATE_PAYMENT", "paid after the terminal gave up; refunded in full")
            elif ref["status"] == "FAILED":
                self.store.update_payment(row["id"], cancel_state="FAILED")
                self._alert(row, "LATE_PAYMENT_UNRESOLVED",
                            "paid after the terminal gave up; refund refused (%s): operator action needed" % ref["reason"])
            else:
                self.store.update_payment(row["id"], next_check_at=self.clock() + self.cfg["reconciler"]["retry_interval"])

    def _alert(self, row, kind, message):
        self.store.add_alert(row["terminal_id"], row["id"], kind, message)
        self.store.event("alert", row["terminal_id"], row["order_id"], alert_kind=kind, message=message)

    # --- refunds ---------------------------------------------------------------------------------
    def check_refundable(self, terminal_id, order_id, refund_id, amount):
        """ServiceError unless this refund request could go ahead (before any PIN is checked)."""
        row = self.get(terminal_id, order_id)
        ref = self.store.refund(row["id"], refund_id)
        if ref is not None:
            if ref["amount"] != amount:
                raise ServiceError(409, "REFUND_MISMATCH", "refund %s already exists with another amount" % refund_id)
            return
        if row["status"] != "PAID" or row["payment_id"] is None:
            raise ServiceError(409, "NOT_REFUNDABLE", "payment %s is %s, not PAID" % (order_id, row["status"]))
        left = row["amount"] - self.store.refunded_total(row["id"], include_pending=True)
        if amount > left:
            raise ServiceError(409, "REFUND_EXCEEDS_PAYMENT", "at most %d can still be refunded" % max(left, 0))

    async def refund(self, terminal_id, order_id, refund_id, amount, requested_by="unknown"):
        """`requested_by` goes into the refund row and the event log: "terminal T1 (supervisor PIN)"
        for the terminal API, "operator CLI (user@host)" for `python -m tools.gateway refund`."""
        row, ref = await self.db(lambda: self._payment_and_refund(terminal_id, order_id, refund_id))
        if ref is not None:
            if ref["amount"] != amount:
                raise ServiceError(409, "REFUND_MISMATCH",
                                   "refund %s already exists with another amount" % refund_id)
            if ref["status"] == "PENDING":
                # re-sent only by whoever holds its lease; anyone else answers it as it stands
                async with self.leased("refund", ref["id"]) as mine:
                    ref = await self.db(self.store.refund_by_rowid, ref["id"])
                    if mine and ref["status"] == "PENDING":
                        ref = await self.send_refund(row, ref)
            return await self.db(self._refund_view, ref, row)
        if row["status"] != "PAID" or row["payment_id"] is None:
            raise ServiceError(409, "NOT_REFUNDABLE", "payment %s is %s, not PAID" % (order_id, row["status"]))
        token = self.new_lease_token()
        rowid = await self.db(self._new_refund, row, terminal_id, order_id, refund_id, amount, requested_by, token)
        if rowid is None:  # its sender (or the reconciler) sends it; answer with it as it stands
            ref = await self.db(self.store.refund, row["id"], refund_id)
            if ref["amount"] != amount:
                raise ServiceError(409, "REFUND_MISMATCH", "refund %s already exists with another amount" % refund_id)
            return await self.db(self._refund_view, ref, row)
        try:
            ref = await self.send_refund(row, await self.db(self.store.refund_by_rowid, rowid))
        finally:
            await self.db(self.store.release, "refund", rowid, token)
        return await self.db(self._refund_view, ref, row)

    def _payment_and_refund(self, terminal_id, order_id, refund_id):
        row = self.get(terminal_id, order_id)
        return row, self.store.refund(row["id"], refund_id)

    def _refund_view(self, ref, row):
        return refund_view(ref, row, self.store.refunded_total(row["id"]))

    def _new_refund(self, row, terminal_id, order_id, refund_id, amount, requested_by, token):
        """The new refund's row id, or None when another process just made it. Checked and inserted
        in one write transaction (the CLI's `refund` is another process on the same database), the
        new row leased to this call: the reconciler of a running gateway sees it due at once but
        cannot send it while this call does (12.7)."""
        with self.store.transaction():
            rowid = None
            if self.store.refund(row["id"], refund_id) is None:  # else the other process just made it
                left = row["amount"] - self.store.refunded_total(row["id"], include_pending=True)
                if amount > left:
                    raise ServiceError(409, "REFUND_EXCEEDS_PAYMENT",
                                       "at most %d can still be refunded" % max(left, 0))
                rowid = self.store.insert_refund(
                    payment=row["id"], refund_id=refund_id,
                    refund_request_id=antom_mod.refund_request_id(row["payment_request_id"], refund_id),
                    amount=amount, currency=row["currency"], status="PENDING", kind="SUPERVISOR",
                    requested_by=requested_by, lease_owner=token, lease_until=self.clock() + self.lease_seconds)
                self.store.event("refund_requested", terminal_id, order_id, refund_id=refund_id, amount=amount,
                                 by=requested_by)
        return rowid

    async def send_refund(self, payment_row, ref):
        """One refund attempt (same refundRequestId every time). PENDING stays for the reconciler."""
        result = await (await self.db(self.antom_for, payment_row)).refund(ref["refund_request_id"], payment_row["payment_id"], ref["amount"],
                                         ref["currency"], "late payment" if ref["kind"] == "LATE" else None)
        tid, oid = payment_row["terminal_id"], payment_row["order_id"]
        if result.signed and result.body.get("refundRequestId") not in (None, ref["refund_request_id"]):
            result = antom_mod.Result(antom_mod.UNKNOWN, "WRONG_REFUND", "a signed answer about another refund")
        return await self.db(self._refund_outcome, ref, result, tid, oid)

    def _refund_outcome(self, ref, result, tid, oid):
        with self.store.transaction():
            if result.signed and result.status == "S":
                self.store.update_refund(ref["id"], status="SUCCEEDED", antom_refund_id=result.body.get("refundId"))
                self.store.event("refund_succeeded", tid, oid, refund_id=ref["refund_id"], amount=ref["amount"])
            elif result.signed and result.status == "F" and result.code != "REQUEST_TRAFFIC_EXCEED_LIMIT":
                self.store.update_refund(ref["id"], status="FAILED", reason=result.code)
                self.store.event("refund_failed", tid, oid, refund_id=ref["refund_id"], code=result.code)
            else:
                self.store.update_refund(ref["id"], next_check_at=self.clock() + self.cfg["reconciler"]["retry_interval"])
                self.store.event("refund_unknown", tid, oid, refund_id=ref["refund_id"], code=result.code,
                                 signed=result.signed)
        return self.store.refund_by_rowid(ref["id"])

    # --- reconciler steps ------------------------------------------------------------------------
    async def check_open(self, row):
        """Inquiry of an open payment without a final result; expiry when its code has run out.
        The schedule (ALIPAY.md, 12.8): first ~5 s after the code or the unknown pay, then every
        3 s; an unknown pay is cancelled after `unknown_pay_inquiries`; a shown code is inquired at
        most `inquiry_cap` times at that pace, then less and less often."""
        async with self.leased("payment", row["id"]) as mine:
            if not mine:
                return
            row = await self.db(self.store.payment_by_rowid, row["id"])
            if row["status"] == "CREATING":
                async with self.lock(("pay", row["terminal_id"], row["order_id"])):  # no pay in flight
                    await self._check_unknown_pay(await self.db(self.store.payment_by_rowid, row["id"]))
            elif row["status"] == "PENDING":
                await self._check_pending(row)

    def _count_inquiry(self, row):
        with self.store.transaction():
            fresh = self.store.payment_by_rowid(row["id"])
            self.store.update_payment(row["id"], inquiries=fresh["inquiries"] + 1)
            return fresh["inquiries"] + 1

    def inquiry_delay(self, done):
        """Seconds until the next inquiry after `done` of them."""
        rc = self.cfg["reconciler"]
        if done < rc["inquiry_cap"]:
            return rc["inquiry_interval"]
        return min(rc["inquiry_interval"] * 2 ** (done - rc["inquiry_cap"] + 1), rc["inquiry_backoff_max"])

    async def _check_pending(self, row):
        now = self.clock()
        rc = self.cfg["reconciler"]
        result = await (await self.db(self.antom_for, row)).inquiry(row["payment_request_id"])

        def counted_and_applied():
            return self._count_inquiry(row), self.apply_inquiry(row, result)
        done, row = await self.db(counted_and_applied)
        if row["status"] in FINAL:
            return
        if now >= row["expires_at"] + rc["expiry_grace"]:
            async with self.lock(("pay", row["terminal_id"], row["order_id"])):
                def expire():
                    fresh = self.store.payment_by_rowid(row["id"])
                    return self.give_up(fresh, "EXPIRED", "EXPIRED") if fresh["status"] in OPEN else fresh
                row = await self.db(expire)
            await self._reconcile_cancel_held(row)
            return

        def schedule():
            with self.store.transaction():
                fresh = self.store.payment_by_rowid(row["id"])
                if fresh["status"] in OPEN:
                    next_at = min(now + self.inquiry_delay(done), row["expires_at"] + rc["expiry_grace"])
                    self.store.update_payment(row["id"], next_check_at=next_at)
        await self.db(schedule)

    async def _check_unknown_pay(self, row):
        """A pay whose answer was unknown or lost (no code): inquire; after the last allowed
        inquiry, or at expiry, give up and cancel at Antom (the customer never saw a code, so any
        money that lands anyway is a late payment and goes back)."""
        if row["status"] != "CREATING":
            return
        now = self.clock()
        rc = self.cfg["reconciler"]
        result = await (await self.db(self.antom_for, row)).inquiry(row["payment_request_id"])
        done = await self.db(self._count_inquiry, row)
        ps = self.inquiry_status(row, result)
        if ps in ("SUCCESS", "FAIL", "CANCELLED"):
            await self.db(self.apply_inquiry, row, result)
            return
        # Antom does not know the payment: it never landed (or not yet), so there is nothing to
        # cancel and the terminal's retry of the create will make it; only an answer that says it
        # exists without us having its code (PROCESSING), or no answer, counts towards giving up.
        not_landed = result.signed and result.status == "F" and result.code == "ORDER_NOT_EXIST"

        def count_unknown():
            with self.store.transaction():
                unknown = self.store.payment_by_rowid(row["id"])["unknown_inquiries"] + (0 if not_landed else 1)
                self.store.update_payment(row["id"], unknown_inquiries=unknown)
                return unknown
        unknown = await self.db(count_unknown)
        expired = now >= row["expires_at"] + rc["expiry_grace"]
        if unknown >= rc["unknown_pay_inquiries"] or expired:
            def give_up():
                with self.store.transaction():
                    self.store.event("pay_unknown_given_up", row["terminal_id"], row["order_id"], inquiries=done,
                                     last=result.code)
                return self.give_up(row, "EXPIRED", "EXPIRED") if expired else \
                    self.give_up(row, "CANCELLED", "PAY_UNKNOWN")
            await self._reconcile_cancel_held(await self.db(give_up))
            return

        def schedule():
            with self.store.transaction():
                fresh = self.store.payment_by_rowid(row["id"])
                if fresh["status"] == "CREATING":
                    delay = self.inquiry_delay(done) if not_landed else rc["inquiry_interval"]
                    self.store.update_payment(row["id"], next_check_at=min(now + delay, row["expires_at"] + rc["expiry_grace"]))
        await self.db(schedule)

    async def retry_refund(self, ref):
        row = await self.db(self.store.payment_by_rowid, ref["payment"])
        if ref["kind"] == "LATE":
            await self.reconcile_cancel(row)
            return
        await self._send_refund_leased(row, ref["id"])

    async def _send_refund_leased(self, row, refund_rowid):
        """Send a pending refund to Antom as its one owner (the lease): the refund as it is after,
        or None when another process holds it."""
        async with self.leased("refund", refund_rowid) as mine:
            if not mine:
                return None
            ref = await self.db(self.store.refund_by_rowid, refund_rowid)
            if ref["status"] == "PENDING":
                ref = await self.send_refund(row, ref)
            return ref
