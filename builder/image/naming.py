"""Image references: the name and tag an image is loaded under.

Names are lowercased first (as dockerTools does), then checked against the grammar of
distribution's reference package: an optional registry host (with an optional port) and
slash-separated path components of lowercase letters and digits joined by ``.``, ``_``,
``__`` or runs of ``-``; at most 255 characters. A tag is a word character followed by at
most 127 word characters, dots and dashes.
"""

import re

from ..core.errors import StrataError

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
DOMAIN = r"(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])(?:\.(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9]))*"
"""A registry host's name (lowercase), without its port."""
REPOSITORY = re.compile(r"%s(?:/%s)*" % (_COMPONENT, _COMPONENT))
_NAME = re.compile(r"(?:%s(?::[0-9]+)?/)?%s" % (DOMAIN, REPOSITORY.pattern))
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
MAX_NAME = 255


def image_name(name):
    """The lowercased name, or a StrataError saying why it is not a valid image name."""
    if not isinstance(name, str) or not name:
        raise StrataError("name: an image name must be a non-empty string, got %r" % (name,))
    lowered = name.lower()
    if len(lowered) > MAX_NAME:
        raise StrataError("name: %r is longer than %d characters" % (name, MAX_NAME))
    if not _NAME.fullmatch(lowered):
        raise StrataError(
            "name: %r is not a valid image name: components of letters and digits joined by"
            " '.', '_', '__' or '-', separated by '/', optionally after a registry host" % (name,))
    return lowered


def image_tag(tag):
    """The tag itself, or a StrataError saying why it is not a valid tag."""
    if not isinstance(tag, str) or not TAG.fullmatch(tag):
        raise StrataError(
            "tag: %r is not a valid tag: up to 128 letters, digits, '_', '.' and '-',"
            " not starting with '.' or '-'" % (tag,))
    return tag


def tag_from_output(out_path):
    """dockerTools' default tag: the hash part of the output's store path."""
    return out_path.rstrip("/").rsplit("/", 1)[-1].split("-", 1)[0]
