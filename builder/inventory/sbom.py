"""The SBOM of an image strata built, made from what Nix and the image say exactly: each
store path the image's own layers hold (read back from the image itself), with its NAR
hash and references from the closure graph, its name and version split as Nix splits them,
the layer that holds it, and what the Nix expression knew of the packages it named (the
``packages`` facts: pname, version, licences, homepage, description, source URL and hash).
The spdx and cyclonedx modules write it; commands.sbombuild is the command.
"""

import collections
import re
import urllib.parse

from .names import parse_drv_name, store_name
from .spdxids import LICENCES
from ..core.errors import StrataError
from ..nix import nar

Package = collections.namedtuple("Package", "path name version nar_hash layer references facts in_store")
"""A store path the image holds (`in_store`), or a copyToRoot item whose files it holds at
/ (not in the store): `nar_hash` hex (None where the closure lacks it, for such an item),
`references` the described store paths it refers to, `facts` what Nix knew of it (a dict)."""

Sbom = collections.namedtuple("Sbom", "name tag created config_digest manifest_digest base_tags base_layers packages")

EPOCH = "1970-01-01T00:00:00Z"


def describe(contents, graph, facts, copy_to_root, base_layers, base_tags):
    """The Sbom of `contents` (a contents.Contents) over `base_layers` (its lowest layers,
    which the base image gave), with the closure `graph`."""
    if [layer.digest for layer in contents.layers[:len(base_layers)]] != [layer.digest for layer in base_layers]:
        raise StrataError("the image's lowest layers are not its base image's")
    own = contents.layers[len(base_layers):]
    held = {path: layer.digest for layer in own for path in layer.store_paths}
    missing = sorted(path for path in held if path not in graph)
    if missing:
        raise StrataError("%s: in the image's layers but not in its closure graph (%d such paths)"
                          % (missing[0], len(missing)))
    by_path = {}
    for item in facts:
        by_path.setdefault(item["path"], item)
    packages = [_package(path, graph, held, by_path, layer, True) for path, layer in sorted(held.items())]
    top = own[-1].digest if own else None
    packages += [_package(path, graph, held, by_path, top, False)
                 for path in sorted(set(copy_to_root)) if path not in held and top is not None]
    created = contents.config.get("created") if isinstance(contents.config, dict) else None
    return Sbom(contents.name, contents.tag, created if _is_time(created) else EPOCH, contents.config_digest,
                contents.manifest_digest, list(base_tags), [layer.digest for layer in base_layers], packages)


def _package(path, graph, held, facts, layer, in_store):
    info = graph.get(path)
    known = facts.get(path, {})
    name, version = parse_drv_name(store_name(path))
    if isinstance(known.get("pname"), str) and known["pname"]:
        name = known["pname"]
        version = known["version"] if isinstance(known.get("version"), str) and known["version"] else version
    references = sorted(ref for ref in (info.references if info else ()) if ref in held and ref != path)
    return Package(path, name, version, nar.hash_hex(info.nar_hash, path) if info and info.nar_hash else None,
                   layer, references, known, in_store)


def _is_time(text):
    """Whether `text` is an RFC 3339 time in UTC to the second, as both formats take it."""
    return isinstance(text, str) and len(text) == 20 and text[4] + text[7] + text[10] + text[13] + text[16] + \
        text[19] == "--T::Z" and (text[:4] + text[5:7] + text[8:10] + text[11:13] + text[14:16] + text[17:19]).isdigit()


def licences(facts):
    """[(SPDX id or None, name)] of a package's facts; [] where it claims none. An spdxId
    not on the SPDX list as the validators know it (spdxids) is taken as a name."""
    found = []
    for licence in _list(facts.get("licenses")):
        if not isinstance(licence, dict):
            continue
        spdx_id, name = licence.get("spdxId"), licence.get("name")
        if not isinstance(spdx_id, str) or spdx_id not in LICENCES:
            spdx_id, name = None, name if isinstance(name, str) and name else spdx_id
        if spdx_id or (isinstance(name, str) and name):
            found.append((spdx_id, name if isinstance(name, str) and name else spdx_id))
    return found


Source = collections.namedtuple("Source", "download url hash")
"""Where a package's source (or, for a fixed-output one, itself) comes from: `download` the
first URL any tool can fetch (http, https, ftp, sftp, ssh, or git/hg/svn/bzr over them), or
None; `url` the first URL Nix names (nixpkgs' ``mirror://`` ones too); `hash` the output
hash Nix checks; each None where unknown."""

_FETCHABLE = re.compile(r"((git|hg|svn|bzr)\+)?(https?|s?ftp|ssh)")
_WEB = re.compile(r"https?")
_URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_DOMAIN = re.compile(r"[a-z0-9]+([-.][a-z0-9]+)*\.[a-z]{2,}", re.IGNORECASE)


def usable_url(url, schemes=_FETCHABLE):
    """Whether `url` is one both formats and their tools take: a scheme `schemes` matches,
    a domain name for a host (spdx-tools takes no IP address, no localhost), and only the
    characters RFC 3986 allows (no spaces)."""
    if not isinstance(url, str) or not _URL_CHARACTERS.fullmatch(url):
        return False
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
    except ValueError:  # a bracketed host left open
        return False
    return bool(schemes.fullmatch(parts.scheme) and host and _DOMAIN.fullmatch(host))


def homepage(facts):
    """A package's homepage where it is a usable http(s) URL, else None."""
    return facts.get("homepage") if usable_url(facts.get("homepage"), _WEB) else None


def source(facts):
    urls = [url for url in _list(facts.get("urls")) if isinstance(url, str) and "://" in url]
    download = next((url for url in urls if usable_url(url)), None)
    output_hash = facts.get("outputHash")
    return Source(download, urls[0] if urls else None, output_hash if isinstance(output_hash, str) and output_hash else None)


def _list(value):
    """A fact that should be a list, as one (a hand-written spec may hold anything)."""
    return value if isinstance(value, list) else []
