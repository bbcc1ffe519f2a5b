"""Logging in to a registry, as its WWW-Authenticate challenge asks: basic (the credentials
on every request), or a bearer token from the token service the challenge names (its
``realm``), asked for the scopes the challenges so far have named.

Credentials go only to the registry and to its token service, and over plain HTTP only
where the user allowed plain HTTP for that registry (``--dest-tls-verify=false``). Every
token is added to the secrets never printed. A token service that fails, stalls or hands
back something that is no token is one error naming it.
"""

import base64
import json
import re
import threading
import urllib.parse

from . import transport
from ..core.errors import StrataError

_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]{1,16384}")
"""RFC 6750's b64token (a JWT's three base64url parts joined by dots is one)."""


class Login:
    """The Authorization header a registry's requests carry, renewed when a 401 asks."""

    def __init__(self, where, repository, credentials, secrets, tls_verify, actions="pull,push"):
        self.where = where
        self.credentials = credentials
        self.secrets = secrets
        self.tls_verify = tls_verify
        self.authorization = None
        self._scopes = ["repository:%s:%s" % (repository, actions)]
        self._lock = threading.Lock()

    def answer(self, challenge, tried, time_limit=None):
        """Answer the WWW-Authenticate `challenge` of a 401 to a request sent with the
        Authorization `tried`; whether the request is worth sending again. Threads that
        meet the same 401 log in once: the others take the new header."""
        with self._lock:
            if self.authorization != tried:
                return True  # another thread has logged in since
            scheme, _, rest = challenge.partition(" ")
            parameters = dict(re.findall(r'(\w+)="([^"]*)"', rest))
            if scheme.lower() == "basic":
                if self.credentials is None or tried is not None:
                    return False  # none to give, or they were refused
                self.authorization = "Basic " + basic(self.credentials)
                return True
            if scheme.lower() == "bearer" and "realm" in parameters:
                scopes = self._scopes + [scope for scope in parameters.get("scope", "").split()
                                         if scope not in self._scopes]
                token = self._token(parameters["realm"], parameters.get("service"), scopes, time_limit)
                self._scopes = scopes
                self.authorization = "Bearer " + token
                return True
            return False

    def _token(self, realm, service, scopes, time_limit):
        url = urllib.parse.urlsplit(realm)
        name = "the token service %s" % (url.netloc or realm)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise StrataError("%s: %s: the realm %r is no http(s) URL" % (self.where, name, realm))
        if url.scheme == "http" and self.credentials is not None and self.tls_verify:
            raise StrataError("%s: %s is plain HTTP (%s); strata sends credentials over plain HTTP only with"
                              " --dest-tls-verify=false" % (self.where, name, realm))
        query = ([("service", service)] if service else []) + [("scope", scope) for scope in scopes]
        target = (url.path or "/") + "?" + "&".join(filter(None, [url.query, urllib.parse.urlencode(query)]))
        headers = {"Authorization": "Basic " + basic(self.credentials)} if self.credentials else {}
        connection = transport.Connection(url.scheme, url.netloc, self.tls_verify)
        try:
            answer = connection.exchange("GET", target, headers=headers, time_limit=time_limit)
        except transport.Failure as failure:
            raise StrataError("%s: %s: %s" % (self.where, name, failure))
        finally:
            connection.close()
        if answer.status != 200:
            raise StrataError("%s: %s refused (%d)" % (self.where, name, answer.status))
        try:
            document = json.loads(answer.data)
            token = document.get("token") or document["access_token"]
        except (ValueError, KeyError, AttributeError, TypeError, RecursionError):
            raise StrataError("%s: %s answered no token" % (self.where, name))
        if not isinstance(token, str) or not _TOKEN.fullmatch(token):
            raise StrataError("%s: %s answered something that is no token (a %s)"
                              % (self.where, name, "string of other characters" if isinstance(token, str)
                                 else type(token).__name__))
        self.secrets.add(token)
        return token


def basic(credentials):
    return base64.b64encode(("%s:%s" % credentials).encode("utf-8")).decode("ascii")

