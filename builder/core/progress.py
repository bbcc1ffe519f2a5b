"""What a builder says while it works, on stderr, as dockerTools does: a line a layer and the
image's name and ID at the end. stdout is left alone (a stream script writes the image there)."""

import hashlib
import sys


def layer(name, store_paths, size, place=None):
    """A layer written: its name, how many store paths it holds, its blob's size, and
    `place` (number, count) in its image when it has one."""
    where = " %d/%d" % place if place else ""
    paths = "%d store path%s, " % (store_paths, "" if store_paths == 1 else "s") if store_paths else ""
    say("layer%s: %s (%s%s)" % (where, name, paths, size_text(size)))


def image(repo_tag, config):
    """The image's name and ID (the sha256 of its config, which `podman images` shows)."""
    say("image %s, ID sha256:%s" % (repo_tag, hashlib.sha256(config).hexdigest()))


def say(line):
    print("strata: " + line, file=sys.stderr, flush=True)


def size_text(size):
    """A byte count for a progress line: bytes below 100 kB, else MB."""
    return "%d bytes" % size if size < 100000 else "%.1f MB" % (size / 1e6)
