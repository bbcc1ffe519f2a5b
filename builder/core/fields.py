"""Typed access to the fields of a JSON document Nix hands over (a spec, a record): a missing
field without a default, a value of the wrong type, or a NUL byte is one error naming the
field."""

import json

from .errors import StrataError

MAX_ID = (1 << 32) - 2
"""The largest user or group id: 2^32 - 1 is (uid_t) -1, which chown takes as "no change"."""


class Fields:
    """Typed access to the spec's fields; a missing field without a default is an error."""

    _REQUIRED = object()

    def __init__(self, document):
        if not isinstance(document, dict):
            raise StrataError("spec: expected a JSON object, got %s" % type(document).__name__)
        self.document = document

    def get(self, key, types, default=_REQUIRED):
        value = self.document.get(key)
        if value is None:
            if default is self._REQUIRED:
                raise StrataError("%s: missing" % key)
            return default
        if not isinstance(value, types) or (isinstance(value, bool) and types in (int, (int, str))):
            raise StrataError("%s: expected %s, got %s" % (key, _type_names(types), json.dumps(value)))
        _no_nul(value, key)
        return value

    def string_list(self, key):
        value = self.get(key, list, [])
        for item in value:
            if not isinstance(item, str):
                raise StrataError("%s: expected a list of store paths, got %s" % (key, json.dumps(item)))
        return value

    def size(self, key):
        value = self.get(key, int)
        if value < 0:
            raise StrataError("%s: %d is not a size" % (key, value))
        return value

    def digest(self, key):
        value = self.get(key, str)
        if not (value.startswith("sha256:") and len(value) == 71 and all(c in "0123456789abcdef" for c in value[7:])):
            raise StrataError("%s: %r is not a sha256 digest" % (key, value))
        return value

    def owner_id(self, key, default=0):
        value = self.get(key, int, default)
        if value is not None and not 0 <= value <= MAX_ID:
            raise StrataError("%s: %d is not a user or group id (0 to %d)" % (key, value, MAX_ID))
        return value

    def choice(self, key, choices, default=_REQUIRED):
        value = self.get(key, str, default)
        if value not in choices:
            raise StrataError("%s: %r is not one of %s" % (key, value, ", ".join(sorted(choices))))
        return value


def _type_names(types):
    names = {dict: "an object", list: "a list", str: "a string", int: "an integer", bool: "a boolean"}
    if isinstance(types, tuple):
        return " or ".join(names[t] for t in types)
    return names[types]


def _no_nul(value, key):
    """A NUL byte ends a C string: no path, name, argument or variable may hold one."""
    if isinstance(value, str) and "\0" in value:
        raise StrataError("%s: %s holds a NUL byte" % (key, json.dumps(value)))
    if isinstance(value, list):
        for item in value:
            _no_nul(item, key)
    elif isinstance(value, dict):
        for name, item in value.items():
            _no_nul(name, key)
            _no_nul(item, "%s.%s" % (key, name))
