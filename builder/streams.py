"""Byte sinks chained one into the next: hashing, counting and compressing on the way.

A layer is written once: its tar bytes pass through a HashingSink (the diff_id), then a
compressor, then another HashingSink (the blob digest) into the output file. Each sink has
``write(data)`` and ``close()``; closing one closes the sinks after it.
"""

import hashlib
import struct
import zlib

from .errors import StrataError

GZIP_LEVEL = 6


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
    """Writes to an open binary file; closing the sink leaves the file open."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, data):
        self.stream.write(data)

    def close(self):
        pass


class GzipSink:
    """gzip (RFC 1952) with a fixed header: no file name, no time, OS 255 (unknown), so the
    bytes depend only on the input, the level and zlib's deflate."""

    def __init__(self, next_sink, level=GZIP_LEVEL):
        self.next = next_sink
        self.deflate = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
        self.crc = 0
        self.size = 0
        extra_flags = {9: 2, 1: 4}.get(level, 0)
        self.next.write(bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, extra_flags, 255]))

    def write(self, data):
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        compressed = self.deflate.compress(data)
        if compressed:
            self.next.write(compressed)

    def close(self):
        self.next.write(self.deflate.flush() + struct.pack("<II", self.crc, self.size & 0xFFFFFFFF))
        self.next.close()


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
