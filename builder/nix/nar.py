"""NAR serialisation, for store paths' narHash and narSize where Nix did not give them.

A NAR is a tree of strings, each an 8-byte little-endian length, the bytes, and zero
padding to a multiple of 8. A regular file is ``regular`` (with ``executable`` and an empty
string when the owner may execute it) and ``contents``; a symlink is ``symlink`` and its
``target``; a directory lists its entries sorted by byte order of their names. Nothing else
is recorded: no times, owners, other permission bits or hard links. Only the hash and the
length of the stream are needed, so it is hashed as it is produced, never stored.

Nix writes hashes in its own base-32: the alphabet below, the last byte's bits first; in
base16 and base64 too, and as SRI (``sha256-`` and base64) in path-info JSON.
"""

import base64
import os
import stat
import struct

from ..core.errors import StrataError
from ..tar.filedata import read_chunks
from ..tar.streams import HashingSink

NIX32_ALPHABET = "0123456789abcdfghijklmnpqrsvwxyz"


def nar_hash(path):
    """(sha256 digest bytes, NAR size) of the file tree at `path`."""
    sink = _Sink()
    sink.string(b"nix-archive-1")
    _serialise(os.fsencode(path), sink)
    return sink.hash.digest(), sink.size


def nix32_encode(digest):
    length = (len(digest) * 8 - 1) // 5 + 1
    characters = []
    for n in range(length - 1, -1, -1):
        bit = n * 5
        index, shift = divmod(bit, 8)
        value = digest[index] >> shift
        if index + 1 < len(digest):
            value |= digest[index + 1] << (8 - shift)
        characters.append(NIX32_ALPHABET[value & 0x1F])
    return "".join(characters)


def nix32_decode(text, size=32):
    digest = bytearray(size)
    for position, character in enumerate(reversed(text)):
        value = NIX32_ALPHABET.find(character)
        if value < 0:
            raise ValueError("not a Nix base-32 character: %r" % character)
        bit = position * 5
        index, shift = divmod(bit, 8)
        digest[index] |= (value << shift) & 0xFF
        carry = value >> (8 - shift)
        if index + 1 < size:
            digest[index + 1] |= carry
        elif carry:
            raise ValueError("Nix base-32 value too long")
    return bytes(digest)


def hash_hex(nar_hash_text, where="a store path"):
    """The base16 digest of a SHA-256 hash as any Nix hands it over: ``sha256:`` and nix32
    (what exportReferencesGraph writes), base16 or base64, or SRI (``sha256-`` and base64,
    what path-info JSON writes); `where` (the store path) is named in the error."""
    if isinstance(nar_hash_text, str):
        for prefix in ("sha256:", "sha256-"):
            if nar_hash_text.startswith(prefix):
                digest = _digest(nar_hash_text[len(prefix):], sri=prefix == "sha256-")
                if digest is not None:
                    return digest.hex()
    raise StrataError("%s: narHash %r is no SHA-256 hash strata knows (sha256:<nix32, base16 or base64>, or"
                      " sha256-<base64>)" % (where, nar_hash_text))


def _digest(encoded, sri):
    """The 32 bytes `encoded` says, in base64 (all an SRI hash may be), or by its length in
    base16 (64 characters), nix32 (52) or base64 (44); None where it is none of them."""
    try:
        if len(encoded) == 64 and not sri:
            return bytes.fromhex(encoded)
        if len(encoded) == 52 and not sri:
            return nix32_decode(encoded)
        if len(encoded) == 44:
            digest = base64.b64decode(encoded, validate=True)
            return digest if len(digest) == 32 else None
    except ValueError:
        return None
    return None


class _Sink(HashingSink):
    """A NAR's bytes, hashed and counted, and NAR strings written into it."""

    def string(self, data):
        self.write(struct.pack("<Q", len(data)))
        self.write(data)
        self.write(bytes(-len(data) % 8))


def _serialise(path, sink):
    info = os.lstat(path)
    sink.string(b"(")
    sink.string(b"type")
    if stat.S_ISREG(info.st_mode):
        sink.string(b"regular")
        if info.st_mode & stat.S_IXUSR:
            sink.string(b"executable")
            sink.string(b"")
        sink.string(b"contents")
        sink.write(struct.pack("<Q", info.st_size))
        read_chunks(path, info.st_size, sink.write)
        sink.write(bytes(-info.st_size % 8))
    elif stat.S_ISLNK(info.st_mode):
        sink.string(b"symlink")
        sink.string(b"target")
        sink.string(os.readlink(path))
    elif stat.S_ISDIR(info.st_mode):
        sink.string(b"directory")
        for name in sorted(os.listdir(path)):
            sink.string(b"entry")
            sink.string(b"(")
            sink.string(b"name")
            sink.string(name)
            sink.string(b"node")
            _serialise(os.path.join(path, name), sink)
            sink.string(b")")
    else:
        raise StrataError("%s: a NAR holds only regular files, directories and symlinks" % os.fsdecode(path))
    sink.string(b")")
