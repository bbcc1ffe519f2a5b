"""Deterministic tar headers.

Every header is POSIX ustar; a name over 100 bytes is split at a slash into ustar's prefix
and name fields where it can be. A PAX extended header (``x``) goes before it only when a
field does not fit: a name that cannot be split or is not ASCII, a link target over 100
bytes or not ASCII, a size of 8 GiB or more, an owner id over 0o7777777, an owner name over
32 bytes or not ASCII, a time before 1970 or after 2242-03-16 (an ``mtime`` record; the
ustar field then holds 0, as Python's tarfile writes it). Names that are
not UTF-8 are carried raw with ``hdrcharset=BINARY``. Nothing in a header comes from the
host: the caller gives the mtime and owner, and there are no atime, ctime or device fields.
The archive ends with two zero blocks and no record padding, as Go's archive/tar writes it,
so the tar is exactly the sum of its entries.
"""

import collections
import functools
import struct
from zlib import adler32

BLOCK = 512
END_OF_ARCHIVE = bytes(2 * BLOCK)

Owner = collections.namedtuple("Owner", "uid gid uname gname")
ROOT = Owner(0, 0, "root", "root")
_PAX_OWNER = Owner(0, 0, "", "")


def numeric_owner(uid, gid):
    """An owner known by its ids alone (named only when it is root)."""
    return Owner(uid, gid, "root" if uid == 0 else "", "root" if gid == 0 else "")

TYPEFLAGS = {"file": b"0", "hardlink": b"1", "symlink": b"2", "dir": b"5", "pax": b"x"}

_MAX_OCTAL = {8: 0o7777777, 12: 0o77777777777}


def _fits_octal(value, width):
    return 0 <= value <= _MAX_OCTAL[width]


def header(name, kind, mode, mtime, owner, size=0, linkname=b""):
    """The header block(s) of one entry. `name` and `linkname` are bytes; a directory's name
    gets its trailing slash here."""
    if kind == "dir" and not name.endswith(b"/"):
        name += b"/"
    fixed = _fixed_fields(TYPEFLAGS[kind], mode, mtime, owner)
    prefix, short_name = _split(name)
    if short_name is not None and size <= _MAX_OCTAL[12] and fixed.fits and _fits(linkname, 100):
        return _block(fixed, short_name, size, linkname, prefix)
    return _pax_header(fixed, name, prefix, short_name, kind, mode, mtime, owner, size, linkname)


class Headers:
    """Headers of entries that share an mtime and an owner, as a store path's do, for a
    writer of many: the fields those decide are looked up by mode alone, and an entry that
    ustar holds goes straight to its block. The bytes are header()'s."""

    def __init__(self, mtime, owner):
        self.mtime = mtime
        self.owner = owner
        self.fixed = {kind: {} for kind in ("file", "dir")}

    def file(self, name, mode, size):
        return self._entry("file", name, mode, size)

    def dir(self, name, mode):
        return self._entry("dir", name + b"/", mode, 0)

    def _entry(self, kind, name, mode, size):
        fixed = self.fixed[kind].get(mode) or self._fixed(kind, mode)
        prefix, short_name = _split(name)
        if short_name is not None and fixed.fits and size <= _MAX_OCTAL[12]:
            return _block(fixed, short_name, size, b"", prefix)
        return header(name, kind, mode, self.mtime, self.owner, size=size)

    def _fixed(self, kind, mode):
        fixed = self.fixed[kind][mode] = _fixed_fields(TYPEFLAGS[kind], mode, self.mtime, self.owner)
        return fixed


def _pax_header(fixed, name, prefix, short_name, kind, mode, mtime, owner, size, linkname):
    """A header with a PAX extended header before it, for the fields ustar cannot hold;
    `fixed` the entry's fixed fields, `prefix` and `short_name` _split's answer for `name`."""
    uname, gname = owner.uname.encode("utf-8"), owner.gname.encode("utf-8")
    records = []
    if short_name is None or not _fits(linkname, 100):
        if not (_utf8(name) and _utf8(linkname)):
            records.append((b"hdrcharset", b"BINARY"))
        if short_name is None:
            records.append((b"path", name))
            prefix, short_name = b"", name[:100]
        if not _fits(linkname, 100):
            records.append((b"linkpath", linkname))
    for key, value, width in ((b"size", size, 12), (b"uid", owner.uid, 8), (b"gid", owner.gid, 8),
                              (b"mtime", mtime, 12)):
        if not _fits_octal(value, width):
            records.append((key, str(value).encode("ascii")))
    for key, value in ((b"uname", uname), (b"gname", gname)):
        if not _fits(value, 32):
            records.append((key, value))
    if fixed.fits and size <= _MAX_OCTAL[12]:
        ustar = _block(fixed, short_name, size, linkname[:100], prefix)
    else:
        ustar = _ustar(short_name, TYPEFLAGS[kind], mode, mtime, owner.uid, owner.gid, size, linkname[:100],
                       uname[:32], gname[:32], prefix)
    data = b"".join(_pax_record(key, value) for key, value in records)
    pax = _block(_fixed_fields(TYPEFLAGS["pax"], 0o644, 0, _PAX_OWNER), b"././@PaxHeader", len(data), b"", b"")
    return b"".join((pax, data, padding(len(data)), ustar))


_Fixed = collections.namedtuple("_Fixed", "before mtime typeflag after unlinked checksum fits")
_NO_PREFIX = bytes(155 + 12)
"""The prefix field, empty, and the 12 bytes after it."""


