"""``extraCommands`` and ``fakeRootCommands``: a user's shell commands run in a copy of the
root before it is written.

The merged root is copied into a scratch directory (store files keep their modes, so a
command that edits one must ``chmod u+w`` first, as with dockerTools), the commands run there
with the given shell and PATH, and what the directory then holds is read back as the root.
Files it makes are written out in full, never hard-linked.

``fakeRootCommands`` run next, under fakeroot, which makes them believe they are root: a
``chown`` they do is recorded by fakeroot, not done, and read back through fakeroot as the
owner of that entry in the layer. With ``enableFakechroot`` they run under proot too, as
dockerTools runs them, with the root as ``/`` (``ln -s /bin/x /usr/bin/y`` lands in it) and
the store, /dev, /proc and /sys bound in; fakeroot runs outside proot, so only the programs
the commands call need to be in the root or the store (host programs' libraries can be bound
in with ``prootBinds``). proot binds without making mount points in the root, so nothing
of the binding lands in the layer.
"""

import contextlib
import json
import os

from . import fstree
from ..core.errors import StrataError
from ..core.interpreter import this_interpreter


@contextlib.contextmanager
def scratch_directory(name):
    """A directory `name` in the build's directory (a path the same in every build, so a
    command that writes ``$(pwd)`` into a file stays reproducible), or a fresh temporary
    one outside a Nix build; removed afterwards even where the commands left it read-only."""
    # Imported here (as subprocess is in run_command and shutil in _materialise), not above: most
    # layers run no commands, and every layer derivation's start pays the imports at the top.
    import shutil
    import tempfile
    top = os.environ.get("NIX_BUILD_TOP")
    try:
        path = os.path.join(top, name)
        os.mkdir(path, 0o700)
    except (TypeError, OSError):
        path = tempfile.mkdtemp(prefix="strata-%s-" % name)
    try:
        yield path
    finally:
        opened_up(path)
        shutil.rmtree(path)


def opened_up(directory):
    """Give this build's user what it needs to read the tree the commands left in
    `directory` (read on files, read, write and search on directories): a command may make
    a file of mode 0000, as Fedora's /etc/shadow is. The modes the commands set, as
    {relative bytes path: mode} of the entries changed, for the layer to keep."""
    top = os.fsencode(directory)
    changed = {}

    def open_up(path, relative, needed):
        mode = os.lstat(path).st_mode & 0o7777
        if mode & needed != needed:
            changed[relative] = mode
            os.chmod(path, mode | needed)

    open_up(top, b"", 0o700)
    pending = [b""]
    while pending:
        relative = pending.pop()
        with os.scandir(os.path.join(top, relative) if relative else top) as listing:
            for entry in listing:
                child = os.path.join(relative, entry.name) if relative else entry.name
                if entry.is_dir(follow_symlinks=False):
                    open_up(entry.path, child, 0o700)
                    pending.append(child)
                elif entry.is_file(follow_symlinks=False):
                    open_up(entry.path, child, 0o400)
    return changed


# Runs a command as a child subreaper, reaping every process orphaned below it: in a Nix
# sandbox the builder is process 1 and would leave fakeroot's daemon a zombie, on which
# fakeroot's script waits for ever.
_REAPER = """
import ctypes, os, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)
child = os.fork()
if child == 0:
    os.execv(sys.argv[1], sys.argv[1:])
code = 1
while True:
    try:
        pid, status = os.wait()
    except ChildProcessError:
        break
    if pid == child:
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
sys.exit(code)
"""

# Run under fakeroot: the owner and mode of every path below the directory, as fakeroot
# records them (a chmod under fakeroot keeps the owner's read and write for real).
_DUMP_OWNERS = """
import json, os, sys
top = sys.argv[1]
owners = {}
for directory, directories, files in os.walk(top):
    for name in directories + files:
        path = os.path.join(directory, name)
        info = os.lstat(path)
        owners[os.path.relpath(path, top)] = [info.st_uid, info.st_gid, info.st_mode & 0o7777]
json.dump(owners, sys.stdout)
"""


def wanted(spec):
    """Whether the layer `spec` (a spec.LayerSpec) has commands to run."""
    return bool(spec.extra_commands or spec.fake_root_commands)


def run(root, spec, directory):
    """The root after running the commands of `spec` in a copy of `root` made in `directory`."""
    if not spec.shell:
        raise StrataError("extraCommands: no shell to run them with; pass `shell` (or `pkgs`) to strata")
    _materialise(root, os.fsencode(directory))
    if spec.extra_commands:
        run_command("extraCommands", [spec.shell, "-e", "-c", spec.extra_commands], spec, directory)
    if not spec.fake_root_commands:
        return _read_back(directory, "extraCommands")
    fakeroot = fakeroot_command(spec, "fakeRootCommands")
    state = directory.rstrip("/") + ".fakeroot"
    # First everything is given the layer's owner, in fakeroot's books: then the owners it
    # reports afterwards are all the layer's, whether the commands changed them or not.
    owner = "%d:%d" % (spec.uid, spec.gid)
    run_command("fakeRootCommands", fakeroot + ["-s", state, "--", "chown", "-R", "-h", owner, "."], spec, directory)
    commands = [spec.shell, "-e", "-c", spec.fake_root_commands]
    if spec.enable_fakechroot:
        commands = proot_command(spec, directory, "enableFakechroot") + commands
    run_command("fakeRootCommands", fakeroot + ["-i", state, "-s", state, "--"] + commands, spec, directory)
    return read_back_owned(directory, spec, fakeroot, state, "fakeRootCommands")


