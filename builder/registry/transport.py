"""HTTP exchanges with one server (a registry, its token service, where it redirects to),
each bounded, over http.client:

- connecting, and each wait for the server's next bytes: ANSWER_TIMEOUT seconds;
- a whole exchange: REQUEST_TIME seconds, plus its body's time at MIN_RATE (a watchdog
  shuts the socket when it is up, whatever the server trickles);
- an answer's body: ANSWER_LIMIT bytes (the registry API answers in small JSON documents),
  save a blob read back into a Download, which takes at most the blob's size.

A kept-alive connection that the server closed since its last answer (a keep-alive timeout
of 0, a proxy's idle cut), or that holds bytes nobody asked for, is dropped and a new one
made before anything is sent on it, as HTTP clients do: a request never goes out on a
connection the server has already closed.
"""

import collections
import http.client
import select
import socket
import ssl
import threading
import time

from ..tar.streams import HashingSink

ANSWER_TIMEOUT = 30
REQUEST_TIME = 60
MIN_RATE = 32 << 10
ANSWER_LIMIT = 1 << 20
_SEND_PIECE = 64 << 10
_CLOSED = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
"""How a request on a connection the server has just closed fails."""
_IDEMPOTENT = {"GET", "HEAD", "PUT", "DELETE"}

Answer = collections.namedtuple("Answer", "status headers data")
"""`headers` with lowercased names."""


class Failure(Exception):
    """An exchange that did not end in an answer. `kind`: "connection" (it failed or was
    cut: worth another try), "timeout" (a bound on time was hit), "tls" (the server's TLS
    cannot be trusted, or it speaks none), "size" (an answer over ANSWER_LIMIT)."""

    def __init__(self, message, kind="connection"):
        super().__init__(message)
        self.kind = kind
        self.sent = True
        """Whether the whole request went out before the failure."""


class Connection:
    """A kept-alive connection to `scheme`://`netloc`; TLS verified unless `tls_verify` is
    false. One thread uses it at a time."""

    def __init__(self, scheme, netloc, tls_verify=True):
        self.scheme = scheme
        self.netloc = netloc
        self.tls_verify = tls_verify
        self._http = None

    def exchange(self, method, target, body=None, headers=None, time_limit=None, into=None):
        """The Answer to `method` `target` (a path with its query); Failure if none came
        within the bounds. `time_limit` lowers the bound on the whole exchange.

        A request on a kept-alive connection that the server closed just as it went out (the
        close racing it) goes once more, on a new connection, where it could not have been
        taken: its sending failed, or it is idempotent. Others are the caller's to resume (an
        upload's PATCH whose answer was lost may have reached the registry)."""
        reused = self._http is not None and self._http.sock is not None
        try:
            return self._exchange(method, target, body, headers, time_limit, into)
        except Failure as failure:
            if not (reused and failure.kind == "connection" and isinstance(failure.__cause__, _CLOSED)
                    and (not failure.sent or method in _IDEMPOTENT)):
                raise
        return self._exchange(method, target, body, headers, time_limit, into)

    def _exchange(self, method, target, body, headers, time_limit, into):
        headers = dict(headers or {})
        if body is not None:
            headers["Content-Length"] = str(len(body))
        limit = REQUEST_TIME + ((len(body) if body else 0) + (into.size if into else 0)) / MIN_RATE
        limit = min(limit, time_limit) if time_limit is not None else limit
        connection = self._ready()
        cut = threading.Event()
        watchdog = threading.Timer(max(limit, 0), _shut, (connection, cut))
        watchdog.daemon = True
        started = time.monotonic()
        watchdog.start()
        sent = False
        try:
            connection.request(method, target, body=_pieces(body) if body else body, headers=headers)
            sent = True
            response = connection.getresponse()
            data = _receive(response, into) if into is not None and response.status == 200 else \
                response.read(ANSWER_LIMIT + 1)
        except (OSError, http.client.HTTPException) as error:
            self.close()
            if cut.is_set() or time.monotonic() - started >= limit:
                raise _too_long(limit)
            failure = _failure(error)
            failure.sent = sent
            raise failure from error
        finally:
            watchdog.cancel()
        if cut.is_set():  # the cut may read as the end of the headers or of the body
            self.close()
            raise _too_long(limit)
        if into is not None and into.overflowed:
            self.close()
            raise Failure("more than the blob's %d bytes; stopped reading it" % into.size, "size")
        if len(data) > ANSWER_LIMIT:
            self.close()
            raise Failure("an answer over %d bytes (the registry API's answers are small); stopped reading it"
                          % ANSWER_LIMIT, "size")
        return Answer(response.status, {key.lower(): value for key, value in response.getheaders()}, data)

    def close(self):
        if self._http is not None:
            self._http.close()
            self._http = None

    def _ready(self):
        """The connection, made anew where the server closed the kept-alive one."""
        if self._http is not None and self._http.sock is not None and _dropped(self._http.sock):
            self.close()
        if self._http is None:
            if self.scheme == "https":
                context = ssl.create_default_context()
                if not self.tls_verify:
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                self._http = http.client.HTTPSConnection(self.netloc, timeout=ANSWER_TIMEOUT, context=context)
            else:
                self._http = http.client.HTTPConnection(self.netloc, timeout=ANSWER_TIMEOUT)
        return self._http


class Download:
    """Where a blob read back goes: the binary file `file`, at most `size` bytes, hashed and
    counted as they come (`seen`, a HashingSink); each try starts it again."""

    def __init__(self, file, size):
        self.file = file
        self.size = size
        self.restart()

    def restart(self):
        self.file.seek(0)
        self.file.truncate()
        self.seen = HashingSink(self.file)
        self.overflowed = False

    def write(self, piece):
        if self.seen.size + len(piece) > self.size:
            self.overflowed = True
            return
        self.seen.write(piece)


def _receive(response, into):
    """Read the body of `response` into the Download `into`: b"" (the body is there)."""
    into.restart()
    for piece in iter(lambda: response.read(_SEND_PIECE), b""):
        into.write(piece)
        if into.overflowed:
            break
    return b""


def _dropped(sock):
    """Whether an idle kept-alive socket is done for: readable means the server closed it
    (or sent what no request asked for)."""
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _shut(connection, cut):
    """The watchdog: unblock whatever the exchange waits on. The plain socket's shutdown,
    not SSLSocket's, which would pull the TLS state from under the reading thread."""
    cut.set()
    sock = connection.sock
    if sock is not None:
        try:
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass


def _pieces(body):
    """The body in pieces: each piece's send gets its own ANSWER_TIMEOUT (one sendall of
    the whole body would have to finish within it)."""
    view = memoryview(body)
    for start in range(0, len(view), _SEND_PIECE):
        yield view[start:start + _SEND_PIECE]


def _too_long(limit):
    return Failure("no whole answer within %d s" % limit, "timeout")


def _failure(error):
    if isinstance(error, ssl.SSLCertVerificationError):
        return Failure("TLS failed (%s)" % (error.verify_message or error.reason or error), "tls")
    if isinstance(error, ssl.SSLError) and error.reason == "WRONG_VERSION_NUMBER":
        return Failure("the server speaks no TLS", "tls")
    if isinstance(error, socket.timeout):
        return Failure("no answer within %d s" % ANSWER_TIMEOUT, "timeout")
    return Failure("the connection failed (%s)" % (getattr(error, "strerror", None) or error or type(error).__name__))
