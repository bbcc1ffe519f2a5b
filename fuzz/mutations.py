"""Mutations of valid inputs: bytes flipped, cut, repeated or made up; tar header fields set
to their limits and to hostile values (the header's checksum made right again, so that the
reader takes the header and meets the value); JSON values swapped for others of any type,
for huge numbers, long lists and deep nesting. Each is a function (data, random) -> bytes."""

import json

BLOCK = 512


def flip(data, random):
    data = bytearray(data)
    for _ in range(random.randint(1, 8)):
        if data:
            data[random.randrange(len(data))] ^= 1 << random.randrange(8)
    return bytes(data)


def truncate(data, random):
    return data[:random.randrange(len(data) + 1)]


def insert(data, random):
    at = random.randrange(len(data) + 1)
    return data[:at] + bytes(random.randrange(256) for _ in range(random.randint(1, 64))) + data[at:]


def repeat(data, random):
    start = random.randrange(len(data) + 1)
    end = min(len(data), start + random.randint(1, 4096))
    return data[:end] + data[start:end] * random.randint(1, 4) + data[end:]


def remove(data, random):
    start = random.randrange(len(data) + 1)
    return data[:start] + data[start + random.randint(1, 1024):]


_FIELDS = {"name": (0, 100), "mode": (100, 8), "uid": (108, 8), "gid": (116, 8), "size": (124, 12),
           "mtime": (136, 12), "typeflag": (156, 1), "linkname": (157, 100), "prefix": (345, 155)}
_VALUES = {
    "name": [b"../../evil", b"/etc/passwd", b"a/../../b", b"./", b"", b"x" * 100, b".wh..wh..opq", b"a\0b"],
    "mode": [b"7777777\0", b"0000000\0", b"9999999\0", b"\xff" * 8],
    "uid": [b"7777777\0", b"\x80\0\0\0\xff\xff\xff\xff", b"-1\0\0\0\0\0\0"],
    "gid": [b"7777777\0", b"\xff" * 8],
    "size": [b"77777777777\0", b"00000000000\0", b"\x80" + b"\xff" * 11, b"\xff" * 12, b"00000001000\0",
             b"-0000000001\0"],
    "mtime": [b"77777777777\0", b"\xff" * 12, b"\x80" + b"\x7f" * 11],
    "typeflag": [b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"g", b"x", b"L", b"K", b"S", b"V", b"\0", b"Z"],
    "linkname": [b"../../../etc/shadow", b"/", b".", b"a" * 100, b"later-entry", b"etc/passwd", b"usr/bin/sh"],
    "prefix": [b"../..", b"a" * 155, b"/abs"],
}


def tar_field(data, random):
    """A header field of a tar (the outer archive's, or an inner one's where the data is a
    tar itself) set to a limit or hostile value, the checksum made right."""
    headers = [at for at in range(0, len(data) - BLOCK + 1, BLOCK) if data[at + 257:at + 262] == b"ustar"]
    if not headers:
        return flip(data, random)
    at = random.choice(headers)
    field = random.choice(sorted(_FIELDS))
    offset, width = _FIELDS[field]
    value = random.choice(_VALUES[field])[:width].ljust(width, b"\0")
    block = bytearray(data[at:at + BLOCK])
    block[offset:offset + width] = value
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\0 " % sum(block)
    return data[:at] + bytes(block) + data[at + BLOCK:]


_ODD_VALUES = [None, True, -1, 0, 1 << 64, -(1 << 63), 1.5, "", "..", "/", "../../x", "\0", "x" * 10000, [], {},
               [[[]]], {"a": {"b": {}}}, ["/nix/store/" + "0" * 32 + "-x"] * 1000, list(range(100))]


def json_value(data, random):
    """A JSON value somewhere in the document swapped for one of another kind or size."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return flip(data, random)
    nodes = []

    def walk(node, setter):
        nodes.append(setter)
        if isinstance(node, dict):
            for key in list(node):
                walk(node[key], lambda value, node=node, key=key: node.__setitem__(key, value))
        elif isinstance(node, list):
            for index in range(len(node)):
                walk(node[index], lambda value, node=node, index=index: node.__setitem__(index, value))
    holder = [document]
    walk(document, lambda value: holder.__setitem__(0, value))
    random.choice(nodes)(random.choice(_ODD_VALUES + ["deep"]))
    text = json.dumps(holder[0])
    return text.replace('"deep"', "[" * 5000 + "]" * 5000).encode()


BYTES = [flip, truncate, insert, repeat, remove, tar_field]
ALL = BYTES + [json_value]


def mutate(data, random):
    """One to three mutations of `data`."""
    for _ in range(random.randint(1, 3)):
        data = random.choice(ALL)(data, random)
    return data
