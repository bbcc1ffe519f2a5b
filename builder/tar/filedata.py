"""A listed file's bytes, read once and checked against the size it was listed with.

A tar header states the size of the bytes after it, and is often written before them, so a
file that grew or shrank since it was listed is an error, never a short or long entry.
"""

import hashlib
import os

from ..core.errors import StrataError

CHUNK = 1 << 20
SMALL_FILE = 1 << 16
"""Files up to this size are read whole in one call and written in one piece."""


def read_whole(source, size):
    """The whole of the small file `source` (bytes path) in one read; it must have `size` bytes."""
    _, current_size, data = read_if_small(source)
    if current_size != size:
        raise _read_error(source, "changed size while the layer was written")
    return data


def read_if_small(source):
    """(mode, size, bytes) of the regular file `source` (bytes path), with its bytes only if
    it is small, else None: one open, one fstat, one read, and no other look-up of the path."""
    try:
        descriptor = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            info = os.fstat(descriptor)
            data = os.read(descriptor, info.st_size + 1) if info.st_size <= SMALL_FILE else None
        finally:
            os.close(descriptor)
    except OSError as error:
        raise _read_error(source, "cannot read: " + error.strerror)
    if data is not None and len(data) != info.st_size:
        raise _read_error(source, "changed size while the layer was written")
    return info.st_mode, info.st_size, data


def read_chunks(source, size, consume):
    """Feed the bytes of the file `source` to `consume` in chunks; it must have `size` bytes."""
    remaining = size
    try:
        with open(source, "rb") as stream:
            while remaining > 0:
                chunk = stream.read(min(CHUNK, remaining))
                if not chunk:
                    break
                consume(chunk)
                remaining -= len(chunk)
            grew = remaining == 0 and stream.read(1)
    except OSError as error:
        raise _read_error(source, "cannot read: " + error.strerror)
    if remaining or grew:
        raise _read_error(source, "changed size while the layer was written")


def content_digest(source, size):
    """The sha256 (hex) of the bytes of the file `source`, which must have `size` bytes."""
    content = hashlib.sha256()
    read_chunks(source, size, content.update)
    return content.hexdigest()


def _read_error(source, problem):
    return StrataError("%s: %s" % (os.fsdecode(source), problem))
