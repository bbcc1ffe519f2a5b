"""What the client must never print: every secret it holds, in every form a server or a
library could echo it back in, replaced by ``<redacted>`` in each line it says and each
error it raises, whatever the source of the text (a registry's error message included)."""

import base64
import json
import threading
import urllib.parse

from .auth import basic

REDACTED = "<redacted>"


class Secrets:
    def __init__(self, credentials=None):
        self._known = set()
        self._lock = threading.Lock()
        if credentials:
            pair = "%s:%s" % credentials
            self.add(credentials[1])
            self.add(pair)
            self.add(basic(credentials))  # as the Authorization header carries it
            self.add(base64.urlsafe_b64encode(pair.encode("utf-8")).decode("ascii"))

    def add(self, secret):
        """Redact `secret` from now on: as it is, URL-quoted, and escaped as JSON writes it."""
        forms = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret),
                 json.dumps(secret)[1:-1]}
        with self._lock:
            self._known.update(form for form in forms if form)

    def redact(self, text):
        with self._lock:
            known = sorted(self._known, key=len, reverse=True)  # a longer form before the secret inside it
        for secret in known:
            text = text.replace(secret, REDACTED)
        return text
