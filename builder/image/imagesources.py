"""An image archive or layout, read by name without unpacking it: a Docker archive (a tar,
compressed as a whole or not), an OCI archive or an OCI layout directory; and the image a
build asks for in it (its config, tags, layers and their digests). Nothing in it is trusted:
every name is checked to stay inside, every blob against its digest.
"""

import collections
import hashlib
import json
import os
import tarfile
import zlib

from ..core.errors import StrataError
from ..tree.imagetree import normal_name

UNREADABLE = (OSError, EOFError, zlib.error, tarfile.TarError, ValueError, OverflowError)
"""What tarfile raises for a corrupt or lying archive: ValueError and OverflowError where a
size or offset is too large for a file position (found by fuzzing)."""


def open_source(path):
    """An image archive or layout directory, to read files from by name."""
    if os.path.isdir(path):
        return _Directory(path)
    return _Archive(path)


class _Directory:
    def __init__(self, path):
        self.path = path
        self.where = path

    def exists(self, name):
        return os.path.isfile(os.path.join(self.path, normal_name(name, self.where)))

    def size(self, name):
        return os.path.getsize(os.path.join(self.path, normal_name(name, self.where)))

    def open(self, name):
        try:
            return open(os.path.join(self.path, normal_name(name, self.where)), "rb")
        except OSError as error:
            raise StrataError("%s: %s: %s" % (self.where, name, error.strerror))

    def close(self):
        pass


class _Archive:
    """A tar, compressed as a whole or not, read without unpacking it."""

    def __init__(self, path):
        self.where = path
        try:
            with open(path, "rb") as stream:
                if stream.read(2) == b"#!":
                    raise StrataError("%s: a script, not an image archive (a streamLayeredImage? pass a"
                                      " buildLayeredImage, or the stream's output saved to a file)" % path)
            self.tar = tarfile.open(path, "r:*")
            self.members = {}
            for member in self.tar.getmembers():
                self.members[normal_name(member.name, path)] = member
        except UNREADABLE as error:
            if isinstance(error, tarfile.ReadError) and "opened successfully" in str(error):  # tarfile tried all
                raise StrataError("%s: not an image: %s" % (path, _what_else(path)))
            raise StrataError("%s: not a readable image archive (%s)" % (path, error))

    def _member(self, name):
        path = normal_name(name, self.where)
        member = self.members.get(path)
        if member is not None and member.issym():
            # One level of symlink, as loaders follow for layers that repeat a blob.
            parent = path.rpartition("/")[0]
            member = self.members.get(normal_name(parent + "/" + member.linkname, self.where))
        return member if member is not None and member.isfile() else None

    def exists(self, name):
        return self._member(name) is not None

    def size(self, name):
        return self._member(name).size

    def open(self, name):
        member = self._member(name)
        if member is None:
            raise StrataError("%s: the archive has no file %s" % (self.where, name))
        return self.tar.extractfile(member)

    def close(self):
        self.tar.close()


def _what_else(path):
    """What a file that is no tar is, for the error: nix2container's image.json is a common one."""
    with open(path, "rb") as stream:
        head = stream.read(4096)
    if head.lstrip().startswith(b"{") and b'"image-config"' in head:
        return ("a nix2container image.json, which only nix2container's skopeo reads; take the base from"
                " strata.nix2container.pullImage or pullImageFromManifest")
    return "neither a tar archive (compressed or not) nor an OCI layout directory"


def read_file(source, name):
    with source.open(name) as stream:
        try:
            return stream.read()
        except UNREADABLE as error:
            raise StrataError("%s: cannot read %s (%s)" % (source.where, name, error))


def parse_json(data, source, what):
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as error:  # RecursionError: nested past Python's stack
        raise StrataError("%s: %s is not valid JSON (%s)" % (source.where, what, error))
    if not isinstance(document, (dict, list)):
        raise StrataError("%s: %s is not a JSON object" % (source.where, what))
    return document


def read_json(source, name):
    return parse_json(read_file(source, name), source, name)


Selected = collections.namedtuple("Selected", "config repo_tags layer_names layer_digests manifest_digest")
"""The chosen image: its config bytes, repo tags, layer file names, expected blob digests
(None where only a Docker manifest.json names them) and its OCI manifest's digest where the
source has one (an OCI layout, or an archive strata or podman wrote with an index.json)."""


