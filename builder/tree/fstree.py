"""The file tree of a layer, built from disk and listed in tar order.

A layer's tree has two parts: a root merged from copied directories (copyToRoot), read from
disk with one ``lstat`` a file into small node objects (nothing is copied), and the store
paths of a closure under ``nix/store``, each one node that storetar lists as it writes it.
``entries`` lists the tree depth first, the children of each directory in byte order of
their names: GNU tar's ``--sort=name`` order and the order of a NAR, independent of the
order in which the disk lists files.

Merging copied directories follows ``rsync -ak`` as dockerTools uses it (``rsync -aK`` with
``keep_dirlinks``): an item that is a symlink is read through it; without ``keep_dirlinks``,
a symlink inside an item that leads to a directory (a ``buildEnv``'s ``bin``, say) is copied
as that directory; a later item's file replaces an earlier one; a later directory merges
into an earlier directory; with ``keep_dirlinks``, a later directory over an earlier symlink
merges into the directory the link resolves to inside the root, else replaces the link.
Linked items (``contents``, whose files become symlinks, as symlinkJoin makes them) keep
their symlinks to directories, but one that meets a directory of another item is read
through, so that the two merge.
"""

import collections
import os
import stat

from . import symlinks
from ..core.errors import StrataError

Entry = collections.namedtuple("Entry", "name kind mode size source target store_path owner")
"""One tar entry: `name` relative bytes without a trailing slash; `kind` is "dir", "file",
"symlink", "whiteout" (an empty file that deletes, see runasroot), or "storepath" for a
whole store path, whose entries storetar writes; `source`
the file (or store path) to read, bytes; `target` the link target for "symlink";
`store_path` the store path (str) of a "storepath", or of an entry listed from one (see
store_path_entries), else None; `owner` (uid, gid) where commands or accounts set one, a
tarwriter.Owner where perms did, else None."""

COPIED_DIR_MODE = 0o755
"""Directories of copied (copyToRoot) trees: the store's 0555 would make /etc read-only."""

NIX_DIR_MODE = 0o755
"""The modes of /nix and /nix/store, as dockerTools writes them."""

class Dir:
    __slots__ = ("mode", "children", "owner")

    def __init__(self, mode):
        self.mode = mode
        self.children = {}
        self.owner = None


class File:
    __slots__ = ("mode", "size", "source", "owner")

    def __init__(self, mode, size, source):
        self.mode = mode
        self.size = size
        self.source = source
        self.owner = None


class Symlink:
    """A symlink; `through` is, for a linked item's symlink, where it is on disk, to read
    it through when it must merge with a directory (see merged_root)."""
    __slots__ = ("target", "owner", "through")

    def __init__(self, target, through=None):
        self.target = target
        self.owner = None
        self.through = through


class StorePath:
    """A whole store path, listed only when its layer is written (see storetar): nothing
    inside a store path is ever merged or changed, and listing it where it is written reads
    the disk once."""
    __slots__ = ("path",)

    def __init__(self, path):
        self.path = path


def read_node(path):
    """The tree at `path` (bytes), as it is on disk."""
    return _node(path, lstat(path), None, False, ())


def lstat(path):
    """os.lstat, its failure worded as the user's problem."""
    try:
        return os.lstat(path)
    except OSError as error:
        raise _cannot_read(path, error)


def scan(path):
    """(name, os.DirEntry) of the children of the directory `path` (bytes), in byte order
    of their names. The entries know their kind without a stat. A name that a runtime
    would read as a whiteout is refused (see WHITEOUT)."""
    try:
        with os.scandir(path) as listing:
            children = [(entry.name, entry) for entry in listing]
    except OSError as error:
        raise _cannot_read(path, error)
    children.sort(key=lambda child: child[0])
    for name, entry in children:
        if name.startswith(WHITEOUT):
            raise whiteout_named(entry.path)
    return children


