"""One layer: a tree's entries written as a tar, once, with its digests computed on the way.

Hard links are decided from content, never from inodes: whether the store was optimised
(``nix-store --optimise`` links identical files) is not part of a store path's identity, so
inode links would make the same closure give different layers on different machines.
Inside one layer, a store file whose bytes and mode match an earlier store file's is
written as a hard link to it (see _Contents for how that is found without hashing every
file twice). Files outside the store are always written out in full.

Store paths are listed and packed by storetar, in the command's worker processes when it
has them; this module puts their frames in order, decides the links, writes large files,
and hashes everything once on the way out.

On request the tar bytes of each store path's entries (they are contiguous: the tree is
listed depth first) are hashed apart, so that a layer regenerated later from the store
can be checked path by path, and a path that changed can be named.
"""

import bisect
import collections
import hashlib
import zlib

from . import storetar
from ..tar import tarwriter
from ..tar.filedata import SMALL_FILE, content_digest, read_chunks, read_whole
from ..tar.streams import FileSink, HashingSink, compressing

Layer = collections.namedtuple("Layer", "diff_id digest size media_type")
"""`diff_id`: sha256 of the uncompressed tar; `digest`, `size`: of the blob as written;
`media_type`: the OCI media type of the blob."""

MEDIA_TYPES = {
    "none": "application/vnd.oci.image.layer.v1.tar",
    "gz": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}

PIECE = 1 << 20
"""Bytes gathered before they go on to the hashes and the file."""


class TarPlan:
    """How the tar of `entries` (fstree.Entry, in order) is written: with `mtime`, each
    entry's owner (see owners), and the entries with each run of consecutive store paths cut
    into batches of at most storetar.BATCH, the jobs of the worker processes. Planned before
    writing, so that the jobs of layers written one after another can be sent ahead."""

    def __init__(self, entries, mtime, default_owner, store_owner=None):
        self.mtime = mtime
        self.owner_of = owners(entries, default_owner, store_owner)
        self.items = _batched(entries)
        self.jobs = [(mtime, [(entry.name, entry.source, tuple(self.owner_of(entry))) for entry in item])
                     for item in self.items if isinstance(item, list)]


def write_layer(plan, stream, compressor, segments=None, frames=None):
    """Write the layer tar of `plan` (a TarPlan) to the binary `stream` through `compressor`
    (with no stream, only compute the digests); with a dict `segments`, fill it with each
    store path's sha256 of its entries' tar bytes. `frames`: the frames of the plan's jobs
    when the caller has started them (see storetar.frames_of_layers)."""
    if frames is None:
        frames = storetar.frames_of_layers([plan.jobs])[0]  # workers forked before the sinks' threads
    blob = HashingSink(None if stream is None else FileSink(stream))
    tar = blob if compressor == "none" else HashingSink(compressing(compressor, blob))
    write_tar(plan, tar, frames, segments)
    tar.close()
    return Layer(tar.digest(), blob.digest(), blob.size, MEDIA_TYPES[compressor])


def write_tar(plan, sink, frames, segments=None, check=None):
    """The tar bytes of `plan` (a TarPlan) into `sink`, the frames of its jobs from `frames`
    (see storetar.frames_of_layers); `segments` as for write_layer; `check(store_path,
    digest)` is called at the end of each store path."""
    out = _SegmentedSink(sink, segments, check)
    mtime, owner_of = plan.mtime, plan.owner_of
    contents = _Contents()
    for item in plan.items:
        if isinstance(item, list):
            _write_frames(next(frames), item, out, mtime, owner_of, contents)
            continue
        out.enter(item.store_path)
        owner = owner_of(item)
        if item.kind == "dir":
            out.write(tarwriter.header(item.name, "dir", item.mode, mtime, owner))
        elif item.kind == "symlink":
            out.write(tarwriter.header(item.name, "symlink", 0o777, mtime, owner, linkname=item.target))
        elif item.kind == "whiteout":
            out.write(tarwriter.header(item.name, "file", item.mode, mtime, owner))
        else:
            _write_file(item.name, item.source, item.size, item.mode, out, mtime, owner)
    out.enter(None)
    out.write(tarwriter.END_OF_ARCHIVE)
    out.flush()


def _batched(entries):
    """`entries` with each run of consecutive store paths cut into lists of at most
    storetar.BATCH: the jobs of the workers."""
    items = []
    for entry in entries:
        if entry.kind != "storepath":
            items.append(entry)
        elif items and isinstance(items[-1], list) and len(items[-1]) < storetar.BATCH:
            items[-1].append(entry)
        else:
            items.append([entry])
    return items


