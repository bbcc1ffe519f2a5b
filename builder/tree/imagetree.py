"""The file tree that an image's layers make, as a container runtime builds it.

Layer entries are named in many ways (``/nix/store/x``, ``./etc/``, ``etc``); they are
compared in one normal form: no leading ``./`` or ``/``, no trailing ``/``, no empty or
``.`` components. A name whose ``..`` would climb above the root is refused.

Applying a layer follows the OCI rules: ``.wh.NAME`` deletes NAME (and what is below it)
from the layers under it, ``.wh..wh..opq`` hides everything the layers under it put in its
directory, and an entry replaces what was at its path. A path is resolved the way a runtime
resolves it: a symlink on the way is followed inside the image root, an absolute target
starts at the root, and ``..`` at the root stays there.
"""

import collections

from . import symlinks
from ..core.errors import StrataError

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"

Node = collections.namedtuple("Node", "kind mode uid gid size digest target layer")
"""What is at a path: `kind` "dir", "file", "symlink" or "other" (devices, fifos); a file's
`size` and content `digest`; a symlink's `target`; the index of the `layer` it came from."""


def normal_name(name, where):
    """`name` (str) in normal form; a StrataError naming `where` if it leaves the root."""
    parts = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise StrataError("%s: entry %r leaves the image root" % (where, name))
            parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)


class ImageTree:
    """Paths (normal form) to Nodes, built by applying layers bottom first."""

    def __init__(self):
        self.nodes = {}

    def whiteout(self, path, layer):
        """Apply the whiteout entry at `path`, if it is one; True when it was."""
        parent, _, base = path.rpartition("/")
        if base == OPAQUE:
            self._remove_below(parent, lambda node: node.layer < layer)
            return True
        if base.startswith(WHITEOUT):
            hidden = (parent + "/" if parent else "") + base[len(WHITEOUT):]
            target = self.resolve_parent(hidden)
            self.nodes.pop(target, None)
            self._remove_below(target, lambda node: True)
            return True
        return False

    def put(self, path, node):
        """Put `node` at `path` (parents resolved through symlinks); returns the path used.
        Anything but a directory over a directory replaces what was there and below it."""
        path = self.resolve_parent(path)
        existing = self.nodes.get(path)
        if existing is not None and existing.kind == "dir" and node.kind != "dir":
            self._remove_below(path, lambda other: True)
        self.nodes[path] = node
        return path

    def resolve_parent(self, path):
        """`path` with its parent directories resolved through symlinks, inside the root."""
        parent, _, base = path.rpartition("/")
        resolved = self.resolve(parent) if parent else ""
        return resolved + "/" + base if resolved else base

    def resolve(self, path):
        """`path` with every symlink on it followed, inside the root (see symlinks)."""
        return "/".join(symlinks.resolve(path.split("/"), self._target_of))

    def _target_of(self, parts):
        node = self.nodes.get("/".join(parts))
        return node.target if node is not None and node.kind == "symlink" else None

    def _remove_below(self, path, which):
        prefix = path + "/" if path else ""
        for name in [name for name in self.nodes if name.startswith(prefix) and name != path]:
            if which(self.nodes[name]):
                del self.nodes[name]