@functools.lru_cache(maxsize=256)
def _fixed_fields(typeflag, mode, mtime, owner):
    """The fields of a header that the type, mode, time and owner decide, packed once: mode
    to gid, mtime, the type flag, magic to the device numbers, all from the type flag to the
    prefix field when there is no link target, and the byte sum of the fields (checksum
    spaces included); `fits` is false where ustar cannot hold them."""
    uname, gname = owner.uname.encode("utf-8"), owner.gname.encode("utf-8")
    fits = (_fits_octal(owner.uid, 8) and _fits_octal(owner.gid, 8) and _fits_octal(mtime, 12)
            and _fits(uname, 32) and _fits(gname, 32))
    before = b"%07o\x00" % mode + b"%07o\x00" % min(owner.uid, _MAX_OCTAL[8]) + b"%07o\x00" % min(owner.gid, _MAX_OCTAL[8])
    mtime_field = b"%011o\x00" % (mtime if _fits_octal(mtime, 12) else 0)
    after = _TAIL.pack(b"ustar\x0000", uname, gname, _NO_DEVICE, _NO_DEVICE)
    checksum = sum(before) + sum(mtime_field) + sum(b" " * 8) + sum(typeflag) + sum(after)
    return _Fixed(before, mtime_field, typeflag, after, typeflag + bytes(100) + after, checksum, fits)


def _block(fixed, name, size, linkname, prefix):
    size_field = b"%011o\x00" % size
    checksum = fixed.checksum + _byte_sum(name) + _byte_sum(size_field)
    if linkname:
        checksum += _byte_sum(linkname) + _byte_sum(prefix)
        tail = (fixed.typeflag, linkname.ljust(100, b"\x00"), fixed.after, prefix.ljust(167, b"\x00"))
    elif prefix:
        checksum += _byte_sum(prefix)
        tail = (fixed.unlinked, prefix.ljust(167, b"\x00"))
    else:
        tail = (fixed.unlinked, _NO_PREFIX)
    return b"".join((name.ljust(100, b"\x00"), fixed.before, size_field, fixed.mtime, b"%06o\x00 " % checksum) + tail)


def _split(name):
    """(prefix, name) fields for `name`, or (b"", None) where ustar cannot hold it."""
    if len(name) <= 100:
        return (b"", name) if name.isascii() else (b"", None)
    slash = name.find(b"/", len(name) - 101)
    if 0 < slash <= 155 and slash < len(name) - 1 and name.isascii():
        return name[:slash], name[slash + 1:]
    return b"", None


def big_header(name, mode, mtime, owner, size):
    """A one-block header for a regular file whose size is known only after its data is
    written (see dockerarchive): sizes of 8 GiB and more, and times ustar cannot hold, use
    GNU's base-256 number form, which Go, GNU tar and Python read, so the header never grows."""
    return _ustar(name, TYPEFLAGS["file"], mode, mtime, owner.uid, owner.gid, size, b"",
                  owner.uname.encode("utf-8"), owner.gname.encode("utf-8"), base256_size=True)


def padding(size):
    """The zero bytes that fill an entry's data up to a whole block."""
    return PADDINGS[-size % BLOCK]


PADDINGS = tuple(bytes(count) for count in range(BLOCK))
"""padding() by the count of bytes, for writers of many entries."""


_USTAR = struct.Struct("100s8s8s8s12s12s8sc100s8s32s32s8s8s155s12x")
_TAIL = struct.Struct("8s32s32s8s8s")
_NO_DEVICE = b"0000000\x00"


def _ustar(name, typeflag, mode, mtime, uid, gid, size, linkname, uname, gname, prefix=b"", base256_size=False):
    """One ustar block; a number that does not fit its field is written as 0 (a PAX record
    carries it), or with `base256_size` the size and time in base-256."""
    size_field, mtime_field = (
        b"%011o\x00" % value if _fits_octal(value, 12) else _base256(value, 12) if base256_size else b"%011o\x00" % 0
        for value in (size, mtime))
    block = _USTAR.pack(name, b"%07o\x00" % mode, b"%07o\x00" % (uid if _fits_octal(uid, 8) else 0),
                        b"%07o\x00" % (gid if _fits_octal(gid, 8) else 0), size_field, mtime_field,
                        b" " * 8, typeflag, linkname, b"ustar\x0000", uname, gname, _NO_DEVICE, _NO_DEVICE, prefix)
    return block[:148] + b"%06o\x00 " % sum(block) + block[156:]


def _base256(value, width):
    """GNU's base-256 form: the first byte's high bit set (0xff for a negative value, whose
    two's complement follows)."""
    if value < 0:
        return bytes([0xFF]) + value.to_bytes(width - 1, "big", signed=True)
    return bytes([0x80]) + value.to_bytes(width - 1, "big")


def _pax_record(key, value):
    body = b" " + key + b"=" + value + b"\n"
    length = len(body) + 1
    while len(str(length)) + len(body) != length:
        length += 1
    return str(length).encode("ascii") + body


def _byte_sum(field):
    """The sum of the bytes of a header field (at most 255 of them): Adler-32's low half is
    one more than that sum for as long as it stays below 65521, and zlib computes it in C."""
    return (adler32(field) & 0xFFFF) - 1


def _fits(value, width):
    return len(value) <= width and value.isascii()


def _utf8(value):
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
