"""One registry, spoken to in the OCI distribution protocol, by several threads at once.

- Retries: a request that fails on the way (a dropped connection, a 5xx, a 429) is sent
  again after a wait that doubles, ATTEMPTS times at most; one that meets no answer within
  transport's bounds is given up after TIMEOUTS such tries. An upload goes on from where the
  registry says it stands; where it cannot say, the blob is uploaded again from its start.
- Verification: a blob a HEAD reports with another size or digest is not there (it is
  uploaded); a blob or manifest the registry says it stored under another digest is an
  error naming both; a PUT whose answer was lost is checked with a HEAD, not sent again.
- Secrets: the Authorization header goes only to the registry's own scheme, host and port
  (a redirect elsewhere, to an object store say, goes without it); see auth for
  credentials and tokens. With ``tls_verify`` false, a registry whose HTTPS fails is spoken
  to in plain HTTP, as containers/image does.
- Time: everything a Registry does ends by its `time_bound` (seconds), if given; `task`
  names what it does (a push, a reading) in the error. A reading asks for pull access only.
"""

import json
import re
import threading
import time
import urllib.parse

from . import auth, docker, transport
from ..core.errors import StrataError
from ..image.imageformats import INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, digest as digest_of
from .secrets import Secrets

ATTEMPTS = 5
TIMEOUTS = 2
FIRST_WAIT = 0.5
CHUNK = 8 << 20
"""The size of a chunked upload's PATCH requests."""
REDIRECTS = 5
ACCEPT = ", ".join([MANIFEST_MEDIA_TYPE, INDEX_MEDIA_TYPE, docker.MANIFEST, docker.MANIFEST_LIST])
"""The manifests strata reads back: OCI's and Docker's schema 2, images and indexes."""
MEDIA_TYPE_REFUSALS = {"MANIFEST_INVALID", "UNSUPPORTED"}
"""The error codes of a 400 with which registries refuse a manifest's media type."""