WHITEOUT = b".wh."
"""The prefix the OCI layer format reserves: an entry ``d/.wh.x`` deletes ``d/x`` of the
layers below (``d/.wh..wh..opq`` empties ``d``), so a file named so cannot be put in an
image at all."""


def whiteout_named(path):
    return StrataError("%s: a file whose name starts with .wh. is read as a whiteout by every "
                       "runtime (it deletes instead of creating); rename it" % os.fsdecode(path))


def _cannot_read(path, error):
    return StrataError("%s: cannot read: %s" % (os.fsdecode(path), error.strerror))


def _node(path, info, dir_mode, copy_dirlinks, above):
    """The node of `path`, whose lstat is `info`; `above` the (device, inode) pairs of the
    directories read through symlinks on the way here, to refuse a loop."""
    mode = info.st_mode
    if stat.S_ISREG(mode):
        return File(mode & 0o7777, info.st_size, path)
    if stat.S_ISLNK(mode):
        followed = _directory_behind(path) if copy_dirlinks else None
        if followed is None:
            return Symlink(os.readlink(path))
        if (followed.st_dev, followed.st_ino) in above:
            raise StrataError("%s: a symlink to a directory that holds it (a loop); copyToRoot copies what such"
                              " links lead to (rsync -k), so pass keepContentsDirlinks = true or remove it"
                              % os.fsdecode(path))
        info, mode, above = followed, followed.st_mode, above + ((followed.st_dev, followed.st_ino),)
    if stat.S_ISDIR(mode):
        node = Dir(mode & 0o7777 if dir_mode is None else dir_mode)
        for name, entry in scan(path):
            node.children[name] = _node(entry.path, entry.stat(follow_symlinks=False), dir_mode, copy_dirlinks,
                                        above)
        return node
    raise unsupported(path, mode)


