"""The store paths that files name, found as Nix finds a build's references: by the
32-character hash part of each path that may be named (the build's input closure), in the
bytes of files and in symlink targets.

dockerTools takes the closure of what its customisation layer refers to; strata's layers
record what theirs refer to (see layerbuild), so that a script extraCommands writes, which
calls ``${busybox}/bin/sh``, finds busybox in the image.
"""

import os
import re

from ..tree import fstree

_HASHES = re.compile(rb"[0-9a-df-np-sv-z]{32,}")
"""Runs of Nix base-32 characters (no e, o, t, u) long enough to hold a hash part."""
_CHUNK = 1 << 20


def named_paths(root, candidates):
    """The paths of `candidates` (store paths) that a file or symlink of the tree `root`
    (an fstree.Dir) names."""
    by_hash = {os.path.basename(path)[:32].encode("ascii"): path for path in candidates}
    found = set()
    for _, node in fstree.walk(root):
        if isinstance(node, fstree.File):
            _scan_file(node.source, by_hash, found)
        elif isinstance(node, fstree.Symlink):
            _scan(node.target, by_hash, found)
    return found


def _scan_file(path, by_hash, found):
    """Scan a file in pieces that overlap by 31 bytes, so no hash is cut in two."""
    with open(path, "rb") as stream:
        tail = b""
        while True:
            piece = stream.read(_CHUNK)
            if not piece:
                return
            _scan(tail + piece, by_hash, found)
            tail = piece[-31:]


def _scan(data, by_hash, found):
    for run in _HASHES.finditer(data):
        text = run.group()
        for start in range(len(text) - 31):
            path = by_hash.get(text[start:start + 32])
            if path is not None:
                found.add(path)
