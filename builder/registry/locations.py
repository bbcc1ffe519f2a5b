"""Where strata has pushed each blob, so that a push to another repository of the same
registry mounts the blobs that one holds instead of uploading them again (skopeo does the
same from its blob-info cache).

The record is ``$XDG_CACHE_HOME/strata/blob-locations.json`` (``~/.cache`` without it):
``{"version": 1, "blobs": {DIGEST: ["HOST/REPOSITORY", ...]}}``, digests and places only,
never a credential. It is written whole to a temporary file renamed over it, under a lock
(flock), merged with what a push beside it wrote meanwhile, and bounded (the newest
MOST_BLOBS digests, MOST_PLACES places each). It only ever saves uploads: one that cannot
be read or written is ignored, and a stale entry costs one failed mount.
"""

import fcntl
import json
import os
import tempfile

MOST_BLOBS = 20000
MOST_PLACES = 3
VERSION = 1


def default_file(environ=os.environ):
    """The record's path for this user, or None where there is no cache directory."""
    if environ.get("XDG_CACHE_HOME"):
        cache = environ["XDG_CACHE_HOME"]
    elif environ.get("HOME"):
        cache = os.path.join(environ["HOME"], ".cache")
    else:
        return None
    return os.path.join(cache, "strata", "blob-locations.json")


class Record:
    def __init__(self, path):
        self.path = path
        self.blobs = _read(path) if path else {}

    def places(self, host, digest):
        """The repositories of `host` the record says hold `digest`, newest first."""
        prefix = host + "/"
        return [place[len(prefix):] for place in self.blobs.get(digest, []) if place.startswith(prefix)]

    def add(self, host, repository, digests):
        """Record that `host`/`repository` holds every blob of `digests`."""
        if not self.path:
            return
        place = "%s/%s" % (host, repository)
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(self.path + ".lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                blobs = _read(self.path)
                for digest in digests:
                    blobs[digest] = ([place] + [other for other in blobs.pop(digest, []) if other != place])[
                        :MOST_PLACES]
                _write(self.path, dict(list(blobs.items())[-MOST_BLOBS:]))
        except OSError:
            pass  # no record: later pushes upload what they could have mounted


def _read(path):
    try:
        with open(path, "rb") as stream:
            document = json.load(stream)
        blobs = document["blobs"] if document.get("version") == VERSION else {}
    except (OSError, ValueError, KeyError, AttributeError, TypeError, RecursionError):
        return {}
    if not isinstance(blobs, dict):
        return {}
    return {digest: [place for place in places if isinstance(place, str)]
            for digest, places in blobs.items() if isinstance(places, list)}


def _write(path, blobs):
    descriptor, partial = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".blob-locations.")
    try:
        with os.fdopen(descriptor, "w") as stream:
            json.dump({"version": VERSION, "blobs": blobs}, stream, separators=(",", ":"))
        os.replace(partial, path)
    except BaseException:
        os.unlink(partial)
        raise
