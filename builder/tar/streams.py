"""Byte sinks chained one into the next: hashing, counting and compressing on the way.

A layer is written once: its tar bytes pass through a HashingSink (the diff_id), then a
compressor, then another HashingSink (the blob digest) into the output file. Each sink has
``write(data)`` and ``close()``; closing one closes the sinks after it.

Work is spread over the machine's cores where the bytes allow it: the file is written by a
thread of its own while the next bytes are read and hashed, and gzip compresses independent
blocks in parallel (hashlib, zlib and file writes let go of Python's lock while they work).
"""

import collections
import hashlib
import os
import queue
import struct
import threading
import zlib

from ..core.errors import StrataError
from .filedata import CHUNK

GZIP_LEVEL = 6
GZIP_BLOCK = 128 << 10
GZIP_DICTIONARY = 32 << 10


def worker_count():
    """How many threads may work at once: Nix's NIX_BUILD_CORES, else every core."""
    cores = os.environ.get("NIX_BUILD_CORES", "")
    return int(cores) if cores.isdigit() and int(cores) > 0 else (os.cpu_count() or 1)


class HashingSink:
    """Counts and sha256-hashes what passes; forwards it to `next` when there is one."""

    def __init__(self, next_sink=None):
        self.next = next_sink
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data):
        self.hash.update(data)
        self.size += len(data)
        if self.next is not None:
            self.next.write(data)

    def close(self):
        if self.next is not None:
            self.next.close()

    def digest(self):
        return "sha256:" + self.hash.hexdigest()


class FileSink:
    """Writes to an open binary file from a thread of its own, a few megabytes behind;
    closing the sink waits for the writes (and leaves the file open)."""

    def __init__(self, stream):
        self.stream = stream
        self.queue = queue.Queue(maxsize=16)
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            data = self.queue.get()
            if data is None:
                return
            if self.error is None:
                try:
                    self.stream.write(data)
                except BaseException as error:  # handed to the writer at its next call
                    self.error = error

    def write(self, data):
        self._raise()
        self.queue.put(data)

    def close(self):
        self.queue.put(None)
        self.thread.join()
        self._raise()

    def _raise(self):
        if self.error is not None:
            raise self.error


class GzipSink:
    """gzip (RFC 1952) in independent blocks compressed in parallel, as pigz does: each
    block of 128 KiB is deflated with the 32 KiB before it as its dictionary and ends on a
    byte boundary (a sync flush), and an empty final block closes the stream. The header
    has no file name, no time and OS 255 (unknown). The bytes depend only on the input,
    the level and zlib, never on how many threads compressed them."""

    def __init__(self, next_sink, level=GZIP_LEVEL):
        self.next = next_sink
        self.level = level
        self.threads = worker_count()
        import concurrent.futures  # here, not above: uncompressed layers need not pay its import
        self.pool = concurrent.futures.ThreadPoolExecutor(self.threads)
        self.blocks = collections.deque()
        self.pending = []
        self.pending_size = 0
        self.dictionary = b""
        self.crc = 0
        self.size = 0
        extra_flags = {9: 2, 1: 4}.get(level, 0)
        self.next.write(bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, extra_flags, 255]))

    def write(self, data):
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        self.pending.append(data)
        self.pending_size += len(data)
        if self.pending_size >= GZIP_BLOCK:
            whole = b"".join(self.pending)
            cut = len(whole) - len(whole) % GZIP_BLOCK
            for start in range(0, cut, GZIP_BLOCK):
                self._submit(whole[start:start + GZIP_BLOCK])
            self.pending = [whole[cut:]]
            self.pending_size = len(whole) - cut

    def _submit(self, block):
        self.blocks.append(self.pool.submit(_deflate_block, block, self.dictionary, self.level))
        self.dictionary = block[-GZIP_DICTIONARY:]
        while len(self.blocks) > 8 * self.threads:
            self.next.write(self.blocks.popleft().result())

    def close(self):
        if self.pending_size:
            self._submit(b"".join(self.pending))
        while self.blocks:
            self.next.write(self.blocks.popleft().result())
        self.pool.shutdown()
        final = zlib.compressobj(self.level, zlib.DEFLATED, -zlib.MAX_WBITS).flush(zlib.Z_FINISH)
        self.next.write(final + struct.pack("<II", self.crc, self.size & 0xFFFFFFFF))
        self.next.close()


def _deflate_block(block, dictionary, level):
    if dictionary:
        deflate = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS, zdict=dictionary)
    else:
        deflate = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    return deflate.compress(block) + deflate.flush(zlib.Z_SYNC_FLUSH)


ZSTD_LEVEL = 3
"""zstd's own default level, as dockerTools' zstd images use."""

ZSTD_BINARY = {"path": None}
"""The zstd program (strata's ``zstd``, nixpkgs' with ``pkgs``) for interpreters whose
standard library has no ``compression.zstd`` (before Python 3.14); set from the spec's
``zstd`` field once, when a command starts (see cli)."""


def _stdlib_zstd():
    try:
        from compression import zstd
    except ImportError:
        return None
    return zstd


def _zstd_program(*options):
    """The zstd program run with `options`, reading stdin and writing stdout; one thread
    and a fixed level, so its bytes depend only on its version."""
    if ZSTD_BINARY["path"] is None:
        raise StrataError("compressor: zstd needs Python 3.14's compression.zstd or the zstd program; pass `zstd`"
                          " (a path, such as /usr/bin/zstd) or `pkgs` to strata, or use \"gz\" or \"none\"")
    import subprocess
    command = [ZSTD_BINARY["path"], "-q", "-c", "-T1", "--no-progress"] + list(options)
    try:
        return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except OSError as error:
        raise StrataError("zstd: cannot run %s: %s" % (ZSTD_BINARY["path"], error.strerror))


