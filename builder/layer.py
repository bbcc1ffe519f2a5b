"""One layer: a tree's entries written as a tar, once, with its digests computed on the way.

Hard links are decided from content, never from inodes: whether the store was optimised
(``nix-store --optimise`` links identical files) is not part of a store path's identity, so
inode links would make the same closure give different layers on different machines.
Inside one layer, a store file whose size and mode match another's is hashed; when its
bytes match an earlier entry's, it is written as a hard link to that entry. Files outside
the store are always written out in full.

On request the tar bytes of each store path's entries (they are contiguous: the tree is
listed depth first) are hashed apart, so that a layer regenerated later from the store
can be checked path by path, and a path that changed can be named.
"""

import collections
import hashlib
import os

from . import tarwriter
from .errors import StrataError
from .streams import FileSink, HashingSink, compressing

CHUNK = 1 << 20
SMALL_FILE = 1 << 16
"""Files up to this size are read whole in one call and written in one piece."""

Layer = collections.namedtuple("Layer", "diff_id digest size media_type")
"""`diff_id`: sha256 of the uncompressed tar; `digest`, `size`: of the blob as written;
`media_type`: the OCI media type of the blob."""

MEDIA_TYPES = {
    "none": "application/vnd.oci.image.layer.v1.tar",
    "gz": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}


def write_layer(entries, stream, mtime, owner, compressor, segments=None, store_owner=None):
    """Write the layer tar of `entries` to the binary `stream` through `compressor` (with no
    stream, only compute the digests); with a dict `segments`, fill it with each store
    path's sha256 of its entries' tar bytes; `store_owner`, if given, owns the store paths
    and the directories above them."""
    blob = HashingSink(None if stream is None else FileSink(stream))
    tar = blob if compressor == "none" else HashingSink(compressing(compressor, blob))
    write_tar(entries, tar, mtime, owner, segments, store_owner=store_owner)
    tar.close()
    return Layer(tar.digest(), blob.digest(), blob.size, MEDIA_TYPES[compressor])


def write_tar(entries, sink, mtime, default_owner, segments=None, check=None, store_owner=None):
    """The tar bytes of `entries` (fstree.Entry, in order) into `sink`. `segments` and
    `store_owner` as for write_layer; `check(store_path, digest)` is called at the end of
    each store path."""
    out = _SegmentedSink(sink, segments, check)
    linkable = _sizes_shared(entries)
    owner_of = owners(entries, default_owner, store_owner)
    sizes_met = set()
    first_of_content = {}
    for entry in entries:
        out.enter(entry.store_path)
        owner = owner_of(entry)
        if entry.kind == "dir":
            out.write(tarwriter.header(entry.name, "dir", entry.mode, mtime, owner))
        elif entry.kind == "symlink":
            out.write(tarwriter.header(entry.name, "symlink", 0o777, mtime, owner, linkname=entry.target))
        elif entry.store_path is None or (entry.size, entry.mode) not in linkable:
            _write_file(entry, out, mtime, owner)
        elif entry.size <= SMALL_FILE:
            # Small candidates are read whole, once: hashed, then linked or written.
            data = _read_small(entry)
            key = (entry.size, entry.mode, hashlib.sha256(data).digest())
            earlier = first_of_content.setdefault(key, entry.name)
            if earlier == entry.name:
                out.write(tarwriter.header(entry.name, "file", entry.mode, mtime, owner, size=entry.size)
                          + data + tarwriter.padding(entry.size))
            else:
                out.write(tarwriter.header(entry.name, "hardlink", entry.mode, mtime, owner, linkname=earlier))
        elif (entry.size, entry.mode) not in sizes_met:
            # The first large file of its size and mode: nothing earlier can match, so it is
            # hashed while it is written, read once like every file that is not a candidate.
            sizes_met.add((entry.size, entry.mode))
            content = hashlib.sha256()
            _write_file(entry, out, mtime, owner, content)
            first_of_content[(entry.size, entry.mode, content.digest())] = entry.name
        else:
            content = hashlib.sha256()
            _read_chunks(entry, content.update)
            key = (entry.size, entry.mode, content.digest())
            earlier = first_of_content.setdefault(key, entry.name)
            if earlier == entry.name:
                _write_file(entry, out, mtime, owner)
            else:
                out.write(tarwriter.header(entry.name, "hardlink", entry.mode, mtime, owner, linkname=earlier))
    out.enter(None)
    out.write(tarwriter.END_OF_ARCHIVE)
    out.flush()


