"""The tar bytes of whole store paths, made in pieces that a worker process can hand back.

A store path is listed and written in one pass, depth first with names in byte order (the
order fstree lists a tree in): a header for each entry, and each small file read whole and
written after its header. What only the layer as a whole can decide is left to its writer
(layer.write_tar): which files are hard links to identical earlier ones, and the bytes of
large files, which the writer reads itself, so that they never pass between processes.

A job is a batch of store paths, or a stripe of one (see frames); it yields frames
``(data, (marks, keys, starts, contents, names))`` of about FRAME bytes, where the rest
says, in the order of the data, what is left to the writer, in forms that cost little to
pass between processes (no object per file):

    marks     (start, "path", index) where store path `index` of the batch starts (or
              where a stripe's run goes on in it), and
              (start, "large", (name, source, size, mode)) where a large file goes;
    keys      of each small non-empty file, size << 44 | mode << 32 | CRC-32 of its bytes
              (see small_key), and, in the same order,
    starts    where its entry starts in the data,
    contents  where its bytes start (its entry ends where they end, padded to a block), and
    names     its name in the tar, all of them joined with NUL bytes and compressed with
              zlib (level 1): the writer keeps them until the layer ends, to name an earlier
              file a link goes to, and seldom reads them.
"""

import itertools
import os
import stat
import zlib

from ..tar import tarwriter, workers
from ..tar.filedata import read_if_small
from ..tree import fstree

FRAME = 1 << 20
STRIPE = 128
"""Entries in a run of a stripe (see frames): with small files, half a megabyte or so, so
that a worker's next run fits whole in its pipe while another's is read (measured on one
store path of 61,000 entries: 512 entries a run took 1.1-1.3 s, 128 took 0.85 s)."""
SHARED = 1024
"""Entries a lone batch has at least for worker processes to be started to write it: with
fewer, starting them (about 10 ms) costs more than they save. Listing so many entries to
find out costs a few milliseconds (4 ms where the top directory alone holds 2,394)."""
BATCH = 8
"""How many store paths a job takes at most: several, so that sending a job costs little
beside its work when paths are small."""


def frames_of_layers(layers):
    """For each layer's list of batches (mtime, [(name, source, owner)]), in order, an
    iterator that gives for each batch an iterator over its frames. The layers must be read
    in order: the batches of all of them go to the command's worker processes as one stream
    of jobs, so that the workers run ahead into the next layers while the writer finishes
    one. Workers are forked here, before the caller starts threads. Where there are fewer
    batches than workers (a layer of one large store path, say), every worker takes a
    stripe of each batch (see frames), so that none waits for another; a lone batch of
    fewer than SHARED entries is written by the command itself, which costs less than
    starting workers."""
    count = sum(len(batches) for batches in layers)
    alone = count == 1 and _entries_fewer_than(next(batch for batches in layers for batch in batches), SHARED)
    pool = workers.shared_pool(frames) if count and not alone else None
    if pool is None:
        return [(frames(batch) for batch in batches) for batches in layers]
    results = pool.run((batch for batches in layers for batch in batches), striped=count < pool.size)
    return [itertools.islice(results, len(batches)) for batches in layers]


def frames(batch, stripe=0, stripes=1):
    """The frames of one batch: (mtime, [(name, source, owner)]) of store paths, `name` the
    store path's name in the tar and `source` where it is, both bytes, `owner` the fields of
    a tarwriter.Owner as a plain tuple (see workers: jobs hold built-in types). With several
    `stripes`, the batch's entries are cut into runs of STRIPE, dealt to the stripes in
    turn, and only those of stripe `stripe` are written: every stripe lists the whole batch
    (directories only: no file is opened), and after each of its runs gives workers.TURN."""
    mtime, paths = batch
    paddings, crc32, BLOCK = tarwriter.PADDINGS, zlib.crc32, tarwriter.BLOCK
    parts, marks, keys, starts, contents, names, size = [], [], [], [], [], [], 0
    current, run_open = None, False
    for number, (index, name, source, kind) in enumerate(_walk(paths)):
        if stripes > 1 and number // STRIPE % stripes != stripe:
            continue
        if index != current:
            current = index
            marks.append((size, "path", index))
            headers = tarwriter.Headers(mtime, tarwriter.Owner(*paths[index][2]))
        if kind == "file":
            mode, file_size, data = read_if_small(source)
            mode &= 0o7777
            if data is None:
                marks.append((size, "large", (name, source, file_size, mode)))
            else:
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
            elif kind == "symlink":
                piece = tarwriter.header(name, "symlink", 0o777, mtime, headers.owner, linkname=os.readlink(source))
            else:
                raise fstree.unsupported(source, fstree.lstat(source).st_mode)
            parts.append(piece)
            size += len(piece)
        run_ends = stripes > 1 and number % STRIPE == STRIPE - 1
        if size >= FRAME or run_ends:
            yield b"".join(parts), (marks, keys, starts, contents, _deflated(names))
            parts, marks, keys, starts, contents, names, size = [], [], [], [], [], [], 0
        if run_ends:
            yield workers.TURN
        run_open = stripes > 1 and not run_ends
    if parts or marks:
        yield b"".join(parts), (marks, keys, starts, contents, _deflated(names))
    if run_open:
        yield workers.TURN


def _deflated(names):
    return zlib.compress(b"\0".join(names), 1)


def _entries_fewer_than(batch, count):
    """Whether `batch` has fewer than `count` entries (listing it no further)."""
    return next(itertools.islice(_walk(batch[1]), count - 1, None), None) is None


def _walk(paths):
    """(index, name, source, kind) of every entry of the store paths `paths` (as frames takes
    them), in tar order: each path depth first, a directory's children in byte order."""
    for index, (name, source, _) in enumerate(paths):
        pending = [(name, source, _kind(fstree.lstat(source).st_mode))]
        while pending:
            name, source, kind = entry = pending.pop()
            yield (index,) + entry
            if kind == "dir":
                pending.extend((name + b"/" + child, listed.path, _entry_kind(listed))
                               for child, listed in reversed(fstree.scan(source)))


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
