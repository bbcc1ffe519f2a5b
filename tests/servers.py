"""Servers on 127.0.0.1 for the registry client's tests: a proxy in front of a real
docker-registry that fails, lies or redirects as told, small HTTP servers that misbehave as
no real registry does, and raw socket servers that stall. Each runs in daemon threads and
stops when closed (the tests close them in `finally` or by `with`); every wait in them is
bounded."""

import gzip
import hashlib
import http.client
import http.server
import io
import json
import os
import socket
import ssl
import tarfile
import threading
import time


class _Quiet(http.server.ThreadingHTTPServer):
    """A server whose handlers' failures (a client that hung up, as clients under test
    do) are not printed."""
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


class _Threads:
    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.close()


class _Handler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 (kept-alive connections), quiet, answering with `_send`."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *arguments):
        pass

    def _send(self, status, headers, data):
        """Answer; a Content-Length of the data's unless `headers` have one (a HEAD's)."""
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        if not any(key.lower() == "content-length" for key, _ in headers):
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


class _HTTPServer(_Threads):
    def _serve(self, handler, tls=None):
        """Serve with `handler` (a _Handler class) on 127.0.0.1, over TLS with `tls`
        (certificate, key)."""
        self.server = _Quiet(("127.0.0.1", 0), handler)
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.address = "127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class FaultyProxy(_HTTPServer):
    """An HTTP proxy in front of the registry `upstream` (host:port) that fails requests as
    told: `faults` maps (method, occurrence) to "503" (answered so) or "drop" (the
    connection closed unanswered), after the registry saw the request when `after` holds
    it. `answer(method, path, headers)` may give (status, headers, body) to send instead of
    forwarding; `change(method, path, status, headers, body)` may change what the registry
    answered. `close_each`: every connection closed silently after its answer (no
    ``Connection: close``), as a keep-alive timeout of 0 does. `upstream_tls`: the registry
    speaks TLS (not verified). Counts requests by method in `seen`, and the most blob
    requests it had under way at once in `most_at_once`."""

    def __init__(self, upstream, faults=None, after=(), answer=None, change=None, close_each=False,
                 upstream_tls=False):
        self.seen = {}
        self.most_at_once = 0
        self._under_way = 0
        lock = threading.Lock()
        proxy = self
        faults = faults or {}

        class Handler(_Handler):
            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                with lock:
                    count = proxy.seen[self.command] = proxy.seen.get(self.command, 0) + 1
                    proxy._under_way += 1
                    proxy.most_at_once = max(proxy.most_at_once, proxy._under_way)
                try:
                    self._handle(body, count)
                finally:
                    with lock:
                        proxy._under_way -= 1
                if close_each:
                    self.close_connection = True

            def _handle(self, body, count):
                fault = faults.get((self.command, count))
                instead = answer(self.command, self.path, self.headers) if answer else None
                if instead:
                    return self._send(*instead)
                if fault and (self.command, count) not in after:
                    return self._fail(fault)
                if upstream_tls:
                    connection = http.client.HTTPSConnection(upstream, timeout=60,
                                                             context=ssl._create_unverified_context())
                else:
                    connection = http.client.HTTPConnection(upstream, timeout=60)
                headers = {key: value for key, value in self.headers.items() if key.lower() != "host"}
                connection.request(self.command, self.path, body=body or None, headers=headers)
                response = connection.getresponse()
                data = response.read()
                connection.close()
                if fault:
                    return self._fail(fault)
                dropped = ("transfer-encoding", "connection") + (("content-length",) if self.command != "HEAD" else ())
                status, headers = response.status, [(key, value) for key, value in response.getheaders()
                                                    if key.lower() not in dropped]
                if change:
                    status, headers, data = change(self.command, self.path, status, headers, data)
                self._send(status, headers, data)

            def _fail(self, fault):
                if fault == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                self._send(int(fault), [], b"")

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        self._serve(Handler)


