"""Declared users and groups: ``/etc/passwd``, ``/etc/group``, ``/etc/shadow`` (passwords
locked), ``/etc/gshadow`` and ``/etc/nsswitch.conf`` written as a distribution writes them,
each home made and owned by its user (mode 0700 unless said), and a ``/tmp`` of mode 1777
where the image has none — no fakeroot, no VM: strata writes the owners into the tar.

The spec's ``users`` is ``{name: {uid, gid?, home?, shell?, description?, groups?,
homeMode?, createHome?}}`` (gid defaults to the group of the user's name, made with gid = uid
where it is not declared; home to /home/NAME; shell to /bin/sh; createHome false leaves the
home out of the image, as Nix's /homeless-shelter) and ``groups`` ``{name: {gid}}``. The
accounts the layer's root has already (copyToRoot, contents, extraCommands), else the base
image's, are kept as they are and the declared ones added after them; a name or id that
clashes with a different entry is an error naming both. root and nobody are added where
there are none.
"""

import os

from . import fstree
from ..core.errors import StrataError

FILES = {"passwd": 0o644, "group": 0o644, "shadow": 0o600, "gshadow": 0o600, "nsswitch.conf": 0o644}
NSSWITCH = "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n"
BUILT_IN_USERS = {"root": (0, 0, "root", "/root", "/bin/sh"), "nobody": (65534, 65534, "nobody", "/var/empty", "/bin/sh")}
BUILT_IN_GROUPS = {"root": 0, "nobody": 65534}


def add(root, users, groups, base, scratch):
    """Put the accounts `users` and `groups` (the spec's) into the tree `root`, over `base`
    (a baseimage.BaseImage, or None), writing the files under `scratch`."""
    existing = {name: _text(root, name) or _base_text(base, name) for name in ("passwd", "group", "shadow", "gshadow")}
    passwd = _table(existing["passwd"], 7, "/etc/passwd")
    group = _table(existing["group"], 4, "/etc/group")
    new_users, new_groups = _declared(users, groups, passwd, group)
    lines = {
        "passwd": ["%s:x:%d:%d:%s:%s:%s" % (name, uid, gid, description, home, shell)
                   for name, (uid, gid, description, home, shell, _, _, _) in new_users],
        "shadow": ["%s:!:::::::" % name for name, _ in new_users],
        "group": ["%s:x:%d:%s" % (name, gid, ",".join(members)) for name, gid, members in new_groups],
        "gshadow": ["%s:!::%s" % (name, ",".join(members)) for name, _, members in new_groups],
    }
    etc = fstree.directory(root, [b"etc"], fstree.COPIED_DIR_MODE)
    os.makedirs(os.path.join(scratch, "etc"), exist_ok=True)
    for name, added in lines.items():
        text = (existing[name] or "")
        text = text + ("\n" if text and not text.endswith("\n") else "") + "".join(line + "\n" for line in added)
        _file(etc, name, text, scratch)
    if b"nsswitch.conf" not in etc.children and _base_text(base, "nsswitch.conf") is None:
        _file(etc, "nsswitch.conf", NSSWITCH, scratch)
    for name, (uid, gid, _, home, _, home_mode, _, create_home) in new_users:
        if create_home and home not in ("/", "/var/empty") and not home.startswith("/nix/"):
            parts = [part.encode() for part in home.strip("/").split("/")]
            directory = fstree.directory(root, parts, fstree.COPIED_DIR_MODE)
            directory.mode, directory.owner = home_mode, (uid, gid)
    if b"tmp" not in root.children and not (base and "tmp" in base.tree.nodes):
        fstree.directory(root, [b"tmp"], fstree.COPIED_DIR_MODE).mode = 0o1777


