"""``extraCommands``: a user's shell commands run in a copy of the root before it is written.

The merged copyToRoot tree is copied into a scratch directory (store files keep their
modes, so a command that edits one must ``chmod u+w`` first, as with dockerTools), the
commands run there with the given shell and PATH, and what the directory then holds is read
back as the root. Files it makes are written out in full, never hard-linked.
"""

import contextlib
import os
import shutil
import subprocess
import tempfile

from . import fstree
from .errors import StrataError


@contextlib.contextmanager
def scratch_directory():
    """A directory under the build's temporary directory, removed afterwards even where the
    commands left it read-only."""
    parent = os.environ.get("NIX_BUILD_TOP") or os.environ.get("TMPDIR") or None
    path = tempfile.mkdtemp(prefix="strata-root-", dir=parent)
    try:
        yield path
    finally:
        for directory, _, _ in os.walk(path):
            os.chmod(directory, 0o700)
        shutil.rmtree(path)


def run(root, commands, shell, tools_path, directory):
    """The root after running `commands` in a copy of `root` made in `directory`."""
    if not shell:
        raise StrataError("extraCommands: no shell to run them with; pass `shell` (or `pkgs`) to strata")
    _materialise(root, os.fsencode(directory))
    environment = {"PATH": tools_path, "HOME": "/homeless-shelter", "LC_ALL": "C", "TZ": "UTC",
                   "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "1")}
    try:
        finished = subprocess.run([shell, "-e", "-c", commands], cwd=directory, env=environment)
    except OSError as error:
        raise StrataError("extraCommands: cannot run %s: %s" % (shell, error.strerror))
    if finished.returncode != 0:
        raise StrataError("extraCommands: the commands failed with exit status %d" % finished.returncode)
    return fstree.read_node(os.fsencode(directory))


def _materialise(node, path):
    """Write the tree `node` at `path`; a directory gets its mode after its children."""
    for name, child in node.children.items():
        target = os.path.join(path, name)
        if isinstance(child, fstree.Dir):
            os.mkdir(target, 0o700)
            _materialise(child, target)
        elif isinstance(child, fstree.File):
            shutil.copyfile(child.source, target)
            os.chmod(target, child.mode)
        else:
            os.symlink(child.target, target)
    os.chmod(path, node.mode)