class _SegmentedSink:
    """Forwards to `sink` in pieces of about a megabyte (headers and small files gathered,
    so the hashes and the file see few large writes); while `segments` or `check` is given,
    also hashes the bytes of the current store path apart."""

    def __init__(self, sink, segments, check):
        self.sink = sink
        self.segments = segments
        self.check = check
        self.active = segments is not None or check is not None
        self.current = None
        self.hash = None
        self.pending = []
        self.pending_size = 0

    def enter(self, store_path):
        if not self.active or store_path == self.current:
            return
        self.flush()
        if self.current is not None:
            digest = "sha256:" + self.hash.hexdigest()
            if self.segments is not None:
                self.segments[self.current] = digest
            if self.check is not None:
                self.check(self.current, digest)
        self.current = store_path
        self.hash = hashlib.sha256() if store_path is not None else None

    def write(self, data):
        if len(data) >= CHUNK:
            self.flush()
            self._forward(data)
            return
        self.pending.append(data)
        self.pending_size += len(data)
        if self.pending_size >= CHUNK:
            self.flush()

    def flush(self):
        if self.pending:
            self._forward(b"".join(self.pending))
            self.pending = []
            self.pending_size = 0

    def _forward(self, data):
        self.sink.write(data)
        if self.hash is not None:
            self.hash.update(data)


def owners(entries, default_owner, store_owner=None):
    """The function that gives each of `entries` its owner: the one fakeRootCommands set,
    else `store_owner`, if given, for the store paths and the directories above them, else
    `default_owner`."""
    store_tree = _store_tree(entries) if store_owner else ()

    def owner_of(entry):
        if entry.owner is not None:
            if entry.owner == (default_owner.uid, default_owner.gid):
                return default_owner
            return tarwriter.numeric_owner(*entry.owner)
        if store_owner and (entry.store_path or entry.name in store_tree):
            return store_owner
        return default_owner
    return owner_of


def _store_tree(entries):
    """The names of the directories above the store paths (``nix``, ``nix/store``): the
    ancestors of each store path's first entry, which is the store path itself."""
    above = set()
    seen = set()
    for entry in entries:
        if entry.store_path is not None and entry.store_path not in seen:
            seen.add(entry.store_path)
            parts = entry.name.split(b"/")
            above.update(b"/".join(parts[:length]) for length in range(1, len(parts)))
    return above


def _sizes_shared(entries):
    """The (size, mode) pairs that two or more non-empty store files have: the only
    candidates for a hard link, so only these are hashed ahead of writing."""
    counts = collections.Counter(
        (entry.size, entry.mode) for entry in entries
        if entry.kind == "file" and entry.store_path is not None and entry.size > 0)
    return {key for key, count in counts.items() if count > 1}


def _write_file(entry, sink, mtime, owner, content=None):
    """Header, bytes and padding of a regular file; its bytes also into `content` if given."""
    header = tarwriter.header(entry.name, "file", entry.mode, mtime, owner, size=entry.size)
    if entry.size <= SMALL_FILE:
        data = _read_small(entry)
        if content is not None:
            content.update(data)
        sink.write(header + data + tarwriter.padding(entry.size))
        return
    sink.write(header)
    if content is None:
        _read_chunks(entry, sink.write)
    else:
        def both(chunk):
            sink.write(chunk)
            content.update(chunk)
        _read_chunks(entry, both)
    sink.write(tarwriter.padding(entry.size))


def _read_small(entry):
    """The whole of a small file in one read, which must still have its listed size."""
    try:
        descriptor = os.open(entry.source, os.O_RDONLY)
        try:
            data = os.read(descriptor, entry.size + 1)
        finally:
            os.close(descriptor)
    except OSError as error:
        raise _read_error(entry, "cannot read: " + error.strerror)
    if len(data) != entry.size:
        raise _read_error(entry, "changed size while the layer was written")
    return data


def _read_chunks(entry, consume):
    """Feed the file's bytes to `consume`; its size must still be what was listed, since the
    header that states it may already be written."""
    remaining = entry.size
    try:
        with open(entry.source, "rb") as stream:
            while remaining > 0:
                chunk = stream.read(min(CHUNK, remaining))
                if not chunk:
                    break
                consume(chunk)
                remaining -= len(chunk)
            grew = remaining == 0 and stream.read(1)
    except OSError as error:
        raise _read_error(entry, "cannot read: " + error.strerror)
    if remaining or grew:
        raise _read_error(entry, "changed size while the layer was written")


def _read_error(entry, problem):
    return StrataError("%s: %s" % (entry.source.decode("utf-8", "replace"), problem))
