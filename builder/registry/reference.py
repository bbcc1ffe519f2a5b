"""A push destination, ``[docker://]HOST[:PORT]/REPOSITORY[:TAG]``, checked whole before any
connection: the host a domain name, an IPv4 address or a bracketed IPv6 one; the port
1–65535; the repository and the tag as distribution's reference grammar has them (see
naming). A destination that holds credentials (``USER:PASSWORD@HOST``, a careless paste)
is refused without echoing any of it."""

import collections
import re

from ..core.errors import StrataError
from ..image import naming

Destination = collections.namedtuple("Destination", "host repository tag")
"""`host` as ``name[:port]`` (how auth files key it); `repository` its path; `tag`."""

_HOST = re.compile(r"(?P<name>%s|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[^:]*))?" % naming.DOMAIN)
_DIGEST = re.compile(r"[^@/]+/[^@]+@[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}")
"""HOST/REPOSITORY@ALGORITHM:HEX: a digest reference (an '@' before the first '/' is not one)."""

FORM = "docker://HOST[:PORT]/REPOSITORY[:TAG]"
CREDENTIALS_REFUSED = ("the destination holds an '@': credentials in it (USER:PASSWORD@HOST) are refused and not"
                       " shown; give them with --creds or an auth file, and the destination as %s" % FORM)
"""The one error for a destination with credentials in it: it echoes none of the destination."""


def parse(destination):
    """The Destination of `destination`; a StrataError naming what is wrong with it."""
    text = destination[len("docker://"):] if destination.startswith("docker://") else destination
    if "@" in text:
        if _DIGEST.fullmatch(text):
            raise StrataError("%s: push to a tag, not a digest" % destination)
        raise StrataError(CREDENTIALS_REFUSED)
    host, slash, rest = text.partition("/")
    if not slash or not rest:
        raise StrataError("%s: not a registry destination (%s)" % (destination, FORM))
    repository, colon, tag = rest.rpartition(":") if ":" in rest.rsplit("/", 1)[-1] else (rest, "", "latest")
    return Destination(_host(host, destination), _repository(host, repository, destination),
                       _tag(tag, destination))


def _host(host, destination):
    match = _HOST.fullmatch(host.lower())
    if not match or not ("." in host or match.group("port") is not None or host.lower() == "localhost"
                         or host.startswith("[")):
        raise StrataError("%s: %r is not a registry host (a domain name with a dot, localhost, an IP address, or"
                          " any of them with :PORT)" % (destination, host))
    port = match.group("port")
    if port is not None and not (port.isdigit() and port.isascii() and 1 <= int(port) <= 65535):
        raise StrataError("%s: the port %r is not a number from 1 to 65535" % (destination, port))
    return host


def _repository(host, repository, destination):
    if repository != repository.lower():
        raise StrataError("%s: the repository %r must be lowercase" % (destination, repository))
    if not naming.REPOSITORY.fullmatch(repository):
        raise StrataError("%s: %r is not a repository: components of lowercase letters and digits joined by '.',"
                          " '_', '__' or '-', separated by '/'" % (destination, repository))
    if len(host) + 1 + len(repository) > naming.MAX_NAME:
        raise StrataError("%s: the name is longer than %d characters" % (destination, naming.MAX_NAME))
    return repository


def _tag(tag, destination):
    if not naming.TAG.fullmatch(tag):
        raise StrataError("%s: %r is not a tag: up to 128 letters, digits, '_', '.' and '-', not starting with '.'"
                          " or '-'" % (destination, tag))
    return tag
