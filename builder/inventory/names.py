"""Store path names split as Nix splits them."""

import string


def parse_drv_name(name):
    """(name, version) as ``builtins.parseDrvName`` gives them: the version begins after
    the first dash followed by anything but an ASCII letter (C's isalpha); without
    one, the version is ""."""
    for index, character in enumerate(name[:-1]):
        if character == "-" and name[index + 1] not in string.ascii_letters:
            return name[:index], name[index + 1:]
    return name, ""


def store_name(store_path):
    """The name of a store path after its hash: ``/nix/store/<hash>-hello-2.12`` -> ``hello-2.12``."""
    base = store_path.rstrip("/").rpartition("/")[2]
    return base.partition("-")[2] or base


def hash_part(store_path):
    return store_path.rstrip("/").rpartition("/")[2].partition("-")[0]
