"""Credentials for a registry, where users already keep them: ``--creds`` on the command
line, else the first of ``$REGISTRY_AUTH_FILE``, ``$XDG_RUNTIME_DIR/containers/auth.json``
(skopeo, podman) and ``~/.docker/config.json`` (docker) that has the registry. Each file
holds ``{"auths": {"HOST[:PORT]": {"auth": base64("user:password")}}}``. A credential is
never printed: errors name the file, never what it holds. A file that is there but cannot
be read (a directory, say) is an error naming it, as is a ``$REGISTRY_AUTH_FILE`` that is
not there: the user meant credentials to come from it."""

import base64
import json
import os

from ..core.errors import StrataError


def find(host, creds=None, environ=os.environ):
    """(user, password) for `host` (``host[:port]``), or None to go anonymous."""
    if creds is not None:
        user, colon, password = creds.partition(":")
        if not colon or not user:
            raise StrataError("--creds: expected USER:PASSWORD")
        return user, password
    for path in _files(environ):
        entry = _auths(path).get(host) or _auths(path).get("https://" + host) or _auths(path).get("http://" + host)
        if entry is None:
            continue
        try:
            user, colon, password = base64.b64decode(entry["auth"], validate=True).decode("utf-8").partition(":")
        except (KeyError, TypeError, ValueError):
            colon = ""
        if not colon:
            raise StrataError("%s: the entry of %s has no readable \"auth\" (base64 of user:password)" % (path, host))
        return user, password
    return None


def _files(environ):
    files = []
    named = environ.get("REGISTRY_AUTH_FILE")
    if named:
        if not os.path.lexists(named):
            raise StrataError("%s (REGISTRY_AUTH_FILE): no such file" % named)
        files.append(named)
    if environ.get("XDG_RUNTIME_DIR"):
        files.append(os.path.join(environ["XDG_RUNTIME_DIR"], "containers", "auth.json"))
    if environ.get("HOME"):
        files.append(os.path.join(environ["HOME"], ".docker", "config.json"))
    for path in files:
        if os.path.lexists(path) and not os.path.isfile(path):
            raise StrataError("%s: not a credentials file (%s)" % (
                path, "a directory" if os.path.isdir(path) else "not a regular file, or a link to nothing"))
    return [path for path in files if os.path.isfile(path)]


def _auths(path):
    try:
        with open(path, "rb") as stream:
            auths = json.load(stream).get("auths") or {}
    except (OSError, ValueError, AttributeError, RecursionError):
        raise StrataError("%s: not a credentials file (JSON with \"auths\")" % path)
    return auths if isinstance(auths, dict) else {}