def fakeroot_command(spec, what):
    """The start of a command line that runs what follows under strata's fakeroot (as a
    child subreaper), for `what` (named in the errors)."""
    if not spec.fakeroot:
        raise StrataError("%s: no fakeroot to run them with; pass `fakeroot` (or `pkgs`) to strata" % what)
    _check_runnable(spec.fakeroot, "fakeroot")
    return [this_interpreter(), "-I", "-c", _REAPER, spec.fakeroot]


def read_back_owned(directory, spec, fakeroot, state, what):
    """The tree in `directory`, each node owned and its mode as fakeroot's books (`state`)
    say; the books are removed."""
    tree = _read_back(directory, what)  # first: it opens up what the commands left unreadable
    owners = json.loads(run_command(what, fakeroot + ["-i", state, "--", this_interpreter(), "-I", "-c",
                                                      _DUMP_OWNERS, directory], spec, directory, capture=True))
    os.unlink(state)
    for path, node in fstree.walk(tree):
        uid, gid, mode = owners[os.fsdecode(path)]
        node.owner = (uid, gid)
        if not isinstance(node, fstree.Symlink):
            node.mode = mode
    return tree


def proot_command(spec, directory, what):
    """The proot command line that runs what follows with `directory` as its root, for
    `what` (named in the errors)."""
    if not spec.proot:
        raise StrataError("%s: no proot to run the commands in the root with; pass `proot` (or `pkgs`) to strata"
                          % what)
    _check_runnable(spec.proot, "proot")
    if not (spec.shell.startswith(spec.store_dir + "/") or os.path.lexists(directory + spec.shell)):
        raise StrataError("%s: the shell %s is neither in the image's root nor in the store, and the commands run"
                          " with the root as /; put a shell at %s (copyToRoot, contents) or pass strata a `shell`"
                          " from the store" % (what, spec.shell, spec.shell))
    binds = [path for path in [spec.store_dir, "/dev", "/proc", "/sys"] if os.path.exists(path)]
    return [spec.proot, "-r", directory, "-w", "/"] + [option for path in binds + spec.proot_binds
                                                       for option in ("-b", path)]


def _check_runnable(path, argument):
    """An error naming strata's `argument` where `path` cannot be run in this build: the
    commands are not to blame for a tool the sandbox does not hold."""
    if os.access(path, os.X_OK):
        return
    why = "does not exist in the build" if not os.path.lexists(path) else "is not an executable file here"
    if os.path.islink(path) and not os.path.exists(path):
        why = "is a link to %s, which the build (its sandbox) cannot see" % os.readlink(path)
    raise StrataError("%s: %s %s; pass strata a `%s` the sandbox holds (a store path, or a host path let in with"
                      " extra-sandbox-paths, such as /usr/bin/fakeroot-sysv)" % (argument, path, why, argument))


def _read_back(directory, what):
    """The root the commands left in `directory`, with the modes they set (see opened_up);
    an error names a file as the image would hold it (``/pipe``), not where it was made."""
    modes = opened_up(directory)
    try:
        tree = fstree.read_node(os.fsencode(directory))
    except StrataError as error:
        message = str(error)
        if message.startswith(directory + "/"):
            message = "%s: /%s" % (what, message[len(directory) + 1:])
        raise StrataError(message)
    if b"" in modes:
        tree.mode = modes.pop(b"")
    for path, node in fstree.walk(tree):
        if path in modes:
            node.mode = modes[path]
    return tree


def run_command(what, command, spec, directory, capture=False):
    # FAKEROOTDONTTRYCHOWN: in a sandbox's user namespace a real chown to an unmapped id
    # fails with EINVAL, which fakeroot would pass on; it records the owner either way.
    environment = {"PATH": spec.tools_path, "HOME": "/homeless-shelter", "LC_ALL": "C", "TZ": "UTC",
                   "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "1"), "FAKEROOTDONTTRYCHOWN": "1",
                   "PROOT_TMP_DIR": os.path.dirname(os.path.abspath(directory))}
    import subprocess
    try:
        finished = subprocess.run(command, cwd=directory, env=environment,
                                  stdout=subprocess.PIPE if capture else None)
    except OSError as error:
        raise StrataError("%s: cannot run %s: %s" % (what, command[0], error.strerror))
    if finished.returncode != 0:
        raise StrataError("%s: the commands failed with exit status %d" % (what, finished.returncode))
    return finished.stdout


def _materialise(node, path):
    """Write the tree `node` at `path`; a directory gets its mode after its children."""
    import shutil
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