class Registry:
    def __init__(self, host, repository, credentials=None, tls_verify=True, say=None, secrets=None, time_bound=None,
                 task="push"):
        self.host = host
        self.repository = repository
        self.tls_verify = tls_verify
        self.say = say or (lambda line: None)
        self.secrets = secrets or Secrets(credentials)
        self.login = auth.Login(self.where(), repository, credentials, self.secrets, tls_verify,
                                "pull" if task == "reading" else "pull,push")
        self.scheme = "https"
        self.time_bound = time_bound
        self.task = task
        self._end = time.monotonic() + time_bound if time_bound is not None else None
        self._scheme_known = False
        self._lock = threading.Lock()
        self._local = threading.local()

    # The protocol.

    def has_blob(self, digest, size):
        """Whether the registry has the blob `digest` of `size` bytes, as its HEAD says."""
        status, headers, _ = self.request("HEAD", self._path("blobs", digest), expect=(200, 404))
        if status != 200:
            return False
        length, stored = headers.get("content-length"), headers.get("docker-content-digest")
        if (length is not None and length != str(size)) or stored not in (None, digest):
            self.say("%s: the registry reports %s as %s bytes with digest %s, not %d bytes: not that blob; uploading"
                     " it" % (self.where(), digest[:19], length, stored, size))
            return False
        return True

    def mount(self, digest, other):
        """Mount the blob `digest` from repository `other`; False where the registry would
        rather have it uploaded, or refuses (its upload is then cancelled)."""
        try:
            status, headers, _ = self.request("POST", self._path("blobs/uploads/") + "?mount=%s&from=%s" % (
                urllib.parse.quote(digest), urllib.parse.quote(other)), expect=(201, 202))
        except StrataError as error:
            self.say("%s: no mount of %s from %s (%s)" % (self.where(), digest[:19], other, error))
            return False
        if status == 202 and headers.get("location"):
            try:
                self.request("DELETE", self._location(headers["location"]), expect=(204, 404, 405))
            except StrataError:
                pass  # an upload left open expires on the registry
        return status == 201 and headers.get("docker-content-digest") in (None, digest)

    def upload(self, digest, size, chunks):
        """Upload the blob `digest` of `size` bytes, whose bytes `chunks()` gives (a fresh
        iterator each time it is called): in one PUT where it is small, else in PATCHes of
        CHUNK bytes."""
        for attempt in range(ATTEMPTS):
            _, headers, _ = self.request("POST", self._path("blobs/uploads/"), expect=(202,))
            location = self._location(headers.get("location", ""))
            try:
                if size <= CHUNK:
                    self._finish(location, digest, b"".join(chunks()))
                else:
                    self._finish(self._patches(location, chunks()), digest, None)
                return
            except _Retry as retry:
                if self.has_blob(digest, size):
                    return  # only the answer was lost
                problem = retry
                if attempt < ATTEMPTS - 1:
                    self.say("%s: %s; uploading %s again from its start" % (self.where(), retry, digest[:19]))
                    self._wait(attempt)
        raise StrataError("%s: the upload of %s failed %d times, the last: %s" % (self.where(), digest, ATTEMPTS,
                                                                                problem))

    def _finish(self, location, digest, body):
        """The PUT that ends an upload, sent once: after a failure the caller asks whether
        the blob is there, since distribution forgets an upload it has finished."""
        status, headers, _ = self.request("PUT", self._with_digest(location, digest), body=body, expect=(201, 404),
                                          retries=1, headers={"Content-Type": "application/octet-stream"})
        if status == 404:
            raise _Retry("the registry no longer knows the upload")
        stored = headers.get("docker-content-digest")
        if stored not in (None, digest):
            raise StrataError("%s: the registry stored the blob %s as %s: it holds something else"
                              % (self.where(), digest, stored))

    def _patches(self, location, chunks):
        """PATCH the bytes of `chunks` to the upload at `location`; the location to finish
        it at. A failed PATCH goes on from where the registry stands, ATTEMPTS times in a row
        at most; _Retry where it cannot tell."""
        offset, failures = 0, 0
        for piece in _pieces(chunks, CHUNK):
            while piece:
                try:
                    status, headers, _ = self.request(
                        "PATCH", location, body=piece, expect=(202, 416), retries=1,
                        headers={"Content-Type": "application/octet-stream",
                                 "Content-Range": "%d-%d" % (offset, offset + len(piece) - 1)})
                except _Retry as retry:
                    failures += 1
                    if failures >= ATTEMPTS:
                        raise
                    self.say("%s: %s; going on from where the registry stands" % (self.where(), retry))
                    self._wait(failures)
                    held = self._upload_offset(location)
                    if not offset <= held <= offset + len(piece):
                        raise _Retry("the registry holds %d bytes of the upload, where %d to %d were sent"
                                     % (held, offset, offset + len(piece)))
                    piece, offset = piece[held - offset:], held
                    continue
                if status == 416:
                    raise _Retry("the registry refused the upload's range %d-" % offset)
                location = self._location(headers.get("location", location))
                offset += len(piece)
                piece, failures = b"", 0
        return location

    def _upload_offset(self, location):
        """How many bytes the upload at `location` holds; _Retry where the registry cannot
        say. Its Range is ``0-LAST``, but distribution answers ``0-0`` for an empty upload:
        that is read as 0 (a PATCH from 0 over 1 held byte is refused with a 416, and the
        upload starts again)."""
        try:
            _, headers, _ = self.request("GET", location, expect=(204,), retries=1)
        except StrataError as error:
            raise _Retry(str(error))
        match = re.fullmatch(r"(?:bytes=)?0-(\d+)", headers.get("range", "").strip())
        if not match:
            raise _Retry("the registry does not say how much of the upload it holds")
        last = int(match.group(1))
        return last + 1 if last else 0

    def put_manifest(self, reference, data, media_type):
        """Put a manifest (or index) under `reference`; False where the registry refuses
        its media type (415, or a 400 saying only that it is invalid), so that the caller
        can offer Docker's instead."""
        return self._put_manifest(reference, data, media_type) is not None

    def put_referrer(self, data):
        """Put an OCI artifact manifest with a subject (bytes) by its digest; whether the
        registry lists it among its subject's referrers itself (its OCI-Subject header)."""
        headers = self._put_manifest(digest_of(data), data, MANIFEST_MEDIA_TYPE)
        if headers is None:
            raise StrataError("%s: the registry refuses OCI artifact manifests; push with --no-sbom" % self.where())
        return "oci-subject" in headers

    def _put_manifest(self, reference, data, media_type):
        """The answer's headers, or None at a refusal of the media type."""
        status, headers, answer = self.request("PUT", self._path("manifests", reference), body=data,
                                               expect=(201, 400, 415), headers={"Content-Type": media_type})
        if status == 201:
            stored, built = headers.get("docker-content-digest"), digest_of(data)
            if stored not in (None, built):
                raise StrataError("%s: the registry stored the manifest %s as %s, not as built (%s): it holds"
                                  " something else" % (self.where(), reference, stored, built))
            return headers
        if status == 415 or _codes(answer) <= MEDIA_TYPE_REFUSALS:
            return None
        raise StrataError("%s: the registry refuses the manifest %s (%d %s)"
                          % (self.where(), reference, status, _reason(answer)))

    def get_manifest(self, reference, missing_ok=False):
        """(bytes, media type) of the manifest or index `reference` (a tag or a digest,
        which the bytes must match); None where there is none and `missing_ok`."""
        status, headers, data = self.request("GET", self._path("manifests", reference), headers={"Accept": ACCEPT},
                                             expect=(200, 404) if missing_ok else (200,))
        if status == 404:
            return None
        if reference.startswith("sha256:") and digest_of(data) != reference:
            raise StrataError("%s: the registry answered the manifest %s with other bytes (%s)"
                              % (self.where(), reference, digest_of(data)))
        return data, headers.get("content-type", "").split(";")[0].strip()

    def get_referrers(self, subject):
        """The image index the referrers API lists for the manifest `subject`, as bytes;
        None where the registry has no such API (distribution 2.8)."""
        status, _, data = self.request("GET", self._path("referrers", subject), expect=(200, 404, 400, 405))
        return data if status == 200 else None

    def get_blob(self, digest, size, file):
        """Read the blob `digest` of `size` bytes into the binary `file`, checked."""
        download = transport.Download(file, size)
        self.request("GET", self._path("blobs", digest), into=download)
        if download.seen.size != size or download.seen.digest() != digest:
            raise StrataError("%s: the blob %s came back as %d bytes with digest %s, not %d bytes"
                              % (self.where(), digest, download.seen.size, download.seen.digest(), size))

    def where(self):
        return "%s/%s" % (self.host, self.repository)

    # Requests.

    def request(self, method, target, body=None, headers=None, expect=(200,), retries=ATTEMPTS, into=None):
        """(status, headers lowercased, body) of a request that ends in one of `expect`;
        `target` a path on the registry, or a URL; a 200's body into the transport.Download
        `into`, if given."""
        timeouts = 0
        for attempt in range(1, retries + 1):
            try:
                status, answer, data = self._answer(method, target, body, headers or {}, into)
            except transport.Failure as failure:
                if failure.kind == "tls":
                    raise StrataError("%s: %s; pass --dest-tls-verify=false for a self-signed or plain-HTTP registry"
                                      % (self.host, failure))
                if failure.kind == "size":
                    raise StrataError("%s: %s %s: %s" % (self.where(), method, _shown(target), failure))
                problem = str(failure)
                timeouts += failure.kind == "timeout"
            else:
                if status in expect:
                    return status, answer, data
                if status in (401, 403):
                    raise StrataError("%s: the registry refused %s (%d %s); give credentials (--creds, or the"
                                      " auth files of skopeo, podman or docker)"
                                      % (self.where(), "access" if status == 401 else "this push", status,
                                         _reason(data)))
                if status < 500 and status != 429:
                    raise StrataError("%s: %s %s answered %d: %s" % (self.where(), method, _shown(target), status,
                                                                     _reason(data)))
                problem = "the registry answered %d" % status
            if retries == 1:
                raise _Retry(problem)
            if attempt == retries or timeouts == TIMEOUTS:
                break
            self.say("%s: %s; trying again" % (self.where(), problem))
            self._wait(attempt - 1)
        raise StrataError("%s: %s, %d times" % (self.where(), problem, attempt))

    def _answer(self, method, target, body, headers, into=None):
        """(status, headers, body) of one request, after the login a 401 asks for and the
        redirects it meets."""
        for _ in range(REDIRECTS + 1):
            origin, path = self._origin(target)
            if origin is None:
                tried = self.login.authorization
                answer = self._own(method, path, body, headers, tried, into)
                if answer.status == 401 and self.login.answer(answer.headers.get("www-authenticate", ""), tried,
                                                              self._time_left()):
                    answer = self._own(method, path, body, headers, self.login.authorization, into)
            else:
                answer = self._elsewhere(origin, method, path, body, headers, into)
            location = answer.headers.get("location")
            if location and (answer.status in (307, 308) or answer.status in (301, 302, 303)
                             and method in ("GET", "HEAD")):
                target = urllib.parse.urljoin("%s://%s%s" % (self.scheme, self.host, path) if origin is None
                                              else "%s://%s%s" % (origin + (path,)), location)
                continue
            return answer.status, answer.headers, answer.data
        raise StrataError("%s: %s %s: more than %d redirects" % (self.where(), method, _shown(target), REDIRECTS))

    def _own(self, method, path, body, headers, authorization, into=None):
        """An exchange with the registry itself, with the Authorization header."""
        connection = self._connection()
        try:
            answer = connection.exchange(method, path, body, dict(headers, **(
                {"Authorization": authorization} if authorization else {})), self._time_left(), into)
        except transport.Failure as failure:
            if connection.scheme != self.scheme:  # another thread has moved to plain HTTP meanwhile
                return self._own(method, path, body, headers, authorization, into)
            if self.tls_verify or self._scheme_known or connection.scheme == "http":
                raise
            with self._lock:
                if self.scheme == "https":
                    self.scheme = "http"
                    self.say("%s: HTTPS failed (%s); trying plain HTTP, as --dest-tls-verify=false allows"
                             % (self.host, failure))
            return self._own(method, path, body, headers, authorization, into)
        self._scheme_known = True
        return answer

    def _elsewhere(self, origin, method, path, body, headers, into=None):
        """An exchange with where the registry redirected to: never with the Authorization
        header, and over plain HTTP only where plain HTTP is allowed."""
        scheme, netloc = origin
        if scheme == "http" and self.tls_verify:
            raise StrataError("%s: %s %s was redirected to plain HTTP (%s), which strata follows only with"
                              " --dest-tls-verify=false" % (self.where(), method, _shown(path), netloc))
        if scheme not in ("http", "https"):
            raise StrataError("%s: %s was redirected to %s://%s" % (self.where(), method, scheme, netloc))
        connection = transport.Connection(scheme, netloc, self.tls_verify)
        try:
            return connection.exchange(method, path, body, headers, self._time_left(), into)
        finally:
            connection.close()

    def _origin(self, target):
        """(None, path) for a target on the registry itself, else ((scheme, netloc), path)."""
        url = urllib.parse.urlsplit(target)
        path = _path_and_query(url)
        if not url.netloc or (url.scheme, url.netloc) == (self.scheme, self.host):
            return None, path
        return (url.scheme, url.netloc), path

    def _connection(self):
        """This thread's connection to the registry, over the scheme it is spoken to in."""
        connection = getattr(self._local, "connection", None)
        if connection is None or connection.scheme != self.scheme:
            if connection is not None:
                connection.close()
            connection = self._local.connection = transport.Connection(self.scheme, self.host, self.tls_verify)
        return connection

    def _time_left(self):
        if self._end is None:
            return None
        left = self._end - time.monotonic()
        if left <= 0:
            raise StrataError("%s: the %s took longer than its bound of %d s" % (self.where(), self.task, self.time_bound))
        return left

    def _path(self, kind, reference=""):
        return "/v2/%s/%s%s" % (self.repository, kind, "/" + reference if reference else "")

    def _location(self, location):
        """A Location header as a path on this registry (it may be a whole URL)."""
        if not location:
            raise StrataError("%s: the registry gave no upload location" % self.where())
        return _path_and_query(urllib.parse.urlsplit(location))

    @staticmethod
    def _with_digest(location, digest):
        return location + ("&" if "?" in location else "?") + "digest=" + urllib.parse.quote(digest)

    def _wait(self, attempt):
        wait = FIRST_WAIT * 2 ** attempt
        left = self._time_left()
        time.sleep(wait if left is None else min(wait, left))


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


def _path_and_query(url):
    """A split URL's path (``/`` for none) and query, as a request on its host names it."""
    return (url.path or "/") + ("?" + url.query if url.query else "")


def _shown(target):
    """A request's target as errors show it: its path, without the query (which holds an
    upload's state token)."""
    return urllib.parse.urlsplit(target).path


def _errors(data):
    try:
        errors = json.loads(data).get("errors") or []
        return [error for error in errors if isinstance(error, dict)]
    except (ValueError, AttributeError, TypeError, RecursionError):  # whatever the registry answered
        return []


def _codes(data):
    return {str(error.get("code")) for error in _errors(data)}


def _reason(data):
    """What the registry said was wrong, cut to a line's length."""
    reason = "; ".join(str(error.get("message") or error.get("code", "")) for error in _errors(data))
    return (reason[:300] + "..." if len(reason) > 300 else reason) or "no reason given"