def select_image(source, spec):
    """The Selected image `spec` asks for (from_image_name and from_image_tag; None for
    the first)."""
    wanted = None
    if spec.from_image_name is not None:
        wanted = spec.from_image_name + (":" + spec.from_image_tag if spec.from_image_tag is not None else "")
    elif spec.from_image_tag is not None:
        wanted = ":" + spec.from_image_tag  # any name, this tag (an OCI layout's oci:DIR:TAG)
    if source.exists("manifest.json"):
        manifest = read_json(source, "manifest.json")
        if not isinstance(manifest, list) or not manifest:
            raise StrataError("%s: manifest.json lists no image" % source.where)
        entry = manifest[0] if wanted is None else next(
            (item for item in manifest if any(_matches(tag, wanted) for tag in item.get("RepoTags") or [])), None)
        if entry is None:
            raise StrataError("%s: no image %s in it (it holds %s)" % (
                source.where, _shown(wanted), ", ".join(tag for item in manifest for tag in item.get("RepoTags") or []) or "none tagged"))
        names = entry.get("Layers")
        if not isinstance(names, list) or not isinstance(entry.get("Config"), str):
            raise StrataError("%s: manifest.json: an image without Config or Layers" % source.where)
        for name in [entry["Config"]] + names:
            if not source.exists(name):
                raise StrataError("%s: manifest.json names %s, which the archive does not hold" % (source.where, name))
        config = read_file(source, entry["Config"])
        return Selected(config, list(entry.get("RepoTags") or []), names, [None] * len(names),
                        _manifest_of(source, config))
    if source.exists("index.json"):
        index = read_json(source, "index.json")
        manifests = index.get("manifests") if isinstance(index, dict) else None
        if not manifests:
            raise StrataError("%s: index.json lists no image" % source.where)
        descriptor = manifests[0] if wanted is None else next(
            (item for item in manifests if _matches((item.get("annotations") or {}).get(
                "org.opencontainers.image.ref.name", ""), wanted)), None)
        if descriptor is None:
            raise StrataError("%s: no image %s in index.json" % (source.where, _shown(wanted)))
        manifest = parse_json(_read_blob(source, descriptor), source, "the manifest")
        name = (descriptor.get("annotations") or {}).get("org.opencontainers.image.ref.name")
        if isinstance(manifest, dict) and "manifests" in manifest:  # a multi-platform image: one platform's
            descriptor = _platform(manifest, getattr(spec, "architecture", None), source)
            manifest = parse_json(_read_blob(source, descriptor), source, "the platform's manifest")
        if not isinstance(manifest, dict):
            raise StrataError("%s: the manifest is not a JSON object" % source.where)
        layers = manifest.get("layers") or []
        return Selected(_read_blob(source, manifest.get("config") or {}), [name] if name and ":" in name else [],
                        [blob_path(source, d) for d in layers], [d.get("digest") for d in layers],
                        descriptor.get("digest"))
    raise StrataError("%s: neither a Docker archive (manifest.json) nor an OCI layout (index.json)" % source.where)


def _platform(index, architecture, source):
    """The descriptor of an image index's manifest for linux on `architecture`, else its
    first; without an `architecture` (a base image), its only one."""
    entries = index_entries(index, source.where)
    if architecture is None and len(entries) > 1:
        raise StrataError("%s: an image of %d platforms (%s); a base image must be one: pull it for one platform"
                          " (pullImage's arch)" % (source.where, len(entries), ", ".join(
                              "%s/%s" % ((entry.get("platform") or {}).get("os"),
                                         (entry.get("platform") or {}).get("architecture")) for entry in entries)))
    return for_platform(entries, "linux", architecture) or entries[0]


def index_entries(index, where):
    """The manifests an image index (parsed) lists, as descriptors with a digest; an error
    naming `where` where there are none."""
    entries = [entry for entry in index.get("manifests") or [] if isinstance(entry, dict) and entry.get("digest")]
    if not entries:
        raise StrataError("%s: the image index lists no manifest" % where)
    return entries


def for_platform(entries, os_name, architecture):
    """The descriptor among `entries` of the manifest for `os_name` on `architecture`, or None."""
    return next((entry for entry in entries if (entry.get("platform") or {}).get("os") == os_name
                 and (entry.get("platform") or {}).get("architecture") == architecture), None)


def _manifest_of(source, config):
    """The digest of the OCI manifest in the archive's index.json whose config is `config`
    (bytes), or None: a Docker archive names no manifest of its own."""
    if not source.exists("index.json"):
        return None
    index = read_json(source, "index.json")
    descriptors = index.get("manifests") if isinstance(index, dict) else None
    for descriptor in descriptors if isinstance(descriptors, list) else []:
        if not isinstance(descriptor, dict) or not isinstance(descriptor.get("digest"), str):
            continue
        try:
            manifest = parse_json(_read_blob(source, descriptor), source, "a manifest")
        except StrataError:
            continue
        if isinstance(manifest, dict) and (manifest.get("config") or {}).get("digest") == \
                "sha256:" + hashlib.sha256(config).hexdigest():
            return descriptor["digest"]
    return None


def _shown(wanted):
    return "tagged " + wanted[1:] if wanted.startswith(":") else wanted


def _matches(reference, wanted):
    """A tag in an archive names `wanted` ("name", "name:tag" or ":tag"), docker.io's
    prefixes aside; an OCI layout's reference may be the tag alone."""
    if wanted.startswith(":"):
        return reference == wanted[1:] or reference.endswith(wanted)
    for prefix in ("", "docker.io/", "docker.io/library/", "localhost/"):
        if reference == prefix + wanted or (":" not in wanted and reference.startswith(prefix + wanted + ":")):
            return True
    return False


def blob_path(source, descriptor):
    digest = descriptor.get("digest", "")
    algorithm, _, encoded = digest.partition(":")
    if algorithm != "sha256" or len(encoded) != 64 or not all(c in "0123456789abcdef" for c in encoded):
        raise StrataError("%s: %r is not a sha256 digest" % (source.where, digest))
    path = "blobs/sha256/" + encoded
    if not source.exists(path):
        raise StrataError("%s: blob %s is missing" % (source.where, digest))
    return path


def _read_blob(source, descriptor):
    data = read_file(source, blob_path(source, descriptor))
    if "sha256:" + hashlib.sha256(data).hexdigest() != descriptor["digest"]:
        raise StrataError("%s: blob %s does not match its digest" % (source.where, descriptor["digest"]))
    return data
