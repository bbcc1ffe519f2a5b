"""The tar bytes of whole store paths, made in pieces that a worker process can hand back.

A store path is listed and written in one pass, depth first with names in byte order (the
order fstree lists a tree in): a header for each entry, and each small file read whole and
written after its header. What only the layer as a whole can decide is left to its writer
(layer.write_tar): which files are hard links to identical earlier ones, and the bytes of
large files, which the writer reads itself, so that they never pass between processes.

A job is a batch of store paths; it yields frames ``(data, (marks, keys, starts, contents,
names))`` of about FRAME bytes, where the rest says, in the order of the data, what is left
to the writer, in forms that cost little to pass between processes (no object per file):

    marks     (start, "path", index) where store path `index` of the batch starts, and
              (start, "large", (name, source, size, mode)) where a large file goes;
    keys      of each small non-empty file, size << 44 | mode << 32 | CRC-32 of its bytes
              (see small_key), and, in the same order,
    starts    where its entry starts in the data,
    contents  where its bytes start (its entry ends where they end, padded to a block), and
    names     its name in the tar, all of them joined with NUL bytes.
"""

import itertools
import os
import stat
import zlib

from . import fstree, tarwriter, workers
from .filedata import read_if_small

FRAME = 1 << 20
BATCH = 8
"""How many store paths a job takes at most: several, so that sending a job costs little
beside its work when paths are small."""


def frames_of_layers(layers):
    """For each layer's list of jobs (mtime, [(name, source, owner)]), in order, an iterator
    that gives for each job an iterator over its frames. The layers must be read in order:
    the jobs of all of them go to the command's worker processes as one stream, so that the
    workers run ahead into the next layers while the writer finishes one. Workers are
    forked here, before the caller starts threads, when there is more than one job in all;
    one job gains nothing from being sent away."""
    count = sum(len(jobs) for jobs in layers)
    pool = workers.shared_pool(frames) if count > 1 else None
    if pool is None:
        return [(frames(job) for job in jobs) for jobs in layers]
    results = pool.run(job for jobs in layers for job in jobs)
    return [itertools.islice(results, len(jobs)) for jobs in layers]


def frames(batch):
    """The frames of one batch: (mtime, [(name, source, owner)]) of store paths, `name` the
    store path's name in the tar and `source` where it is, both bytes."""
    mtime, paths = batch
    paddings, crc32, BLOCK = tarwriter.PADDINGS, zlib.crc32, tarwriter.BLOCK
    parts, marks, keys, starts, contents, names, size = [], [], [], [], [], [], 0
    for index, (name, source, owner) in enumerate(paths):
        marks.append((size, "path", index))
        headers = tarwriter.Headers(mtime, owner)
        pending = [(name, source, _kind(fstree.lstat(source).st_mode))]
        while pending:
            name, source, kind = pending.pop()
            if kind == "file":
                mode, file_size, data = read_if_small(source)
                mode &= 0o7777
                if data is None:
                    marks.append((size, "large", (name, source, file_size, mode)))
                    continue
                head = headers.file(name, mode, file_size)
                end = size + len(head) + file_size + (-file_size % BLOCK)
                if file_size:
                    keys.append(file_size << 44 | mode << 32 | crc32(data))
                    starts.append(size)
                    contents.append(size + len(head))
                    names.append(name)
                parts += (head, data, paddings[-file_size % BLOCK])
                size = end
            else:
                if kind == "dir":
                    piece = headers.dir(name, fstree.lstat(source).st_mode & 0o7777)
                    pending.extend((name + b"/" + child, entry.path, _entry_kind(entry))
                                   for child, entry in reversed(fstree.scan(source)))
                elif kind == "symlink":
                    piece = tarwriter.header(name, "symlink", 0o777, mtime, owner, linkname=os.readlink(source))
                else:
                    raise fstree.unsupported(source, fstree.lstat(source).st_mode)
                parts.append(piece)
                size += len(piece)
            if size >= FRAME:
                yield b"".join(parts), (marks, keys, starts, contents, b"\0".join(names))
                parts, marks, keys, starts, contents, names, size = [], [], [], [], [], [], 0
    if parts or marks:
        yield b"".join(parts), (marks, keys, starts, contents, b"\0".join(names))


def small_key(key):
    """(size, mode) of a small file's key."""
    return key >> 44, key >> 32 & 0o7777


def _kind(mode):
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    return "symlink" if stat.S_ISLNK(mode) else "other"


def _entry_kind(entry):
    """The kind of a directory entry, from the directory's listing (no stat where the file
    system tells the type there)."""
    if entry.is_file(follow_symlinks=False):
        return "file"
    if entry.is_dir(follow_symlinks=False):
        return "dir"
    return "symlink" if entry.is_symlink() else "other"
