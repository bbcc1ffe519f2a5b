"""``perms``: modes and owners given to chosen entries of a layer while it is written, in
nix2container's shape, for any file of any layer — store paths included — with no
fakeroot and no VM.

A rule is ``{path, regex?, mode?, orMode?, uid?, gid?, uname?, gname?}``:

- ``path`` says where the rule looks: a store path (or a path inside one) selects that
  store path's entries where a layer holds it whole; a ``copyToRoot`` item selects the
  entries copied from it; any other absolute path is a path in the image's root
  (``/home/app``, ``/`` for all), selecting it and what is under it.
- ``regex`` (default ``.*``) narrows the selection: it is searched (not anchored, as
  nix2container's Go regexp is) in the entry's absolute path in the image and, for an
  entry copied from a copyToRoot item, in the path it was copied from in the store, so
  nix2container's patterns (``/home/app$`` under a copied item) select what they did.
- ``mode`` is a string of octal digits (``"0750"``, ``"1777"``): Nix has no octal
  numbers, and an integer 750 would silently mean 0o1356. ``orMode``, the same, adds its
  bits after ``mode`` (``{ mode = "0444"; orMode = "0200"; }`` gives 0644; ``orMode =
  "0200"`` alone makes files writable by their owner and keeps the rest), as in
  nix2container. Symlinks keep 0777.
- ``uid``/``gid`` set the ids; ``uname``/``gname`` the names. An id set without its name
  leaves the name empty (``root`` for 0), as a numeric owner is written.

Rules apply in order, a later rule winning for the fields it sets. A rule whose path a
layer holds but whose regex selects nothing there is an error naming the rule, so that a
typo does not pass silently; whether some layer holds a rule's path at all is checked by
the layer when it stands alone, else by its image (see check_applied). A store path a rule
selects in is written entry by entry by the layer's writer, never hard-linked to another
store file or from one (a hard link shares one owner and mode).
"""

import json
import os
import re

from . import fstree
from ..core.errors import StrataError
from ..core.fields import Fields
from ..tar.tarwriter import Owner, numeric_owner

FIELDS = ("path", "regex", "mode", "orMode", "uid", "gid", "uname", "gname")


class Rule:
    """One rule, checked (`index`: its place in the list, for the messages); `document` the
    rule as given (records and stream scripts carry it, and read it back here)."""

    def __init__(self, index, document):
        self.document = document
        where = "perms[%d]" % index
        if not isinstance(document, dict):
            raise StrataError("%s: expected an object with path and what to set, got %s"
                              % (where, json.dumps(document)))
        unknown = sorted(set(document) - set(FIELDS))
        if unknown:
            raise StrataError("%s: unknown field %s (a rule has %s)" % (where, unknown[0], ", ".join(FIELDS)))
        try:
            fields = Fields(document)
            self.path = fields.get("path", str)
            self.regex = fields.get("regex", str, ".*")
            self.mode = _mode(document.get("mode"))
            self.or_mode = _mode(document.get("orMode"), "orMode")
            self.uid = fields.owner_id("uid", None)
            self.gid = fields.owner_id("gid", None)
            self.uname = fields.get("uname", str, None)
            self.gname = fields.get("gname", str, None)
        except StrataError as error:
            raise StrataError("%s.%s" % (where, error))
        if not self.path.startswith("/") or {"", ".", ".."} & set(self.path.rstrip("/").split("/")[1:]):
            raise StrataError("%s.path: %r is not an absolute, normal path" % (where, self.path))
        self.path = self.path.rstrip("/") or "/"
        try:
            self.pattern = re.compile(self.regex.encode("utf-8", "surrogateescape"))
        except re.error as error:
            raise StrataError("%s.regex: %r is not a regular expression: %s" % (where, self.regex, error))
        if all(value is None for value in (self.mode, self.or_mode, self.uid, self.gid, self.uname, self.gname)):
            raise StrataError("%s: sets none of mode, orMode, uid, gid, uname, gname" % where)

    def describe(self):
        return "perms rule {path = %s; regex = %s}" % (json.dumps(self.path), json.dumps(self.regex))

    def owner(self, owner):
        """`owner` (a tarwriter.Owner) with what this rule sets."""
        numeric = numeric_owner(_or(self.uid, owner.uid), _or(self.gid, owner.gid))
        uname = owner.uname if numeric.uid == owner.uid else numeric.uname
        gname = owner.gname if numeric.gid == owner.gid else numeric.gname
        return Owner(numeric.uid, numeric.gid, _or(self.uname, uname), _or(self.gname, gname))