def _finished(process):
    if process.wait() != 0:
        raise StrataError("zstd: %s failed with exit status %d" % (ZSTD_BINARY["path"], process.returncode))


class ZstdSink:
    """zstd at level 3: the standard library's ``compression.zstd`` where it has one, else
    the zstd program, whose output a thread passes on."""

    def __init__(self, next_sink):
        self.next = next_sink
        zstd = _stdlib_zstd()
        if zstd is not None:
            self.compressor = zstd.ZstdCompressor(level=ZSTD_LEVEL)
            self.flush_frame = zstd.ZstdCompressor.FLUSH_FRAME
            return
        self.compressor = None
        self.process = _zstd_program("-%d" % ZSTD_LEVEL)
        self.reader = threading.Thread(target=self._pass_on, daemon=True)
        self.reader.start()

    def _pass_on(self):
        for piece in iter(lambda: self.process.stdout.read(1 << 20), b""):
            self.next.write(piece)

    def write(self, data):
        if self.compressor is None:
            self.process.stdin.write(data)
            return
        compressed = self.compressor.compress(data)
        if compressed:
            self.next.write(compressed)

    def close(self):
        if self.compressor is None:
            self.process.stdin.close()
            self.reader.join()
            _finished(self.process)
        else:
            self.next.write(self.compressor.flush(self.flush_frame))
        self.next.close()


class ZstdReader:
    """The decompressed bytes of the zstd `stream` (a binary file whose first bytes,
    `first`, were read already): the standard library's decompressor where it has one,
    else the zstd program, fed by a thread. `where` names the stream in errors."""

    def __init__(self, stream, first, where):
        self.stream = stream
        self.where = where
        self.zstd = _stdlib_zstd()
        if self.zstd is None:
            self.process = _zstd_program("-d")
            self.feeder = threading.Thread(target=self._feed, args=(first,), daemon=True)
            self.feeder.start()
        else:
            self.decompressor = self.zstd.ZstdDecompressor()
            self.input = first

    def _feed(self, first):
        try:
            self.process.stdin.write(first)
            for piece in iter(lambda: self.stream.read(1 << 20), b""):
                self.process.stdin.write(piece)
            self.process.stdin.close()
        except BrokenPipeError:  # zstd stopped on bad data: its exit status says so
            pass

    def read(self, size):
        """Up to `size` bytes; b"" at the end."""
        if self.zstd is None:
            data = self.process.stdout.read(size)
            if not data:
                self.feeder.join()
                if self.process.wait() != 0:
                    raise StrataError("%s: corrupt zstd data (zstd -d failed)" % self.where)
            return data
        while True:
            if not self.input:
                self.input = self.stream.read(size)
                if not self.input:
                    if not self.decompressor.eof:
                        raise StrataError("%s: the zstd data ends early" % self.where)
                    return b""
            if self.decompressor.eof:  # another frame follows
                self.decompressor = self.zstd.ZstdDecompressor()
            try:
                data = self.decompressor.decompress(self.input)
            except self.zstd.ZstdError as error:
                raise StrataError("%s: corrupt zstd data (%s)" % (self.where, error))
            self.input = self.decompressor.unused_data if self.decompressor.eof else b""
            if data:
                return data


COMPRESSORS = {"none": None, "gz": GzipSink, "zstd": ZstdSink}


def compressing(compressor, next_sink):
    """`next_sink` behind the named compressor ("none", "gz", "zstd")."""
    make = COMPRESSORS[compressor]
    return next_sink if make is None else make(next_sink)


GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class HashingReader:
    """Reads `stream`; what it reads is hashed and counted (`seen`, a HashingSink) and, with
    `copy` (a sink), written there too."""

    def __init__(self, stream, copy=None):
        self.stream = stream
        self.seen = HashingSink(copy)

    def read(self, size=-1):
        data = self.stream.read(size)
        self.seen.write(data)
        return data

    def drain(self):
        while self.read(CHUNK):
            pass


class UncompressedReader:
    """The layer's tar bytes from its blob (gzip or plain, told by the magic bytes), hashed
    and counted (`seen`)."""

    def __init__(self, blob, where):
        self.blob = blob
        self.where = where
        self.seen = HashingSink()
        head = blob.read(4)
        self.zstd = ZstdReader(blob, head, where) if head.startswith(ZSTD_MAGIC) else None
        self.compressor = "zstd" if self.zstd else "gz" if head.startswith(GZIP_MAGIC) else "none"
        self.decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16) if self.compressor == "gz" else None
        self.pending = b"" if self.zstd else self._decompress(head)

    def _decompress(self, data):
        if self.decompressor is None:
            return data
        out = []
        try:
            while data:
                out.append(self.decompressor.decompress(data))
                data = self.decompressor.unused_data
                if data:  # another gzip member follows
                    self.decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
        except zlib.error as error:
            raise StrataError("%s: corrupt gzip data (%s)" % (self.where, error))
        return b"".join(out)

    def read(self, size=-1):
        while size < 0 or len(self.pending) < size:
            if self.zstd:
                chunk = self.zstd.read(CHUNK)
                if not chunk:
                    break
                self.pending += chunk
                continue
            chunk = self.blob.read(CHUNK)
            if not chunk:
                if self.decompressor is not None and not self.decompressor.eof:
                    raise StrataError("%s: the gzip data ends early" % self.where)
                break
            self.pending += self._decompress(chunk)
        data, self.pending = (self.pending, b"") if size < 0 else (self.pending[:size], self.pending[size:])
        self.seen.write(data)
        return data

    def drain(self):
        while self.read(CHUNK):
            pass

    def digest(self):
        return self.seen.digest()
