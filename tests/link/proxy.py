"""A counting TCP proxy in front of the real gateway (tests and bench): what the SERVER side sees.

One thread, one selector: every connection accepted, the most open at once, and how many began
with a TLS ClientHello (each one is a full handshake: the firmware does no session resumption).
Within one round of the selector, data and end-of-stream are handled before new connections, so
a close the client sent before its next connect is counted before it."""
import selectors, socket, threading

class CountingProxy:
    def __init__(self, upstream_port, host="127.0.0.1"):
        self.upstream = (host, upstream_port)
        self.lsock = socket.socket(); self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((host, 0)); self.lsock.listen(64); self.lsock.setblocking(False)
        self.port = self.lsock.getsockname()[1]
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.lsock, selectors.EVENT_READ, None)
        self.accepted = 0; self.open = 0; self.max_open = 0; self.hellos = 0
        self.lock = threading.Lock(); self.stop = False
        self.t = threading.Thread(target=self._run, daemon=True); self.t.start()
    def _close(self, pair):
        c, u, st = pair
        for s in (c, u):
            try: self.sel.unregister(s)
            except Exception: pass
            s.close()
        if not st["closed"]:
            st["closed"] = True
            with self.lock: self.open -= 1
    def _run(self):
        while not self.stop:
            events = self.sel.select(0.05)
            # data and EOFs first, accepts last: a close sent before a connect is counted before it
            for key, _ in sorted(events, key=lambda e: e[0].data is None):
                if key.data is None:
                    c, _ = self.lsock.accept()
                    u = socket.create_connection(self.upstream)
                    st = {"closed": False, "first": True}
                    with self.lock:
                        self.accepted += 1; self.open += 1; self.max_open = max(self.max_open, self.open)
                    pair = (c, u, st)
                    self.sel.register(c, selectors.EVENT_READ, ("c", pair))
                    self.sel.register(u, selectors.EVENT_READ, ("u", pair))
                    continue
                side, pair = key.data
                c, u, st = pair
                if st["closed"]: continue
                src, dst = (c, u) if side == "c" else (u, c)
                try: data = src.recv(65536)
                except OSError: data = b""
                if not data:
                    self._close(pair); continue
                if side == "c" and st["first"]:
                    st["first"] = False
                    if len(data) >= 6 and data[0] == 0x16 and data[5] == 0x01:  # a TLS ClientHello opens it
                        with self.lock: self.hellos += 1
                try: dst.sendall(data)
                except OSError: self._close(pair)
    def close(self):
        self.stop = True; self.t.join(2); self.lsock.close()
