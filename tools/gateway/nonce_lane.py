"""The nonce log's one writer: every signed request's nonce claimed in batches, off the event loop.

Each signed request stores its nonce (the replay check: a primary-key insert) and counts its
terminal's recent nonces (the rate limit, tools/gateway/limits.py). Done request by request on the
store's worker threads, that is one write each to the nonce log, and several threads writing one
SQLite file wait for each other in SQLite's busy handler, which sleeps (measured on 2 cores: a
second writing thread halved the rate and stalled single writes for up to 0.7 s). Here one thread
owns those writes: it takes every claim that is waiting, stores them with one INSERT, counts their
terminals with one SELECT and hands each request its answer. Under load one batch serves many
requests, so the cost per request falls as the load rises; alone, a request waits for one round
trip, as before. The database still decides (a replay is refused across processes and restarts,
the count is every instance's), so nothing here is a per-process cache.

The same thread prunes expired nonces a thousand at a time, four times a second.
"""
import logging
import time

from tools.gateway.dbcalls import Lane, hand_back, take_batch

log = logging.getLogger("gateway")

MAX_BATCH = 1000     # claims per round trip (the store splits its statements further)
PRUNE_EVERY = 0.25   # s between deletions of expired nonces (~4,000 a second at most)


class NonceLane(Lane):
    def __init__(self, store, rate_limit, nonce_ttl, clock=time.time):
        super().__init__(1, "gateway-nonces")
        self.store = store
        self.rate_limit = rate_limit
        self.nonce_ttl = nonce_ttl
        self.clock = clock
        self._last_prune = 0.0

    async def claim(self, terminal_id, nonce, seen_at):
        """(new, count): whether this terminal's nonce was not seen before (it is stored now), and
        how many of its requests fall inside the rate limit's windows, this one included (0 when
        there is no limit)."""
        return await self._submit(terminal_id, nonce, seen_at)

    def _work(self):
        more = True
        while more:
            batch = take_batch(self._queue, MAX_BATCH, timeout=PRUNE_EVERY)
            more = not batch or batch[-1] is not None
            batch = [b for b in batch if b is not None]
            if batch:
                self._serve(batch)
            self._prune()

    def _serve(self, batch):
        try:
            new = self.store.claim_nonces([(t, n, s) for t, n, s, _a, _l in batch])
            windows = self.rate_limit.windows()
            counts = self.store.requests_in([b[0] for b in batch], windows) if windows else {}
            outcomes = [(True, (ok, counts.get(b[0], 0))) for ok, b in zip(new, batch)]
        except Exception as e:  # the database failed: each request gets the error (a clean 500)
            outcomes = [(False, e)] * len(batch)
        per_loop = {}
        for (_t, _n, _s, answer, loop), outcome in zip(batch, outcomes):
            per_loop.setdefault(loop, []).append((answer, outcome))
        hand_back(per_loop)

    def _prune(self):
        now = self.clock()
        if now - self._last_prune < PRUNE_EVERY:
            return
        self._last_prune = now
        try:
            self.store.forget_nonces(now - self.nonce_ttl, limit=1000)
        except Exception as e:  # tried again next time; expired nonces only take room meanwhile
            log.warning("pruning expired nonces failed: %s", e)