def _directory_behind(path):
    """os.stat of what the symlink `path` leads to if that is a directory, else None (a
    dangling link, or one to a file, stays a link)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info if stat.S_ISDIR(info.st_mode) else None


def unsupported(path, mode):
    """The error for a file that is neither a regular file, a directory nor a symlink."""
    kinds = ((stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
             (stat.S_ISBLK, "block device"))
    kind = next((name for test, name in kinds if test(mode)), "special file")
    return StrataError("%s: is a %s; an image holds only regular files, directories and symlinks"
                       % (os.fsdecode(path), kind))


def merged_root(items, keep_dirlinks, linked_items=()):
    """One root directory from the directories `linked_items` then `items` (str paths),
    later items winning. Files of `items` are copied; files of `linked_items` become symlinks
    to where they are, as symlinkJoin makes them (for contents whose store paths are in the
    image's lower layers anyway)."""
    root = Dir(COPIED_DIR_MODE)
    for item, linked in [(item, True) for item in linked_items] + [(item, False) for item in items]:
        node = _item_node(os.fsencode(item), linked, keep_dirlinks)
        _merge_children(root, root, (), node, keep_dirlinks)
    return root


def _item_node(path, linked, keep_dirlinks):
    """The tree of one item (read through it, if it is a symlink, as ``rsync item/`` and
    lndir do)."""
    what = "contents" if linked else "copyToRoot"
    if not os.path.isdir(path):
        raise StrataError("%s: %s is not a directory (nor a symlink to one); only directories are copied to /"
                          % (what, os.fsdecode(path)))
    node = _node(path, os.stat(path), COPIED_DIR_MODE, not (linked or keep_dirlinks), ())
    if linked:
        _files_as_links(node, path)
    return node


def copied_names(item, keep_dirlinks):
    """The names (relative bytes) the copyToRoot item `item` (bytes) puts in a root."""
    return {name for name, _ in walk(_item_node(item, False, keep_dirlinks))}


def store_path_entries(entry):
    """The entries of the "storepath" `entry`, listed here rather than by storetar, with
    the modes they have in the store: dir, file and symlink entries that keep its
    store_path."""
    holder = Dir(0)
    holder.children[entry.name] = read_node(entry.source)
    listed = []
    _list_children(holder, b"", listed)
    return [listed_entry._replace(store_path=entry.store_path) for listed_entry in listed]


def _files_as_links(node, path):
    for name, child in node.children.items():
        if isinstance(child, Dir):
            _files_as_links(child, path + b"/" + name)
        elif isinstance(child, File):
            node.children[name] = Symlink(child.source)
        else:
            child.through = path + b"/" + name


def add_store_paths(root, store_dir, paths):
    """Put the store `paths` (str) under `store_dir` in `root`; nothing when there are none."""
    if not paths:
        return
    node = directory(root, os.fsencode(store_dir).strip(b"/").split(b"/"), NIX_DIR_MODE)
    for path in paths:
        node.children[os.path.basename(os.fsencode(path))] = StorePath(path)


def directory(root, parts, mode):
    """The directory at the path `parts` (bytes components) in `root`, made with `mode`
    where it, or a directory above it, is not a directory yet."""
    node = root
    for part in parts:
        child = node.children.get(part)
        if not isinstance(child, Dir):
            child = node.children[part] = Dir(mode)
        node = child
    return node


def walk(node, prefix=b""):
    """(relative path, node) of every node below `node`, parents first."""
    for name, child in node.children.items():
        yield prefix + name, child
        if isinstance(child, Dir):
            yield from walk(child, prefix + name + b"/")


def entries(root):
    """The tree below `root` as Entry tuples, in tar order; the root itself is not listed."""
    listed = []
    _list_children(root, b"", listed)
    return listed


def _list_children(node, prefix, listed):
    for name in sorted(node.children):
        child = node.children[name]
        path = prefix + name
        if isinstance(child, Dir):
            listed.append(Entry(path, "dir", child.mode, 0, None, None, None, child.owner))
            _list_children(child, path + b"/", listed)
        elif isinstance(child, File):
            listed.append(Entry(path, "file", child.mode, child.size, child.source, None, None, child.owner))
        elif isinstance(child, Symlink):
            listed.append(Entry(path, "symlink", 0o777, 0, None, child.target, None, child.owner))
        else:
            listed.append(Entry(path, "storepath", 0, 0, os.fsencode(child.path), None, child.path, None))


def _merge_children(root, into, into_parts, source, keep_dirlinks):
    for name, node in source.children.items():
        existing = into.children.get(name)
        parts = into_parts + (name,)
        if isinstance(node, Dir):
            if isinstance(existing, Symlink) and keep_dirlinks:
                target = _resolve(root, parts)
                if isinstance(target, Dir):
                    _merge_children(root, target, parts, node, keep_dirlinks)
                    continue
            existing = _read_through(existing)
            if isinstance(existing, Dir):
                existing.mode = node.mode
                _merge_children(root, existing, parts, node, keep_dirlinks)
                into.children[name] = existing
                continue
        elif isinstance(existing, Dir):
            node = _read_through(node)
            if isinstance(node, Dir):
                _merge_children(root, existing, parts, node, keep_dirlinks)
                continue
        into.children[name] = node


def _read_through(node):
    """A linked item's symlink to a directory read as that directory (of links), where it
    must merge with another item's directory; any other node as it is."""
    if not isinstance(node, Symlink) or node.through is None or _directory_behind(node.through) is None:
        return node
    return _item_node(node.through, True, False)


def _resolve(root, parts):
    """The node at `parts` following symlinks inside `root` (see symlinks); None if there is
    none."""
    def target_of(components):
        node = _node_at(root, components)
        return node.target if isinstance(node, Symlink) else None
    return _node_at(root, symlinks.resolve(parts, target_of))


def _node_at(root, components):
    node = root
    for part in components:
        if not isinstance(node, Dir) or part not in node.children:
            return None
        node = node.children[part]
    return node
