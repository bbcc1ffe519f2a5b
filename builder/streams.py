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

from .errors import StrataError

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


class ZstdSink:
    """zstd through the standard library's ``compression.zstd`` (Python 3.14 and newer)."""

    def __init__(self, next_sink):
        try:
            from compression import zstd
        except ImportError:
            raise StrataError(
                "compressor: zstd needs Python 3.14 or newer (its standard library's"
                " compression.zstd); use \"gz\" or \"none\" with this interpreter")
        self.next = next_sink
        self.compressor = zstd.ZstdCompressor()
        self.flush_frame = zstd.ZstdCompressor.FLUSH_FRAME

    def write(self, data):
        compressed = self.compressor.compress(data)
        if compressed:
            self.next.write(compressed)

    def close(self):
        self.next.write(self.compressor.flush(self.flush_frame))
        self.next.close()


COMPRESSORS = {"none": None, "gz": GzipSink, "zstd": ZstdSink}


def compressing(compressor, next_sink):
    """`next_sink` behind the named compressor ("none", "gz", "zstd")."""
    make = COMPRESSORS[compressor]
    return next_sink if make is None else make(next_sink)
