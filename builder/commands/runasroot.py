"""``runAsRoot`` without a VM: a user's script run as root with the image's root as ``/``.

dockerTools mounts the base image's layers and the copied packages in a VM and runs the
script there; what it adds, changes and deletes becomes the new layer. strata does the
same in the build directory: the base image's final tree is unpacked (device nodes, which
need privileges, are left out and left alone), ``copyToRoot`` is copied over it through the
base's symlinks, fakeroot is told every file's owner, and the script runs under fakeroot
and proot with that directory as ``/`` (the store, /dev, /proc and /sys bound in). fakeroot
makes the script believe it is root, but the kernel still checks the real user's rights:
what the script must be able to write is made writable for it, and given back its mode
after unless the script changed it.
``extraCommands`` run next, in the directory. The tree it then holds is the layer, less
what the base holds unchanged (see overbase), plus a whiteout for each base path that is
gone.
"""

import json
import os
import shutil

from ..core.errors import StrataError
from ..core.interpreter import this_interpreter
from ..tree import extracommands, fstree
from ..tree.overbase import placed
from .export import final_entries

# Run under fakeroot: the owner of each path in a JSON file, recorded in fakeroot's books.
_SET_OWNERS = """
import json, os, sys
for path, (uid, gid) in json.load(open(sys.argv[1])).items():
    os.lchown(path, uid, gid)
"""


def run(root, spec, base, directory, cleanup):
    """The tree the script leaves in `directory` (a scratch directory) for the copied
    `root` (an fstree.Dir) over `base` (a BaseImage, or None), and the whiteout entries of
    the base paths it deleted."""
    if not spec.shell:
        raise StrataError("runAsRoot: no shell to run it with; pass `shell` (or `pkgs`) to strata")
    owners, modes = {}, {}
    kept = _unpack(base, directory, owners, modes, cleanup) if base else set()
    _copy_over(root, base, directory, owners, modes, (spec.uid, spec.gid))
    state = directory.rstrip("/") + ".fakeroot"
    owners_file = directory.rstrip("/") + ".owners.json"
    with open(owners_file, "w") as stream:
        json.dump(owners, stream)
    fakeroot = extracommands.fakeroot_command(spec, "runAsRoot")
    chroot = extracommands.proot_command(spec, directory, "runAsRoot")
    python = [this_interpreter(), "-I", "-c"]
    extracommands.run_command("runAsRoot", fakeroot + ["-s", state, "--"] + python + [_SET_OWNERS, owners_file],
                              spec, directory)
    os.unlink(owners_file)
    script = [spec.shell, "-e", "-c", spec.run_as_root]
    extracommands.run_command("runAsRoot", fakeroot + ["-i", state, "-s", state, "--"] + chroot + script, spec,
                              directory)
    if spec.extra_commands:
        extracommands.run_command("extraCommands", fakeroot + ["-i", state, "-s", state, "--", spec.shell, "-e", "-c",
                                                              spec.extra_commands], spec, directory)
    tree = extracommands.read_back_owned(directory, spec, fakeroot, state, "runAsRoot")
    for path, node in fstree.walk(tree):
        mode = modes.get(os.fsdecode(path))
        if mode is not None and isinstance(node, (fstree.Dir, fstree.File)) \
                and node.mode == _writable(mode, isinstance(node, fstree.Dir)):
            node.mode = mode
    return tree, _whiteouts(kept, directory)


def _unpack(base, directory, owners, modes, cleanup):
    """Write the base's final tree into `directory`, its owners into `owners` and its
    modes into `modes`; the set of paths written."""
    written = set()
    for path, member, data in final_entries(base, cleanup):
        target = os.path.join(directory, path)
        if member is None or member.isdir():
            os.makedirs(target, exist_ok=True)
            _set_mode(target, path, 0o755 if member is None else member.mode & 0o7777, modes, True)
        elif member.issym():
            os.symlink(member.linkname, target)
        elif member.isreg() or member.islnk():
            with open(target, "wb") as stream:
                shutil.copyfileobj(data, stream)
            _set_mode(target, path, member.mode & 0o7777, modes, False)
        else:
            continue  # a device node or a fifo: it stays in the base as it is
        owners[path] = (0, 0) if member is None else (member.uid, member.gid)
        written.add(path)
    return written


def _set_mode(target, path, mode, modes, is_dir):
    """Give `target` `mode`, writable for the script, and keep the mode in `modes`."""
    modes[path] = mode
    os.chmod(target, _writable(mode, is_dir))


def _writable(mode, is_dir):
    """`mode` with the owner's write (and, for a directory, search) bits."""
    return mode | (0o700 if is_dir else 0o200)


def _copy_over(root, base, directory, owners, modes, owner):
    """Copy the copied tree `root` into `directory`, each path resolved through the base's
    symlinks as a runtime resolves it (``bin/app`` over ``bin -> usr/bin`` is
    ``usr/bin/app``), replacing what is there."""
    for entry in fstree.entries(root):
        name = os.fsdecode(entry.name)
        path = placed(base.tree, name, entry.kind)[0] if base else name
        target = os.path.join(directory, path)
        if entry.kind == "dir":
            if not os.path.isdir(target) or os.path.islink(target):
                _remove(target)
                os.mkdir(target)
            _set_mode(target, path, entry.mode, modes, True)
        else:
            _remove(target)
            modes.pop(path, None)
            if entry.kind == "symlink":
                os.symlink(entry.target, target)
            else:
                shutil.copyfile(entry.source, target)
                _set_mode(target, path, entry.mode, modes, False)
        owners[path] = owner


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def _whiteouts(kept, directory):
    """Whiteout entries for the base paths of `kept` no longer in `directory` (the topmost
    of each removed subtree only)."""
    gone = {path for path in kept if not os.path.lexists(os.path.join(directory, path))}
    entries = []
    for path in sorted(gone):
        parent, _, name = path.rpartition("/")
        parts = path.split("/")
        if any("/".join(parts[:length]) in gone for length in range(1, len(parts))):
            continue  # its directory is gone: that one whiteout hides it
        name = (parent + "/" if parent else "") + fstree.WHITEOUT.decode() + name
        entries.append(fstree.Entry(os.fsencode(name), "whiteout", 0o644, 0, None, None, None, None))
    return entries
