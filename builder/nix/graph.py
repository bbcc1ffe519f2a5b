"""Closure graphs: which store paths there are and what each refers to.

Two inputs are read, both written by Nix:

- the list that ``exportReferencesGraph`` puts into ``.attrs.json`` under structured attrs:
  objects with ``path``, ``references`` and, from Nix, ``narHash`` (in any encoding a Nix
  has written there: see nar.hash_hex), ``narSize`` and ``ca`` (a string, or an object in
  newer Nix); other fields (``closureSize``, ``deriver``, ``registrationTime``, ``valid``,
  ``signatures``, ``ultimate``...) come and go between Nix versions and are ignored;
- the line format of plain ``exportReferencesGraph`` files (path, deriver, count of
  references, the references) and of closureInfo's ``registration`` (path, hash, NAR size,
  deriver, count, references). The two are told apart by the line after the path: a
  deriver is empty or a store path, a hash is neither.
"""

import collections

from . import nar
from ..core.errors import StrataError

PathInfo = collections.namedtuple("PathInfo", "path references nar_hash nar_size ca")
"""A store path, its references and, where Nix gave them, its NAR hash and size and its
content address."""


def from_structured(items, source):
    """A graph {path: PathInfo} from the structured-attrs list; `source` names it in errors."""
    if not isinstance(items, list):
        raise StrataError("%s: expected a list of store path objects, got %s" % (source, type(items).__name__))
    graph = {}
    for index, item in enumerate(items):
        where = "%s[%d]" % (source, index)
        if not isinstance(item, dict):
            raise StrataError("%s: expected an object, got %s" % (where, type(item).__name__))
        path = _store_path(item.get("path"), where + ".path")
        references = item.get("references", [])
        if not isinstance(references, list):
            raise StrataError("%s.references: expected a list of store paths" % where)
        refs = tuple(_store_path(ref, "%s.references" % where) for ref in references)
        nar_size = item.get("narSize")
        if nar_size is not None and (not isinstance(nar_size, int) or nar_size < 0):
            raise StrataError("%s.narSize: expected a non-negative integer, got %r" % (where, nar_size))
        graph[path] = PathInfo(path, refs, item.get("narHash"), nar_size, _content_address(item.get("ca"), path))
    return _checked(graph, source)


_CA_METHODS = {"nar": "fixed:r:", "flat": "fixed:", "text": "text:"}


def _content_address(value, path):
    """A path's content address as Nix's database writes it (``fixed:r:sha256:<nix32>``):
    the string Nix gave, or the object newer Nix gives (``{"method", "hash"}``), or None."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict) and value.get("method") in _CA_METHODS and "hash" in value:
        return _CA_METHODS[value["method"]] + "sha256:" + nar.nix32_encode(
            bytes.fromhex(nar.hash_hex(value["hash"], path)))
    raise StrataError("%s: ca %r is no content address strata knows (a string, or {\"method\": nar, flat or text,"
                      " \"hash\": a SHA-256 hash})" % (path, value))


def read_registration(filename):
    """A graph from a file in the plain exportReferencesGraph or registration line format."""
    try:
        with open(filename, "rb") as stream:
            data = stream.read()
    except OSError as error:
        raise StrataError("%s: cannot read the closure graph: %s" % (filename, error.strerror))
    try:
        lines = data.decode("utf-8").split("\n")
    except UnicodeDecodeError as error:
        raise StrataError("%s: the closure graph is not UTF-8 text (byte %d)" % (filename, error.start))
    if lines and lines[-1] == "":
        lines.pop()
    reader = _LineReader(filename, lines)
    graph = {}
    while not reader.at_end():
        path = _store_path(reader.next("a store path"), reader.where())
        path_line = reader.where()
        second = reader.next("a deriver or hash")
        nar_hash = nar_size = None
        if second and not second.startswith("/"):
            nar_hash = second
            nar_size = reader.number("the NAR size")
            reader.next("a deriver")
        count = reader.number("the number of references")
        refs = tuple(_store_path(reader.next("a reference"), reader.where()) for _ in range(count))
        if path in graph:
            raise StrataError("%s: %s is listed twice" % (path_line, path))
        graph[path] = PathInfo(path, refs, nar_hash, nar_size, None)
    return _checked(graph, filename)


def closure(graph, roots):
    """The set of store paths reachable from `roots` (which are included)."""
    seen = set()
    stack = list(roots)
    while stack:
        path = stack.pop()
        if path in seen:
            continue
        if path not in graph:
            raise StrataError("closure graph: %s is needed but not in the graph" % path)
        seen.add(path)
        stack.extend(graph[path].references)
    return seen


def referenced(graph, carriers):
    """What the `carriers` refer to, without the carriers unless they refer to themselves.

    The roots of what a copied package needs in /nix/store: a bundle of /etc files that
    refers to no store path needs nothing, a script that refers to its interpreter needs that.
    """
    roots = set()
    for carrier in carriers:
        if carrier not in graph:
            raise StrataError("closure graph: %s is not in the graph" % carrier)
        roots.update(graph[carrier].references)
    return roots


def tops(graph, paths):
    """The paths of `paths` that no other of them refers to: the roots of a closed set."""
    inner = {reference for path in paths for reference in graph[path].references if reference != path}
    return paths - inner


def referenced_closure(graph, carriers):
    """The closure of what the `carriers` refer to (see referenced)."""
    return closure(graph, referenced(graph, carriers))


class _LineReader:
    def __init__(self, filename, lines):
        self.filename = filename
        self.lines = lines
        self.index = 0

    def at_end(self):
        return self.index >= len(self.lines)

    def where(self):
        return "%s:%d" % (self.filename, self.index)

    def next(self, what):
        if self.at_end():
            raise StrataError("%s:%d: the file ends where %s was expected" % (self.filename, self.index + 1, what))
        self.index += 1
        return self.lines[self.index - 1]

    def number(self, what):
        text = self.next(what)
        if not text.isdigit():
            raise StrataError("%s: expected %s, got %r" % (self.where(), what, text))
        return int(text)


def _store_path(value, where):
    if not isinstance(value, str) or not value.startswith("/") or "/" not in value[1:] or "\0" in value:
        raise StrataError("%s: expected an absolute store path, got %r" % (where, value))
    return value


def _checked(graph, source):
    for info in graph.values():
        for ref in info.references:
            if ref not in graph:
                raise StrataError("%s: %s refers to %s, which the graph does not list" % (source, info.path, ref))
    return graph
