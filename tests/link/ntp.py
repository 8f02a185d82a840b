"""A tiny NTP server on a free UDP port of 127.0.0.1 (tests only): answers with `now()` or stays
silent, and counts the questions."""
import socket
import struct
import threading
import time

NTP_DELTA = 2208988800


class NtpServer:
    def __init__(self, now=time.time, silent=False):
        self.now = now
        self.silent = silent
        self.asked = []  # time.monotonic() of every question
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def _serve(self):
        while not self._stop:
            try:
                data, peer = self.sock.recvfrom(512)
            except (socket.timeout, OSError):
                continue
            self.asked.append(time.monotonic())
            if self.silent or len(data) < 48:
                continue
            t = self.now() + NTP_DELTA
            secs, frac = int(t), int((t % 1) * (1 << 32))
            reply = bytearray(48)
            reply[0] = (0 << 6) | (4 << 3) | 4  # no leap warning, version 4, mode 4 (server)
            reply[1] = 2  # stratum
            reply[24:32] = data[40:48]  # originate = the client's transmit
            struct.pack_into("!II", reply, 32, secs, frac)  # receive
            struct.pack_into("!II", reply, 40, secs, frac)  # transmit
            self.sock.sendto(bytes(reply), peer)

    def close(self):
        self._stop = True
        self.thread.join(2)
        self.sock.close()