def rules(value):
    """The Rules of a spec's ``perms`` (a list, or None)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise StrataError("perms: expected a list of rules, got %s" % json.dumps(value))
    return [Rule(index, document) for index, document in enumerate(value)]


def apply(entries, rules, owner_of, copied=(), keep_dirlinks=False, alone=True):
    """`entries` (fstree.Entry, in tar order) with `rules` applied, and the rules applied.

    `owner_of(entry)` gives the owner an entry has without rules (see layer.owners);
    `copied` are the copyToRoot items the layer's root was copied from, read as
    `keep_dirlinks` says (see fstree.merged_root). A rule whose path the layer does not
    hold is an error when the layer is `alone` (not one of an image's, which checks that
    some layer held it), else left out."""
    if not rules:
        return entries, []
    unders = [_under(rule) for rule in rules if rule.path not in copied]
    entries = [expanded for entry in entries
               for expanded in (fstree.store_path_entries(entry) if entry.kind == "storepath"
                                and any(_meets(entry.name, under) for under in unders) else [entry])]
    owners = [owner_of(entry) for entry in entries]
    modes = [entry.mode for entry in entries]
    applied = []
    for rule in rules:
        held, selected = (_copied_selection(rule, entries, keep_dirlinks) if rule.path in copied
                          else _selection(rule, entries))
        if not held:
            if alone:
                raise StrataError("%s: %s is not in this layer (perms cannot change a base image's files, nor"
                                  " another layer's)" % (rule.describe(), rule.path))
            continue
        if not selected:
            raise StrataError("%s: the regex selects nothing under %s" % (rule.describe(), rule.path))
        for index in selected:
            owners[index] = rule.owner(owners[index])
            if entries[index].kind != "symlink":
                modes[index] = _or(rule.mode, modes[index]) | (rule.or_mode or 0)
        applied.append(rule)
    return [entry._replace(mode=mode, owner=owner) for entry, mode, owner in zip(entries, modes, owners)], applied


def check_applied(rules, applied, held_store_paths, store_dir):
    """An error for the first of an image's `rules` that none of its layers applied
    (`applied`: the documents of the rules they did; `held_store_paths`: the store paths of
    the layers the image writes itself, which apply every rule)."""
    done = {json.dumps(document, sort_keys=True) for document in applied}
    store_prefix = store_dir.rstrip("/") + "/"
    for rule in rules:
        if json.dumps(rule.document, sort_keys=True) in done:
            continue
        if _store_path_of(rule.path, store_prefix) in held_store_paths:
            continue
        raise StrataError("%s: %s is in none of the layers the image writes (perms cannot change a base image's"
                          " files, nor those of a layer built apart: give that buildLayer the rule)"
                          % (rule.describe(), rule.path))


def _selection(rule, entries):
    """Whether the layer holds `rule`'s path, and the indexes of the entries it selects."""
    under = _under(rule)
    held, selected = False, []
    for index, entry in enumerate(entries):
        if entry.kind == "whiteout" or not _at_or_below(entry.name, under):
            continue
        held = True
        if rule.pattern.search(b"/" + entry.name):
            selected.append(index)
    return held, selected


def _copied_selection(rule, entries, keep_dirlinks):
    """As _selection, for a rule whose path is a copyToRoot item: the entries at the paths
    the item has, matched by their paths in the image and in the item."""
    item = os.fsencode(rule.path)
    names = fstree.copied_names(item, keep_dirlinks)
    selected = [index for index, entry in enumerate(entries) if entry.name in names and entry.kind != "whiteout" and
                (rule.pattern.search(b"/" + entry.name) or rule.pattern.search(item + b"/" + entry.name))]
    return True, selected


def _under(rule):
    """The relative name of the rule's path in the image (b"" for /)."""
    return rule.path.encode("utf-8", "surrogateescape").lstrip(b"/")


def _at_or_below(name, under):
    return not under or name == under or name.startswith(under + b"/")


def _meets(name, under):
    """Whether the entry `name` is at `under`, below it, or above it."""
    return _at_or_below(name, under) or under.startswith(name + b"/")


def _store_path_of(path, store_prefix):
    """The store path `path` is in or is, else None."""
    if not path.startswith(store_prefix) or len(path) == len(store_prefix):
        return None
    return store_prefix + path[len(store_prefix):].split("/")[0]


def _mode(value, field="mode"):
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch("[0-7]{1,4}", value):
        raise StrataError("%s: %s is not a string of octal digits such as \"0750\" (Nix has no octal"
                          " numbers: 750 would be 0o1356)" % (field, json.dumps(value)))
    return int(value, 8)


def _or(value, default):
    return default if value is None else value
