"""http:// to a gateway on loopback through micropython-lib `requests` (frozen into stock builds).

`requests` speaks HTTP/1.0-style one connection per call and closes it with the response. It
leaks its socket when it raises anything but OSError after connecting: a malformed status line,
a chunked answer or a header line without a colon raise ValueError, a redirect NotImplementedError,
and the socket it opened stays open (one lost socket per bad answer, until the heap or lwIP runs
out). So each call here lends `requests` a `socket` module that remembers what it opened, and
closes it whatever happens. The answer is read up to a bound (the stock `content` reads until the
server closes, however much that is).
"""
from micropython import const
import socket as _socket

try:
    from _thread import get_ident as _ident
except ImportError:
    def _ident():
        return 0

_MAX_BODY = const(16384)


class _Lender:
    """Stands in for the `socket` module inside `requests`: the same functions, and a note of the
    socket each thread opened."""

    def __init__(self, real):
        self._real = real
        self.SOCK_STREAM = real.SOCK_STREAM
        self.AF_INET = real.AF_INET
        self.getaddrinfo = real.getaddrinfo
        self.opened = {}  # thread id -> the socket of the call in progress

    def socket(self, *args):
        s = self._real.socket(*args)
        self.opened[_ident()] = s
        return s

    def __getattr__(self, name):
        return getattr(self._real, name)


class Response:
    def __init__(self, status_code, headers, content):
        self.status_code = status_code
        self.headers = headers
        self.content = content

    def close(self):
        self.content = None


class Requests:
    """`request(method, url, data, headers, timeout)` like firmware/link/http.py, over `requests`."""

    def __init__(self, requests_module=None):
        if requests_module is None:
            import requests as requests_module
        self.requests = requests_module
        lender = getattr(requests_module, "socket", None)
        if not isinstance(lender, _Lender):
            lender = _Lender(lender or _socket)
            requests_module.socket = lender
        self.lender = lender
        self.calls = 0

    def request(self, method, url, data=None, headers=None, timeout=None):
        key = _ident()
        self.lender.opened.pop(key, None)
        resp = None
        try:
            self.calls += 1
            resp = self.requests.request(method, url, data=data, headers=headers, timeout=timeout)
            return Response(resp.status_code, getattr(resp, "headers", None) or {}, _read(resp))
        except OSError:
            raise
        except Exception as e:  # ValueError, NotImplementedError... from a malformed answer
            raise OSError("bad answer: %r" % (e,))
        finally:
            if resp is not None:
                try:
                    resp.close()
                except Exception:
                    pass
            s = self.lender.opened.pop(key, None)
            if s is not None:
                try:
                    s.close()  # closing twice is harmless; never closing is a leak
                except Exception:
                    pass


def _read(resp):
    length = None
    headers = getattr(resp, "headers", None) or {}
    for name in headers:
        if name.lower() == "content-length":
            length = int(headers[name])
    if length is not None and length > _MAX_BODY:
        raise OSError("answer too long")
    raw = resp.raw
    want = _MAX_BODY + 1 if length is None else length
    content = b""
    while len(content) < want:
        chunk = raw.read(want - len(content))
        if not chunk:
            break
        content += chunk
    if len(content) > _MAX_BODY or (length is not None and len(content) < length):
        raise OSError("answer cut short or too long")
    return content
