"""One registry, spoken to in the OCI distribution protocol over http.client.

Requests that fail on the way (a dropped connection, a 5xx, a 429) are sent again after a
wait that doubles, a bounded number of times; an upload that was under way goes on from
where the registry says it stands. A 401 is answered once by logging in as the
WWW-Authenticate header asks — basic, or a bearer token from the realm it names — and a
401 or 403 after that is an error naming the registry and the repository. TLS is verified
unless the caller says otherwise, and then plain HTTP is tried where TLS is not spoken.
"""

import base64
import http.client
import json
import re
import ssl
import time
import urllib.parse

from ..errors import StrataError

ATTEMPTS = 5
FIRST_WAIT = 0.5
CHUNK = 8 << 20
"""The size of a chunked upload's PATCH requests."""


class Registry:
    def __init__(self, host, repository, credentials=None, tls_verify=True, say=None):
        self.host = host
        self.repository = repository
        self.credentials = credentials
        self.tls_verify = tls_verify
        self.scheme = "https"
        self.authorization = None
        self.say = say or (lambda line: None)
        self.connection = None

    # The protocol.

    def has_blob(self, digest):
        status, _, _ = self.request("HEAD", self._path("blobs", digest), expect=(200, 404))
        return status == 200

    def mount(self, digest, other):
        """Mount the blob `digest` from repository `other`; False where the registry would
        rather have it uploaded (its upload is then cancelled)."""
        status, headers, _ = self.request("POST", self._path("blobs/uploads/") + "?mount=%s&from=%s" % (
            urllib.parse.quote(digest), urllib.parse.quote(other)), expect=(201, 202))
        if status == 202 and headers.get("location"):
            self.request("DELETE", self._location(headers["location"]), expect=(204, 404, 405))
        return status == 201

    def upload(self, digest, size, chunks):
        """Upload the blob `digest` of `size` bytes, whose bytes `chunks()` gives (a fresh
        iterator each time it is called): in one PUT where it is small, else in PATCHes of
        CHUNK bytes. After a failed PATCH the upload goes on from where the registry says it
        stands; where it cannot say (distribution forgets an upload whose state token went
        stale with a lost answer), the blob is uploaded again from its start."""
        for attempt in range(ATTEMPTS):
            _, headers, _ = self.request("POST", self._path("blobs/uploads/"), expect=(202,))
            location = self._location(headers.get("location", ""))
            if size <= CHUNK:
                self.request("PUT", self._with_digest(location, digest), body=b"".join(chunks()), expect=(201,),
                             headers={"Content-Type": "application/octet-stream"})
                return
            try:
                location = self._patches(location, chunks())
            except _Retry as retry:
                self.say("%s: %s; uploading %s again from its start" % (self.where(), retry, digest[:19]))
                self._wait(attempt)
                continue
            self.request("PUT", self._with_digest(location, digest), expect=(201,))
            return
        raise StrataError("%s: the upload of %s failed %d times" % (self.where(), digest, ATTEMPTS))

    def _patches(self, location, chunks):
        """PATCH the bytes of `chunks` to the upload at `location`; the location to finish
        it at. A failed PATCH goes on from where the registry stands; _Retry where it cannot
        tell."""
        offset, failures = 0, 0
        for piece in _pieces(chunks, CHUNK):
            while piece:
                try:
                    _, headers, _ = self.request(
                        "PATCH", location, body=piece, expect=(202,), retries=1,
                        headers={"Content-Type": "application/octet-stream",
                                 "Content-Range": "%d-%d" % (offset, offset + len(piece) - 1)})
                except _Retry as retry:
                    failures += 1
                    if failures >= ATTEMPTS:
                        raise
                    self.say("%s: %s; going on from where the registry stands" % (self.where(), retry))
                    self._wait(failures)
                    taken = min(max(self._upload_offset(location) - offset, 0), len(piece))
                    piece, offset = piece[taken:], offset + taken
                    continue
                location = self._location(headers.get("location", location))
                offset += len(piece)
                piece = b""
        return location

    def put_manifest(self, reference, data, media_type):
        """Put a manifest (or index); False where the registry does not take its media type
        (400 or 415), so that the caller can offer Docker's instead."""
        status, _, _ = self.request("PUT", self._path("manifests", reference), body=data, expect=(201, 400, 415),
                                    headers={"Content-Type": media_type})
        return status == 201

    def where(self):
        return "%s/%s" % (self.host, self.repository)

    # Requests.

    def request(self, method, path, body=None, headers=None, expect=(200,), retries=ATTEMPTS):
        """(status, headers lowercased, body) of a request that ends in one of `expect`."""
        for attempt in range(retries):
            try:
                status, answer, data = self._send(method, path, body, headers or {})
            except (OSError, http.client.HTTPException) as error:
                problem = "the connection failed (%s)" % error
            else:
                if status == 401 and self._log_in(answer.get("www-authenticate", "")):
                    status, answer, data = self._send(method, path, body, headers or {})
                if status in expect:
                    return status, answer, data
                if status in (401, 403):
                    raise StrataError("%s: the registry refused %s (%d %s); give credentials (--creds, or the"
                                      " auth files of skopeo, podman or docker)"
                                      % (self.where(), "access" if status == 401 else "this push", status,
                                         _reason(data)))
                if status < 500 and status != 429:
                    raise StrataError("%s: %s %s answered %d: %s" % (self.where(), method, path.split("?")[0],
                                                                     status, _reason(data)))
                problem = "the registry answered %d" % status
            if retries == 1:
                raise _Retry(problem)
            self.say("%s: %s; trying again" % (self.where(), problem))
            self._wait(attempt)
        raise StrataError("%s: %s, %d times" % (self.where(), problem, retries))

    def _send(self, method, path, body, headers):
        headers = dict(headers)
        if self.authorization:
            headers["Authorization"] = self.authorization
        if body is not None:
            headers["Content-Length"] = str(len(body))
        connection = self._connection()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except ssl.SSLError as error:
            self.connection = None
            if not self.tls_verify and self.scheme == "https" and "WRONG_VERSION_NUMBER" in str(error):
                self.scheme = "http"  # a plain-HTTP registry, allowed by --dest-tls-verify=false
                return self._send(method, path, body, headers)
            raise StrataError("%s: TLS failed (%s); pass --dest-tls-verify=false for a self-signed or plain-HTTP"
                              " registry" % (self.host, error.reason or error))
        except (OSError, http.client.HTTPException):
            self.connection = None
            raise
        return response.status, {key.lower(): value for key, value in response.getheaders()}, data

    def _connection(self):
        if self.connection is None:
            if self.scheme == "https":
                context = ssl.create_default_context()
                if not self.tls_verify:
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                self.connection = http.client.HTTPSConnection(self.host, timeout=120, context=context)
            else:
                self.connection = http.client.HTTPConnection(self.host, timeout=120)
        return self.connection

    def _log_in(self, challenge):
        """Answer a WWW-Authenticate `challenge`; whether there was a way to."""
        if self.authorization is not None and not challenge.lower().startswith("bearer"):
            return False
        scheme, _, rest = challenge.partition(" ")
        parameters = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        if scheme.lower() == "basic":
            if self.credentials is None:
                return False
            self.authorization = "Basic " + _basic(self.credentials)
            return True
        if scheme.lower() == "bearer" and "realm" in parameters:
            query = {key: parameters[key] for key in ("service", "scope") if key in parameters}
            query.setdefault("scope", "repository:%s:pull,push" % self.repository)
            self.authorization = "Bearer " + self._token(parameters["realm"], query)
            return True
        return False

    def _token(self, realm, query):
        url = urllib.parse.urlsplit(realm)
        connection_type = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        options = {}
        if url.scheme == "https" and not self.tls_verify:
            options["context"] = ssl._create_unverified_context()
        connection = connection_type(url.netloc, timeout=60, **options)
        headers = {"Authorization": "Basic " + _basic(self.credentials)} if self.credentials else {}
        connection.request("GET", (url.path or "/") + "?" + urllib.parse.urlencode(query), headers=headers)
        response = connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise StrataError("%s: the token service %s refused (%d)" % (self.where(), url.netloc, response.status))
        try:
            answer = json.loads(data)
            return answer.get("token") or answer["access_token"]
        except (ValueError, KeyError, AttributeError):
            raise StrataError("%s: the token service %s answered no token" % (self.where(), url.netloc))

    def _upload_offset(self, location):
        """How many bytes the upload at `location` holds; _Retry where the registry cannot say."""
        try:
            _, headers, _ = self.request("GET", location, expect=(204,), retries=1)
        except StrataError as error:
            raise _Retry(str(error))
        match = re.match(r"0-(\d+)", headers.get("range", ""))
        return int(match.group(1)) + 1 if match else 0

    def _path(self, kind, reference=""):
        return "/v2/%s/%s%s" % (self.repository, kind, "/" + reference if reference else "")

    def _location(self, location):
        """A Location header as a path on this registry (it may be a whole URL)."""
        if not location:
            raise StrataError("%s: the registry gave no upload location" % self.where())
        url = urllib.parse.urlsplit(location)
        return url.path + ("?" + url.query if url.query else "")

    @staticmethod
    def _with_digest(location, digest):
        return location + ("&" if "?" in location else "?") + "digest=" + urllib.parse.quote(digest)

    @staticmethod
    def _wait(attempt):
        time.sleep(FIRST_WAIT * 2 ** attempt)


class _Retry(Exception):
    """A request to try again, where the caller resumes (an upload's PATCH)."""


def _pieces(chunks, size):
    pending = b""
    for chunk in chunks:
        pending += chunk
        while len(pending) >= size:
            yield pending[:size]
            pending = pending[size:]
    if pending:
        yield pending


def _basic(credentials):
    return base64.b64encode(("%s:%s" % credentials).encode("utf-8")).decode("ascii")


def _reason(data):
    try:
        errors = json.loads(data).get("errors") or []
        return "; ".join(error.get("message", error.get("code", "")) for error in errors) or "no reason given"
    except (ValueError, AttributeError):
        return "no reason given"