def _declared(users, groups, passwd, group):
    """The new passwd entries (name, fields) and group entries (name, gid, members), in id
    order, the built-in ones first where missing; clashes are errors."""
    by_name = {entry[0]: entry for entry in passwd}
    by_uid = {int(entry[2]): entry[0] for entry in passwd if entry[2].isdigit()}
    group_by_name = {entry[0]: entry for entry in group}
    group_by_gid = {int(entry[2]): entry[0] for entry in group if entry[2].isdigit()}
    new_groups = {}
    for name, gid in list(BUILT_IN_GROUPS.items()):
        if name not in group_by_name and gid not in group_by_gid:
            new_groups[name] = [gid, []]
    for name, fields in sorted(groups.items()):
        gid = _id(fields, "gid", "groups.%s" % name)
        _no_clash("groups.%s" % name, name, gid, group_by_name, group_by_gid, 2, "/etc/group")
        new_groups[name] = [gid, []]
    new_users = {}
    for name, (uid, gid, description, home, shell) in BUILT_IN_USERS.items():
        if name not in by_name and uid not in by_uid:
            new_users[name] = (uid, gid, description, home, shell, 0o700, [], True)
    for name, fields in sorted(users.items()):
        where = "users.%s" % name
        uid = _id(fields, "uid", where)
        known = {"uid", "gid", "home", "shell", "description", "groups", "homeMode", "createHome"}
        unknown = sorted(set(fields) - known)
        if unknown:
            raise StrataError("%s.%s: not a user field (known: %s)" % (where, unknown[0], ", ".join(sorted(known))))
        if fields.get("gid") is not None:
            gid = _id(fields, "gid", where)
        elif name in new_groups:
            gid = new_groups[name][0]
        elif name in group_by_name:
            gid = int(group_by_name[name][2])
        else:
            gid = uid
            _no_clash(where + " (its group)", name, gid, group_by_name, group_by_gid, 2, "/etc/group")
            new_groups[name] = [gid, []]
        _no_clash(where, name, uid, by_name, by_uid, 2, "/etc/passwd")
        home = fields.get("home") or "/home/" + name
        for other in fields.get("groups") or []:
            if other not in new_groups:
                raise StrataError("%s.groups: %r is not a declared group" % (where, other))
            new_groups[other][1].append(name)
        create_home = fields.get("createHome", True)
        if not isinstance(create_home, bool):
            raise StrataError("%s.createHome: expected a boolean, got %r" % (where, create_home))
        new_users[name] = (uid, gid, fields.get("description") or "", home, fields.get("shell") or "/bin/sh",
                           fields.get("homeMode", 0o700), fields.get("groups") or [], create_home)
    return (sorted(new_users.items(), key=lambda item: (item[1][0], item[0])),
            sorted(((name, gid, sorted(members)) for name, (gid, members) in new_groups.items()),
                   key=lambda item: (item[1], item[0])))


def _no_clash(where, name, number, by_name, by_number, field, file):
    if name in by_name:
        raise StrataError("%s: %s already has %s (%s); declare another name, or leave it to %s"
                          % (where, file, name, ":".join(by_name[name]), file))
    if number in by_number:
        raise StrataError("%s: id %d is %s's in %s" % (where, number, by_number[number], file))


def _id(fields, key, where):
    value = fields.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= (1 << 32) - 2:
        raise StrataError("%s.%s: expected a user or group id (0 to 4294967294), got %r" % (where, key, value))
    return value


def _table(text, fields, file):
    rows = []
    for number, line in enumerate((text or "").splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            row = line.split(":")
            if len(row) != fields:
                raise StrataError("%s: line %d has %d fields, not %d" % (file, number, len(row), fields))
            rows.append(row)
    return rows


def _base_text(base, name):
    return base.etc_text(name) if base else None


def _text(root, name):
    """The text of etc/NAME in `root`: a file, or a link into the store (a linked package's
    file, as `contents` and fakeNss make them), else None."""
    etc = root.children.get(b"etc")
    node = etc.children.get(name.encode()) if isinstance(etc, fstree.Dir) else None
    if isinstance(node, fstree.Symlink) and os.path.isabs(node.target) and os.path.isfile(node.target):
        source = node.target
    elif isinstance(node, fstree.File):
        source = node.source
    else:
        return None
    with open(source, "rb") as stream:
        return stream.read().decode("utf-8", "replace")


def _file(etc, name, text, scratch):
    path = os.path.join(scratch, "etc", name)
    with open(path, "w") as stream:
        stream.write(text)
    node = etc.children[name.encode()] = fstree.File(FILES[name], len(text.encode()), os.fsencode(path))
    node.owner = (0, 0)
