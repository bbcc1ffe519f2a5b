"""A new layer over a base image: what the base holds is not written again, and paths that
lead through the base's symlinks are written where they lead.

Store paths are compared by name (a store path's name is its content); other files by
content, mode and owner; directories by mode and owner. A path whose parent is a symlink in
the base (``bin/app`` over ``bin -> usr/bin``) is written as the runtime would find it
(``usr/bin/app``): runtimes do not follow a lower layer's symlink when they apply a layer,
and a ``bin/`` directory entry would hide the base's whole ``/bin``.
"""

import os

from ..tar.filedata import content_digest


def over_base(entries, tree, owner_of, store_dir):
    """`entries` (fstree.Entry, in tar order) less what `tree` (imagetree.ImageTree of the
    base) holds, renamed through the base's symlinks, in tar order again. `owner_of(entry)`
    is the tarwriter.Owner the entry will be written with."""
    kept = {}
    for entry in not_in_base(entries, tree, store_dir):
        path, base_dir = placed(tree, os.fsdecode(entry.name), entry.kind)
        owner = owner_of(entry)
        if base_dir is not None:
            if (base_dir.mode, base_dir.uid, base_dir.gid) == (entry.mode, owner.uid, owner.gid):
                continue
        elif entry.kind != "dir" and _same(tree.nodes.get(path), entry, owner):
            continue
        kept[os.fsencode(path)] = entry._replace(name=os.fsencode(path))
    return [kept[name] for name in sorted(kept, key=lambda name: name.split(b"/"))]


def not_in_base(entries, tree, store_dir):
    """`entries` less the store paths that the base `tree` holds (by name)."""
    store_prefix = store_dir.strip("/") + "/"
    return [entry for entry in entries
            if entry.store_path is None or store_prefix + os.path.basename(entry.store_path) not in tree.nodes]


def placed(tree, name, kind):
    """Where a runtime puts an entry `name` (str) of `kind` over the base `tree`: its parents
    resolved through the base's symlinks, and a directory over a directory of the base (or a
    link to one) merged into it; (that path, the base's directory there, else None)."""
    path = tree.resolve_parent(name)
    if kind == "dir":
        resolved = tree.resolve(path)
        node = tree.nodes.get(resolved)
        if node is not None and node.kind == "dir":
            return resolved, node
    return path, None


def _same(node, entry, owner):
    if node is None or (node.uid, node.gid) != (owner.uid, owner.gid):
        return False
    if entry.kind == "symlink":
        return node.kind == "symlink" and node.target == os.fsdecode(entry.target)
    return (node.kind == "file" and node.size == entry.size and node.mode == entry.mode
            and node.digest == content_digest(entry.source, entry.size))