class Server(_HTTPServer):
    """A small HTTP server (HTTP/1.1, kept-alive connections): `respond(handler, body)`
    answers each request, with the request's body read; it returns (status, headers, body)
    or None where it answered by itself. Records each request as (method, path, headers)
    in `requests`. With `tls` (certificate, key), it speaks HTTPS."""

    def __init__(self, respond, tls=None):
        self.requests = []
        server = self

        class Handler(_Handler):
            def _handle(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                server.requests.append((self.command, self.path, dict(self.headers)))
                answered = respond(self, body)
                if answered is not None:
                    self._send(*answered)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self._serve(Handler, tls)


class RawServer(_Threads):
    """A TCP server on 127.0.0.1 whose `behave(connection, stopped)` runs for each
    connection in a thread of its own (`stopped` an Event set when the server closes: every
    wait in `behave` is bounded by it). Counts connections in `connections`."""

    def __init__(self, behave):
        self.connections = 0
        self.stopped = threading.Event()
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.socket.settimeout(0.2)
        self.address = "127.0.0.1:%d" % self.socket.getsockname()[1]

        def accept():
            while not self.stopped.is_set():
                try:
                    connection, _ = self.socket.accept()
                except OSError:
                    continue
                self.connections += 1
                threading.Thread(target=self._serve, args=(behave, connection), daemon=True).start()
        threading.Thread(target=accept, daemon=True).start()

    def _serve(self, behave, connection):
        try:
            behave(connection, self.stopped)
        except OSError:
            pass
        finally:
            connection.close()

    def close(self):
        self.stopped.set()
        self.socket.close()


def never_answer(connection, stopped):
    """Take the connection and say nothing, until the server closes."""
    connection.settimeout(0.2)
    while not stopped.is_set():
        try:
            if not connection.recv(65536):
                return
        except socket.timeout:
            continue


def certificate(directory, name="127.0.0.1"):
    """A self-signed certificate for 127.0.0.1 and its key, made by openssl: (cert, key)."""
    import subprocess
    cert, key = os.path.join(directory, name + "-cert.pem"), os.path.join(directory, name + "-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert, "-days", "2"], check=True,
                   capture_output=True)
    return cert, key


def tiny_layout(directory, layer_sizes=(3000,), seed=b"strata"):
    """An OCI layout at `directory` (made) of one image whose layers are gzipped tars, each
    of a file of about the given size of bytes that do not compress; its manifest's digest."""
    blobs = os.path.join(directory, "blobs", "sha256")
    os.makedirs(blobs)

    def blob(data, media_type):
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, digest), "wb") as stream:
            stream.write(data)
        return {"mediaType": media_type, "digest": "sha256:" + digest, "size": len(data)}

    layers, diff_ids = [], []
    for number, size in enumerate(layer_sizes):
        content = b"".join(hashlib.sha256(seed + b"%d-%d" % (number, index)).digest() for index in range(size // 32 + 1))
        tar = io.BytesIO()
        with tarfile.open(fileobj=tar, mode="w", format=tarfile.PAX_FORMAT) as archive:
            info = tarfile.TarInfo("file-%d" % number)
            info.size, info.mtime = len(content), 1
            archive.addfile(info, io.BytesIO(content))
        diff_ids.append("sha256:" + hashlib.sha256(tar.getvalue()).hexdigest())
        layers.append(blob(gzip.compress(tar.getvalue(), mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"))
    config = blob(json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                              "rootfs": {"type": "layers", "diff_ids": diff_ids},
                              "history": [{"created_by": "test"} for _ in layers]}).encode(),
                  "application/vnd.oci.image.config.v1+json")
    manifest = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                "config": config, "layers": layers}).encode(),
                    "application/vnd.oci.image.manifest.v1+json")
    with open(os.path.join(directory, "index.json"), "w") as stream:
        json.dump({"schemaVersion": 2, "manifests": [manifest]}, stream)
    with open(os.path.join(directory, "oci-layout"), "w") as stream:
        json.dump({"imageLayoutVersion": "1.0.0"}, stream)
    return manifest["digest"]


def wait_until(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within %d s" % seconds
        time.sleep(0.05)