def _write_frames(frames, batch, out, mtime, owner_of, contents):
    """The bytes of the store paths of `batch` from their frames (see storetar), with what
    the frames leave to the layer's writer: hard links, and the bytes of large files."""
    owner = None
    for data, (marks, keys, starts, contents_at, names) in frames:
        view = memoryview(data)
        base, repeated = contents.add_small(keys, names, batch)
        steps = marks
        if repeated:
            steps = marks + [(starts[index], "small", index) for index in repeated]
            steps.sort(key=lambda step: (step[0], step[1] == "small"))  # a mark before a file that starts there
        done = 0
        for start, kind, what in steps:
            out.write(view[done:start])
            done = start
            if kind == "path":
                out.enter(batch[what].store_path)
                owner = owner_of(batch[what])
                continue
            if kind == "large":
                name, source, size, mode = what
                earlier = contents.large_link(name, source, size, mode)
                if earlier is None:
                    _write_file(name, source, size, mode, out, mtime, owner)
                    continue
            else:
                size, mode = storetar.small_key(keys[what])
                at = contents_at[what]
                earlier = contents.small_link(base + what, keys[what], view[at:at + size])
                if earlier is None:
                    continue
                name = contents.file(base + what)[0]
                done = at + size + (-size % tarwriter.BLOCK)
            out.write(tarwriter.header(name, "hardlink", mode, mtime, owner, linkname=earlier))
        out.write(view[done:])


class _Contents:
    """The store files of a layer so far, by content: a file whose bytes and mode match an
    earlier one's is written as a hard link to it.

    Small files are numbered in the order they come and known by the keys the frames give
    (size, mode and CRC-32): a file whose key is new is taken without a look, and only a
    file whose key was met is compared byte for byte with the earlier files of that key,
    which are read again. Their names stay as the frames joined and compressed them.
    A large file is hashed only once another file of its size and mode comes along, so a
    file that shares its size with none is read once, for writing."""

    def __init__(self):
        self.first = {}
        self.more = {}
        self.count = 0
        self.frames = []
        self.bases = []
        self.split = (None, None)
        self.large = {}

    def add_small(self, keys, names, batch):
        """Number the small files of a frame (keys and names as storetar gives them, `batch`
        the store path entries they are in); (the number of the first, the indexes in the
        frame of those whose key was met before)."""
        base = self.count
        if not keys:
            return base, ()
        self.count += len(keys)
        self.frames.append((base, names, batch))
        self.bases.append(base)
        numbered = dict(zip(reversed(keys), range(base + len(keys) - 1, base - 1, -1)))
        for key in numbered.keys() & self.first.keys():
            del numbered[key]
        self.first.update(numbered)
        if len(numbered) == len(keys):
            return base, ()
        first = self.first
        return base, [index for index, key in enumerate(keys) if first[key] != base + index]

    def small_link(self, number, key, data):
        """The name of an earlier file holding `data`, else None (and small file `number`,
        of key `key`, is kept among those its key's later files are compared with)."""
        for earlier in [self.first[key]] + self.more.get(key, []):
            name, source = self.file(earlier)
            if read_whole(source, len(data)) == data:
                return name
        self.more.setdefault(key, []).append(number)
        return None

    def file(self, number):
        """(name in the tar, source) of small file `number`. Only the last frame looked in is
        kept split into names: a list of names costs a layer more than its joined bytes."""
        at = bisect.bisect_right(self.bases, number) - 1
        base, names, batch = self.frames[at]
        if self.split[0] != at:
            self.split = (at, zlib.decompress(names).split(b"\0"))
        name = self.split[1][number - base]
        for entry in batch:
            if name.startswith(entry.name + b"/") or name == entry.name:
                return name, entry.source + name[len(entry.name):]
        raise AssertionError("%r is in none of the frame's store paths" % name)

    def large_link(self, name, source, size, mode):
        """The name of an earlier file with the bytes of `source`, else None (and this one
        is kept)."""
        earlier = self.large.setdefault((size, mode), [])
        digest = content_digest(source, size) if earlier else None
        for item in earlier:
            if item[2] is None:
                item[2] = content_digest(item[1], size)
            if item[2] == digest:
                return item[0]
        earlier.append([name, source, digest])
        return None


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
        if not data:
            return
        if len(data) >= PIECE:
            self.flush()
            self._forward(data)
            return
        self.pending.append(data)
        self.pending_size += len(data)
        if self.pending_size >= PIECE:
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
    """The function that gives each of `entries` its owner: the one perms set, else the
    one fakeRootCommands or accounts set, else `store_owner`, if given, for the store paths
    and the directories above them, else `default_owner`."""
    store_tree = _store_tree(entries) if store_owner else ()

    def owner_of(entry):
        if isinstance(entry.owner, tarwriter.Owner):
            return entry.owner
        if entry.owner is not None:
            if entry.owner == (default_owner.uid, default_owner.gid):
                return default_owner
            return tarwriter.numeric_owner(*entry.owner)
        if store_owner and (entry.store_path or entry.name in store_tree):
            return store_owner
        return default_owner
    return owner_of


def _store_tree(entries):
    """The names of the directories above the store paths (``nix``, ``nix/store``)."""
    above = set()
    for entry in entries:
        if entry.store_path is not None:
            parts = entry.name.split(b"/")
            above.update(b"/".join(parts[:length]) for length in range(1, len(parts)))
    return above


def _write_file(name, source, size, mode, out, mtime, owner):
    """Header, bytes and padding of a regular file."""
    header = tarwriter.header(name, "file", mode, mtime, owner, size=size)
    if size <= SMALL_FILE:
        out.write(header + read_whole(source, size) + tarwriter.padding(size))
        return
    out.write(header)
    read_chunks(source, size, out.write)
    out.write(tarwriter.padding(size))
